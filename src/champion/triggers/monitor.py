"""Metric triggers: run `champion monitor MODEL --json` in its own process and read its alerts.

The command's contract: exit 0 and one JSON object on stdout with `drift_detected` (bool)
and `alerts` (a list of objects with `kind`, `message` and `retrain` (bool)). An alert with
`retrain: true` asks for a retraining. Anything else (another exit code, no JSON, a missing
field) is a failed check: reported with the reason, never raised.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from champion.workspace.processes import read_text, spawn, stop, tail, wait

MONITOR_TIMEOUT = 1800.0
"""Longest a monitor check may run before it is stopped and counted as failed (seconds)."""


@dataclass
class MonitorOutcome:
    """What one monitor check said."""

    model: str
    ok: bool
    """The command kept its contract; when False, `error` says how it did not."""
    exit_code: int | None
    drift_detected: bool = False
    alerts: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    log_path: str | None = None

    @property
    def retrain_reasons(self) -> list[str]:
        """The messages of the alerts that ask for a retraining."""
        return [f"{a.get('kind', 'alert')}: {a.get('message', '')}"
                for a in self.alerts if a.get("retrain") is True]

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "ok": self.ok, "exit_code": self.exit_code,
                "drift_detected": self.drift_detected, "alerts": self.alerts, "retrain": self.retrain_reasons,
                "error": self.error, "log_path": self.log_path}


def monitor_command(project_root: Path, model: str) -> list[str]:
    """The command line of one monitor check."""
    return [sys.executable, "-m", "champion", "monitor", model, "--project", str(project_root), "--json"]


def parse_monitor_output(model: str, exit_code: int | None, stdout: str, stderr_tail: str = "") -> MonitorOutcome:
    """Read a finished check's exit code and standard output against the contract."""
    def failed(why: str) -> MonitorOutcome:
        detail = f" ({stderr_tail})" if stderr_tail else ""
        return MonitorOutcome(model, False, exit_code, error=why + detail)

    if exit_code != 0:
        message = _error_message(stdout)
        return failed(f"`champion monitor` exited with code {exit_code}" + (f": {message}" if message else ""))
    try:
        document = json.loads(stdout)
    except json.JSONDecodeError:
        return failed("`champion monitor` did not print one JSON object")
    if not isinstance(document, dict):
        return failed("`champion monitor` printed JSON that is not an object")
    drift, alerts = document.get("drift_detected"), document.get("alerts")
    if not isinstance(drift, bool) or not isinstance(alerts, list) or not all(isinstance(a, dict) for a in alerts):
        return failed("`champion monitor` output lacks `drift_detected` (bool) or `alerts` (list of objects)")
    return MonitorOutcome(model, True, exit_code, drift, alerts)


class MonitorCheck:
    """One running monitor check; `poll()` until it returns an outcome."""

    def __init__(self, project_root: Path, model: str, log_dir: Path, name: str,
                 command: Sequence[str] | None = None, timeout: float = MONITOR_TIMEOUT) -> None:
        self.model = model
        self.timeout = timeout
        self.stdout = log_dir / f"{name}.json"
        self.log = log_dir / f"{name}.log"
        self.process = spawn(command or monitor_command(project_root, model), self.stdout, self.log, project_root)
        self._deadline = time.monotonic() + timeout

    def poll(self) -> MonitorOutcome | None:
        """The outcome once the check ended (or was stopped for running too long), else None."""
        code = self.process.poll()
        if code is None:
            return self._too_long() if time.monotonic() > self._deadline else None
        return self._outcome(code)

    def wait(self) -> MonitorOutcome:
        code = wait(self.process, max(0.0, self._deadline - time.monotonic()))
        return self._too_long() if code is None else self._outcome(code)

    def _too_long(self) -> MonitorOutcome:
        return self.cancel(f"the monitor check ran longer than {self.timeout:g} s")

    def cancel(self, why: str) -> MonitorOutcome:
        code = stop(self.process)
        return MonitorOutcome(self.model, False, code, error=why, log_path=str(self.log))

    def _outcome(self, code: int) -> MonitorOutcome:
        outcome = parse_monitor_output(self.model, code, read_text(self.stdout), tail(self.log))
        outcome.log_path = str(self.log)
        return outcome


def run_monitor(project_root: Path, model: str, log_dir: Path | None = None,
                command: Sequence[str] | None = None, timeout: float = MONITOR_TIMEOUT) -> MonitorOutcome:
    """Run one monitor check of `model` to its end (niced, own process) and read its verdict.

    `command` replaces `champion monitor ...` (a check written by the user, or a test's
    script); its output files go to `log_dir` (default `.champion/agent/logs/`).
    """
    folder = log_dir or project_root / ".champion" / "agent" / "logs"
    try:
        check = MonitorCheck(project_root, model, folder, f"monitor-{model}", command, timeout)
    except OSError as exc:
        return MonitorOutcome(model, False, None, error=f"cannot start the monitor check: {exc}")
    try:
        return check.wait()
    except BaseException:
        check.cancel("interrupted")
        raise


def _error_message(stdout: str) -> str | None:
    """The message of champion's `--json` error document, when stdout holds one."""
    try:
        document = json.loads(stdout)
    except json.JSONDecodeError:
        return None
    error = document.get("error") if isinstance(document, dict) else None
    return str(error.get("message")) if isinstance(error, dict) else None


__all__ = ["MonitorCheck", "MonitorOutcome", "monitor_command", "parse_monitor_output", "run_monitor"]
