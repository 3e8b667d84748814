"""The evaluation document: what `champion evaluate`, `register` and `build` write to
`evaluation.json` and print with `--json`, as a typed model. Its JSON Schema
(`docs/schemas/evaluation.schema.json`) is the contract for automation; the pipeline checks
every document against it where it is made (`EvaluationDocument.checked`).
"""

from __future__ import annotations

from typing import Any, Literal

from champion.contract import Document


class DecisionDocument(Document):
    """The test that decided: its statistic, p-value and the interval at `level`."""

    test: str
    statistic: float | None
    p_value: float
    alpha: float
    significant: bool
    quantity: str
    better: Literal["higher", "lower"]
    estimate: float
    interval: list[float]
    level: float
    detail: str


class ChallengerDocument(Document):
    run_id: str
    metrics: dict[str, float]


class ChampionDocument(Document):
    version: int
    run_id: str
    metrics: dict[str, float] | None = None
    """None when the champion could not be loaded (then `unloadable` says why)."""
    unloadable: str | None = None


class EvaluationDocument(Document):
    """A challenger judged against the champion on the same golden rows."""

    model: str
    run_id: str
    verdict: Literal["FIRST_MODEL", "PROMOTE", "REJECT"]
    reasons: list[str]
    version: int | None
    """The registered version (after `register`), else None."""
    challenger: ChallengerDocument
    champion: ChampionDocument | None
    deltas: dict[str, float]
    """Challenger - champion, per metric."""
    intervals: dict[str, list[float]]
    interval_method: dict[str, str]
    interval_level: dict[str, float]
    p_values: dict[str, float]
    decision: DecisionDocument | None
    policy: dict[str, Any]
    golden_set: dict[str, Any]
    evaluated_at: str
    data: dict[str, Any] | None = None
    """`build` adds the rows trained and evaluated on and the duplicates skipped."""
