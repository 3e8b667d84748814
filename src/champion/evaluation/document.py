"""The evaluation document: what `champion evaluate`, `register` and `build` write to
`evaluation.json` and print with `--json`, as a typed model. Its JSON Schema
(`docs/schemas/evaluation.schema.json`, `python -m champion.evaluation.document`) is the
contract for automation; the pipeline validates every document against it where it is made.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DecisionDocument(_Strict):
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


class ChallengerDocument(_Strict):
    run_id: str
    metrics: dict[str, float]


class ChampionDocument(_Strict):
    version: int
    run_id: str
    metrics: dict[str, float] | None = None
    """None when the champion could not be loaded (then `unloadable` says why)."""
    unloadable: str | None = None


class EvaluationDocument(_Strict):
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


def checked(document: dict[str, Any]) -> dict[str, Any]:
    """`document`, after checking it against the contract (a `ValidationError` is our bug)."""
    EvaluationDocument.model_validate(document)
    return document


def schema() -> dict[str, Any]:
    return EvaluationDocument.model_json_schema()


if __name__ == "__main__":
    json.dump(schema(), sys.stdout, indent=2)
    sys.stdout.write("\n")
