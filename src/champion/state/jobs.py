"""The agent's tables: its jobs (queued, running, finished) and its timers (when a schedule
or a monitor check last fired). Same database as `StateStore`, SQLite or PostgreSQL.

The queue lives here, not in the agent's memory, so that queued work survives a restart and
`champion status` can show it. One agent per project writes; readers never block it (WAL).
"""

from __future__ import annotations

import json
import secrets
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)

from champion.state.store import StateError, StateStore, now, transaction

TriggerKind = Literal["schedule", "incoming", "monitor", "manual"]
JobStatus = Literal["queued", "running", "succeeded", "rejected", "failed", "cancelled"]
ACTIVE: tuple[JobStatus, ...] = ("queued", "running")

metadata = MetaData()

agent_jobs = Table(
    "agent_jobs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("model", String(200), nullable=False, index=True),
    Column("trigger", String(20), nullable=False),
    Column("triggers", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("files", Text, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("pid", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("exit_code", Integer, nullable=True),
    Column("summary", Text, nullable=False),
    Column("log_path", Text, nullable=True),
)

agent_timers = Table(
    "agent_timers",
    metadata,
    Column("model", String(200), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("spec", Text, nullable=False),
    Column("anchor_at", DateTime(timezone=True), nullable=False),
    Column("fired_at", DateTime(timezone=True), nullable=True),
)


@dataclass
class Job:
    """One retraining the agent queued, ran or gave up on."""

    id: str
    model: str
    trigger: TriggerKind
    """Kind of the first trigger; `triggers` lists every kind merged into the job."""
    triggers: list[str]
    reason: str
    files: list[str]
    status: JobStatus
    created_at: datetime
    pid: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    log_path: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "model": self.model, "trigger": self.trigger, "triggers": self.triggers,
            "reason": self.reason, "files": self.files, "status": self.status, "pid": self.pid,
            "created_at": _iso(self.created_at), "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at), "exit_code": self.exit_code, "summary": self.summary,
            "log_path": self.log_path,
        }


@dataclass(frozen=True)
class Timer:
    """When a model's schedule (or monitor check) was armed or last fired."""

    model: str
    kind: str
    spec: str
    """The cron expression or interval it was armed with (a change re-arms it)."""
    anchor_at: datetime
    """The next firing is computed from here: the last slot fired, or when it was armed."""
    fired_at: datetime | None


class JobStore:
    """Jobs and timers of the agent, in the project's state database."""

    def __init__(self, state: StateStore) -> None:
        self.engine = state.engine  # its tables are made with the state store's (`state.schema`)

    # ---- jobs -----------------------------------------------------------------------------
    def enqueue(self, model: str, trigger: TriggerKind, reason: str,
                files: list[str] | None = None, join_running: bool = False) -> tuple[Job, bool]:
        """Queue a retraining of `model`; `(job, merged)`. A job of `model` that is already
        queued (not yet running) absorbs the trigger: its files are extended and its reasons
        joined, so two triggers for one model run once. With `join_running` (a trigger that
        brings no files), a running job absorbs it too: it trains on the newest data already."""
        files = list(files or [])
        statuses = ["queued", "running"] if join_running and not files else ["queued"]
        with self._write() as connection:
            row = connection.execute(
                select(agent_jobs).where(agent_jobs.c.model == model, agent_jobs.c.status.in_(statuses))
                .order_by(agent_jobs.c.created_at).limit(1)).first()
            if row is not None:
                job = _job(row)
                job.files += [f for f in files if f not in job.files]
                if trigger not in job.triggers:
                    job.triggers.append(trigger)
                if reason not in job.reason.split("; "):
                    job.reason = f"{job.reason}; {reason}"
                connection.execute(update(agent_jobs).where(agent_jobs.c.id == job.id).values(
                    files=json.dumps(job.files), triggers=",".join(job.triggers), reason=job.reason))
                return job, True
            job = Job(_new_id(model), model, trigger, [trigger], reason, files, "queued", now())
            connection.execute(insert(agent_jobs).values(
                id=job.id, model=model, trigger=trigger, triggers=trigger, reason=reason,
                files=json.dumps(files), status="queued", created_at=job.created_at, summary="{}"))
            return job, False

    def record(self, model: str, trigger: TriggerKind, reason: str, status: JobStatus,
               summary: dict[str, Any], log_path: str | None = None, exit_code: int | None = None) -> Job:
        """Record work that finished without being queued (a failed monitor check)."""
        at = now()
        job = Job(_new_id(model), model, trigger, [trigger], reason, [], status, at, None, at, at, exit_code,
                  summary, log_path)
        with self._write() as connection:
            connection.execute(insert(agent_jobs).values(
                id=job.id, model=model, trigger=trigger, triggers=trigger, reason=reason, files="[]",
                status=status, created_at=at, started_at=at, finished_at=at, exit_code=exit_code,
                summary=json.dumps(summary, default=str), log_path=log_path))
        return job

    def set_files(self, job_id: str, files: list[str]) -> None:
        with self._write() as connection:
            connection.execute(update(agent_jobs).where(agent_jobs.c.id == job_id).values(files=json.dumps(files)))

    def mark_running(self, job_id: str, pid: int, log_path: str) -> None:
        with self._write() as connection:
            connection.execute(update(agent_jobs).where(agent_jobs.c.id == job_id).values(
                status="running", pid=pid, started_at=now(), log_path=log_path))

    def finish(self, job_id: str, status: JobStatus, exit_code: int | None, summary: dict[str, Any]) -> Job:
        with self._write() as connection:
            connection.execute(update(agent_jobs).where(agent_jobs.c.id == job_id).values(
                status=status, exit_code=exit_code, summary=json.dumps(summary, default=str),
                finished_at=now()))
        found = self.job(job_id)
        if found is None:
            raise StateError(f"agent job {job_id} vanished from the state store")
        return found

    def job(self, job_id: str) -> Job | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(agent_jobs).where(agent_jobs.c.id == job_id)).first()
        return _job(row) if row is not None else None

    def jobs(self, status: JobStatus | None = None, model: str | None = None) -> list[Job]:
        """Jobs in the order they were created, optionally of one status or model."""
        query = select(agent_jobs)
        if status:
            query = query.where(agent_jobs.c.status == status)
        if model:
            query = query.where(agent_jobs.c.model == model)
        with self.engine.connect() as connection:
            return [_job(r) for r in connection.execute(query.order_by(agent_jobs.c.created_at, agent_jobs.c.id))]

    def recent(self, limit: int = 20, model: str | None = None) -> list[Job]:
        """The latest jobs, newest first."""
        query = select(agent_jobs)
        if model:
            query = query.where(agent_jobs.c.model == model)
        query = query.order_by(agent_jobs.c.created_at.desc(), agent_jobs.c.id.desc()).limit(limit)
        with self.engine.connect() as connection:
            return [_job(r) for r in connection.execute(query)]

    def active_files(self) -> set[str]:
        """Files named by queued or running jobs (claimed: not to be queued twice)."""
        claimed: set[str] = set()
        for status in ACTIVE:
            for job in self.jobs(status):
                claimed.update(job.files)
        return claimed

    # ---- timers ---------------------------------------------------------------------------
    def timer(self, model: str, kind: str) -> Timer | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(agent_timers).where(
                agent_timers.c.model == model, agent_timers.c.kind == kind)).first()
        if row is None:
            return None
        return Timer(row.model, row.kind, row.spec, _utc(row.anchor_at),
                     _utc(row.fired_at) if row.fired_at else None)

    def set_timer(self, timer: Timer) -> None:
        with self._write() as connection:
            key = (agent_timers.c.model == timer.model, agent_timers.c.kind == timer.kind)
            values = {"spec": timer.spec, "anchor_at": timer.anchor_at, "fired_at": timer.fired_at}
            if connection.execute(update(agent_timers).where(*key).values(**values)).rowcount == 0:
                connection.execute(insert(agent_timers).values(model=timer.model, kind=timer.kind, **values))

    def _write(self) -> AbstractContextManager[Connection]:
        return transaction(self.engine, "writing the agent's jobs to the state store")


def _new_id(model: str) -> str:
    # Sortable by time at a glance, unique without a database sequence (works on both backends).
    return f"{now():%Y%m%d-%H%M%S}-{model}-{secrets.token_hex(3)}"


def _job(row: Any) -> Job:
    return Job(
        id=row.id, model=row.model, trigger=row.trigger, triggers=row.triggers.split(","), reason=row.reason,
        files=json.loads(row.files), status=row.status, created_at=_utc(row.created_at), pid=row.pid,
        started_at=_utc(row.started_at) if row.started_at else None,
        finished_at=_utc(row.finished_at) if row.finished_at else None,
        exit_code=row.exit_code, summary=json.loads(row.summary or "{}"), log_path=row.log_path,
    )


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were written in UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
