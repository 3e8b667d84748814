"""`retrain`: ingest new data, build, release when promoted (the seeds' Challenge 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from champion.pipelines.build import build
from champion.pipelines.documents import RetrainDocument
from champion.pipelines.ingest import ingest
from champion.pipelines.progress import Progress, silent
from champion.pipelines.release import release as run_release
from champion.workspace import Workspace

PROMOTED = ("FIRST_MODEL", "PROMOTE")


def retrain(ws: Workspace, model: str, new_data: list[Path], progress: Progress = silent,
            out_dir: Path | None = None, release: bool = True,
            replace_broken_champion: bool = False) -> dict[str, Any]:
    """`{"ingest": ..., "build": evaluation, "release": result or None}`. Endpoints keep
    serving their current version throughout; they switch only when `release` moves them.
    With `release=False` a promoted version is registered (alias `champion`) but not released."""
    document: dict[str, Any] = {"model": model, "ingest": None, "build": None, "release": None}
    if new_data:
        document["ingest"] = ingest(ws, model, new_data, progress).as_dict()
    built = build(ws, model, None, progress, out_dir, replace_broken_champion)
    document["build"] = built.document
    if release and built.document["verdict"] in PROMOTED:
        document["release"] = run_release(ws, model, built.version, progress, out_dir).as_dict()
    return RetrainDocument.checked(document)
