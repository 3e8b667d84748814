"""The promotion gate: policy defaults, impossible policies, and verdicts with reasons."""

from __future__ import annotations

import pytest

from champion.config import PolicySettings
from champion.errors import ConfigError
from champion.evaluation.policy import (
    DEFAULTS,
    Decision,
    Evidence,
    Policy,
    Verdict,
    decide,
    resolve_policy,
)


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
    assert policy.alpha == 0.025  # DM at horizon 7 over ~36 origins: ~8% false promotions, 12% at 0.05
    assert policy.guardrails == {}


def test_regression_defaults() -> None:
    policy = resolve_policy(PolicySettings(), "regression", "price")
    assert (policy.primary, policy.higher_is_better, policy.test, policy.alpha) == ("rmse", False, "bootstrap", 0.025)
    assert policy.guardrails == {}  # limits would be in the target's units
    assert DEFAULTS["regression"].primary == "rmse"


@pytest.mark.parametrize(("primary", "higher"), [("mae", False), ("r2", True), ("mape", False)])
def test_regression_primaries_and_directions(primary: str, higher: bool) -> None:
    policy = resolve_policy(PolicySettings(primary=primary, direction="higher" if higher else "lower"), "regression")
    assert policy.higher_is_better is higher
    assert policy.better(0.5) == (0.5 if higher else -0.5)
    with pytest.raises(ConfigError, match="direction"):
        resolve_policy(PolicySettings(primary=primary, direction="lower" if higher else "higher"), "regression")


def test_regression_guardrails_in_the_targets_units() -> None:
    policy = resolve_policy(PolicySettings(guardrails={"mae": 1.5, "r2": 0.01}), "regression", "price")
    assert policy.guardrails == {"mae": 1.5, "r2": 0.01}


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
        ("regression", {"test": "mcnemar"}, "mcnemar compares right and wrong answers"),
        ("regression", {"test": "mcnemar", "primary": "accuracy"}, "'accuracy' is not a regression metric"),
        ("regression", {"test": "diebold-mariano"}, "diebold-mariano compares forecast losses over time"),
        ("regression", {"primary": "brier"}, "'brier' is not a regression metric"),
        ("regression", {"guardrails": {"f1": 0.02}}, "guardrails"),
        ("regression", {"direction": "higher"}, "rmse is better when lower"),
        ("classification", {"alpha": 0.5}, "below 0.5"),
        ("classification", {"alpha": 0.001, "bootstrap_samples": 500}, "use at least 1000"),
    ],
)
def test_impossible_policies_are_config_errors(task: str, changes: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_policy(PolicySettings.model_validate(changes), task, "m1")
    message = str(caught.value)
    assert "models.m1.policy" in message
    assert fragment in message


def test_unknown_task_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no policy for task 'ranking'"):
        resolve_policy(PolicySettings(), "ranking", "m1")


def test_small_alpha_with_enough_resamples_is_accepted() -> None:
    assert resolve_policy(PolicySettings(alpha=0.001, bootstrap_samples=1000), "classification").alpha == 0.001
    assert resolve_policy(PolicySettings(alpha=0.001, test="none", bootstrap_samples=100), "classification").alpha == 0.001


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


# --- the interval shown comes from the test that decides ----------------------------------------


def decided(new: dict[str, float], old: dict[str, float], decision: Decision) -> Evidence:
    found = Evidence(challenger=new, champion=old)
    found.intervals[decision.quantity] = [-9.0, 9.0]  # an unrelated interval must not be shown
    found.set_decision("rmse", decision)
    return found


def dm_decision(p: float, interval: tuple[float, float], alpha: float = 0.05) -> Decision:
    return Decision(test="diebold-mariano", p_value=p, alpha=alpha, estimate=sum(interval) / 2, interval=interval,
                    quantity="mean squared error difference per origin", higher_is_better=False, statistic=1.6,
                    detail="DM statistic 1.600 over 36 origins, horizon 7")


def test_the_reported_case_shows_the_tests_own_interval() -> None:
    """RMSE clearly lower by the point estimate, DM p = 0.051: the interval shown is DM's, it
    reaches above 0, and the verdict is REJECT without contradiction."""
    found = decided({"rmse": 90.0}, {"rmse": 101.3}, dm_decision(0.051, (-412.3, 8.1)))
    verdict, reasons = decide(forecasting_policy(alpha=0.05), found)  # the level of the reported case
    assert verdict is Verdict.REJECT
    assert reasons[0] == "rmse improved: 101.3000 -> 90.0000 (-11.3000)"
    assert reasons[1] == (
        "diebold-mariano test: one-sided p = 0.051 >= alpha 0.05, not significant (DM statistic 1.600 over 36 "
        "origins, horizon 7; 90% interval of the mean squared error difference per origin [-412.3000, +8.1000] "
        "does not lie entirely below 0)")
    assert found.intervals["rmse"] == [-412.3, 8.1]
    assert (found.interval_level["rmse"], found.p_values["rmse"]) == (pytest.approx(0.9), 0.051)
    assert found.interval_method["rmse"] == "diebold-mariano: mean squared error difference per origin"
    document = found.as_document()
    assert document["decision"]["interval"] == [-412.3, 8.1]
    assert document["decision"]["significant"] is False and document["decision"]["better"] == "lower"


def test_significant_decision_says_where_its_interval_lies() -> None:
    found = decided({"rmse": 90.0}, {"rmse": 101.3}, dm_decision(0.004, (-412.3, -50.0)))
    verdict, reasons = decide(forecasting_policy(alpha=0.05), found)
    assert verdict is Verdict.PROMOTE
    assert "p = 0.004 < alpha 0.05, significant" in reasons[1]
    assert reasons[1].endswith("[-412.3000, -50.0000] lies below 0)")


@pytest.mark.parametrize(("p", "shown"), [(0.0499, "0.0499 <"), (0.0504, "0.0504 >="), (0.05, "0.05 >="),
                                          (0.04999999, "0.04999999 <"), (0.2, "0.2 >=")])
def test_printed_p_value_compares_with_alpha_as_the_p_value_does(p: float, shown: str) -> None:
    _, reasons = decide(forecasting_policy(alpha=0.05), evidence({"rmse": 90.0}, {"rmse": 100.0}, p=p, primary="rmse"))
    assert f"p = {shown} alpha 0.05" in reasons[1]


def test_no_test_shows_the_bootstrap_interval_with_its_label() -> None:
    found = evidence({**GOOD_OLD, "accuracy": 0.85}, GOOD_OLD)
    found.intervals["accuracy"] = [-0.01, 0.09]
    found.interval_level["accuracy"] = 0.95
    found.interval_method["accuracy"] = "paired bootstrap over golden rows, 2000 resamples"
    verdict, reasons = decide(classification_policy(test="none"), found)
    assert verdict is Verdict.PROMOTE
    assert reasons[0] == ("accuracy improved: 0.8000 -> 0.8500 (+0.0500, 95% interval of the difference "
                          "[-0.0100, +0.0900] by paired bootstrap over golden rows, 2000 resamples)")


def test_a_guardrail_undefined_on_the_golden_set_is_said() -> None:
    policy = resolve_policy(PolicySettings(guardrails={"mape": 0.1}, test="none"), "regression", "m")
    verdict, reasons = decide(policy, evidence({"rmse": 1.0}, {"rmse": 2.0}, primary="rmse"))
    assert verdict is Verdict.PROMOTE
    assert "guardrail mape not checked: it is not defined on this golden set" in reasons
