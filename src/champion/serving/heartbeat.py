"""An endpoint's heartbeat in the shared state: on a team's PostgreSQL, every endpoint of
every machine writes what it serves every few seconds, so `champion ps` on any machine lists
them all (machine, pid, url, health, versions)."""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import UTC, datetime

from champion.project import Project
from champion.serving.client import EndpointClient
from champion.state.store import Heartbeat
from champion.workspace import Workspace

HEARTBEAT_SECONDS = 5.0
log = logging.getLogger("champion.serving")


def machine() -> str:
    return socket.gethostname()


class HeartbeatThread:
    """Beats for the endpoint of this process until stopped; forgets it on stop."""

    def __init__(self, project: Project, environment: str, url: str, every: float = HEARTBEAT_SECONDS) -> None:
        self.workspace = Workspace(project)
        self.environment = environment
        self.url = url
        self.every = every
        self.started_at = datetime.now(UTC)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=self.every + 5)
        try:
            self.workspace.state.forget_endpoint(self._beat("Stopped", {}))
        except Exception as exc:  # noqa: BLE001 - the row ages out by itself
            log.warning("could not remove this endpoint's heartbeat: %s", exc)

    def _run(self) -> None:
        with EndpointClient(self.url, timeout=2.0) as http:
            while True:
                health = http.health()
                state = str(health.get("status")) if health else "Starting"
                models = (health or {}).get("models") or {}
                versions = {name: entry.get("version") for name, entry in models.items()}
                try:
                    self.workspace.state.beat(self._beat(state, versions))
                except Exception as exc:  # noqa: BLE001 - the database may be restarting: beat again later
                    log.warning("heartbeat not recorded: %s", exc)
                if self._stopping.wait(self.every):
                    return

    def _beat(self, state: str, versions: dict[str, int | None]) -> Heartbeat:
        return Heartbeat(self.environment, machine(), os.getpid(), self.url, state, versions, self.started_at,
                         datetime.now(UTC))


def start_heartbeat(project: Project, environment: str, url: str) -> HeartbeatThread | None:
    """A running heartbeat when the state is shared (PostgreSQL), else None."""
    if project.state_schema is None:
        return None
    thread = HeartbeatThread(project, environment, url)
    thread.start()
    return thread


__all__ = ["HEARTBEAT_SECONDS", "HeartbeatThread", "machine", "start_heartbeat"]
