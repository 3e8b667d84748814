"""One agent job as a process: `champion retrain MODEL --json ...`, its outcome, its files.

Exit codes of champion decide the job's status: 0 succeeded (FIRST_MODEL or PROMOTE),
3 rejected (REJECT: the champion stays, not a failure), anything else failed (2 bad input
or configuration, 4 a check failed, 1 internal error, negative: killed by a signal).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from champion.errors import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK, EXIT_REJECTED
from champion.state.jobs import Job, JobStatus
from champion.triggers.incoming import move_processed, move_rejected
from champion.workspace.processes import read_text, spawn, stop, tail


def retrain_command(project_root: Path, job: Job, release: bool) -> list[str]:
    """The command line that runs `job`."""
    command = [sys.executable, "-m", "champion", "retrain", job.model, "--project", str(project_root), "--json"]
    for file in job.files:
        command += ["--new-data", file]
    if not release:
        command.append("--no-release")
    return command


@dataclass
class JobResult:
    """How a job's process ended."""

    status: JobStatus
    exit_code: int | None
    summary: dict[str, Any] = field(default_factory=dict)


def interpret(exit_code: int, stdout: str, log_tail: str = "") -> JobResult:
    """Status and a short summary (verdict, version, release, error) of a finished retrain."""
    try:
        document = json.loads(stdout) if stdout.strip() else {}
    except json.JSONDecodeError:
        document = {}
    document = document if isinstance(document, dict) else {}
    summary: dict[str, Any] = {}
    build = document.get("build")
    if isinstance(build, dict):
        summary.update(verdict=build.get("verdict"), version=build.get("version"), run_id=build.get("run_id"))
    release = document.get("release")
    if isinstance(release, dict):
        summary.update(released=bool(release.get("ok")), release_message=release.get("message"))
    error = document.get("error")
    if isinstance(error, dict):
        summary.update(error=error.get("message"), error_type=error.get("type"))
        if error.get("file"):
            summary["error_file"] = error["file"]
    if exit_code == EXIT_OK:
        return JobResult("succeeded", exit_code, summary)
    if exit_code == EXIT_REJECTED:
        return JobResult("rejected", exit_code, summary)
    if "error" not in summary:
        if exit_code < 0:
            summary["error"] = f"killed by signal {-exit_code}"
        elif exit_code == EXIT_CHECK_FAILED and summary.get("release_message"):
            summary["error"] = summary["release_message"]
        else:
            summary["error"] = f"exit code {exit_code}" + (f": {log_tail}" if log_tail else "")
    return JobResult("failed", exit_code, summary)


class JobProcess:
    """A job's running `champion retrain`: stderr to `<job-id>.log`, the JSON result to
    `<job-id>.json` (appended to the log when it ends)."""

    def __init__(self, job: Job, project_root: Path, log_dir: Path, release: bool) -> None:
        self.job = job
        self.log = log_dir / f"{job.id}.log"
        self.result_file = log_dir / f"{job.id}.json"
        self.process: subprocess.Popen[bytes] = spawn(
            retrain_command(project_root, job, release), self.result_file, self.log, project_root)

    @property
    def pid(self) -> int:
        return self.process.pid

    def poll(self) -> JobResult | None:
        """The result once the process has ended, else None."""
        code = self.process.poll()
        return None if code is None else self._result(code)

    def cancel(self, timeout: float = 10.0) -> JobResult:
        """Stop the process group (SIGTERM, SIGKILL after `timeout` s): status `cancelled`."""
        code = stop(self.process, timeout)
        return JobResult("cancelled", code, {"error": "cancelled: the agent stopped before the job ended"})

    def _result(self, code: int) -> JobResult:
        stdout = read_text(self.result_file)
        if stdout.strip():
            try:
                with open(self.log, "a", encoding="utf-8") as log:
                    log.write(f"\n--- result (stdout), exit code {code} ---\n{stdout}\n")
            except OSError:
                pass  # the log is a convenience; the result file stays
        return interpret(code, stdout, tail(self.log))


def settle_files(job: Job, result: JobResult) -> tuple[dict[str, str], list[Path]]:
    """Move a finished job's files out of the incoming folder: `processed/` once ingested,
    `rejected/` (with `<name>.reason.txt`) when they failed. Returns `({file: moved to},
    files left in place)`: when validation names one bad file, the others were not ingested
    and stay for another job."""
    files = [Path(f) for f in job.files if Path(f).exists()]
    if result.status == "cancelled" or not files:
        return {}, files if result.status == "cancelled" else []
    if result.status in ("succeeded", "rejected") or result.exit_code == EXIT_CHECK_FAILED:
        return {str(f): str(move_processed(f)) for f in files}, []
    culprit = _named_file(result.summary.get("error_file"), files) if result.exit_code == EXIT_BAD_INPUT else None
    bad = [culprit] if culprit else files
    reason = (f"{result.summary.get('error')}\n\nchampion agent job {job.id} ({job.model}), exit code "
              f"{result.exit_code}; log: {job.log_path}")
    moved = {str(f): str(move_rejected(f, reason)) for f in bad}
    return moved, [f for f in files if f not in bad]


def _named_file(name: object, files: list[Path]) -> Path | None:
    if not isinstance(name, str):
        return None
    for file in files:
        if Path(name).resolve() == file.resolve():
            return file
    return None
