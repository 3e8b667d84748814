"""Documents a command writes (metric.json, evaluation.json, smoke reports, monitor reports):
whole or not at all, and a copy where CI collects artifacts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_json(path: Path, document: dict[str, Any], also_to: Path | None = None) -> Path:
    """Write `document` to `path` (and a copy into `also_to`, e.g. a CI artifact folder)."""
    text = json.dumps(document, indent=2, default=str) + "\n"
    for target in [path] + ([also_to / path.name] if also_to else []):
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)
    return (also_to / path.name) if also_to else path
