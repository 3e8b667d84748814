"""Hosts of a team for the tests: project checkouts in separate folders with separate HOMEs,
sharing nothing but the servers' URLs and the password in the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conftest import Result
from serving_support import free_port, set_environments
from team_servers import MlflowServer, Postgres

_PRIVATE = ("MLFLOW_", "CHAMPION_", "PG")


@dataclass
class Host:
    name: str
    root: Path
    home: Path
    env: dict[str, str]
    outputs: list[str] = field(default_factory=list)
    """Everything the commands printed (checked for credentials)."""

    @classmethod
    def create(cls, folder: Path, name: str, postgres: Postgres, server: MlflowServer, state_db: str,
               template: str = "youtube-spam", project_name: str | None = None) -> Host:
        home = folder / name / "home"
        home.mkdir(parents=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(_PRIVATE)}
        env.update(HOME=str(home), COLUMNS="200", MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true",
                   CHAMPION_ACTOR=f"pytest@{name}", CHAMPION_TRACKING_URI=server.url,
                   CHAMPION_STATE_URI=postgres.url(state_db), **postgres.env)
        host = cls(name, folder / name / "project", home, env)
        assert host.run("init", str(host.root), "--template", template, project=False).code == 0
        if project_name:
            toml = host.root / "champion.toml"
            text = toml.read_text(encoding="utf-8")
            toml.write_text(text.replace('name = "youtube-spam"', f'name = "{project_name}"', 1), encoding="utf-8")
        set_environments(host.root, {"staging": {"port": free_port(), "workers": 1, "smoke": {"min_accuracy": 0.8}},
                                     "production": {"port": free_port(), "workers": 2,
                                                    "smoke": {"min_accuracy": 0.8}}})
        return host

    def command(self, *args: str, project: bool = True) -> list[str]:
        return [sys.executable, "-m", "champion", *args, *(["--project", str(self.root)] if project else [])]

    def run(self, *args: str, project: bool = True, timeout: float = 600) -> Result:
        done = subprocess.run(self.command(*args, project=project), capture_output=True, text=True, env=self.env,
                              cwd=str(self.home), timeout=timeout)
        self.outputs.append(done.stdout + done.stderr)
        return Result(done.returncode, done.stdout, done.stderr)

    @contextmanager
    def started(self, *args: str) -> Iterator[subprocess.Popen[str]]:
        """`champion ARGS` running in the background on this host (read its output with
        `communicate`); killed if it still runs when the block ends."""
        process = subprocess.Popen(self.command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=self.env, cwd=str(self.home))
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    def json(self, *args: str) -> Any:
        done = self.run(*args, "--json")
        assert done.code == 0, f"{self.name}: champion {' '.join(args)} exited {done.code}: {done.stdout}{done.stderr}"
        return json.loads(done.stdout)

    def files_containing(self, secret: str) -> list[Path]:
        """Files of this host (project and HOME) whose bytes contain `secret`."""
        found = []
        for base in (self.root, self.home):
            for path in base.rglob("*"):
                if path.is_file() and secret.encode() in path.read_bytes():
                    found.append(path)
        return found
