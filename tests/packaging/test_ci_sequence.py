"""The CI templates' command sequence, run for real: the Build then the Release pipeline,
exactly the `champion ...` lines the templates hold, each as its own shell command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from serving_support import free_port, new_project, set_environments, stop_all
from test_ci_templates import TEMPLATES, ci_commands

PR_ONLY = ("champion train", "champion evaluate")  # the pull-request path: gate without registering


def main_path(commands: list[str]) -> list[str]:
    return [c for c in commands if not c.startswith(PR_ONLY)]


def test_github_and_azure_run_the_same_commands() -> None:
    github = ci_commands(TEMPLATES / "github/champion-build.yml") + ci_commands(
        TEMPLATES / "github/champion-release.yml")
    azure = ci_commands(TEMPLATES / "azure-pipelines.yml")
    assert [c.split()[:2] for c in main_path(github)] == [c.split()[:2] for c in main_path(azure)]


def test_the_ci_templates_command_sequence_builds_and_releases(tmp_path: Path, migrated_mlflow_db: Path) -> None:
    sequence = main_path(ci_commands(TEMPLATES / "azure-pipelines.yml"))
    assert [c.split()[1] for c in sequence] == ["build", "release", "ps"]

    project = new_project(tmp_path / "project", migrated_mlflow_db)
    set_environments(project, {"staging": {"port": free_port(), "poll_seconds": 0.2},
                               "production": {"port": free_port(), "workers": 2, "poll_seconds": 0.2}})
    workdir = tmp_path / "ci"
    (workdir / "artifacts").mkdir(parents=True)
    env = {**os.environ, "CHAMPION_PROJECT": str(project), "CHAMPION_ACTOR": "ci-test",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    try:
        for command in sequence:
            done = subprocess.run(["bash", "-c", command], cwd=workdir, env=env, capture_output=True, text=True,
                                  timeout=300)
            assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        built = json.loads((workdir / "artifacts" / "champion-build.json").read_text())
        released = json.loads((workdir / "artifacts" / "champion-release.json").read_text())
        endpoints = json.loads((workdir / "artifacts" / "champion-ps.json").read_text())
    finally:
        stop_all(project)
    assert built["verdict"] == "FIRST_MODEL"
    assert released["ok"] is True and released["version"] == built["version"]
    assert {e["environment"]: (e["state"], e["version"]) for e in endpoints} == {
        "staging": ("Healthy", built["version"]), "production": ("Healthy", built["version"])}
