"""`build`: train -> evaluate -> register, the seeds' Build pipeline in one call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from champion.pipelines.evaluation import evaluate
from champion.pipelines.progress import Progress, silent
from champion.pipelines.registration import RegisterResult, register
from champion.pipelines.training import train
from champion.pipelines.workspace import Workspace


def build(
    ws: Workspace,
    model: str,
    overrides: dict[str, Any] | None = None,
    progress: Progress = silent,
    out_dir: Path | None = None,
    replace_broken_champion: bool = False,
) -> RegisterResult:
    """Train a challenger, gate it against the champion, register it only if it wins (see
    `evaluate` for `replace_broken_champion`)."""
    trained = train(ws, model, overrides, progress, out_dir)
    evaluation = evaluate(ws, model, trained.run_id, trained, progress, out_dir, replace_broken_champion)
    return register(ws, model, trained.run_id, evaluation, trained, progress, out_dir, replace_broken_champion)
