"""One agent per project: the lock `.champion/agent/agent.lock` (`champion.locks`).

The kernel drops the lock when the process ends, however it ends, so a crashed agent never
blocks the next one. `agent.json` beside it says which process holds it.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from champion.errors import UsageError
from champion.locks import is_held, try_lock
from champion.project import Project

LOCK_FILE = "agent.lock"
INFO_FILE = "agent.json"


def agent_dir(project: Project) -> Path:
    """`.champion/agent/`: the lock, `agent.json` and the jobs' logs (`logs/`)."""
    return project.state_dir / "agent"


class AgentLock:
    """Held for the agent's lifetime; `UsageError` when another agent holds it."""

    def __init__(self, project: Project) -> None:
        self.folder = agent_dir(project)
        self._lock: FileLock | None = None

    def acquire(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        lock = _try_exclusive(self.folder / LOCK_FILE)
        if lock is None:
            holder = _read_info(self.folder)
            who = (f" (pid {holder.get('pid')} on {holder.get('host')}, since {holder.get('started_at')})"
                   if holder else "")
            raise UsageError(f"another champion agent is running for this project{who}; "
                             "stop it first (SIGTERM) or use its queue") from None
        self._lock = lock
        info = {"pid": os.getpid(), "host": socket.gethostname(), "started_at": datetime.now(UTC).isoformat()}
        (self.folder / INFO_FILE).write_text(json.dumps(info), encoding="utf-8")

    def release(self) -> None:
        if self._lock is None:
            return
        (self.folder / INFO_FILE).unlink(missing_ok=True)
        self._lock.release()
        self._lock = None


def _try_exclusive(path: Path, attempts: int = 10) -> FileLock | None:
    # `champion status` probes the lock with a shared lock for an instant: retry briefly so
    # that probe never makes a starting agent think another one runs.
    for attempt in range(attempts):
        lock = try_lock(path)
        if lock is not None:
            return lock
        if attempt + 1 < attempts:
            time.sleep(0.1)
    return None


@dataclass(frozen=True)
class AgentPresence:
    """Whether an agent runs for the project, and which process it is."""

    running: bool
    pid: int | None
    host: str | None
    started_at: str | None


def agent_presence(project: Project) -> AgentPresence:
    """Probe the lock (a shared lock succeeds only when no agent holds it)."""
    folder = agent_dir(project)
    if not is_held(folder / LOCK_FILE):
        return AgentPresence(False, None, None, None)
    info = _read_info(folder)
    return AgentPresence(True, info.get("pid"), info.get("host"), info.get("started_at"))


def _read_info(folder: Path) -> dict[str, Any]:
    try:
        info = json.loads((folder / INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}
