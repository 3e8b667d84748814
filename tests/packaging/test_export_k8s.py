"""`champion export k8s`: a Deployment and a Service that parse, probe the health routes and
route the Service's port 80 to the environment's port."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from export_cli import export

from champion.errors import NotFoundError
from champion.packaging import export_k8s
from champion.project import Project


def documents(path: Path) -> tuple[dict, dict]:  # type: ignore[type-arg]
    loaded = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    assert [d["kind"] for d in loaded] == ["Deployment", "Service"]
    return loaded[0], loaded[1]


def test_staging_manifests(make_project: Callable[..., Path], tmp_path: Path) -> None:
    project = make_project(registry=False)
    result = export("k8s", "--env", "staging", "--out", str(tmp_path / "k8s"), "--replicas", "3",
                    "-p", str(project), "--json")
    assert result.code == 0, result.stderr
    assert result.json()["files"] == ["staging.yaml", "staging-kserve.yaml"]
    assert result.json()["image"] == "champion-youtube-spam:latest"
    text = (tmp_path / "k8s" / "staging.yaml").read_text()
    assert "&id" not in text and "*id" not in text  # no YAML anchors for humans to puzzle over
    assert "--replicas" in text  # the header says how to change it
    deployment, service = documents(tmp_path / "k8s" / "staging.yaml")

    name = "champion-youtube-spam-staging"
    assert deployment["apiVersion"] == "apps/v1" and deployment["metadata"]["name"] == name
    spec = deployment["spec"]
    assert spec["replicas"] == 3
    assert spec["selector"]["matchLabels"] == {"app": name}
    assert spec["template"]["metadata"]["labels"]["app"] == name
    [container] = spec["template"]["spec"]["containers"]
    assert container["image"] == "champion-youtube-spam:latest"
    assert container["command"] == ["champion"]
    assert container["args"] == ["serve", "staging", "--project", "/srv/project", "--host", "0.0.0.0",
                                 "--workers", "1"]
    assert container["ports"] == [{"name": "http", "containerPort": 8601, "protocol": "TCP"}]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["MLFLOW_DISABLE_TELEMETRY"] == "true"
    assert container["readinessProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/v2/health/live", "port": "http"}
    assert container["livenessProbe"]["initialDelaySeconds"] > 0
    assert container["livenessProbe"]["failureThreshold"] >= 3
    # The startup probe allows the environment's startup_seconds (120) before liveness acts.
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120
    assert set(container["resources"]) == {"requests", "limits"}
    assert container["securityContext"]["runAsNonRoot"] is True

    assert service["apiVersion"] == "v1" and service["metadata"]["name"] == name
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"] == {"app": name}
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": 8601, "protocol": "TCP"}]


def test_production_takes_its_port_workers_and_the_image(make_project: Callable[..., Path], tmp_path: Path) -> None:
    project = make_project(registry=False)
    result = export_k8s(Project.open(project), tmp_path, "production", "registry.example/spam:7")
    deployment, service = documents(tmp_path / "production.yaml")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert result.files == ["production.yaml", "production-kserve.yaml"] and deployment["spec"]["replicas"] == 1
    assert container["image"] == "registry.example/spam:7"
    assert container["args"][-2:] == ["--workers", "2"]
    assert container["ports"][0]["containerPort"] == 8600
    assert service["spec"]["ports"][0]["targetPort"] == 8600
    assert container["resources"]["limits"]["cpu"] == "2"


def test_unknown_environment_names_the_known_ones(make_project: Callable[..., Path], tmp_path: Path) -> None:
    project = make_project(registry=False)
    refused = export("k8s", "--env", "qa", "--out", str(tmp_path / "k8s"), "-p", str(project), "--json")
    assert refused.code == 2
    error = refused.json()["error"]
    assert error["type"] == "NotFoundError"
    assert "'qa'" in error["message"] and "staging" in error["message"] and "production" in error["message"]
    assert not (tmp_path / "k8s").exists()
    with pytest.raises(NotFoundError, match="staging, production"):
        export_k8s(Project.open(project), tmp_path, "qa", "x:1")


def test_replicas_must_be_positive(make_project: Callable[..., Path], tmp_path: Path) -> None:
    project = make_project(registry=False)
    refused = export("k8s", "--env", "staging", "--replicas", "0", "--out", str(tmp_path), "-p", str(project))
    assert refused.code == 2
