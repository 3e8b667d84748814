"""The `--json` contract: documents are checked against their typed models where they are
made, and the published JSON Schema is the one the code makes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import cli
from pydantic import ValidationError

from champion.cli import schemas
from champion.evaluation.document import EvaluationDocument
from champion.monitoring.documents import MonitorReport, ReferenceProfile
from champion.pipelines.documents import IngestDocument, RetrainDocument
from champion.project import Project
from champion.serving.health import HealthDocument
from champion.workspace import Workspace

SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "schemas"


@pytest.mark.parametrize("name", sorted(schemas.DOCUMENTS))
def test_the_published_schemas_are_the_ones_the_code_makes(name: str) -> None:
    published = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    assert published == schemas.schema(name), "run: python -m champion.cli.schemas docs/schemas"


def test_every_published_schema_belongs_to_a_document() -> None:
    assert {p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json")} == set(schemas.DOCUMENTS)


def test_a_health_document_that_breaks_the_contract_is_refused() -> None:
    good = {"status": "Healthy", "environment": "production", "alias": "production", "pid": 7, "uptime_seconds": 1.0,
            "models": {"spam": {"state": "Healthy", "alias": "production", "version": 2, "alias_version": 2}},
            "workers": [{"pid": 7, "status": "Healthy", "models": {"spam": {"version": 2, "state": "Healthy"}}}]}
    assert HealthDocument.checked(good) is good
    with pytest.raises(ValidationError):
        HealthDocument.checked({**good, "status": "Fine"})


def test_build_evaluate_and_register_documents_follow_the_schema(make_project, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = make_project()
    first = cli("build", "-p", str(root), "-q", "--json")
    assert first.code == 0, first.stderr
    document = EvaluationDocument.model_validate(first.json())
    assert document.verdict == "FIRST_MODEL" and document.version == 1 and document.data is not None
    trained = cli("train", "-p", str(root), "-q", "--json", "--param=C=0.001")
    judged = cli("evaluate", "-p", str(root), "-q", "--json", "--run", trained.json()["run_id"], "--out",
                 str(tmp_path))
    rejected = EvaluationDocument.model_validate(judged.json())
    assert rejected.verdict == "REJECT" and rejected.champion is not None and rejected.champion.version == 1
    written = json.loads((tmp_path / "evaluation.json").read_text(encoding="utf-8"))
    assert EvaluationDocument.model_validate(written) == rejected
    with pytest.raises(ValidationError):  # the contract is strict: an unknown key is refused
        EvaluationDocument.model_validate({**judged.json(), "surprise": 1})


def test_a_retrain_document_follows_the_schema_and_an_off_contract_profile_is_refused(make_project) -> None:  # type: ignore[no-untyped-def]
    root = make_project()
    first = cli("build", "-p", str(root), "-q")
    assert first.code == 0, first.stdout + first.stderr
    new_data = sorted((root / "data" / "retraining").glob("*.csv"))
    done = cli("retrain", "-p", str(root), "-q", "--json", "--no-release", *[f"--new-data={f}" for f in new_data])
    assert done.code in (0, 3), done.stdout + done.stderr
    document = RetrainDocument.model_validate(done.json())
    assert document.ingest is not None and len(document.ingest.files) == len(new_data) and document.release is None
    assert document.build.data is not None and document.ingest.rows_after > document.ingest.rows_before
    assert IngestDocument.model_validate(done.json()["ingest"]).files[0].status == "added"

    ws = Workspace(Project.open(root))
    profile = ws.registry.read_document(ws.registry.version("spam", 1).run_id, "profile.json")
    assert ReferenceProfile.checked(profile) is profile
    broken = {**profile, "columns": {"CONTENT": {**profile["columns"]["CONTENT"], "type": "numeric"}}}
    with pytest.raises(ValidationError):  # a text column's statistics under a numeric type
        ReferenceProfile.checked(broken)


def test_a_monitor_report_off_the_contract_is_refused() -> None:
    report = {"model": "m", "environment": "production", "generated_at": "2026-01-01T00:00:00+00:00",
              "status": "insufficient_data", "message": "no predictions", "task": None,
              "window": {"spec": "1h", "rows": 0, "start": None, "end": None, "versions": []}, "reference": None,
              "drift_detected": False, "data_drift": None, "prediction_drift": None, "data_quality": None,
              "performance": None, "alerts": [], "warnings": [], "dropped_log_rows": 0, "report": "r.html",
              "json": "r.json", "log": {"logged": 0, "labelled": 0, "dropped": 0, "oldest": None, "newest": None}}
    assert MonitorReport.checked(report) is report
    for wrong in ({"status": "fine"}, {"alerts": [{"kind": "x", "message": "y"}]}, {"surprise": 1}):
        with pytest.raises(ValidationError):
            MonitorReport.checked({**report, **wrong})
