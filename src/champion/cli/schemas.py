"""The published JSON Schemas of champion's documents (the `--json` contract).

`python -m champion.cli.schemas docs/schemas` writes them; a test checks they are current.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from champion.contract import Document
from champion.evaluation.document import EvaluationDocument
from champion.monitoring.documents import MonitorReport, ReferenceProfile
from champion.pipelines.documents import (
    DeployDocument,
    IngestDocument,
    ReleaseDocument,
    RetrainDocument,
    SmokeDocument,
)
from champion.serving.health import HealthDocument

DOCUMENTS: dict[str, type[Document]] = {
    "evaluation": EvaluationDocument,
    "health": HealthDocument,
    "profile": ReferenceProfile,
    "monitor": MonitorReport,
    "ingest": IngestDocument,
    "deploy": DeployDocument,
    "smoke": SmokeDocument,
    "release": ReleaseDocument,
    "retrain": RetrainDocument,
}


def schema(name: str) -> dict[str, Any]:
    return DOCUMENTS[name].model_json_schema(by_alias=True)


def write(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in DOCUMENTS:
        path = folder / f"{name}.schema.json"
        path.write_text(json.dumps(schema(name), indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")):
        print(path)
