"""What the team benchmarks share: a real PostgreSQL cluster and `mlflow server` for the
run (from tests/team_servers.py), and the environments of a project alone and in a team."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"

from team_servers import MlflowServer, Postgres, running_team_servers


@dataclass
class Backends:
    postgres: Postgres
    server: MlflowServer
    alone: dict[str, str]
    """The environment of a project on its embedded SQLite stores."""
    team: dict[str, str]
    """The environment of a project on the team's servers (URIs and the password)."""


@contextmanager
def team_backends() -> Iterator[Backends]:
    """Start the servers for the run; stop and remove them after."""
    alone = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_TRACKING", "CHAMPION_", "PG"))}
    with running_team_servers() as (postgres, server):
        state = postgres.create_database("state")
        yield Backends(postgres, server, alone, {**alone, **postgres.env, "CHAMPION_TRACKING_URI": server.url,
                                                  "CHAMPION_STATE_URI": state})


def new_project(project: Path, env: dict[str, str], build: bool = True) -> None:
    """A youtube-spam project at `project`, its first version built (migrations done)."""
    subprocess.run([sys.executable, "-m", "champion", "init", str(project), "--template", "youtube-spam"],
                   check=True, capture_output=True, env=env)
    if build:
        subprocess.run([sys.executable, "-m", "champion", "build", "spam", "-q", "--project", str(project)],
                       check=True, capture_output=True, env=env)
