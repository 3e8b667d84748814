"""`champion agent`: the loop that fires triggers and runs the queued retrainings.

Each poll it looks at every model's incoming folder, cron schedule and monitor interval,
and queues a retraining for what is due (merged into the model's queued job if there is
one). Between polls it reaps finished jobs (recording them, moving their files) and starts
queued ones, at most one per model. It runs no pipeline itself: every job and monitor check
is a niced child process, so the agent stays small and the endpoints keep serving.

Stopping (`request_stop`, SIGTERM in the CLI): no new triggers, running jobs get
`grace_seconds` to finish, then are stopped and marked cancelled (their work queued again);
queued jobs stay queued for the next start.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from champion.errors import ConfigError
from champion.project import CONFIG_FILE, Project
from champion.state.jobs import Job, JobStore
from champion.state.store import StateStore
from champion.triggers.incoming import IncomingWatcher
from champion.triggers.jobs import settle_files
from champion.triggers.lock import AgentLock, agent_dir
from champion.triggers.monitor import MonitorCheck, MonitorOutcome
from champion.triggers.queue import Finished, JobQueue
from champion.triggers.schedule import Clock, CronTimer, IntervalTimer, schedule_of, utc_now

TICK_SECONDS = 0.2
"""How often finished jobs are reaped and queued ones started (triggers: `poll_seconds`)."""


@dataclass
class AgentOptions:
    """How the agent runs (from `champion agent`'s options)."""

    poll_seconds: float = 5.0
    """How often the incoming folders, schedules and monitor intervals are looked at."""
    grace_seconds: float = 300.0
    """On stop: how long running jobs may take to finish before they are cancelled."""
    max_running: int = 1
    """Jobs running at once over all models (one per model at most in any case)."""


@dataclass
class AgentEvent:
    """Something the agent did, for its output (`--json`: one JSON object per line)."""

    event: str
    message: str
    model: str | None = None
    job: dict[str, Any] | None = None
    detail: dict[str, Any] | None = None
    at: datetime = field(default_factory=utc_now)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"event": self.event, "at": self.at.isoformat(), "message": self.message}
        for key in ("model", "job", "detail"):
            if getattr(self, key) is not None:
                body[key] = getattr(self, key)
        return body


Emit = Callable[[AgentEvent], None]
MonitorCommand = Callable[[str], Sequence[str]]
"""Model -> command line of its monitor check (default: `champion monitor MODEL --json`)."""


class Agent:
    """The triggers and the queue of one project. Call `start()`, then `run()` or `run_once()`."""

    def __init__(self, project: Project, options: AgentOptions, emit: Emit, clock: Clock = utc_now,
                 monitor_command: MonitorCommand | None = None) -> None:
        self.project = project
        self.options = options
        self.emit = emit
        self.clock = clock
        self.monitor_command = monitor_command
        self.log_dir = agent_dir(project) / "logs"
        models = project.config.models
        self.state = StateStore(project.state_uri, project.lock_dir, project.state_schema)
        self.store = JobStore(self.state)
        self.queue = JobQueue(self.store, project.root, self.log_dir,
                              lambda model: models[model].triggers.release, options.max_running)
        self.watchers = {name: IncomingWatcher(project.root / m.incoming)
                         for name, m in models.items() if m.triggers.watch_incoming}
        _check_distinct_folders(project, self.watchers)
        self.schedules: dict[str, CronTimer] = {}
        for name, m in models.items():
            if m.triggers.schedule is not None:
                try:
                    schedule = schedule_of(name, m.triggers.schedule)
                except ConfigError as exc:
                    raise ConfigError(f"{project.root / CONFIG_FILE}: {exc}") from None
                self.schedules[name] = CronTimer(name, schedule, self.store, clock)
        self.monitor_timers = {name: IntervalTimer(name, "monitor", m.triggers.monitor_minutes, self.store, clock)
                               for name, m in models.items() if m.triggers.monitor_minutes > 0}
        self.monitors: dict[str, MonitorCheck] = {}
        self.lock = AgentLock(project, self.state)
        self.stopping = False
        self._grace_deadline: float | None = None
        self._released = False

    # ---- life cycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Take the project's agent lock (`UsageError` if another agent has it) and recover
        jobs a crashed agent left running."""
        self.lock.acquire()
        for job in self.queue.recover():
            self._say("recovered", f"{job.model}: job {job.id} was left running by a stopped agent; queued again",
                      job.model, job)
        queued = self.store.jobs("queued")
        self._say("started", f"agent started for {self.project.root} ({len(queued)} job(s) queued); "
                  f"watching {_describe_triggers(self)}", detail={"queued": len(queued)})

    def request_stop(self, now: bool = False) -> None:
        """Stop taking triggers; `now`: do not wait for running jobs (a second Ctrl-C)."""
        self.stopping = True
        if now:
            self._grace_deadline = time.monotonic()

    def run(self) -> None:
        """Poll and run jobs until `request_stop()`, then shut down gracefully."""
        next_poll = 0.0
        try:
            while not self.stopping:
                if time.monotonic() >= next_poll:
                    self.poll_triggers()
                    next_poll = time.monotonic() + self.options.poll_seconds
                self.step()
                time.sleep(TICK_SECONDS)
        except BaseException:
            self.request_stop(now=True)  # an error of the agent itself: leave no job behind
            raise
        finally:
            self.shutdown()

    def run_once(self, monitor: bool = False) -> list[Job]:
        """Fire every trigger due now (incoming files, schedules, and monitor checks when
        `monitor`), run the queue empty, shut down; returns the jobs that finished."""
        finished: list[Job] = []
        try:
            self._poll_incoming()
            time.sleep(min(self.options.poll_seconds, 1.0))  # a second look: only stable files count
            self._poll_incoming()
            self._poll_schedules()
            if monitor:
                for model in self.monitor_timers:
                    self._start_monitor(model)
            while not self.stopping and (self.monitors or self.queue.running or self.store.jobs("queued")):
                finished += self.step()
                if self._released:  # files a failed job did not consume: queue them again
                    self._poll_incoming()
                time.sleep(TICK_SECONDS)
        except BaseException:
            self.request_stop(now=True)
            raise
        finally:
            finished += self.shutdown()
        return finished

    def shutdown(self) -> list[Job]:
        """Let running jobs finish within the grace period, cancel the rest, drop the lock."""
        self.stopping = True
        finished: list[Job] = []
        try:
            for model, check in list(self.monitors.items()):
                check.cancel("the agent stopped")
                del self.monitors[model]
            if self.queue.running:
                self._say("stopping", f"stopping: waiting up to {self.options.grace_seconds:g} s for "
                          f"{len(self.queue.running)} running job(s)")
                if self._grace_deadline is None:
                    self._grace_deadline = time.monotonic() + self.options.grace_seconds
                while self.queue.running and time.monotonic() < self._grace_deadline:
                    finished += self.step()
                    time.sleep(TICK_SECONDS)
            for done in self.queue.cancel_running():
                finished.append(self._finished(done))
            queued = self.store.jobs("queued")
            self._say("stopped", f"agent stopped ({len(queued)} job(s) stay queued for the next start)",
                      detail={"queued": len(queued)})
        finally:
            self.lock.release()
        return finished

    # ---- one pass -------------------------------------------------------------------------
    def poll_triggers(self) -> None:
        """Look at every trigger once and queue what is due."""
        self._poll_incoming()
        self._poll_schedules()
        for model, timer in self.monitor_timers.items():
            if model not in self.monitors:
                moment = timer.due()
                if moment is not None:
                    timer.fired(moment)
                    self._start_monitor(model)

    def step(self) -> list[Job]:
        """Reap finished monitor checks and jobs; start queued jobs unless stopping."""
        for model, check in list(self.monitors.items()):
            outcome = check.poll()
            if outcome is not None:
                del self.monitors[model]
                self._monitor_done(model, outcome)
        finished = [self._finished(done) for done in self.queue.reap()]
        if not self.stopping:
            for job in self.queue.start_ready():
                self._say("job_started", f"{job.model}: job {job.id} started (pid {job.pid}; {job.reason}); "
                          f"log {job.log_path}", job.model, job)
        return finished

    # ---- triggers -------------------------------------------------------------------------
    def _poll_incoming(self) -> None:
        self._released = False
        claimed = self.store.active_files()
        for model, watcher in self.watchers.items():
            new = [f for f in watcher.poll() if str(f) not in claimed]
            if new:
                names = ", ".join(f.name for f in new)
                self._queue(model, "incoming", f"incoming: {names}", new)

    def _poll_schedules(self) -> None:
        for model, timer in self.schedules.items():
            slot = timer.due()
            if slot is not None:
                self._queue(model, "schedule", f"schedule: '{timer.schedule.expression}' due at "
                            f"{slot.astimezone(timer.schedule.zone).isoformat(timespec='minutes')}")
                timer.fired(slot)

    def _start_monitor(self, model: str) -> MonitorCheck | None:
        name = f"monitor-{model}-{self.clock():%Y%m%d-%H%M%S}"
        command = self.monitor_command(model) if self.monitor_command else None
        try:
            check = MonitorCheck(self.project.root, model, self.log_dir, name, command)
        except OSError as exc:
            self._monitor_done(model, MonitorOutcome(model, False, None, error=f"cannot start the monitor: {exc}"))
            return None
        self.monitors[model] = check
        self._say("monitor_started", f"{model}: monitor check started (pid {check.process.pid})", model)
        return check

    def _monitor_done(self, model: str, outcome: MonitorOutcome) -> None:
        if not outcome.ok:
            job = self.store.record(model, "monitor", "monitor check", "failed", {"error": outcome.error},
                                    outcome.log_path, outcome.exit_code)
            self._say("monitor_failed", f"{model}: monitor check failed: {outcome.error}", model, job,
                      outcome.as_dict())
            return
        reasons = outcome.retrain_reasons
        drift = "detected" if outcome.drift_detected else "not detected"
        self._say("monitor_checked", f"{model}: monitor: drift {drift}, {len(outcome.alerts)} alert(s), "
                  f"{len(reasons)} asking for a retraining", model, detail=outcome.as_dict())
        if not reasons:
            return
        stale = self._nothing_new_since_last_retraining(model)
        if stale is not None:
            self._say("monitor_skipped", f"{model}: the monitor asks for a retraining, but no data arrived since "
                      f"job {stale.id} ({stale.summary.get('verdict') or stale.status}) trained on it; "
                      "skipped until new data is ingested", model)
            return
        # A retraining already running (say, for the files the alert is about) answers it.
        self._queue(model, "monitor", "monitor: " + "; ".join(reasons), join_running=True)

    def _nothing_new_since_last_retraining(self, model: str) -> Job | None:
        """The model's last completed retraining, when no file was ingested after it started
        (a retraining now would learn from exactly the same data); else None."""
        done = [j for j in self.store.jobs(model=model)
                if j.status in ("succeeded", "rejected") and j.started_at is not None]
        if not done:
            return None
        last = done[-1]
        started = last.started_at
        assert started is not None
        if any(f.added_at >= started for f in self.state.ingested(model)):
            return None
        return last

    def _queue(self, model: str, kind: str, reason: str, files: list[Path] | None = None,
               join_running: bool = False) -> None:
        job, merged = self.queue.add(model, kind, reason, files, join_running)  # type: ignore[arg-type]
        verb = (f"merged into {job.status} job {job.id}" if merged else f"queued as job {job.id}")
        self._say("merged" if merged else "queued", f"{model}: {reason} -> {verb}", model, job)

    # ---- outcomes -------------------------------------------------------------------------
    def _finished(self, done: Finished) -> Job:
        job = done.job
        summary = job.summary
        what = summary.get("verdict") or summary.get("error") or ""
        version = f" version {summary['version']}" if summary.get("version") is not None else ""
        try:  # files first, so whoever reads the event finds them where they belong
            moved, left = settle_files(job, done.result)
        except OSError as exc:  # a file we cannot move stays where it is; the agent goes on
            moved, left = {}, []
            self._say("file_error", f"{job.model}: cannot move the files of job {job.id}: {exc}", job.model, job)
        self._say("job_finished", f"{job.model}: job {job.id} {job.status} (exit {job.exit_code}){version}: "
                  f"{what}", job.model, job)
        for source, target in moved.items():
            self._say("file_moved", f"{job.model}: {Path(source).name} -> {target}", job.model,
                      detail={"file": source, "to": target})
        watcher = self.watchers.get(job.model)
        for path in left:
            if watcher is not None and not self.stopping:
                watcher.release(path.resolve())
                self._released = True
        return job

    def _say(self, event: str, message: str, model: str | None = None, job: Job | None = None,
             detail: dict[str, Any] | None = None) -> None:
        self.emit(AgentEvent(event, message, model, job.as_dict() if job else None, detail))


def _check_distinct_folders(project: Project, watchers: dict[str, IncomingWatcher]) -> None:
    seen: dict[Path, str] = {}
    for model, watcher in watchers.items():
        folder = watcher.folder.resolve()
        if folder in seen:
            raise ConfigError(f"{project.root / CONFIG_FILE}: models.{seen[folder]}.incoming and "
                              f"models.{model}.incoming are the same folder; give each model its own")
        seen[folder] = model


def _describe_triggers(agent: Agent) -> str:
    parts = [f"{m}: incoming {w.folder}" for m, w in agent.watchers.items()]
    parts += [f"{m}: schedule '{t.schedule.expression}'" for m, t in agent.schedules.items()]
    parts += [f"{m}: monitor {t.spec}" for m, t in agent.monitor_timers.items()]
    return "; ".join(parts) or "nothing (no triggers configured)"
