"""`champion export docker`: a build context that serves the environment, with a consistent
and relocated snapshot of the embedded registry."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import cli
from export_cli import export

from champion.errors import NotFoundError, UsageError
from champion.packaging import docker as docker_export
from champion.packaging import export_docker
from champion.project import Project

SERVE = ["champion", "serve", "production", "--project", "/srv/project", "--host", "0.0.0.0"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path) -> Path:
    """A youtube-spam project with one registered version carrying the production alias."""
    root = tmp_path_factory.mktemp("built") / "spam-project"
    assert cli("init", str(root)).code == 0
    (root / ".champion").mkdir()
    shutil.copyfile(migrated_mlflow_db, root / ".champion" / "mlflow.db")
    build = cli("build", "--project", str(root), "--json", "--quiet")
    assert build.code == 0, build.stderr
    from champion.workspace import Workspace

    Workspace(Project.open(root)).registry.set_alias("spam", "production", build.json()["version"])
    # Things of this machine that must not travel.
    for folder in ("endpoints/production", "logs"):
        (root / ".champion" / folder).mkdir(parents=True, exist_ok=True)
    (root / ".champion" / "endpoints" / "production" / "endpoint.json").write_text("{}")
    (root / "recipes").mkdir()
    (root / "recipes" / "mine.py").write_text("# a custom recipe module\n")
    return root


@pytest.fixture(scope="module")
def context(built: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    out = tmp_path_factory.mktemp("exports") / "image"
    result = export("docker", "--out", str(out), "--project", str(built), "--json")
    assert result.code == 0, result.stderr
    return out, result.json()


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    pairs = []
    for line in joined.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def test_context_has_the_dockerfile_the_project_and_champion(context: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    out, document = context
    assert document["kind"] == "docker" and document["environment"] == "production"
    assert document["image"] == "champion-youtube-spam:latest"
    assert document["notes"] == []  # production has a version
    for name in ("Dockerfile", ".dockerignore", "README.md", "requirements.txt", "champion-src/pyproject.toml",
                 "champion-src/src/champion/__init__.py", "champion-src/src/champion/cli/app.py",
                 "project/champion.toml", "project/recipes/mine.py", "project/.champion/mlflow.db"):
        assert name in document["files"], name
        assert (out / name).is_file()
    assert sorted(document["files"]) == document["files"]
    assert not any("__pycache__" in f for f in document["files"])
    state = {f.split("/")[2] for f in document["files"] if f.startswith("project/.champion/")}
    assert state == {"mlflow.db", "artifacts"}  # no endpoints, logs, locks, runs, data, state.db
    assert not any(f.startswith("project/data/") for f in document["files"])


def test_dockerfile_serves_the_environment_on_its_port(context: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    out, _ = context
    steps = instructions((out / "Dockerfile").read_text())
    keywords = [k for k, _ in steps]
    assert steps[0] == ("FROM", "python:3.11-slim")
    assert dict(steps)["EXPOSE"] == "8600"
    user = [args for k, args in steps if k == "USER"]
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert keywords.index("USER") < keywords.index("CMD")
    assert "MLFLOW_DISABLE_TELEMETRY=true" in dict(steps)["ENV"]
    healthcheck = dict(steps)["HEALTHCHECK"]
    probe = json.loads(healthcheck[healthcheck.index("CMD") + 3:])
    assert "http://127.0.0.1:8600/v2/health/ready" in probe[-1]
    assert json.loads(dict(steps)["CMD"]) == SERVE
    copied = [args.split()[-2] for k, args in steps if k == "COPY"]
    assert set(copied) == {"requirements.txt", "champion-src", "project"}
    ignore = (out / ".dockerignore").read_text()
    assert "project/.champion/endpoints" in ignore and "project/.champion/logs" in ignore
    readme = (out / "README.md").read_text()
    assert "docker build -t champion-youtube-spam:latest ." in readme
    assert "docker run" in readme and "-p 8600:8600" in readme
    assert "tracking_uri" in readme and "alias moves" in readme


def test_requirements_pin_every_runtime_dependency(context: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    out, _ = context
    lines = [ln for ln in (out / "requirements.txt").read_text().splitlines() if ln and not ln.startswith("#")]
    names = {re.split(r"[=\[;<> ]", ln)[0].lower() for ln in lines}
    assert {"mlflow", "scikit-learn", "typer", "uvicorn", "starlette"} <= names
    assert all("==" in ln for ln in lines), lines
    assert 'name = "champion"' in (out / "champion-src" / "pyproject.toml").read_text()


def test_snapshot_has_the_same_registry_relocated_to_the_image(built: Path, context: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    out, _ = context

    def registry(path: Path) -> tuple[list, list, list]:  # type: ignore[type-arg]
        with sqlite3.connect(path) as db:
            return (db.execute("SELECT name FROM registered_models ORDER BY name").fetchall(),
                    db.execute("SELECT name, version, run_id FROM model_versions ORDER BY 1, 2").fetchall(),
                    db.execute("SELECT name, alias, version FROM registered_model_aliases ORDER BY 1, 2").fetchall())

    source, copy = registry(built / ".champion" / "mlflow.db"), registry(out / "project/.champion/mlflow.db")
    assert copy == source
    assert copy[0] == [("spam",)] and ("spam", "production", 1) in copy[2]
    with sqlite3.connect(out / "project/.champion/mlflow.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        locations = [v for (v,) in db.execute("SELECT value FROM tags WHERE key = 'champion.model_artifacts'")]
        stored = [v for (v,) in db.execute("SELECT storage_location FROM model_versions")]
    assert locations and stored
    for uri in locations + stored:
        assert uri.startswith("file:///srv/project/.champion/artifacts/")
        assert (out / "project" / uri.removeprefix("file:///srv/project/")).is_dir()
    assert str(built).encode() not in (out / "project/.champion/mlflow.db").read_bytes()


def test_relocated_snapshot_serves_the_version(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Export for a folder we can use as the image's root: the version loads from the copy
    alone, its artifact hash checked, even with the source registry gone."""
    out = tmp_path / "ctx"
    monkeypatch.setattr(docker_export, "SERVE_ROOT", str(out / "project"))
    export_docker(Project.open(built), out)
    hidden = built.with_name("hidden")
    built.rename(hidden)
    try:
        from champion.serving.loading import load_version
        from champion.workspace import Workspace

        loaded = load_version(Workspace(Project.open(out / "project")), "spam", 1)
        assert loaded.version == 1 and loaded.sha256
    finally:
        hidden.rename(built)


def test_refuses_a_non_empty_folder_and_keeps_it(built: Path, tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("mine")
    refused = export("docker", "--out", str(tmp_path), "-p", str(built), "--json")
    assert refused.code == 2
    assert refused.json()["error"]["type"] == "UsageError"
    assert "not empty" in refused.json()["error"]["message"]
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]
    with pytest.raises(UsageError, match="not empty"):
        export_docker(Project.open(built), tmp_path)


def test_refuses_an_unknown_environment(built: Path, tmp_path: Path) -> None:
    refused = export("docker", "--out", str(tmp_path / "x"), "--env", "qa", "-p", str(built))
    assert refused.code == 2
    assert "qa" in refused.stderr and "staging" in refused.stderr and "production" in refused.stderr
    assert not (tmp_path / "x").exists()
    with pytest.raises(NotFoundError):
        export_docker(Project.open(built), tmp_path / "x", "qa")


def test_without_a_registry_says_so_and_leaves_nothing(make_project: Callable[..., Path], tmp_path: Path) -> None:
    project = make_project(registry=False)
    refused = export("docker", "--out", str(tmp_path / "ctx"), "-p", str(project))
    assert refused.code == 2 and "champion build" in refused.stderr
    assert not (tmp_path / "ctx").exists()


def test_no_version_on_the_alias_is_a_note(built: Path, tmp_path: Path) -> None:
    result = export("docker", "--out", str(tmp_path / "ctx"), "--env", "staging", "-p", str(built), "--json")
    assert result.code == 0
    assert any("'staging'" in note and "503" in note for note in result.json()["notes"])
    assert '"serve", "staging"' in (tmp_path / "ctx" / "Dockerfile").read_text()
    assert "EXPOSE 8601" in (tmp_path / "ctx" / "Dockerfile").read_text()


def test_remote_registry_is_not_snapshotted(make_project: Callable[..., Path], tmp_path: Path) -> None:
    project = make_project(registry=False)
    toml = project / "champion.toml"
    toml.write_text(toml.read_text().replace('name = "youtube-spam"\n',
                                             'name = "youtube-spam"\ntracking_uri = "http://mlflow.example:5000"\n'))
    result = export("docker", "--out", str(tmp_path / "ctx"), "-p", str(project), "--json")
    assert result.code == 0, result.stderr
    document = result.json()
    assert "project/.champion/mlflow.db" not in document["files"]
    assert (tmp_path / "ctx" / "project" / ".champion").is_dir()
    assert any("http://mlflow.example:5000" in note for note in document["notes"])
    readme = (tmp_path / "ctx" / "README.md").read_text()
    assert "http://mlflow.example:5000" in readme and "alias moves" in readme


def test_the_exported_source_installs_with_everything_champion_reads(context: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    """The image installs champion from the context: its package data must name the same
    files as champion's own pyproject.toml (the state's migrations among them: without them
    the container could not open a database), and each pattern must find its files."""
    import tomllib

    out, _ = context
    ours = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    exported = tomllib.loads((out / "champion-src" / "pyproject.toml").read_text())
    patterns = exported["tool"]["setuptools"]["package-data"]["champion"]
    assert patterns == ours["tool"]["setuptools"]["package-data"]["champion"]
    package = out / "champion-src" / "src" / "champion"
    for pattern in patterns:
        assert [p for p in package.glob(pattern) if p.is_file()], pattern
    assert (package / "state" / "migrations" / "versions" / "0001_baseline.py").is_file()
