"""The promotion gate: policy defaults, impossible policies, and verdicts with reasons."""

from __future__ import annotations

import pytest

from champion.config import PolicySettings
from champion.errors import ConfigError
from champion.evaluation.policy import DEFAULTS, Evidence, Policy, Verdict, decide, resolve_policy


def classification_policy(**changes: object) -> Policy:
    """An accuracy + McNemar policy (the decide() tests below reason in accuracy points)."""
    settings = {"primary": "accuracy", "test": "mcnemar", "alpha": 0.05, **changes}
    return resolve_policy(PolicySettings.model_validate(settings), "classification", "spam")


def forecasting_policy(**changes: object) -> Policy:
    return resolve_policy(PolicySettings.model_validate(changes), "forecasting", "transactions")


def test_classification_defaults() -> None:
    policy = resolve_policy(PolicySettings(), "classification", "spam")
    assert policy.primary == "brier"
    assert policy.higher_is_better is False
    assert policy.test == "bootstrap"
    assert policy.guardrails == {"f1": 0.02, "roc_auc": 0.02}
    assert policy.alpha == 0.025
    assert policy.min_improvement == 0.0


def test_forecasting_defaults() -> None:
    policy = forecasting_policy()
    assert policy.primary == "rmse"
    assert policy.higher_is_better is False
    assert policy.test == "diebold-mariano"
    assert policy.alpha == 0.05
    assert policy.guardrails == {}


def test_defaults_are_not_shared_between_policies() -> None:
    classification_policy().guardrails["f1"] = 1.0
    assert classification_policy().guardrails["f1"] == 0.02
    assert DEFAULTS["classification"].guardrails == {"f1": 0.02, "roc_auc": 0.02}


def test_explicit_settings_are_kept() -> None:
    policy = classification_policy(primary="f1", test="bootstrap", alpha=0.01, min_improvement=0.01,
                                   guardrails={"accuracy": 0.05}, bootstrap_samples=500, seed=9)
    assert (policy.primary, policy.test, policy.alpha, policy.min_improvement) == ("f1", "bootstrap", 0.01, 0.01)
    assert policy.guardrails == {"accuracy": 0.05}
    assert (policy.bootstrap_samples, policy.seed) == (500, 9)
    assert classification_policy(guardrails={}).guardrails == {}


def test_lower_is_better_classification_metric() -> None:
    policy = classification_policy(primary="log_loss", test="bootstrap")
    assert policy.higher_is_better is False
    assert policy.better(-0.1) == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("task", "changes", "fragment"),
    [
        ("classification", {"primary": "f1", "test": "mcnemar"}, "mcnemar"),
        ("classification", {"primary": "roc_auc", "test": "mcnemar"}, "mcnemar"),
        ("classification", {"test": "diebold-mariano"}, "diebold-mariano"),
        ("forecasting", {"test": "mcnemar", "primary": "rmse"}, "mcnemar"),
        ("forecasting", {"primary": "r2", "test": "diebold-mariano"}, "diebold-mariano"),
        ("classification", {"primary": "rmse"}, "rmse"),
        ("classification", {"primary": "acuracy"}, "acuracy"),
        ("forecasting", {"primary": "accuracy"}, "accuracy"),
        ("classification", {"direction": "higher"}, "direction"),  # brier: lower is better
        ("forecasting", {"direction": "higher"}, "direction"),
        ("classification", {"guardrails": {"rmse": 0.1}}, "guardrails"),
        ("classification", {"guardrails": {"f_1": 0.1}}, "f_1"),
        ("forecasting", {"guardrails": {"accuracy": 0.1}}, "accuracy"),
    ],
)
def test_impossible_policies_are_config_errors(task: str, changes: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_policy(PolicySettings.model_validate(changes), task, "m1")
    message = str(caught.value)
    assert "models.m1.policy" in message
    assert fragment in message


def test_matching_direction_is_accepted() -> None:
    assert classification_policy(direction="higher").higher_is_better is True
    assert resolve_policy(PolicySettings(direction="lower"), "classification").higher_is_better is False
    assert forecasting_policy(direction="lower").higher_is_better is False


# --- decide ------------------------------------------------------------------------------


def evidence(new: dict[str, float], old: dict[str, float] | None, p: float | None = None,
             primary: str = "accuracy") -> Evidence:
    found = Evidence(challenger=new, champion=old)
    if p is not None:
        found.p_values[primary] = p
    return found


def check_reasons(reasons: list[str]) -> None:
    assert reasons
    assert all(isinstance(r, str) and r.strip() for r in reasons)


GOOD_OLD = {"accuracy": 0.80, "f1": 0.78, "roc_auc": 0.88}


def test_first_model() -> None:
    verdict, reasons = decide(classification_policy(), evidence({"accuracy": 0.5, "f1": 0.1}, None))
    assert verdict is Verdict.FIRST_MODEL
    assert verdict.promotes
    check_reasons(reasons)
    assert "0.5000" in reasons[0]


def test_promote_when_significant_and_guardrails_hold() -> None:
    new = {"accuracy": 0.85, "f1": 0.77, "roc_auc": 0.87}  # small drops within 0.02
    verdict, reasons = decide(classification_policy(), evidence(new, GOOD_OLD, p=0.001))
    assert verdict is Verdict.PROMOTE
    assert verdict.promotes
    check_reasons(reasons)
    assert any("guardrail f1 held" in r for r in reasons)
    assert any("guardrail roc_auc held" in r for r in reasons)


def test_reject_when_equal() -> None:
    verdict, reasons = decide(classification_policy(), evidence(dict(GOOD_OLD), GOOD_OLD, p=0.001))
    assert verdict is Verdict.REJECT
    assert not verdict.promotes
    check_reasons(reasons)
    assert "did not improve" in reasons[0]


def test_reject_when_worse_without_a_test() -> None:
    new = {**GOOD_OLD, "accuracy": 0.79}
    verdict, _ = decide(classification_policy(test="none"), evidence(new, GOOD_OLD))
    assert verdict is Verdict.REJECT


def test_reject_when_improvement_below_minimum() -> None:
    new = {**GOOD_OLD, "accuracy": 0.805}
    policy = classification_policy(min_improvement=0.01)
    verdict, reasons = decide(policy, evidence(new, GOOD_OLD, p=0.0001))
    assert verdict is Verdict.REJECT
    check_reasons(reasons)
    assert "too little" in reasons[0] and "0.01" in reasons[0]
    # the same gain clears a smaller minimum
    assert decide(classification_policy(min_improvement=0.004), evidence(new, GOOD_OLD, p=0.0001))[0] is Verdict.PROMOTE


@pytest.mark.parametrize("metric", ["f1", "roc_auc"])
def test_reject_when_a_guardrail_breaks(metric: str) -> None:
    new = {"accuracy": 0.90, "f1": 0.78, "roc_auc": 0.88}
    new[metric] -= 0.05
    verdict, reasons = decide(classification_policy(), evidence(new, GOOD_OLD, p=0.0001))
    assert verdict is Verdict.REJECT
    check_reasons(reasons)
    broken = [r for r in reasons if "broken" in r]
    assert len(broken) == 1 and metric in broken[0]


def test_lower_is_better_guardrail() -> None:
    policy = classification_policy(guardrails={"log_loss": 0.05})
    old = {"accuracy": 0.8, "log_loss": 0.40}
    assert decide(policy, evidence({"accuracy": 0.9, "log_loss": 0.44}, old, p=0.001))[0] is Verdict.PROMOTE
    verdict, reasons = decide(policy, evidence({"accuracy": 0.9, "log_loss": 0.50}, old, p=0.001))
    assert verdict is Verdict.REJECT
    assert any("log_loss" in r and "broken" in r for r in reasons)


@pytest.mark.parametrize("p", [0.05, 0.2, None])
def test_reject_when_not_significant(p: float | None) -> None:
    new = {"accuracy": 0.90, "f1": 0.80, "roc_auc": 0.90}
    verdict, reasons = decide(classification_policy(), evidence(new, GOOD_OLD, p=p))
    assert verdict is Verdict.REJECT  # a missing p-value counts as 1
    check_reasons(reasons)
    assert any("not significant" in r for r in reasons)


def test_no_test_means_improvement_suffices() -> None:
    new = {"accuracy": 0.81, "f1": 0.78, "roc_auc": 0.88}
    assert decide(classification_policy(test="none"), evidence(new, GOOD_OLD))[0] is Verdict.PROMOTE


def test_rmse_improvement_is_a_decrease() -> None:
    policy = forecasting_policy()
    old = {"rmse": 100.0, "mae": 80.0, "mape": 0.1, "r2": 0.5}
    better = {"rmse": 90.0, "mae": 75.0, "mape": 0.09, "r2": 0.6}
    worse = {"rmse": 110.0, "mae": 85.0, "mape": 0.11, "r2": 0.4}
    verdict, reasons = decide(policy, evidence(better, old, p=0.01, primary="rmse"))
    assert verdict is Verdict.PROMOTE
    check_reasons(reasons)
    assert "rmse improved" in reasons[0]
    verdict, reasons = decide(policy, evidence(worse, old, p=0.01, primary="rmse"))
    assert verdict is Verdict.REJECT
    assert "did not improve" in reasons[0]


def test_rmse_min_improvement_in_metric_units() -> None:
    policy = forecasting_policy(min_improvement=5.0)
    old = {"rmse": 100.0}
    assert decide(policy, evidence({"rmse": 97.0}, old, p=0.001, primary="rmse"))[0] is Verdict.REJECT
    assert decide(policy, evidence({"rmse": 94.0}, old, p=0.001, primary="rmse"))[0] is Verdict.PROMOTE


def test_reason_shows_interval_when_known() -> None:
    found = evidence({**GOOD_OLD, "accuracy": 0.85}, GOOD_OLD, p=0.001)
    found.intervals["accuracy"] = [0.01, 0.09]
    _, reasons = decide(classification_policy(), found)
    assert "[+0.0100, +0.0900]" in reasons[0]
