"""The exports in team mode (the project's URIs from the environment): a Docker context whose
image reads the alias from the tracking server and logs to the shared PostgreSQL, Kubernetes
manifests with the credentials from a Secret (validated against Kubernetes' schemas, offline),
a KServe InferenceService, and a compose file for the whole team stack. No Docker daemon or
cluster runs here: what is checked is what can be checked offline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from export_cli import export

TRACKING = "http://mlflow.internal:5000"
STATE = "postgresql://champion@db.internal/champion"


@pytest.fixture
def team_project(make_project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CHAMPION_TRACKING_URI", TRACKING)
    monkeypatch.setenv("CHAMPION_STATE_URI", STATE)
    monkeypatch.setenv("PGPASSWORD", "a-secret-password")
    return make_project(registry=False)


def test_docker_context_in_team_mode(team_project: Path, tmp_path: Path) -> None:
    result = export("docker", "--env", "production", "--out", str(tmp_path / "ctx"), "-p", str(team_project),
                    "--json")
    assert result.code == 0, result.stderr
    context = tmp_path / "ctx"
    dockerfile = (context / "Dockerfile").read_text()
    assert f"CHAMPION_TRACKING_URI={TRACKING}" in dockerfile and f"CHAMPION_STATE_URI={STATE}" in dockerfile
    assert not (context / "project" / ".champion" / "mlflow.db").exists()  # no frozen snapshot
    assert any(line.startswith("psycopg") for line in (context / "requirements.txt").read_text().splitlines())
    readme = (context / "README.md").read_text()
    assert "PGPASSWORD" in readme and TRACKING in readme
    notes = " ".join(result.json()["notes"])
    assert "hot swap" in notes and STATE in notes
    for path in context.rglob("*"):
        assert not path.is_file() or b"a-secret-password" not in path.read_bytes(), path


def test_kubernetes_manifests_take_credentials_from_a_secret_and_validate(team_project: Path, tmp_path: Path) -> None:
    result = export("k8s", "--env", "production", "--out", str(tmp_path / "k8s"), "-p", str(team_project), "--json")
    assert result.code == 0, result.stderr
    assert "production-credentials" in " ".join(result.json()["notes"])
    documents = [d for d in yaml.safe_load_all((tmp_path / "k8s" / "production.yaml").read_text()) if d]
    for document in documents:  # Kubernetes' own schemas, strict (unknown fields refused)
        kubernetes_validate.validate(document, "1.30", strict=True)
    env = {e["name"]: e for e in documents[0]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["CHAMPION_TRACKING_URI"]["value"] == TRACKING and env["CHAMPION_STATE_URI"]["value"] == STATE
    secret = env["PGPASSWORD"]["valueFrom"]["secretKeyRef"]
    assert secret == {"name": "champion-youtube-spam-production-credentials", "key": "PGPASSWORD", "optional": True}
    assert "a-secret-password" not in (tmp_path / "k8s" / "production.yaml").read_text()

    service = yaml.safe_load((tmp_path / "k8s" / "production-kserve.yaml").read_text())
    assert service["apiVersion"] == "serving.kserve.io/v1beta1" and service["kind"] == "InferenceService"
    predictor = service["spec"]["predictor"]
    container = predictor["containers"][0]
    assert container["name"] == "kserve-container"
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"  # the v2 protocol's readiness
    assert {e["name"] for e in container["env"]} >= {"CHAMPION_TRACKING_URI", "CHAMPION_STATE_URI", "PGPASSWORD"}
    # The predictor's pod fields are a PodSpec: Kubernetes' schema checks them too.
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "kserve-predictor"},
           "spec": {k: v for k, v in predictor.items() if k != "minReplicas"}}
    kubernetes_validate.validate(pod, "1.30", strict=True)


def test_compose_file_holds_the_team_stack_with_healthchecks_and_no_password(team_project: Path,
                                                                             tmp_path: Path) -> None:
    result = export("compose", "--out", str(tmp_path / "stack"), "-p", str(team_project), "--json")
    assert result.code == 0, result.stderr
    text = (tmp_path / "stack" / "compose.yaml").read_text()
    assert "a-secret-password" not in text
    stack = yaml.safe_load(text)
    services = stack["services"]
    assert set(services) == {"postgres", "mlflow", "endpoint-staging", "endpoint-production", "agent"}
    for name, service in services.items():
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
        for needed, condition in (service.get("depends_on") or {}).items():
            assert needed in services and condition == {"condition": "service_healthy"}, name
            assert "healthcheck" in services[needed]
    assert services["endpoint-production"]["environment"]["PGPASSWORD"] == "${PGPASSWORD:?set PGPASSWORD}"
    assert services["endpoint-production"]["environment"]["CHAMPION_TRACKING_URI"] == "http://mlflow:5000"
    assert "--artifacts-destination" in services["mlflow"]["command"]
    assert (tmp_path / "stack" / "initdb" / "01-mlflow.sql").read_text().startswith("CREATE DATABASE mlflow")
    for volume in ("postgres-data", "mlflow-artifacts"):
        assert volume in stack["volumes"]
