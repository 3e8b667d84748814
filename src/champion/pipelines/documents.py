"""The pipelines' own documents as typed models: what `ingest`, `deploy`, `smoke-test`,
`release` and `retrain` print with `--json` (the agent reads the last one). Each is checked
where it is made; their JSON Schemas are published in `docs/schemas/`."""

from __future__ import annotations

from typing import Literal

from champion.contract import Document
from champion.evaluation.document import EvaluationDocument


class DuplicateRow(Document):
    row: int
    line: int | None
    identity: str
    first_seen: str
    """Where the same identity was seen first (a data file, or a row of this file)."""


class IngestedFile(Document):
    file: str
    status: Literal["added", "already in the dataset"]
    sha256: str
    rows: int
    stored_as: str | None
    duplicate_rows: list[DuplicateRow]
    duplicates_skipped: int


class IngestDocument(Document):
    model: str
    rows_before: int
    rows_after: int
    duplicates_skipped: int
    files: list[IngestedFile]


class DeployDocument(Document):
    environment: str
    model: str
    version: int
    previous: int | None
    url: str
    state: str
    """The endpoint's health state once it serves `version`."""


class SmokeCheck(Document):
    name: str
    ok: bool
    detail: str


class SmokeDocument(Document):
    environment: str
    model: str
    version: int | None
    url: str
    checks: list[SmokeCheck]
    ok: bool


class DeployStep(DeployDocument):
    step: Literal["deploy staging", "deploy production", "restore production"]


class SmokeStep(SmokeDocument):
    step: Literal["smoke-test staging", "smoke-test production"]


class ReleaseDocument(Document):
    """Staging, its smoke test, production, its smoke test; production restored on failure."""

    model: str
    version: int
    ok: bool
    steps: list[DeployStep | SmokeStep]
    message: str


class RetrainDocument(Document):
    """New data ingested (if any), a build judged, and a release when it was promoted."""

    model: str
    ingest: IngestDocument | None
    build: EvaluationDocument
    release: ReleaseDocument | None
