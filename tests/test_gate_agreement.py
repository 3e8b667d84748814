"""The gate never contradicts itself: for every test, the interval shown next to the verdict
lies on the better side of 0 exactly when the test is significant, also at the boundary
(alpha equal to the p-value, and the next float above it)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from champion.config import PolicySettings
from champion.evaluation.compare import compare_classifiers, compare_forecasts, compare_regressors
from champion.evaluation.metrics import ClassifierScores, RegressorScores
from champion.evaluation.policy import Evidence, Policy, Verdict, decide, resolve_policy

FEW = settings(max_examples=15, deadline=None)


def policy_for(task: str, **changes: object) -> Policy:
    return resolve_policy(PolicySettings.model_validate({"guardrails": {}, **changes}), task, "m")


def check_agreement(policy: Policy, evidence: Evidence) -> None:
    verdict, reasons = decide(policy, evidence)
    decision = evidence.decision
    assert decision is not None
    significant = decision.p_value < policy.alpha
    assert decision.on_better_side() == significant
    assert evidence.intervals[policy.primary] == list(decision.interval)
    assert evidence.interval_level[policy.primary] == pytest.approx(1 - 2 * policy.alpha)
    test_line = reasons[1]
    assert (", significant" in test_line) == significant
    if np.isnan(decision.interval).any():  # too few origins or resamples: never significant
        assert not significant and "no interval" in test_line
    else:
        assert ("does not lie entirely" in test_line) == (not significant)
    improved = (
        policy.better(evidence.challenger[policy.primary] - evidence.champion[policy.primary]) > 0
    )  # type: ignore[index]
    assert (verdict is Verdict.PROMOTE) == (improved and significant)


def at_the_boundary(policy_of, compare) -> int:  # type: ignore[no-untyped-def]
    """Decide at alpha 0.05, then at alpha = p (not significant) and just above p (significant)."""
    first = compare(policy_of(0.05))
    check_agreement(policy_of(0.05), first)
    p = first.decision.p_value
    checked = 1
    for alpha in (p, float(np.nextafter(p, 1.0)), p * 1.01, p * 0.99):
        if 0.002 < alpha < 0.5:
            check_agreement(policy_of(alpha), compare(policy_of(alpha)))
            checked += 1
    return checked


def binary_scores(rng: np.random.Generator, y: np.ndarray, skill: float) -> ClassifierScores:
    p_pos = np.clip(0.5 + skill * (y - 0.5) + rng.normal(0, 0.25, len(y)), 0.01, 0.99)
    return ClassifierScores(y, np.column_stack([1 - p_pos, p_pos]), np.array([0, 1]), 1)


@FEW
@given(seed=st.integers(0, 10_000), n=st.integers(40, 300), gain=st.floats(0.0, 0.3))
def test_bootstrap_on_classifiers(seed: int, n: int, gain: float) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    old, new = binary_scores(rng, y, 0.3), binary_scores(rng, y, 0.3 + gain)
    at_the_boundary(
        lambda a: policy_for("classification", alpha=a, bootstrap_samples=600, seed=seed),
        lambda policy: compare_classifiers(policy, new, old),
    )


@FEW
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(30, 300),
    k=st.integers(3, 5),
    gain=st.floats(0.0, 1.0),
)
def test_mcnemar_on_multiclass(seed: int, n: int, k: int, gain: float) -> None:
    rng = np.random.default_rng(seed)
    classes = np.array([f"class {i}" for i in range(k)], dtype=object)
    truth = rng.integers(0, k, n)

    def scores(skill: float) -> ClassifierScores:
        logits = rng.normal(size=(n, k))
        logits[np.arange(n), truth] += skill
        return ClassifierScores(
            classes[truth], np.exp(logits) / np.exp(logits).sum(1, keepdims=True), classes, None
        )

    old, new = scores(0.8), scores(0.8 + gain)
    at_the_boundary(
        lambda a: policy_for(
            "classification", primary="accuracy", test="mcnemar", alpha=a, bootstrap_samples=200
        ),
        lambda policy: compare_classifiers(policy, new, old),
    )


@FEW
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(20, 300),
    gain=st.floats(-0.2, 0.5),
    primary=st.sampled_from(["rmse", "mae", "r2", "mape"]),
)
def test_bootstrap_on_regressors(seed: int, n: int, gain: float, primary: str) -> None:
    rng = np.random.default_rng(seed)
    y = rng.lognormal(3, 0.4, n)
    old = RegressorScores(y, y + rng.normal(0, 5, n))
    new = RegressorScores(y, y + rng.normal(0, 5 * (1 - gain), n))
    at_the_boundary(
        lambda a: policy_for(
            "regression", primary=primary, alpha=a, bootstrap_samples=500, seed=seed
        ),
        lambda policy: compare_regressors(policy, new, old),
    )


def forecasts(rng: np.random.Generator, origins: int, horizon: int, noise: float) -> np.ndarray:
    """Overlapping multi-step forecasts: one error path per period, so errors share periods."""
    path = np.cumsum(rng.normal(0, noise, origins + horizon))
    return np.array([path[o + 1 : o + 1 + horizon] - path[o] for o in range(origins)])


@FEW
@given(
    seed=st.integers(0, 10_000),
    origins=st.integers(3, 50),
    horizon=st.integers(1, 8),
    gain=st.floats(-0.3, 0.6),
    test=st.sampled_from(["diebold-mariano", "bootstrap"]),
    primary=st.sampled_from(["rmse", "mae"]),
)
def test_forecast_tests(
    seed: int, origins: int, horizon: int, gain: float, test: str, primary: str
) -> None:
    rng = np.random.default_rng(seed)
    actual = 100 + rng.normal(0, 10, (origins, horizon))
    old = actual + forecasts(rng, origins, horizon, 3.0)
    new = actual + forecasts(rng, origins, horizon, 3.0 * (1 - gain))
    at_the_boundary(
        lambda a: policy_for(
            "forecasting", test=test, primary=primary, alpha=a, bootstrap_samples=500
        ),
        lambda policy: compare_forecasts(policy, actual, new, old, horizon),
    )


def test_dm_interval_for_rmse_is_of_the_mean_squared_error() -> None:
    rng = np.random.default_rng(0)
    actual = 100 + rng.normal(0, 10, (36, 7))
    old, new = actual + forecasts(rng, 36, 7, 3.0), actual + forecasts(rng, 36, 7, 2.0)
    policy = policy_for("forecasting")
    found = compare_forecasts(policy, actual, new, old, 7)
    decision = found.decision
    assert decision is not None and decision.test == "diebold-mariano"
    mse = lambda p: float(np.mean((p - actual) ** 2))  # noqa: E731
    assert decision.estimate == pytest.approx(mse(new) - mse(old))
    assert decision.interval[0] <= decision.estimate <= decision.interval[1]
    assert found.deltas["rmse"] == pytest.approx(np.sqrt(mse(new)) - np.sqrt(mse(old)))
    _, reasons = decide(policy, found)
    level = round(100 * (1 - 2 * policy.alpha))  # the one-sided test's own level: 95% at alpha 0.025
    assert f"{level}% interval of the mean squared error difference per origin" in reasons[1]


def test_guardrail_intervals_stay_95_percent_bootstrap() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    old, new = binary_scores(rng, y, 0.3), binary_scores(rng, y, 0.5)
    policy = resolve_policy(
        PolicySettings(alpha=0.05), "classification"
    )  # guardrails f1 and roc_auc
    found = compare_classifiers(policy, new, old)
    assert found.interval_level == {"brier": pytest.approx(0.9), "f1": 0.95, "roc_auc": 0.95}
    assert found.interval_method["f1"] == "paired bootstrap over golden rows, 2000 resamples"
    assert found.interval_method["brier"] == "bootstrap: brier difference"
    document = found.as_document()
    assert set(document) == {
        "deltas",
        "intervals",
        "interval_method",
        "interval_level",
        "p_values",
        "decision",
    }
    assert document["decision"]["level"] == pytest.approx(0.9)


def test_regression_primary_undefined_is_a_data_error() -> None:
    from champion.errors import DataError

    y = np.array([0.0, 1.0, 2.0, 3.0])
    with pytest.raises(
        DataError, match="mape is undefined on the golden set: 1 golden rows have a true value of 0"
    ):
        compare_regressors(
            policy_for("regression", primary="mape"),
            RegressorScores(y, y + 1),
            RegressorScores(y, y),
        )


def test_regression_guardrail_undefined_is_skipped_and_said() -> None:
    rng = np.random.default_rng(2)
    y = np.r_[0.0, rng.normal(10, 2, 99)]
    old, new = (
        RegressorScores(y, y + rng.normal(0, 2, 100)),
        RegressorScores(y, y + rng.normal(0, 1, 100)),
    )
    policy = resolve_policy(PolicySettings(guardrails={"mape": 0.1, "mae": 0.5}), "regression", "m")
    found = compare_regressors(policy, new, old)
    assert "mape" not in found.intervals and "mae" in found.intervals
    verdict, reasons = decide(policy, found)
    assert verdict is Verdict.PROMOTE
    assert "guardrail mape not checked: it is not defined on this golden set" in reasons
    assert compare_regressors(policy, new, None).champion is None


def test_too_few_origins_for_diebold_mariano_is_said_plainly() -> None:
    rng = np.random.default_rng(3)
    actual = 100 + rng.normal(0, 10, (5, 7))  # 11 golden periods, horizon 7: 5 origins
    old, new = actual + 10.0, actual + rng.normal(0, 1, (5, 7))  # far better, but untestable
    policy = policy_for("forecasting")
    verdict, reasons = decide(policy, compare_forecasts(policy, actual, new, old, 7))
    assert verdict is Verdict.REJECT
    assert reasons[1] == (
        "diebold-mariano test: one-sided p = 1 >= alpha 0.025, not significant (too few origins "
        "to test: 5 origins at horizon 7 all overlap; this test needs golden.periods of at least "
        "14; no interval: too little data)"
    )
