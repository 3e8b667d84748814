"""Files through which the worker processes of one endpoint see each other.

Each worker writes what it serves to `.champion/endpoints/ENV/workers/PID.json`; `/health`
of any worker reads them all, so one request tells whether the whole endpoint has switched.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from champion.project import Project
from champion.workspace.processes import pid_alive


def endpoint_dir(project: Project, environment: str) -> Path:
    return project.state_dir / "endpoints" / environment


class WorkerBoard:
    """This worker's status file, and reading every live worker's."""

    def __init__(self, project: Project, environment: str) -> None:
        self.folder = endpoint_dir(project, environment) / "workers"
        self.pid = os.getpid()

    @property
    def path(self) -> Path:
        return self.folder / f"{self.pid}.json"

    def write(self, status: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        partial.write_text(json.dumps({"pid": self.pid, **status}), encoding="utf-8")
        partial.replace(self.path)  # readers never see half a file

    def read(self) -> list[dict[str, Any]]:
        found = []
        for path in sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []:
            try:
                status = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if pid_alive(int(status.get("pid", 0))):
                found.append(status)
            else:
                path.unlink(missing_ok=True)  # a worker that died without cleaning up
        return found

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


RELOAD_FILE = "reload"


def reload_stamp(project: Project, environment: str) -> int:
    """When a reload of the environment's endpoint was last asked for (0: never)."""
    try:
        return (endpoint_dir(project, environment) / RELOAD_FILE).stat().st_mtime_ns
    except OSError:
        return 0


def request_reload(project: Project, environment: str) -> None:
    """Ask every worker of the environment's endpoint to read its alias again and retry a
    version it refused."""
    folder = endpoint_dir(project, environment)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RELOAD_FILE).write_text(str(time.time_ns()), encoding="utf-8")
