"""The CI/CD templates: valid YAML, champion commands in the right order, and REJECT (exit 3)
treated as an outcome, not a failure."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from champion.cli.app import app

TEMPLATES = Path(__file__).resolve().parents[2] / "ci-templates"
FILES = ["github/champion-build.yml", "github/champion-release.yml", "azure-pipelines.yml"]
SCRIPT_KEYS = ("run", "script", "bash")


def _scripts(node: Any) -> list[dict[str, Any]]:
    """Every step (mapping) holding a shell script, in document order."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if any(isinstance(node.get(key), str) for key in SCRIPT_KEYS):
            found.append(node)
        for value in node.values():
            found += _scripts(value)
    elif isinstance(node, list):
        for item in node:
            found += _scripts(item)
    return found


def _script_text(step: dict[str, Any]) -> str:
    return next(step[key] for key in SCRIPT_KEYS if isinstance(step.get(key), str))


def ci_commands(path: Path | str) -> list[str]:
    """The champion invocations of a CI template, in document order: every line of a `run:`
    (GitHub) or `script:`/`bash:` (Azure) block that starts with `champion ` once stripped.

    Lines are returned stripped but otherwise as written: they may use shell variables
    (`$CHAMPION_PROJECT`, `$RUN_ID`, `$VERSION`) and redirect output into `artifacts/`.
    """
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return [line.strip() for step in _scripts(document) for line in _script_text(step).splitlines()
            if line.strip().startswith("champion ")]


def _verb(command: str) -> str:
    return command.split()[1]


def _step(path: Path, name: str) -> dict[str, Any]:
    steps = [s for s in _scripts(yaml.safe_load(path.read_text())) if s.get("name") == name
             or s.get("displayName") == name]
    assert len(steps) == 1, name
    return steps[0]


@pytest.mark.parametrize("name", FILES)
def test_templates_parse_and_every_command_exists(name: str) -> None:
    path = TEMPLATES / name
    assert isinstance(yaml.safe_load(path.read_text()), dict)
    commands = ci_commands(path)
    assert commands
    known = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}  # type: ignore[union-attr]
    for command in commands:
        assert _verb(command) in known, command
        assert "--json" in command and '--project "$CHAMPION_PROJECT"' in command, command
    # No champion invocation hides in the middle of a line (the extraction would miss it).
    for step in _scripts(yaml.safe_load(path.read_text())):
        for line in _script_text(step).splitlines():
            if re.search(r"(^|[^\w./-])champion (build|release|ps|train|evaluate|deploy)\b", line):
                assert line.strip().startswith("champion "), line


def test_github_build_then_release() -> None:
    build = ci_commands(TEMPLATES / "github/champion-build.yml")
    release = ci_commands(TEMPLATES / "github/champion-release.yml")
    assert [_verb(c) for c in build] == ["build", "train", "evaluate"]  # build; PRs only evaluate
    assert build[0].startswith("champion build --json --out artifacts")
    assert [_verb(c) for c in release] == ["release", "ps"]
    assert release[0].startswith("champion release --json --out artifacts")
    workflow = yaml.safe_load((TEMPLATES / "github/champion-release.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["workflow_run"]["workflows"] == [yaml.safe_load(
        (TEMPLATES / "github/champion-build.yml").read_text())["name"]]
    assert "workflow_dispatch" in triggers


def test_azure_build_stage_then_release_stage() -> None:
    path = TEMPLATES / "azure-pipelines.yml"
    verbs = [_verb(c) for c in ci_commands(path)]
    assert verbs.index("build") < verbs.index("release") < verbs.index("ps")
    stages = yaml.safe_load(path.read_text())["stages"]
    assert [s["stage"] for s in stages] == ["Build", "Release"]
    assert stages[1]["dependsOn"] == "Build"
    assert "REJECT" not in stages[1]["condition"] and "PROMOTE" in stages[1]["condition"]


def _run_gate(script: str, tmp_path: Path, verdict: str, code: str, extra_env: dict[str, str]) -> tuple[int, str]:
    (tmp_path / "artifacts").mkdir(exist_ok=True)
    (tmp_path / "artifacts" / "champion-build.json").write_text(f'{{"verdict": "{verdict}", "version": 2}}')
    output = tmp_path / "github-output"
    output.write_text("")
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])  # `python`
    env = {**os.environ, "PATH": path, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
           **{k: v.replace("CODE_VALUE", code) for k, v in extra_env.items()}}
    done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=30)
    return done.returncode, output.read_text() + done.stdout


@pytest.mark.parametrize(("verdict", "code", "expected"), [
    ("PROMOTE", "0", 0), ("FIRST_MODEL", "0", 0), ("REJECT", "3", 0), ("ERROR", "2", 2), ("ERROR", "1", 1),
])
def test_reject_is_an_outcome_not_a_failure(tmp_path: Path, verdict: str, code: str, expected: int) -> None:
    """Run the verdict steps of both systems for real (bash, python on PATH)."""
    github = _script_text(_step(TEMPLATES / "github/champion-build.yml", "Verdict"))
    status, output = _run_gate(github, tmp_path, verdict, code, {"BUILD_CODE": "CODE_VALUE", "EVALUATE_CODE": ""})
    assert status == expected
    assert f"verdict={verdict}" in output
    azure = _script_text(_step(TEMPLATES / "azure-pipelines.yml", "Verdict"))
    status, output = _run_gate(azure, tmp_path, verdict, code, {"CODE": "CODE_VALUE"})
    assert status == expected
    assert f"variable=verdict;isOutput=true]{verdict}" in output
