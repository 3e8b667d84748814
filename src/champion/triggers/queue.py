"""The per-model queue: at most one pipeline running per model, triggers merged while queued.

Queued jobs live in the state database (`champion.state.jobs`), so they survive a restart;
the processes of running jobs are held here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from champion.state.jobs import Job, JobStore, TriggerKind
from champion.triggers.jobs import JobProcess, JobResult
from champion.workspace.processes import stop_orphan


@dataclass
class Finished:
    """A job whose process ended (or was stopped), with its outcome recorded."""

    job: Job
    result: JobResult


class JobQueue:
    """Queues retrainings per model and runs them, `max_running` at a time in all."""

    def __init__(self, store: JobStore, project_root: Path, log_dir: Path,
                 release: Callable[[str], bool], max_running: int = 1) -> None:
        """`release(model)` says whether a job of `model` releases a promoted version."""
        self.store = store
        self.project_root = project_root
        self.log_dir = log_dir
        self.release = release
        self.max_running = max_running
        self.running: dict[str, JobProcess] = {}

    def add(self, model: str, trigger: TriggerKind, reason: str,
            files: list[Path] | None = None, join_running: bool = False) -> tuple[Job, bool]:
        """Queue a retraining; `(job, merged)`: merged into the model's queued job if it has one
        (or its running one, with `join_running`)."""
        return self.store.enqueue(model, trigger, reason, [str(f) for f in files or []], join_running)

    def start_ready(self) -> list[Job]:
        """Start queued jobs of models with nothing running, oldest first, within the limit."""
        started: list[Job] = []
        for job in self.store.jobs("queued"):
            if len(self.running) >= self.max_running:
                break
            if job.model in self.running:
                continue
            present = [f for f in job.files if Path(f).exists()]
            if present != job.files:  # a file left the incoming folder while queued
                self.store.set_files(job.id, present)
                job.files = present
            process = JobProcess(job, self.project_root, self.log_dir, self.release(job.model))
            job.status, job.pid, job.log_path = "running", process.pid, str(process.log)
            self.store.mark_running(job.id, process.pid, str(process.log))
            self.running[job.model] = process
            started.append(job)
        return started

    def reap(self) -> list[Finished]:
        """Record the jobs whose processes ended since the last call."""
        finished: list[Finished] = []
        for model, process in list(self.running.items()):
            result = process.poll()
            if result is not None:
                del self.running[model]
                finished.append(self._record(process, result))
        return finished

    def cancel_running(self, timeout: float = 10.0) -> list[Finished]:
        """Stop every running job and mark it cancelled. Its triggers are queued again (a new
        job, or merged into the model's queued one) so the work runs at the next start."""
        finished: list[Finished] = []
        for model, process in list(self.running.items()):
            result = process.poll() or process.cancel(timeout)
            del self.running[model]
            finished.append(self._record(process, result))
            if result.status == "cancelled":
                self.requeue(process.job)
        return finished

    def recover(self) -> list[Job]:
        """Jobs left `running` by an agent that died without stopping them: mark them
        cancelled and queue their work again. Returns them."""
        stale = self.store.jobs("running")
        for job in stale:
            # Its process may outlive the agent (its own session): stop it before the work is
            # queued again, so two runs of one job never overlap.
            stopped = job.pid is not None and stop_orphan(job.pid)
            self.store.finish(job.id, "cancelled", None,
                              {"error": f"the agent stopped while the job ran (pid {job.pid}"
                                        + ("; it was still running and was stopped)" if stopped else ")")})
            self.requeue(job)
        return stale

    def requeue(self, job: Job) -> None:
        """Queue the work of a job that did not complete again."""
        for kind in job.triggers or [job.trigger]:
            self.store.enqueue(job.model, kind, f"again after {job.id}: {job.reason}",  # type: ignore[arg-type]
                               job.files)

    def _record(self, process: JobProcess, result: JobResult) -> Finished:
        job = self.store.finish(process.job.id, result.status, result.exit_code, result.summary)
        return Finished(job, result)
