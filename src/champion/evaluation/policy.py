"""The gate: a declared policy turns a paired comparison into a verdict with reasons."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum

from champion.config import PolicySettings
from champion.errors import ConfigError
from champion.evaluation.metrics import (
    CLASSIFICATION_METRICS,
    FORECAST_METRICS,
    higher_is_better,
)

# Classification: the Brier score with a paired bootstrap, chosen by the decision-quality
# benchmark (benchmarks/gate_decisions.py, docs/benchmarks.md): over 100 trials it promoted 3%
# of equivalent challengers and 100% / 86% of truly better ones, where accuracy + McNemar
# promoted only 64% / 32% (a ~390-row golden set cannot resolve 1-2 accuracy points).
@dataclass(frozen=True)
class TaskDefaults:
    primary: str
    test: str
    alpha: float
    guardrails: dict[str, float]


DEFAULTS = {
    "classification": TaskDefaults("brier", "bootstrap", 0.025, {"f1": 0.02, "roc_auc": 0.02}),
    "forecasting": TaskDefaults("rmse", "diebold-mariano", 0.05, {}),
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
    defaults = DEFAULTS[task]
    known = CLASSIFICATION_METRICS if task == "classification" else FORECAST_METRICS
    primary = settings.primary or defaults.primary
    if primary not in known:
        raise ConfigError(f"{where}.primary: {primary!r} is not a {task} metric ({', '.join(known)})")
    direction = higher_is_better(primary)
    if settings.direction is not None:
        if direction is not None and (settings.direction == "higher") != direction:
            raise ConfigError(f"{where}.direction: {primary} is better when {'higher' if direction else 'lower'}")
    test = settings.test or defaults.test
    if test == "mcnemar" and primary != "accuracy":
        raise ConfigError(f"{where}.test: mcnemar tests correctness, so primary must be accuracy (use bootstrap)")
    if test == "mcnemar" and task != "classification":
        raise ConfigError(f"{where}.test: mcnemar is for classification")
    if test == "diebold-mariano" and (task != "forecasting" or primary not in ("rmse", "mae")):
        raise ConfigError(f"{where}.test: diebold-mariano is for forecasting with primary rmse or mae")
    guardrails = dict(defaults.guardrails if settings.guardrails is None else settings.guardrails)
    for metric in guardrails:
        if metric not in known:
            raise ConfigError(f"{where}.guardrails: {metric!r} is not a {task} metric ({', '.join(known)})")
    return Policy(
        primary=primary,
        higher_is_better=bool(direction),
        min_improvement=settings.min_improvement,
        test=test,
        alpha=settings.alpha if settings.alpha is not None else defaults.alpha,
        guardrails=guardrails,
        bootstrap_samples=settings.bootstrap_samples,
        seed=settings.seed,
    )


@dataclass
class Evidence:
    """What the comparison found, in the policy's terms."""

    challenger: dict[str, float]
    champion: dict[str, float] | None
    deltas: dict[str, float] = field(default_factory=dict)
    intervals: dict[str, list[float]] = field(default_factory=dict)
    p_values: dict[str, float] = field(default_factory=dict)
    test_detail: str = ""


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
    interval = evidence.intervals.get(primary)
    ci = f", 95% CI of the difference [{interval[0]:+.4f}, {interval[1]:+.4f}]" if interval else ""
    if gain <= 0 or gain < policy.min_improvement:
        passed = False
        need = f"; the policy needs at least {policy.min_improvement:g}" if policy.min_improvement > 0 else ""
        word = "did not improve" if gain <= 0 else "improved too little"
        reasons.append(f"{primary} {word}: {old:.4f} -> {new:.4f} ({new - old:+.4f}{ci}){need}")
    else:
        reasons.append(f"{primary} improved: {old:.4f} -> {new:.4f} ({new - old:+.4f}{ci})")
    if policy.test != "none":
        p = evidence.p_values.get(primary, 1.0)
        significant = p < policy.alpha
        passed = passed and significant
        verdict_word = "significant" if significant else "not significant"
        reasons.append(f"{policy.test} test: one-sided p = {p:.2g} {'<' if significant else '>='} "
                       f"alpha {policy.alpha:g}, {verdict_word}{evidence.test_detail}")
    for metric, allowed in policy.guardrails.items():
        if metric not in evidence.challenger or metric not in evidence.champion:
            continue
        before, after = evidence.champion[metric], evidence.challenger[metric]
        worse_by = -(after - before) if higher_is_better(metric) else (after - before)
        if worse_by > allowed:
            passed = False
            reasons.append(f"guardrail {metric} broken: {before:.4f} -> {after:.4f}, "
                           f"worse by {worse_by:.4f} (allowed {allowed:g})")
        else:
            reasons.append(f"guardrail {metric} held: {before:.4f} -> {after:.4f} (allowed drop {allowed:g})")
    return (Verdict.PROMOTE if passed else Verdict.REJECT), reasons
