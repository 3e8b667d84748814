"""Shared fixtures: real projects from the shipped templates, a real MLflow on SQLite.

A fresh MLflow SQLite database costs seconds of migrations, so one is migrated per session
and copied (a file copy) into every project that needs the registry.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "true"
os.environ.setdefault("CHAMPION_ACTOR", "pytest")
for _var in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "CHAMPION_TRACKING_URI", "CHAMPION_STATE_URI"):
    os.environ.pop(_var, None)  # a developer's shell must not point the tests at a server
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from typer.testing import CliRunner  # noqa: E402

from champion.cli.app import app  # noqa: E402

TEMPLATES = Path(__file__).resolve().parents[1] / "src" / "champion" / "templates"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self):  # type: ignore[no-untyped-def]
        import json

        return json.loads(self.stdout)


@pytest.fixture(scope="session")
def migrated_mlflow_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, fully migrated MLflow tracking database."""
    from champion.registry.mlflow_registry import ModelRegistry

    folder = tmp_path_factory.mktemp("mlflow-template")
    ModelRegistry(f"sqlite:///{folder / 'mlflow.db'}", folder / "artifacts", folder / "locks")
    return folder / "mlflow.db"


@pytest.fixture
def make_project(tmp_path: Path, migrated_mlflow_db: Path) -> Callable[..., Path]:
    """Create a project from a template, its registry ready (a copied migrated DB)."""
    counter = iter(range(1000))

    def make(template: str = "youtube-spam", registry: bool = True) -> Path:
        root = tmp_path / f"{template}-{next(counter)}"
        assert cli("init", str(root), "--template", template).code == 0
        if registry:
            (root / ".champion").mkdir()
            shutil.copyfile(migrated_mlflow_db, root / ".champion" / "mlflow.db")
        return root

    return make


def cli(*args: str) -> Result:
    """Run the champion CLI in this process (fast: mlflow is imported once)."""
    runner = CliRunner()
    outcome = runner.invoke(app, list(args), catch_exceptions=False)
    return Result(outcome.exit_code, outcome.stdout, outcome.stderr)


def cli_process(*args: str, cwd: Path | None = None, timeout: float = 300) -> Result:
    """Run the champion CLI as a real separate process."""
    done = subprocess.run([sys.executable, "-m", "champion", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, env={**os.environ, "COLUMNS": "200"})
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="session")
def team_postgres():  # type: ignore[no-untyped-def]
    """A real PostgreSQL 15 cluster shared by the session's team tests, each with databases of
    its own (modules that stop the cluster start their own). Without PostgreSQL the team tests
    are skipped, except in CI (`CI` set), where .ci/run installs it and a missing server is a
    failure."""
    from team_servers import Postgres, postgres_bin

    if postgres_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed; .ci/run installs it (apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql); CI runs these tests")
    postgres = Postgres.start()
    try:
        yield postgres
    finally:
        postgres.stop(remove=True)


@pytest.fixture(scope="session")
def team_servers(team_postgres):  # type: ignore[no-untyped-def]
    """The session's PostgreSQL cluster and a real `mlflow server` on its database `mlflow`
    (proxied artifacts), shared by the session's team tests (modules that restart the tracking
    server start their own)."""
    from team_servers import MlflowServer

    server = MlflowServer.start(team_postgres, "mlflow", team_postgres.folder / "mlflow-server")
    try:
        yield team_postgres, server
    finally:
        server.stop()


# -- on two workers: `pytest -n 2 --dist loadfile` (pytest-xdist), as `make test` runs it -----

ON_SESSION_SERVERS = ("test_team.py", "test_state_schema.py")
"""Modules on the session's tracking server (`team_servers`): one worker runs them all, so the
server starts once per run, not once per worker. A module missing here still works: its worker
starts servers of its own."""

SLOW_FIRST = (*ON_SESSION_SERVERS, "test_team_faults.py", "test_user_projects.py", "test_team_endpoints.py",
              "test_fault_injection.py", "test_faults.py", "test_story.py", "test_release.py",
              "test_serving_http.py", "test_ui.py", "test_agent.py", "test_ci_sequence.py")
"""The modules of a minute or more, slowest first: on two workers they start first, so the many
short modules fill the gaps at the end instead of one long module running alone."""


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):  # type: ignore[no-untyped-def]
    """`--dist loadfile`, with the modules of `ON_SESSION_SERVERS` as one unit and the units in
    the order of the collection (slowest first, see below) rather than xdist's (most tests
    first). xdist's own `loadgroup` would group by mark, but it does not on pytest 9.2
    (pytest-dev/pytest-xdist#1386)."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "session-servers" if Path(module).name in ON_SESSION_SERVERS else module

    config.option.loadscopereorder = False
    return ModuleScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On xdist's workers, whose collection sets the order of the work: the modules of
    `SLOW_FIRST` first, in its order, then the others as collected. A plain run keeps the
    collection's order."""
    if not hasattr(config, "workerinput"):
        return

    def rank(item: pytest.Item) -> int:
        return SLOW_FIRST.index(item.path.name) if item.path.name in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)  # stable: each module's tests keep their order


@pytest.fixture(autouse=True)
def _forget_mlflow_uris():  # type: ignore[no-untyped-def]
    """`mlflow.set_tracking_uri` (called by tests that use plain MLflow) also writes
    MLFLOW_TRACKING_URI into the environment, which champion honours: a later test's
    project would follow it. Each test starts without it."""
    yield
    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        os.environ.pop(var, None)
