"""The `--json` contract: documents are checked against their typed models where they are
made, and the published JSON Schema is the one the code makes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import cli
from pydantic import ValidationError

from champion.evaluation.document import EvaluationDocument, schema
from champion.serving import health

SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "schemas"


@pytest.mark.parametrize(("name", "made", "module"), [("evaluation", schema, "champion.evaluation.document"),
                                                     ("health", health.schema, "champion.serving.health")])
def test_the_published_schemas_are_the_ones_the_code_makes(name: str, made, module: str) -> None:  # type: ignore[no-untyped-def]
    published = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    assert published == made(), f"run: python -m {module} > docs/schemas/{name}.schema.json"


def test_a_health_document_that_breaks_the_contract_is_refused() -> None:
    good = {"status": "Healthy", "environment": "production", "alias": "production", "pid": 7, "uptime_seconds": 1.0,
            "models": {"spam": {"state": "Healthy", "alias": "production", "version": 2, "alias_version": 2}},
            "workers": [{"pid": 7, "status": "Healthy", "models": {"spam": {"version": 2, "state": "Healthy"}}}]}
    assert health.checked(good) is good
    with pytest.raises(ValidationError):
        health.checked({**good, "status": "Fine"})


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
