"""Locks between processes, in one module: every lock of champion is a `flock` on a file
under `.champion/locks/` (or beside what it guards), so the kernel drops it when its process
ends, however it ends, and a crash never leaves a project locked.

- `file_lock`: wait up to a timeout for an exclusive lock (builds, alias moves, first use of
  a store); `LockTimeout` says what waited.
- `try_lock`: take it now or not at all (one endpoint per environment, one agent per project).
- `is_held`: whether some process holds it (`champion status` asks about the agent).

On PostgreSQL the model locks are advisory locks of the database instead (`state.store`),
so that they hold across machines.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from champion.errors import ChampionError


class LockTimeout(ChampionError):
    """A lock was not free within its timeout."""


@contextmanager
def file_lock(path: Path, timeout: float = 600.0, what: str | None = None) -> Iterator[None]:
    """Hold the exclusive lock `path` for the `with` block, waiting up to `timeout` seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(path), timeout=timeout):
            yield
    except Timeout:
        raise LockTimeout(f"waited {timeout:.0f} s for the lock of {what or path.stem!r}; "
                          "is another champion command stuck?") from None


def try_lock(path: Path) -> FileLock | None:
    """The exclusive lock `path`, held (release it with `.release()`), or None when another
    process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return None
    return lock


def is_held(path: Path) -> bool:
    """Whether a process holds the lock `path` (a shared lock is refused while it does)."""
    try:
        file = open(path, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError:
        return False
    with file:
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(file.fileno(), fcntl.LOCK_UN)
    return False
