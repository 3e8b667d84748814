"""The state store: what MLflow does not keep. SQLAlchemy Core on SQLite or PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from champion.credentials import redact
from champion.errors import ChampionError
from champion.locks import LockTimeout, file_lock

metadata = MetaData()

ingested_files = Table(
    "ingested_files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(200), nullable=False, index=True),
    Column("path", Text, nullable=False),
    Column("original", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

def _move_columns() -> list[Column]:  # type: ignore[type-arg]
    """The columns of an alias move (new objects each call: a Column belongs to one table)."""
    return [
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("model", String(200), nullable=False, index=True),
        Column("alias", String(100), nullable=False),
        Column("from_version", Integer, nullable=True),
        Column("to_version", Integer, nullable=True),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("actor", String(200), nullable=False),
        Column("reason", Text, nullable=False),
        Column("run_id", String(64), nullable=True),
    ]


alias_moves = Table("alias_moves", metadata, *_move_columns())

alias_intents = Table("alias_intents", metadata, *_move_columns())
"""Alias moves begun and not yet recorded: written before the alias moves, replaced by the
history row after, so a process killed in between leaves a trace the next command settles."""

alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(200), nullable=False, index=True),
    Column("environment", String(100), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("sink", String(20), nullable=False),
    Column("kind", String(50), nullable=False),
    Column("ok", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("message_id", String(64), nullable=True),
    Column("status", Integer, nullable=True),
    Column("error", Text, nullable=True),
)
"""Every alert sent to every sink: whether it arrived, after how many tries."""

alert_acknowledgements = Table(
    "alert_acknowledgements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(200), nullable=False),
    Column("environment", String(100), nullable=False),
    Column("kind", String(50), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Index("ix_alert_acknowledgements", "model", "environment", "kind"),
)
"""Who acknowledged an alert of a kind, when and why (it stays silenced until it clears)."""

monitor_reports = Table(
    "monitor_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(200), nullable=False),
    Column("environment", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("generated_at", DateTime(timezone=True), nullable=False),
    Column("document", Text, nullable=False),
    Index("ix_monitor_reports", "model", "environment", "id"),
)
"""`champion monitor`'s report documents (JSON), so every machine of a team sees them; the
newest REPORTS_KEPT per model and environment are kept."""
REPORTS_KEPT = 1000

endpoint_heartbeats = Table(
    "endpoint_heartbeats",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("environment", String(100), nullable=False, index=True),
    Column("machine", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("url", Text, nullable=False),
    Column("state", String(20), nullable=False),
    Column("versions", Text, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)
"""Endpoints of every machine sharing this state (a team's): each beats every few seconds."""


@dataclass(frozen=True)
class Heartbeat:
    """One endpoint as it last said it was."""

    environment: str
    machine: str
    pid: int
    url: str
    state: str
    versions: dict[str, int | None]
    started_at: datetime
    seen_at: datetime


class StateError(ChampionError):
    """The state store failed."""


@dataclass(frozen=True)
class IngestedFile:
    model: str
    path: str
    original: str
    sha256: str
    rows: int
    added_at: datetime


@dataclass(frozen=True)
class AliasMove:
    model: str
    alias: str
    from_version: int | None
    to_version: int | None
    at: datetime
    actor: str
    reason: str
    run_id: str | None

    def as_dict(self) -> dict[str, object]:
        return {
            "model": self.model, "alias": self.alias, "from_version": self.from_version,
            "to_version": self.to_version, "at": self.at.isoformat(), "actor": self.actor,
            "reason": self.reason, "run_id": self.run_id,
        }


class StateStore:
    """Our tables plus per-model locks (a file lock beside SQLite, advisory on PostgreSQL)."""

    def __init__(self, url: str, lock_dir: Path, schema: str | None = None) -> None:
        self.url = url
        self.lock_dir = lock_dir
        self.schema = schema
        self.engine = engine_for(url, schema)
        from champion.state.schema import migrate

        migrate(self.engine, str(schema))

    # ---- locks ----------------------------------------------------------------------------
    @contextmanager
    def lock(self, name: str, timeout: float = 600.0) -> Iterator[None]:
        """Hold an exclusive lock named `name` across processes (and machines on PostgreSQL),
        waiting up to `timeout` seconds (`LockTimeout` after)."""
        if self.engine.dialect.name != "postgresql":
            with file_lock(self.lock_dir / f"{name}.lock", timeout, what=name):
                yield
            return
        with advisory_lock(self.engine, f"{self.schema}:{name}", timeout, name):
            yield

    def try_lock(self, name: str) -> Connection | None:
        """PostgreSQL only: the advisory lock `name` taken now, held by the returned connection
        until it is closed (or its process or machine dies), or None when another holds it."""
        connection = self.engine.connect()
        try:
            taken = _try_advisory(connection, lock_key(f"{self.schema}:{name}"))
        except SQLAlchemyError as exc:
            connection.close()
            raise StateError(f"taking the lock {name!r} failed: {exc}") from None
        if not taken:
            connection.close()
            return None
        return connection

    # ---- ingested files -------------------------------------------------------------------
    def add_ingested(self, records: list[IngestedFile]) -> None:
        with self._write() as connection:
            for r in records:
                connection.execute(insert(ingested_files).values(
                    model=r.model, path=r.path, original=r.original, sha256=r.sha256, rows=r.rows,
                    added_at=r.added_at))

    def ingested(self, model: str) -> list[IngestedFile]:
        query = select(ingested_files).where(ingested_files.c.model == model).order_by(ingested_files.c.id)
        with self.engine.connect() as connection:
            return [IngestedFile(r.model, r.path, r.original, r.sha256, r.rows, _utc(r.added_at))
                    for r in connection.execute(query)]

    # ---- alias history --------------------------------------------------------------------
    def record_move(self, move: AliasMove) -> None:
        with self._write() as connection:
            connection.execute(insert(alias_moves).values(**_move_values(move)))

    def begin_move(self, move: AliasMove) -> int:
        """Write the intent of `move` before the alias moves; its id."""
        with self._write() as connection:
            key = connection.execute(insert(alias_intents).values(**_move_values(move))).inserted_primary_key
        assert key is not None
        return int(key[0])

    def complete_move(self, intent: int, move: AliasMove) -> None:
        """The alias moved: its history row replaces the intent, in one transaction."""
        with self._write() as connection:
            connection.execute(insert(alias_moves).values(**_move_values(move)))
            connection.execute(delete(alias_intents).where(alias_intents.c.id == intent))

    def abandon_move(self, intent: int) -> None:
        """The alias did not move: forget the intent."""
        with self._write() as connection:
            connection.execute(delete(alias_intents).where(alias_intents.c.id == intent))

    def pending_moves(self, model: str) -> list[tuple[int, AliasMove]]:
        """Intents of `model` a killed command left behind, oldest first."""
        query = select(alias_intents).where(alias_intents.c.model == model).order_by(alias_intents.c.id)
        with self.engine.connect() as connection:
            return [(r.id, AliasMove(r.model, r.alias, r.from_version, r.to_version, _utc(r.at), r.actor, r.reason,
                                     r.run_id)) for r in connection.execute(query)]

    def moves(self, model: str, alias: str | None = None) -> list[AliasMove]:
        query = select(alias_moves).where(alias_moves.c.model == model)
        if alias:
            query = query.where(alias_moves.c.alias == alias)
        with self.engine.connect() as connection:
            return [AliasMove(r.model, r.alias, r.from_version, r.to_version, _utc(r.at), r.actor,
                              r.reason, r.run_id)
                    for r in connection.execute(query.order_by(alias_moves.c.id))]

    # ---- alert deliveries -------------------------------------------------------------------
    def record_deliveries(self, model: str, environment: str, deliveries: list[dict[str, object]]) -> None:
        if not deliveries:
            return
        at = now()
        with self._write() as connection:
            connection.execute(insert(alert_deliveries), [
                {"model": model, "environment": environment, "at": at, "sink": d["sink"], "kind": d["kind"],
                 "ok": int(bool(d["ok"])), "attempts": d.get("attempts", 1), "message_id": d.get("message_id"),
                 "status": d.get("status"), "error": d.get("error")} for d in deliveries])

    def acknowledge(self, model: str, environment: str, kind: str, actor: str, reason: str) -> dict[str, str]:
        """Record that `actor` acknowledged the `kind` alert of `model` in `environment`."""
        at = now()
        with self._write() as connection:
            connection.execute(insert(alert_acknowledgements).values(
                model=model, environment=environment, kind=kind, at=at, actor=actor, reason=reason))
        return {"model": model, "environment": environment, "kind": kind, "at": at.isoformat(), "actor": actor,
                "reason": reason}

    def acknowledgements(self, model: str, environment: str) -> list[dict[str, str]]:
        """Every acknowledgement of `model`'s alerts in `environment`, oldest first."""
        c = alert_acknowledgements.c
        query = select(alert_acknowledgements).where(c.model == model, c.environment == environment).order_by(c.id)
        with transaction(self.engine, "reading alert acknowledgements") as connection:
            return [{"model": r.model, "environment": r.environment, "kind": r.kind, "at": _utc(r.at).isoformat(),
                     "actor": r.actor, "reason": r.reason} for r in connection.execute(query)]

    def deliveries(self, model: str | None = None, limit: int = 50) -> list[dict[str, object]]:
        """The latest alert deliveries, newest first."""
        query = select(alert_deliveries).order_by(alert_deliveries.c.id.desc()).limit(limit)
        if model is not None:
            query = query.where(alert_deliveries.c.model == model)
        with self.engine.connect() as connection:
            return [{"model": r.model, "environment": r.environment, "at": _utc(r.at).isoformat(), "sink": r.sink,
                     "kind": r.kind, "ok": bool(r.ok), "attempts": r.attempts, "message_id": r.message_id,
                     "status": r.status, "error": r.error} for r in connection.execute(query)]

    # ---- monitor reports --------------------------------------------------------------------
    def record_report(self, model: str, environment: str, name: str, document: dict[str, object]) -> None:
        """Keep a monitor report (`name`: its file name without suffix), dropping the oldest
        beyond REPORTS_KEPT of its model and environment."""
        c = monitor_reports.c
        generated = datetime.fromisoformat(str(document["generated_at"]))
        with self._write() as connection:
            connection.execute(insert(monitor_reports).values(
                model=model, environment=environment, name=name, generated_at=generated,
                document=json.dumps(document, default=str)))
            cutoff = connection.execute(
                select(c.id).where(c.model == model, c.environment == environment)
                .order_by(c.id.desc()).offset(REPORTS_KEPT).limit(1)).scalar()
            if cutoff is not None:
                connection.execute(delete(monitor_reports).where(
                    c.model == model, c.environment == environment, c.id <= cutoff))

    def reports(self, model: str, environment: str, limit: int) -> list[dict[str, object]]:
        """The newest `limit` reports of `model` in `environment`, oldest first, each with its
        `name`."""
        c = monitor_reports.c
        # By when they were made: a report can be recorded minutes after it was made (its alerts'
        # deliveries retry first), so the insert order of two machines' reports can differ.
        query = (select(c.name, c.document).where(c.model == model, c.environment == environment)
                 .order_by(c.generated_at.desc(), c.id.desc()).limit(limit))
        with transaction(self.engine, "reading monitor reports") as connection:
            rows = list(connection.execute(query))
        return [{**json.loads(r.document), "name": r.name} for r in reversed(rows)]

    def report(self, model: str, name: str) -> dict[str, object] | None:
        """One report of `model` by name; None when there is none."""
        c = monitor_reports.c
        query = select(c.document).where(c.model == model, c.name == name).order_by(c.id.desc()).limit(1)
        with transaction(self.engine, f"reading the monitor report {name}") as connection:
            document = connection.execute(query).scalar()
        return None if document is None else dict(json.loads(document))

    # ---- endpoints of every machine ---------------------------------------------------------
    def beat(self, beat: Heartbeat) -> None:
        """Record that an endpoint is alive (its row replaced in one transaction)."""
        with self._write() as connection:
            connection.execute(delete(endpoint_heartbeats).where(_beat_of(beat)))
            connection.execute(insert(endpoint_heartbeats).values(
                environment=beat.environment, machine=beat.machine, pid=beat.pid, url=beat.url, state=beat.state,
                versions=json.dumps(beat.versions), started_at=beat.started_at, seen_at=beat.seen_at))

    def forget_endpoint(self, beat: Heartbeat) -> None:
        with self._write() as connection:
            connection.execute(delete(endpoint_heartbeats).where(_beat_of(beat)))

    def heartbeats(self, environment: str | None = None, within_seconds: float = 30.0) -> list[Heartbeat]:
        """Endpoints that beat within the last `within_seconds`, by environment and machine."""
        since = now() - timedelta(seconds=within_seconds)
        query = select(endpoint_heartbeats).where(endpoint_heartbeats.c.seen_at >= since)
        if environment is not None:
            query = query.where(endpoint_heartbeats.c.environment == environment)
        query = query.order_by(endpoint_heartbeats.c.environment, endpoint_heartbeats.c.machine,
                               endpoint_heartbeats.c.pid)
        with self.engine.connect() as connection:
            return [Heartbeat(r.environment, r.machine, r.pid, r.url, r.state, json.loads(r.versions),
                              _utc(r.started_at), _utc(r.seen_at)) for r in connection.execute(query)]

    def _write(self) -> AbstractContextManager[Connection]:
        return transaction(self.engine, "writing to the state store")


@contextmanager
def transaction(engine: Engine, what: str) -> Iterator[Connection]:
    """One transaction on `engine`; a database failure becomes a `StateError` saying `what` failed."""
    try:
        with engine.begin() as connection:
            yield connection
    except SQLAlchemyError as exc:
        raise StateError(f"{what} failed: {exc}") from None


def _beat_of(beat: Heartbeat):  # type: ignore[no-untyped-def]
    table = endpoint_heartbeats.c
    return (table.environment == beat.environment) & (table.machine == beat.machine) & (table.pid == beat.pid)


def _move_values(move: AliasMove) -> dict[str, object]:
    return {"model": move.model, "alias": move.alias, "from_version": move.from_version,
            "to_version": move.to_version, "at": move.at, "actor": move.actor, "reason": move.reason,
            "run_id": move.run_id}


def now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def lock_key(name: str) -> int:
    """The 64-bit advisory lock key of a lock name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _try_advisory(connection: Connection, key: int) -> bool:
    """Take the session advisory lock `key` now if it is free (the statement's transaction
    is committed: a session lock outlives it, and no transaction is left open around it)."""
    taken = bool(connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one())
    connection.commit()
    return taken


@contextmanager
def advisory_lock(engine: Engine, name: str, timeout: float, what: str) -> Iterator[None]:
    """A PostgreSQL advisory lock held by one connection for the `with` block. Taken with
    `pg_try_advisory_lock` until `timeout`, so a wait ends in `LockTimeout`, never forever;
    the database drops it if this process or its machine dies (the session ends)."""
    key = lock_key(name)
    deadline = time.monotonic() + timeout
    pause = 0.02
    try:
        with engine.connect() as connection:
            while not _try_advisory(connection, key):
                if time.monotonic() >= deadline:
                    raise LockTimeout(f"waited {timeout:.0f} s for the lock of {what!r}; is another champion "
                                      "command (on this or another machine) stuck?")
                time.sleep(pause)
                pause = min(pause * 2, 0.5)
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                connection.commit()
    except SQLAlchemyError as exc:
        raise StateError(f"the lock {what!r} failed: {exc}") from None


def engine_for(url: str, schema: str | None = None) -> Engine:
    """An engine for `url`; SQLite in WAL mode with a busy timeout (readers never block the
    writer); on PostgreSQL, the project's own schema (created if missing) as its search path,
    so projects sharing one database never see each other's tables."""
    if not url.startswith("sqlite"):
        parsed = make_url(url)
        if parsed.drivername == "postgresql":  # psycopg 3, whatever SQLAlchemy's default driver
            parsed = parsed.set(drivername="postgresql+psycopg")
        if parsed.drivername == "postgresql+psycopg":
            try:
                import psycopg  # noqa: F401
            except ImportError:
                raise StateError("the state store is PostgreSQL but its driver is missing: "
                                 "pip install 'champion[team]' (psycopg)") from None
        if schema is None or not parsed.drivername.startswith("postgresql"):
            return create_engine(parsed, pool_pre_ping=True)
        _create_schema(parsed, schema)
        return create_engine(parsed, pool_pre_ping=True, connect_args={"options": f"-csearch_path={schema}"})
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def _create_schema(url: URL, schema: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    except SQLAlchemyError as exc:
        if "already exists" not in str(exc):  # two first opens at once: the other one made it
            raise StateError(f"creating the schema {schema} in {redact(url.render_as_string())} failed: "
                             f"{exc}") from None
    finally:
        engine.dispose()
