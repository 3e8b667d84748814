"""The gate: a declared policy turns a paired comparison into a verdict with reasons."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from champion.config import PolicySettings
from champion.errors import ConfigError
from champion.evaluation.metrics import (
    CLASSIFICATION_METRICS,
    FORECAST_METRICS,
    REGRESSION_METRICS,
    higher_is_better,
)


# Classification: the Brier score with a paired bootstrap, chosen by the decision-quality
# benchmark (benchmarks/gate_decisions.py, docs/benchmarks.md): over 100 trials it promoted 3%
# of equivalent challengers and 100% / 86% of truly better ones, where accuracy + McNemar
# promoted only 64% / 32% (a ~390-row golden set cannot resolve 1-2 accuracy points).
# Regression: RMSE with the same paired bootstrap over golden rows and the same alpha; no
# guardrails by default, since their limits would be in the target's own units.
@dataclass(frozen=True)
class TaskDefaults:
    primary: str
    test: str
    alpha: float
    guardrails: dict[str, float]


DEFAULTS = {
    "classification": TaskDefaults("brier", "bootstrap", 0.025, {"f1": 0.02, "roc_auc": 0.02}),
    "regression": TaskDefaults("rmse", "bootstrap", 0.025, {}),
    # Diebold-Mariano at horizon 7 passes ~12% of equally good challengers at alpha 0.05 over
    # 36 origins and ~8% at 0.025 (benchmarks/gate_dm.py, docs/benchmarks.md).
    "forecasting": TaskDefaults("rmse", "diebold-mariano", 0.025, {}),
}
TASK_METRICS = {
    "classification": CLASSIFICATION_METRICS,
    "regression": REGRESSION_METRICS,
    "forecasting": FORECAST_METRICS,
}


class Verdict(StrEnum):
    FIRST_MODEL = "FIRST_MODEL"
    PROMOTE = "PROMOTE"
    REJECT = "REJECT"

    @property
    def promotes(self) -> bool:
        return self is not Verdict.REJECT


@dataclass(frozen=True)
class Policy:
    """A policy with every default filled in and checked against the task."""

    primary: str
    higher_is_better: bool
    min_improvement: float
    test: str
    alpha: float
    guardrails: dict[str, float]
    bootstrap_samples: int
    seed: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def better(self, delta: float) -> float:
        """`delta` (challenger - champion) turned so that positive means better."""
        return delta if self.higher_is_better else -delta


def resolve_policy(settings: PolicySettings, task: str, model_name: str = "model") -> Policy:
    """Fill task defaults into `settings`; raise `ConfigError` on impossible combinations."""
    where = f"models.{model_name}.policy"
    if task not in DEFAULTS:
        raise ConfigError(f"{where}: no policy for task {task!r} (known: {', '.join(DEFAULTS)})")
    defaults = DEFAULTS[task]
    known = TASK_METRICS[task]
    primary = settings.primary or defaults.primary
    if primary not in known:
        raise ConfigError(
            f"{where}.primary: {primary!r} is not a {task} metric ({', '.join(known)})"
        )
    direction = higher_is_better(primary)
    if settings.direction is not None:
        if direction is not None and (settings.direction == "higher") != direction:
            raise ConfigError(
                f"{where}.direction: {primary} is better when {'higher' if direction else 'lower'}"
            )
    test = settings.test or defaults.test
    if test == "mcnemar" and task != "classification":
        raise ConfigError(
            f"{where}.test: mcnemar compares right and wrong answers, so it is for classification "
            f"(use {defaults.test})"
        )
    if test == "mcnemar" and primary != "accuracy":
        raise ConfigError(
            f"{where}.test: mcnemar tests correctness, so primary must be accuracy (use bootstrap)"
        )
    if test == "diebold-mariano" and task != "forecasting":
        raise ConfigError(
            f"{where}.test: diebold-mariano compares forecast losses over time, so it is for "
            f"forecasting (use bootstrap, which resamples the golden rows)"
        )
    if test == "diebold-mariano" and primary not in ("rmse", "mae"):
        raise ConfigError(
            f"{where}.test: diebold-mariano is for forecasting with primary rmse or mae"
        )
    alpha = settings.alpha if settings.alpha is not None else defaults.alpha
    if alpha >= 0.5:
        raise ConfigError(
            f"{where}.alpha: {alpha:g} is not a test level: a one-sided test needs alpha below 0.5 "
            f"(the defaults are 0.025 and 0.05)"
        )
    if test == "bootstrap" and settings.bootstrap_samples < (need := _samples_for(alpha)):
        raise ConfigError(
            f"{where}.bootstrap_samples: {settings.bootstrap_samples} resamples can never give "
            f"p < alpha {alpha:g}: use at least {need}"
        )
    guardrails = dict(defaults.guardrails if settings.guardrails is None else settings.guardrails)
    for metric in guardrails:
        if metric not in known:
            raise ConfigError(
                f"{where}.guardrails: {metric!r} is not a {task} metric ({', '.join(known)})"
            )
    return Policy(
        primary=primary,
        higher_is_better=bool(direction),
        min_improvement=settings.min_improvement,
        test=test,
        alpha=alpha,
        guardrails=guardrails,
        bootstrap_samples=settings.bootstrap_samples,
        seed=settings.seed,
    )


def _samples_for(alpha: float) -> int:
    """Fewest resamples B whose smallest bootstrap p-value, 1 / (B + 1), is below alpha."""
    b = max(1, int(1 / alpha) - 1)
    while not 1 / (b + 1) < alpha:
        b += 1
    return b


@dataclass(frozen=True)
class Decision:
    """The paired test that decided, with the interval that agrees with it.

    `interval` is two-sided at level 1 - 2 alpha, of `quantity` (challenger - champion); it
    lies entirely on the better side of 0 exactly when `p_value` < `alpha`.
    """

    test: str
    p_value: float
    alpha: float
    estimate: float
    interval: tuple[float, float]
    quantity: str  # what the interval is of, in plain words, e.g. "brier difference"
    higher_is_better: bool  # for `quantity`
    statistic: float | None = None
    detail: str = ""  # how it was computed, e.g. "DM statistic 1.7 over 36 origins"

    @property
    def level(self) -> float:
        return 1 - 2 * self.alpha

    @property
    def significant(self) -> bool:
        return self.p_value < self.alpha

    def on_better_side(self) -> bool:
        """Whether the interval lies entirely on the better side of 0."""
        low, high = self.interval
        return bool(low > 0) if self.higher_is_better else bool(high < 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "test": self.test,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "alpha": self.alpha,
            "significant": self.significant,
            "quantity": self.quantity,
            "better": "higher" if self.higher_is_better else "lower",
            "estimate": self.estimate,
            "interval": list(self.interval),
            "level": self.level,
            "detail": self.detail,
        }


@dataclass
class Evidence:
    """What the comparison found, in the policy's terms.

    `intervals[m]` is an interval of challenger - champion for metric `m`; `interval_method[m]`
    and `interval_level[m]` say how it was made. The primary metric's comes from the test that
    decides (see `decision.quantity`: for Diebold-Mariano on rmse it is of the mean squared
    error), the others from the paired bootstrap at 95%.
    """

    challenger: dict[str, float]
    champion: dict[str, float] | None
    deltas: dict[str, float] = field(default_factory=dict)
    intervals: dict[str, list[float]] = field(default_factory=dict)
    p_values: dict[str, float] = field(default_factory=dict)
    interval_method: dict[str, str] = field(default_factory=dict)
    interval_level: dict[str, float] = field(default_factory=dict)
    decision: Decision | None = None

    def set_decision(self, metric: str, decision: Decision) -> None:
        """Record the deciding test and make its interval the one shown for `metric`."""
        self.decision = decision
        self.p_values[metric] = decision.p_value
        self.intervals[metric] = list(decision.interval)
        self.interval_level[metric] = decision.level
        self.interval_method[metric] = f"{decision.test}: {decision.quantity}"

    def as_document(self) -> dict[str, Any]:
        """The evaluation document's evidence keys."""
        return {
            "deltas": self.deltas,
            "intervals": self.intervals,
            "interval_method": self.interval_method,
            "interval_level": self.interval_level,
            "p_values": self.p_values,
            "decision": self.decision.as_dict() if self.decision is not None else None,
        }


def decide(policy: Policy, evidence: Evidence) -> tuple[Verdict, list[str]]:
    """Apply the policy. Reasons are sentences a person can read in a pipeline log."""
    primary = policy.primary
    if evidence.champion is None:
        return Verdict.FIRST_MODEL, [
            f"no champion yet: the challenger becomes the first champion "
            f"({primary} {evidence.challenger[primary]:.4f} on the golden set)"
        ]
    reasons: list[str] = []
    passed = True
    old, new = evidence.champion[primary], evidence.challenger[primary]
    gain = policy.better(new - old)
    ci = _informative_interval(evidence, primary) if evidence.decision is None else ""
    if gain <= 0 or gain < policy.min_improvement:
        passed = False
        need = (
            f"; the policy needs at least {policy.min_improvement:g}"
            if policy.min_improvement > 0
            else ""
        )
        word = "did not improve" if gain <= 0 else "improved too little"
        reasons.append(f"{primary} {word}: {old:.4f} -> {new:.4f} ({new - old:+.4f}{ci}){need}")
    else:
        reasons.append(f"{primary} improved: {old:.4f} -> {new:.4f} ({new - old:+.4f}{ci})")
    if policy.test != "none":
        decision = evidence.decision
        p = decision.p_value if decision is not None else evidence.p_values.get(primary, 1.0)
        significant = p < policy.alpha
        passed = passed and significant
        detail = f" ({_decision_detail(decision)})" if decision is not None else ""
        reasons.append(
            f"{policy.test} test: one-sided p = {_p_text(p, policy.alpha)} "
            f"{'<' if significant else '>='} alpha {policy.alpha:g}, "
            f"{'significant' if significant else 'not significant'}{detail}"
        )
    for metric, allowed in policy.guardrails.items():
        if metric not in evidence.challenger or metric not in evidence.champion:
            reasons.append(f"guardrail {metric} not checked: it is not defined on this golden set")
            continue
        before, after = evidence.champion[metric], evidence.challenger[metric]
        worse_by = -(after - before) if higher_is_better(metric) else (after - before)
        if worse_by > allowed:
            passed = False
            reasons.append(
                f"guardrail {metric} broken: {before:.4f} -> {after:.4f}, "
                f"worse by {worse_by:.4f} (allowed {allowed:g})"
            )
        else:
            reasons.append(
                f"guardrail {metric} held: {before:.4f} -> {after:.4f} (allowed drop {allowed:g})"
            )
    return (Verdict.PROMOTE if passed else Verdict.REJECT), reasons


def _informative_interval(evidence: Evidence, metric: str) -> str:
    """The interval shown when no test decides (the policy's test is none)."""
    interval = evidence.intervals.get(metric)
    if not interval:
        return ""
    level = evidence.interval_level.get(metric, 0.95)
    method = evidence.interval_method.get(metric)
    how = f" by {method}" if method else ""
    low, high = interval
    return f", {_percent(level)} interval of the difference [{low:+.4f}, {high:+.4f}]{how}"


def _decision_detail(decision: Decision) -> str:
    low, high = decision.interval
    if low != low or high != high:  # NaN: too few origins or resamples for an interval
        return f"{decision.detail}; no interval: too little data"
    side = "above" if decision.higher_is_better else "below"
    where = f"lies {side} 0" if decision.on_better_side() else f"does not lie entirely {side} 0"
    return (
        f"{decision.detail}; {_percent(decision.level)} interval of the {decision.quantity} "
        f"[{low:+.4f}, {high:+.4f}] {where}"
    )


def _p_text(p: float, alpha: float) -> str:
    """`p` with just enough digits that the printed value compares with alpha as p does."""
    for digits in range(2, 8):
        text = f"{p:.{digits}g}"
        if (float(text) < alpha) == (p < alpha) and (float(text) != alpha or p == alpha):
            return text
    return repr(p)


def _percent(level: float) -> str:
    return f"{round(level * 100, 6):g}%"
