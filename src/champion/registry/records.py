"""Plain records of what the registry holds; no mlflow types leave the adapter."""

from __future__ import annotations

from dataclasses import dataclass, field

VERDICT_TAG = "champion.verdict"
"""Run and version tag holding the gate's verdict (PROMOTE, REJECT, FIRST_MODEL, ...)."""
EVALUATION_DIGEST_TAG = "champion.evaluation_digest"
"""Run tag: a digest of the run's current evaluation.json, so readers can cache the document
(it is rewritten when the run is evaluated again or registered)."""


@dataclass(frozen=True)
class RunRecord:
    """One training run."""

    run_id: str
    model: str
    status: str
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str] = field(default_factory=dict)
    start_time: int = 0


@dataclass(frozen=True)
class VersionRecord:
    """One registered model version."""

    model: str
    version: int
    run_id: str
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    created: int = 0
