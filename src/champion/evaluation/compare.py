"""Score challenger and champion on the same golden rows and gather the evidence."""

from __future__ import annotations

import numpy as np

from champion.evaluation.metrics import (
    ClassifierScores,
    classification_metrics,
    forecast_metrics,
    higher_is_better,
    scalar,
)
from champion.evaluation.paired_tests import diebold_mariano, mcnemar_exact, paired_bootstrap
from champion.evaluation.policy import Evidence, Policy


def compare_classifiers(policy: Policy, challenger: ClassifierScores, champion: ClassifierScores | None) -> Evidence:
    """Metrics of both, bootstrap intervals of their differences, and the policy's test."""
    new = scalar(classification_metrics(challenger))
    if champion is None:
        return Evidence(challenger=new, champion=None)
    old = scalar(classification_metrics(champion))
    evidence = Evidence(challenger=new, champion=old)
    watched = [policy.primary, *policy.guardrails]
    _bootstrap_into(
        evidence,
        len(challenger.y),
        lambda rows: (classification_metrics(champion, rows, watched), classification_metrics(challenger, rows, watched)),
        watched,
        policy,
    )
    if policy.test == "mcnemar":
        result = mcnemar_exact(champion.correct, challenger.correct)
        evidence.p_values[policy.primary] = result.p_value
        evidence.test_detail = (f" (the challenger alone is right on {result.challenger_only} rows, "
                                f"the champion alone on {result.champion_only})")
    return evidence


def compare_forecasts(
    policy: Policy,
    actual: np.ndarray,
    challenger: np.ndarray,
    champion: np.ndarray | None,
    horizon: int,
) -> Evidence:
    """`actual` and predictions are origins x horizon matrices over the golden periods."""
    new = scalar(forecast_metrics(actual, challenger))
    if champion is None:
        return Evidence(challenger=new, champion=None)
    old = scalar(forecast_metrics(actual, champion))
    evidence = Evidence(challenger=new, champion=old)
    _bootstrap_into(
        evidence,
        actual.shape[0],
        lambda rows: (forecast_metrics(actual, champion, rows), forecast_metrics(actual, challenger, rows)),
        [policy.primary, *policy.guardrails],
        policy,
    )
    if policy.test == "diebold-mariano":
        power = 2 if policy.primary == "rmse" else 1
        # NaN actuals were filled in, never observed: not scored
        loss = lambda p: np.nanmean(np.abs(p - actual) ** power, axis=1)  # noqa: E731
        result = diebold_mariano(loss(champion), loss(challenger), horizon)
        evidence.p_values[policy.primary] = result.p_value
        evidence.test_detail = f" (DM statistic {result.statistic:.3f} over {result.origins} origins, horizon {horizon})"
    return evidence


def _bootstrap_into(evidence: Evidence, n: int, metrics_of, watched: list[str], policy: Policy) -> None:  # type: ignore[no-untyped-def]
    directions = {m: bool(higher_is_better(m)) for m in dict.fromkeys(watched)}
    boot = paired_bootstrap(n, metrics_of, directions, policy.bootstrap_samples, policy.seed)
    for metric in directions:
        evidence.deltas[metric] = boot.delta[metric]
        evidence.intervals[metric] = [boot.low[metric], boot.high[metric]]
    if policy.test == "bootstrap":
        evidence.p_values[policy.primary] = boot.p_better[policy.primary]
        evidence.test_detail = f" (paired bootstrap, {policy.bootstrap_samples} resamples)"
