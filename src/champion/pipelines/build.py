"""`build`: train -> evaluate -> register, the seeds' Build pipeline in one call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from champion.evaluation.document import EvaluationDocument
from champion.pipelines.evaluation import evaluate
from champion.pipelines.progress import Progress, silent
from champion.pipelines.registration import RegisterResult, register
from champion.pipelines.training import train
from champion.workspace import Workspace


def build(
    ws: Workspace,
    model: str,
    overrides: dict[str, Any] | None = None,
    progress: Progress = silent,
    out_dir: Path | None = None,
    replace_broken_champion: bool = False,
) -> RegisterResult:
    """Train a challenger, gate it against the champion, register it only if it wins (see
    `evaluate` for `replace_broken_champion`).

    The result's document is the evaluation plus `data`: the rows trained and evaluated on
    and the duplicate rows skipped (shown by the CLI, in --json too)."""
    trained = train(ws, model, overrides, progress, out_dir)
    evaluation = evaluate(ws, model, trained.run_id, trained, progress, out_dir, replace_broken_champion)
    result = register(ws, model, trained.run_id, evaluation, trained, progress, out_dir, replace_broken_champion)
    data = trained.metric_document["data"]
    result.document = EvaluationDocument.checked({**result.document, "data": {
        "rows": data["rows"], "files": len(data["files"]), "duplicates_dropped": data["duplicates_dropped"],
        "duplicates_by_file": data["duplicates_by_file"], "duplicates": data["duplicates"]}})
    return result
