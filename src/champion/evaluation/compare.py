"""Score challenger and champion on the same golden rows and gather the evidence.

Every metric watched by the policy gets a 95% paired bootstrap interval of its difference;
the primary metric's interval is then replaced by the one of the test that decides, at
level 1 - 2 alpha, so that the interval shown next to a verdict always agrees with it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from champion.errors import DataError
from champion.evaluation.metrics import (
    ClassifierScores,
    RegressorScores,
    classification_metrics,
    forecast_metrics,
    higher_is_better,
    regression_metrics,
    scalar,
)
from champion.evaluation.paired_tests import (
    BootstrapDelta,
    diebold_mariano,
    mcnemar_exact,
    min_periods_for_dm,
    paired_bootstrap,
)
from champion.evaluation.policy import Decision, Evidence, Policy

MetricsOf = Callable[[np.ndarray], tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]


def compare_classifiers(
    policy: Policy, challenger: ClassifierScores, champion: ClassifierScores | None
) -> Evidence:
    """Metrics of both, bootstrap intervals of their differences, and the policy's test."""
    new = scalar(classification_metrics(challenger))
    if champion is None:
        return Evidence(challenger=new, champion=None)
    old = scalar(classification_metrics(champion))
    evidence = Evidence(challenger=new, champion=old)
    watched = [policy.primary, *policy.guardrails]
    rows = len(challenger.y)
    boot = _bootstrap_into(
        evidence,
        rows,
        lambda r: (
            classification_metrics(champion, r, watched),
            classification_metrics(challenger, r, watched),
        ),
        watched,
        policy,
        "golden rows",
    )
    if policy.test == "bootstrap":
        evidence.set_decision(policy.primary, _bootstrap_decision(policy, boot, "golden rows"))
    elif policy.test == "mcnemar":
        result = mcnemar_exact(champion.correct, challenger.correct)
        disagree = result.challenger_only + result.champion_only
        evidence.set_decision(
            policy.primary,
            Decision(
                test="mcnemar",
                p_value=result.p_value,
                alpha=policy.alpha,
                estimate=(result.challenger_only - result.champion_only) / rows,
                interval=result.accuracy_interval(policy.alpha, rows),
                quantity=f"accuracy difference given the {disagree} rows where the models disagree",
                higher_is_better=True,
                detail=(
                    f"exact test: the challenger alone is right on {result.challenger_only} rows, "
                    f"the champion alone on {result.champion_only}"
                ),
            ),
        )
    return evidence


def compare_regressors(
    policy: Policy, challenger: RegressorScores, champion: RegressorScores | None
) -> Evidence:
    """Metrics of both on the same golden rows, paired bootstrap intervals of their
    differences, and the policy's test (bootstrap or none).

    Raises `DataError` when the primary metric is undefined on the golden set (MAPE with a
    true value of 0); a guardrail that is undefined is left out and `decide` says so.
    """
    new = scalar(regression_metrics(challenger))
    if policy.primary not in new:
        zeros = int(np.count_nonzero(challenger.y == 0))
        raise DataError(
            f"the policy's primary metric {policy.primary} is undefined on the golden set: "
            f"{zeros} golden rows have a true value of 0 (choose rmse or mae)"
        )
    if champion is None:
        return Evidence(challenger=new, champion=None)
    if len(champion.y) != len(challenger.y) or not np.array_equal(champion.y, challenger.y):
        raise ValueError("challenger and champion must be scored on the same golden rows")
    old = scalar(regression_metrics(champion))
    evidence = Evidence(challenger=new, champion=old)
    watched = [m for m in (policy.primary, *policy.guardrails) if m in new]
    boot = _bootstrap_into(
        evidence,
        len(challenger.y),
        lambda r: (
            regression_metrics(champion, r, watched),
            regression_metrics(challenger, r, watched),
        ),
        watched,
        policy,
        "golden rows",
    )
    if policy.test == "bootstrap":
        evidence.set_decision(policy.primary, _bootstrap_decision(policy, boot, "golden rows"))
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
    watched = [policy.primary, *policy.guardrails]
    boot = _bootstrap_into(
        evidence,
        actual.shape[0],
        lambda rows: (
            forecast_metrics(actual, champion, rows, watched),
            forecast_metrics(actual, challenger, rows, watched),
        ),
        watched,
        policy,
        "origins",
    )
    if policy.test == "bootstrap":
        evidence.set_decision(policy.primary, _bootstrap_decision(policy, boot, "origins"))
    elif policy.test == "diebold-mariano":
        evidence.set_decision(
            policy.primary, _dm_decision(policy, actual, challenger, champion, horizon)
        )
    return evidence


def _dm_decision(
    policy: Policy, actual: np.ndarray, challenger: np.ndarray, champion: np.ndarray, horizon: int
) -> Decision:
    squared = policy.primary == "rmse"
    # NaN actuals were filled in, never observed: not scored.
    loss = lambda p: np.nanmean(np.abs(p - actual) ** (2 if squared else 1), axis=1)  # noqa: E731
    result = diebold_mariano(loss(champion), loss(challenger), horizon)
    # The mean over origins of each origin's mean loss is the loss over the whole golden set:
    # the MSE for rmse (so the interval is in squared units), the MAE itself for mae.
    kind = "squared" if squared else "absolute"
    if result.enough_origins:
        detail = (
            f"DM statistic {result.statistic:.3f} over {result.origins} origins, "
            f"horizon {horizon}, HAC variance with the small-sample correction, "
            f"t with {result.origins - 1} df"
        )
    else:
        detail = (
            f"too few origins to test: {result.origins} origins at horizon {horizon} all overlap; "
            f"this test needs golden.periods of at least {min_periods_for_dm(horizon)}"
        )
    return Decision(
        test="diebold-mariano",
        p_value=result.p_value,
        alpha=policy.alpha,
        estimate=result.mean_difference,
        interval=result.interval(policy.alpha),
        quantity=f"mean {kind} error difference per origin",
        higher_is_better=False,
        statistic=result.statistic if result.enough_origins else None,
        detail=detail,
    )


def _bootstrap_into(
    evidence: Evidence, n: int, metrics_of: MetricsOf, watched: list[str], policy: Policy, over: str
) -> BootstrapDelta:
    directions = {m: bool(higher_is_better(m)) for m in dict.fromkeys(watched)}
    boot = paired_bootstrap(n, metrics_of, directions, policy.bootstrap_samples, policy.seed)
    for metric in directions:
        evidence.deltas[metric] = boot.delta[metric]
        evidence.intervals[metric] = [boot.low[metric], boot.high[metric]]
        evidence.interval_level[metric] = 0.95
        evidence.interval_method[metric] = (
            f"paired bootstrap over {over}, {policy.bootstrap_samples} resamples"
        )
    return boot


def _bootstrap_decision(policy: Policy, boot: BootstrapDelta, over: str) -> Decision:
    metric = policy.primary
    p_value, interval = boot.one_sided(metric, policy.higher_is_better, policy.alpha)
    return Decision(
        test="bootstrap",
        p_value=p_value,
        alpha=policy.alpha,
        estimate=boot.delta[metric],
        interval=interval,
        quantity=f"{metric} difference",
        higher_is_better=policy.higher_is_better,
        detail=f"paired bootstrap over {over}, {policy.bootstrap_samples} resamples",
    )
