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
from sqlalchemy import Connection, text

from champion.errors import UsageError
from champion.locks import is_held, try_lock
from champion.project import Project
from champion.state.store import StateStore, lock_key

LOCK_FILE = "agent.lock"
INFO_FILE = "agent.json"


def agent_dir(project: Project) -> Path:
    """`.champion/agent/`: the lock, `agent.json` and the jobs' logs (`logs/`)."""
    return project.state_dir / "agent"


class AgentLock:
    """Held for the agent's lifetime; `UsageError` when another agent holds it. On a team's
    PostgreSQL it is an advisory lock of the database (one agent per project across every
    machine), held by a session that names its agent (`application_name`)."""

    def __init__(self, project: Project, state: StateStore | None = None) -> None:
        self.folder = agent_dir(project)
        self.state = state if project.state_schema is not None else None
        self._lock: FileLock | None = None
        self._session: Connection | None = None

    def acquire(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.state is not None:
            self._acquire_shared(self.state)
            return
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

    def _acquire_shared(self, state: StateStore) -> None:
        session = state.try_lock(SHARED_LOCK)
        if session is None:
            holder = shared_holder(state)
            who = f" ({holder.host}, pid {holder.pid}, since {holder.started_at})" if holder else ""
            raise UsageError(f"another champion agent is running for this project{who}, perhaps on another "
                             "machine; stop it first (SIGTERM) or use its queue")
        # PostgreSQL keeps 63 characters of a session's name: pid, start and host, in that order.
        name = f"{AGENT_PREFIX}{os.getpid()} {int(time.time())} {socket.gethostname()}"[:63]
        session.execute(text("SELECT set_config('application_name', :name, false)"), {"name": name})
        session.commit()
        self._session = session

    def release(self) -> None:
        if self._session is not None:
            self._session.close()  # the session ends: PostgreSQL drops its advisory lock
            self._session = None
            return
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


SHARED_LOCK = "agent"
AGENT_PREFIX = "champion agent "


def shared_holder(state: StateStore) -> AgentPresence | None:
    """The agent holding the project's advisory lock on PostgreSQL, from its session."""
    key = lock_key(f"{state.schema}:{SHARED_LOCK}") & 0xFFFFFFFFFFFFFFFF
    query = text("SELECT a.application_name, l.classid::bigint, l.objid::bigint FROM pg_locks l "
                 "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                 "AND l.objsubid = 1")
    with state.engine.connect() as connection:
        for name, high, low in connection.execute(query):
            if (int(high) << 32 | int(low)) == key:
                parts = str(name).removeprefix(AGENT_PREFIX).split(" ", 2)
                if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
                    started = datetime.fromtimestamp(int(parts[1]), UTC).isoformat()
                    return AgentPresence(True, int(parts[0]), parts[2], started)
                return AgentPresence(True, None, None, None)
    return None


def agent_presence(project: Project, state: StateStore | None = None) -> AgentPresence:
    """Probe the lock (a shared lock succeeds only when no agent holds it); on a team's
    PostgreSQL, ask the database which session holds the project's agent lock."""
    if state is not None and project.state_schema is not None:
        return shared_holder(state) or AgentPresence(False, None, None, None)
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
