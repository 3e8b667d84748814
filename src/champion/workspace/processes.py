"""Processes, in one place: whether one runs (`pid_alive`), signalling a process or its
whole group, and the agent's child processes (started at a lower CPU priority in their own
session, output to files, stopped as a whole process group).

Pipelines never run inside the agent: a crash, a leak or a long fit stays in its own
process, and the lower priority keeps the endpoints serving on a small machine.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

NICE_INCREMENT = 10
"""How much lower the priority of pipelines and monitor checks is than the agent's."""


def _lower_priority() -> None:
    try:
        os.nice(NICE_INCREMENT)
    except OSError:  # not allowed here: run at the normal priority rather than not at all
        pass


def spawn(command: Sequence[str], stdout: Path, stderr: Path, cwd: Path,
          env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start `command` niced, in a new session (its own process group), output to files."""
    stdout.parent.mkdir(parents=True, exist_ok=True)
    # `nice` execs the command (same pid); a preexec function is the fallback only, because
    # code run between fork and exec can deadlock when the parent has threads.
    nice = shutil.which("nice")
    argv = [nice, "-n", str(NICE_INCREMENT), *command] if nice else list(command)
    with open(stdout, "wb") as out, open(stderr, "ab") as err:
        return subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=str(cwd), start_new_session=True,
            preexec_fn=None if nice else _lower_priority, env=env,  # noqa: PLW1509
        )


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> int:
    """SIGTERM the process group, SIGKILL it after `timeout` seconds; returns the exit code."""
    send_signal(process.pid, signal.SIGTERM, group=True)
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        send_signal(process.pid, signal.SIGKILL, group=True)
        code = process.wait()
    # Grandchildren left in the group (the leader exited first) go too.
    send_signal(process.pid, signal.SIGKILL, group=True)
    return code


def wait(process: subprocess.Popen[bytes], timeout: float) -> int | None:
    """The exit code once the process ended within `timeout` seconds, else None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            return code
        time.sleep(0.05)
    return process.poll()


def stop_orphan(pid: int, timeout: float = 10.0) -> bool:
    """Stop the process group of a job whose agent died (not our child: no wait, only
    polling); True if it was still running."""
    if not _group_alive(pid):
        return False
    send_signal(pid, signal.SIGTERM, group=True)
    deadline = time.monotonic() + timeout
    while _group_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    send_signal(pid, signal.SIGKILL, group=True)
    return True


def _group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pid_alive(pid: int) -> bool:
    """Whether process `pid` runs; a zombie (exited, not yet reaped by its parent) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no /proc here: trust the signal check


def process_group(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def send_signal(pid: int, signum: int, group: bool = False) -> None:
    """Signal a process, or its whole process group; gone or not ours is not an error."""
    try:
        if group:
            os.killpg(pid, signum)
        else:
            os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def read_text(path: Path, limit: int = 1_000_000) -> str:
    """A child's output file, at most `limit` characters ('' when missing)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return file.read(limit)
    except OSError:
        return ""


def tail(path: Path, lines: int = 3) -> str:
    """The last non-empty lines of a log, joined by ' | '."""
    try:
        with open(path, "rb") as file:
            file.seek(max(0, file.seek(0, os.SEEK_END) - 16_384))
            text = file.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(kept[-lines:])
