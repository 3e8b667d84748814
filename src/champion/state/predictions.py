"""The prediction log and ground truth: every scored row, and the actual values that come back.

SQLAlchemy Core tables in the state store (SQLite in WAL mode by default, PostgreSQL for
teams). Predictions and feedback are kept in separate, append-only tables and joined when a
window is read, so feedback that arrives before its prediction is written (the log is
flushed in batches, off the hot path) still matches it later. A prediction matches feedback
three ways: by request id (and the row within the request), by the row's identity (a hash of
the model's `id` columns, or of the date for forecasters), or by its features (a hash of the
feature values). When several feedback rows match one prediction, the latest wins.

Beside the log, `prediction_minutes` rolls its traffic up per minute (requests, rows, failed
requests, a latency histogram), written in the same transaction as the rows it counts and
read by `champion.state.traffic`, so rates and percentiles never scan the log.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain
from typing import Any

import numpy as np
import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Double,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

from champion.state.schema import migrate
from champion.state.store import StateError, engine_for

__all__ = ["BUCKET_COLUMNS", "LATENCY_BOUNDS_MS", "LOGGED_COLUMNS", "MINUTE_COUNTS", "EncodedRow", "Failures",
           "FeedbackRecord", "FeedbackResult", "LogRecord", "LoggedWindow", "MinuteKey", "PredictionLog",
           "SpoolProgress", "canonical", "minute_of", "new_request_id", "request_time", "row_key"]

log = logging.getLogger("champion.state")

metadata = MetaData()
_Id = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements only INTEGER keys

predictions = Table(
    "predictions",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("model", String(200), nullable=False),
    Column("environment", String(100), nullable=False),
    Column("at", Double, nullable=False),  # epoch seconds of the request
    Column("request_id", Text, nullable=False),
    Column("row", Integer, nullable=False),  # position of the row within its request
    Column("version", Integer, nullable=False),
    Column("inputs", Text, nullable=False),  # JSON object: column -> value ({"time": date} for forecasts)
    Column("output", Text, nullable=False),  # JSON: the label, or the forecast value
    Column("proba", Text, nullable=True),  # JSON list in the version's class order; NULL for forecasts
    Column("latency_ms", Double, nullable=False),
    Column("identity_key", String(64), nullable=True),  # sha256 of the `id` values, when sent
    Column("feature_key", String(64), nullable=False),  # sha256 of the feature values
    # One index, in time order, so each logged row appends to it. An index on a key the
    # client chooses (its request ids, its id columns) took a random page per row: 8 us of
    # SQLite's work per row became 55 us at 800,000 rows (measured), and kept growing.
    # Windows join feedback from this side, probing the feedback table's indexes; the
    # matched count of new feedback finds the endpoint's own (time-ordered) request ids
    # through this index, other keys by one pass over the model's rows (`_matching`).
    Index("ix_predictions_window", "model", "environment", "at"),  # windows, counts and retention
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("model", String(200), nullable=False),
    Column("environment", String(100), nullable=False),
    Column("at", Double, nullable=False),  # when the feedback arrived
    Column("request_id", Text, nullable=True),
    Column("row", Integer, nullable=True),  # NULL: every row of the request
    Column("identity_key", String(64), nullable=True),
    Column("feature_key", String(64), nullable=True),
    Column("actual", Text, nullable=False),  # JSON: the true label or value
    # Key first, then the scope: SQLite without statistics prefers the index with the most
    # equality columns, and these must win over the scope index in the read-time joins.
    Index("ix_feedback_request", "request_id", "model", "environment"),
    Index("ix_feedback_identity", "identity_key", "model", "environment"),
    Index("ix_feedback_feature", "feature_key", "model", "environment"),
    Index("ix_feedback_scope", "model", "environment", "at"),  # retention
)

prediction_classes = Table(
    "prediction_classes",
    metadata,
    Column("model", String(200), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("classes", Text, nullable=False),  # JSON list: the column order of `proba`
)

log_drops = Table(
    "prediction_log_drops",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("model", String(200), nullable=False),
    Column("environment", String(100), nullable=False),
    Column("at", Double, nullable=False),
    Column("rows", Integer, nullable=False),
    Index("ix_prediction_log_drops", "model", "environment", "at"),
)

spool_segments = Table(
    "prediction_log_spool",
    metadata,
    # How far the endpoint's log loader has read each spool segment. It moves in the same
    # transaction as the rows it loaded, so a loader that dies reloads nothing twice.
    Column("segment", String(200), primary_key=True),
    Column("loaded_bytes", BigInteger, nullable=False),  # from the segment's start
    Column("loaded_rows", BigInteger, nullable=False),  # log rows those bytes held
)

LATENCY_BOUNDS_MS = (0.5, 1, 1.5, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1000, 1500, 2000,
                     3000, 5000, 10000)
"""Upper bounds (ms) of the traffic rollup's latency buckets; one more bucket holds the rest.
About 1.5x apart, so a percentile interpolated inside its bucket is off by a fraction of
that step, where requests usually are: 1-10 ms for one row, 100-1,000 for large batches.
Frozen with the table (migration 0002): new bounds need a new migration."""
BUCKET_COLUMNS = tuple(f"ms_le_{bound:g}".replace(".", "_") for bound in LATENCY_BOUNDS_MS) + (
    f"ms_gt_{LATENCY_BOUNDS_MS[-1]:g}",)
"""Rollup columns: requests whose latency is at most the bound and above the previous one."""
MINUTE_COUNTS = ("requests", "rows", "errors", "rejected", "latency_sum_ms", *BUCKET_COLUMNS)
"""The rollup's additive columns, in the order of an accumulator in `_rollup`."""

prediction_minutes = Table(
    "prediction_minutes",
    metadata,
    # Traffic per minute, summed from what the log loader writes (same transaction) and from
    # the failed requests the workers count: what the control room reads instead of scanning
    # `predictions`. Every write adds (an upsert), so several loaders may share a minute.
    Column("model", String(200), primary_key=True),
    Column("environment", String(100), primary_key=True),
    Column("minute", BigInteger, primary_key=True),  # epoch seconds of the minute's start
    Column("version", Integer, primary_key=True),  # 0: none served yet (failed requests only)
    Column("requests", BigInteger, nullable=False),  # scored requests (logged; latency below)
    Column("rows", BigInteger, nullable=False),  # scored rows
    Column("errors", BigInteger, nullable=False),  # requests answered 5xx
    Column("rejected", BigInteger, nullable=False),  # requests answered 4xx (not 401, not 499)
    Column("latency_sum_ms", Double, nullable=False),  # of the scored requests
    *(Column(name, BigInteger, nullable=False) for name in BUCKET_COLUMNS),
)
MinuteKey = tuple[str, str, int, int]
"""(model, environment, minute, version) of a rollup row."""
Failures = Mapping[MinuteKey, Sequence[int]]
"""Failed requests per rollup row: (errors, rejected)."""

LOGGED_COLUMNS = ("model", "environment", "at", "request_id", "row", "version", "inputs", "output", "proba",
                  "latency_ms", "identity_key", "feature_key")
"""The columns a logged row fills, in the order of an `EncodedRow`."""
EncodedRow = tuple[str, str, float, str, int, int, str, str, str | None, float, str | None, str]
"""One logged row ready for the INSERT: inputs, output and proba as JSON text."""
_CLOCK_SLACK = 300.0  # seconds between a request id's time and its logged time (client clocks)
_ROWS_PER_INSERT = 50  # 600 parameters: within SQLite's limit even before 3.32 (999)
_SEPARATOR = "\x1f"
_STRINGS = ("text", "string", "label")
_CHUNK = 2_000  # keys per IN (...) list: below SQLite's (32,766) and PostgreSQL's (65,535) parameter limits
_PURGE_BATCH = 5_000  # rows deleted per transaction, so the writer never waits long for the lock
_MINUTE_KEY = ("model", "environment", "minute", "version")
_FIRST_BUCKET = MINUTE_COUNTS.index(BUCKET_COLUMNS[0])


# ---- keys -------------------------------------------------------------------------------------
def canonical(value: Any, kind: str) -> str:
    """One spelling per value, so a key computed from a JSON request and one computed from a
    CSV file agree: integers without a point, numbers as Python floats, dates and times in
    ISO form at second precision or finer (`2014-01-01` -> `2014-01-01T00:00:00`)."""
    if type(value) is str and kind in _STRINGS:  # the common case first: it runs per logged row
        return value
    if value is None or (isinstance(value, float) and value != value):
        return "\x00"  # an empty cell of a nullable column (NaN: how pandas reads one)
    if kind == "integer":
        return str(int(value))
    if kind == "number":
        return repr(float(value))
    if kind in ("date", "datetime"):
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        elif isinstance(value, date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        return str(value.isoformat())
    return str(value)


def row_key(values: Sequence[Any], kinds: Sequence[str]) -> str:
    """sha256 (hex) of a row's values in canonical form: identity and feature keys."""
    if len(values) == 1 and len(kinds) == 1:
        text = canonical(values[0], kinds[0])
    else:
        text = _SEPARATOR.join([canonical(v, k) for v, k in zip(values, kinds, strict=True)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def minute_of(at: float) -> int:
    """The start (epoch seconds) of the minute holding `at`: the traffic rollup's key, the
    same as migration 0002's backfill computes in SQL."""
    return int(at) // 60 * 60


def new_request_id() -> str:
    """A new request id: a UUIDv7 (RFC 9562) as 32 hex digits. It starts with the time in
    milliseconds, so ids the endpoint hands out sort by time (cheap to find again)."""
    random = int.from_bytes(os.urandom(10), "big")
    value = (time.time_ns() // 1_000_000) << 80 | 0x7 << 76 | (random >> 62 & 0xFFF) << 64 | 0b10 << 62 \
        | random & ((1 << 62) - 1)
    return f"{value:032x}"


def request_time(request_id: str) -> float | None:
    """The time (epoch seconds) in a UUIDv7 request id, or None for any other id."""
    if len(request_id) != 32 or request_id[12] != "7" or request_id[16] not in "89ab":
        return None
    try:
        return int(request_id[:12], 16) / 1000.0
    except ValueError:
        return None


# ---- records ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpoolProgress:
    """How much of one spool segment is in the log: `offset` bytes holding `rows` rows."""

    segment: str
    offset: int
    rows: int


@dataclass(slots=True)
class LogRecord:
    """One scored row, as stored."""

    request_id: str
    row: int
    at: float
    environment: str
    model: str
    version: int
    inputs: dict[str, Any]
    output: Any
    proba: list[float] | None
    latency_ms: float
    feature_key: str
    identity_key: str | None = None
    classes: list[Any] | None = None
    """The version's classes (the order of `proba`); recorded once per version."""


@dataclass(frozen=True)
class FeedbackRecord:
    """One actual value, matched by request id (+ row), identity key, or feature key."""

    model: str
    environment: str
    actual: Any
    request_id: str | None = None
    row: int | None = None
    identity_key: str | None = None
    feature_key: str | None = None
    at: float | None = None
    """When it arrived (default: now)."""


@dataclass(frozen=True)
class FeedbackResult:
    """How many feedback rows were stored, and how many already match a logged prediction."""

    received: int
    matched: int
    pending: int
    """Stored but matching no logged prediction yet (they match once their predictions are
    written, or never if the key is wrong)."""


@dataclass
class LoggedWindow:
    """The logged predictions of one model in one environment over a window, oldest first."""

    model: str
    environment: str
    request_ids: list[str]
    rows: np.ndarray
    """int: the row's position within its request."""
    times: np.ndarray
    """float epoch seconds, ascending."""
    versions: np.ndarray
    """int: the version that answered."""
    inputs: dict[str, list[Any]]
    """Classifier: one list per feature column; forecaster: {"time": [ISO dates]}."""
    outputs: list[Any]
    """Predicted label, or forecast value."""
    proba: np.ndarray | None
    """(n, k) class probabilities, columns in `classes` order; None for forecasters."""
    classes: list[Any]
    actual: list[Any]
    """Ground truth from feedback (latest wins); None where none arrived."""
    latency_ms: np.ndarray

    def __len__(self) -> int:
        return len(self.request_ids)

    def tail(self, rows: int | None = None, seconds: float | None = None, until: float | None = None) -> LoggedWindow:
        """The newest part of this window as `PredictionLog.window` would read it with the same
        `rows`/`seconds`/`until`, without reading again (a window's tail is a window)."""
        end = float(self.times[-1]) if until is None and len(self.times) else (until or 0.0)
        keep = np.asarray(self.times) <= end
        if seconds is not None:
            keep &= np.asarray(self.times) > end - seconds
        picked = np.flatnonzero(keep)
        if rows is not None:
            picked = picked[-rows:] if rows else picked[:0]
        return LoggedWindow(
            model=self.model, environment=self.environment,
            request_ids=[self.request_ids[i] for i in picked], rows=self.rows[picked], times=self.times[picked],
            versions=self.versions[picked], inputs={k: [v[i] for i in picked] for k, v in self.inputs.items()},
            outputs=[self.outputs[i] for i in picked], proba=None if self.proba is None else self.proba[picked],
            classes=list(self.classes), actual=[self.actual[i] for i in picked], latency_ms=self.latency_ms[picked])

    @property
    def labelled(self) -> int:
        return sum(a is not None for a in self.actual)


# ---- the log ----------------------------------------------------------------------------------
class PredictionLog:
    """Logged predictions and feedback in the state store at `url`."""

    def __init__(self, url: str, schema: str | None = None) -> None:
        self.url = url
        self.schema = schema
        self.engine = engine_for(url, schema)
        self._classes_known: set[tuple[str, int]] = set()
        self._create_tables()
        # The INSERT is compiled once and run with plain tuples: SQLAlchemy's per-row
        # parameter handling cost as much CPU as SQLite's own work (measured, ~20 us a row).
        compiled = insert(predictions).compile(dialect=self.engine.dialect, column_keys=list(LOGGED_COLUMNS))
        self._insert_sql = str(compiled)
        order = tuple(compiled.positiontup or ())
        if order and order != LOGGED_COLUMNS:
            raise StateError(f"unexpected parameter order {order} for the prediction log insert")
        # Many rows per statement where placeholders repeat (`?`, `%s`): the sqlite3 module
        # releases and retakes the GIL around every statement it steps, and each retake
        # stalled the endpoint's event loop (one row per statement cost 4x the CPU, measured).
        head, _, group = self._insert_sql.partition(" VALUES ")
        self._insert_head, self._insert_group = head + " VALUES ", group
        self._multirow = self.engine.dialect.paramstyle in ("qmark", "format") and bool(group)
        self._copy_statement = "COPY predictions (" + ", ".join(f'"{c}"' for c in LOGGED_COLUMNS) + ") FROM STDIN"
        self._add_minutes = _minutes_upsert(self.engine.dialect.name)

    def _create_tables(self) -> None:
        migrate(self.engine, str(self.schema))

    # ---- writing ------------------------------------------------------------------------------
    def append(self, rows: list[LogRecord], dropped: Mapping[tuple[str, str], int] | None = None) -> None:
        """Write `rows` (and counts of rows dropped per (model, environment)) in one
        transaction; `StateError` if it fails (nothing is written then)."""
        encoded: list[EncodedRow] = [
            (r.model, r.environment, r.at, r.request_id, r.row, r.version, _dumps(r.inputs), _dumps(r.output),
             None if r.proba is None else _dumps(r.proba), r.latency_ms, r.identity_key, r.feature_key) for r in rows]
        self.append_rows(encoded, {(r.model, r.version): r.classes for r in rows if r.classes is not None}, dropped)

    def append_rows(self, rows: list[EncodedRow], classes: Mapping[tuple[str, int], list[Any]] | None = None,
                    dropped: Mapping[tuple[str, str], int] | None = None,
                    progress: SpoolProgress | None = None, failures: Failures | None = None) -> None:
        """`append` for rows already encoded (the endpoint's log loader builds these directly:
        one tuple per row in `LOGGED_COLUMNS` order, inputs/output/proba as JSON text), the
        classes of each (model, version) they hold, drop counts, and how far the spool
        segment they came from is loaded now (recorded in the same transaction). The traffic
        rollup (`prediction_minutes`) gets the rows' requests and `failures` in it too, so a
        loader that dies neither loses nor repeats a minute's counts."""
        now = time.time()
        new_classes = {key: value for key, value in (classes or {}).items() if key not in self._classes_known}
        drops = [{"model": m, "environment": e, "at": now, "rows": n} for (m, e), n in (dropped or {}).items() if n]
        minutes = _rollup(rows, failures or {})
        if not rows and not drops and not minutes and progress is None:
            return
        try:
            with self.engine.begin() as connection:
                if rows:
                    self._insert(connection, rows)
                if minutes:
                    self._add_to_minutes(connection, minutes)
                if drops:
                    connection.execute(insert(log_drops), drops)
                if new_classes:
                    self._record_classes(connection, new_classes)
                if progress is not None:
                    self._record_progress(connection, progress)
        except SQLAlchemyError as exc:
            raise StateError(f"writing {len(rows)} predictions to the log failed: {exc}") from None
        self._classes_known.update(new_classes)

    def _insert(self, connection: Connection, values: list[EncodedRow]) -> None:
        if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
            # COPY: an INSERT's parameters cost the loader ~18 us of CPU per row on PostgreSQL,
            # three times SQLite's; psycopg writes COPY rows in C. Same transaction as the rest.
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor, cursor.copy(self._copy_statement) as copy:
                for row in values:
                    copy.write_row(row)
            return
        if not self._multirow:  # other named-parameter drivers: SQLAlchemy batches these itself
            connection.execute(insert(predictions), [dict(zip(LOGGED_COLUMNS, v, strict=True)) for v in values])
            return
        full = len(values) - len(values) % _ROWS_PER_INSERT
        if full:
            statement = self._insert_head + ", ".join([self._insert_group] * _ROWS_PER_INSERT)
            connection.exec_driver_sql(statement, [tuple(chain.from_iterable(values[i:i + _ROWS_PER_INSERT]))
                                                   for i in range(0, full, _ROWS_PER_INSERT)])
        if full < len(values):
            rest = values[full:]
            statement = self._insert_head + ", ".join([self._insert_group] * len(rest))
            connection.exec_driver_sql(statement, tuple(chain.from_iterable(rest)))

    def _add_to_minutes(self, connection: Connection, minutes: dict[MinuteKey, list[Any]]) -> None:
        """Add each accumulator to its rollup row: one upsert statement for the batch, keys in
        order (two loaders on PostgreSQL then lock shared rows in one order: no deadlock)."""
        values = [dict(zip(_MINUTE_KEY, key, strict=True)) | dict(zip(MINUTE_COUNTS, counts, strict=True))
                  for key, counts in sorted(minutes.items())]
        if self._add_minutes is not None:
            connection.execute(self._add_minutes, values)
            return
        m = prediction_minutes.c  # another database: update, else insert (within this transaction)
        for value in values:
            found = connection.execute(prediction_minutes.update().where(*(m[k] == value[k] for k in _MINUTE_KEY))
                                       .values({c: m[c] + value[c] for c in MINUTE_COUNTS})).rowcount
            if not found:
                connection.execute(insert(prediction_minutes).values(value))

    def _record_classes(self, connection: Connection, classes: Mapping[tuple[str, int], list[Any]]) -> None:
        known = {(r.model, r.version) for r in connection.execute(
            select(prediction_classes.c.model, prediction_classes.c.version).where(
                prediction_classes.c.model.in_({m for m, _ in classes})))}
        missing = [{"model": m, "version": v, "classes": _dumps(c)} for (m, v), c in classes.items()
                   if (m, v) not in known]
        if not missing:
            return
        # Two workers may record the same version at once: let the database drop the loser.
        dialect = connection.dialect.name
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as upsert
        elif dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert  # type: ignore[assignment]
        else:
            connection.execute(insert(prediction_classes), missing)
            return
        connection.execute(upsert(prediction_classes).on_conflict_do_nothing(), missing)

    @staticmethod
    def _record_progress(connection: Connection, progress: SpoolProgress) -> None:
        c = spool_segments.c
        values = {"loaded_bytes": progress.offset, "loaded_rows": progress.rows}
        if not connection.execute(spool_segments.update().where(c.segment == progress.segment).values(**values)).rowcount:
            connection.execute(insert(spool_segments).values(segment=progress.segment, **values))

    def spool_progress(self) -> dict[str, SpoolProgress]:
        """What the log loader recorded of each spool segment it has not forgotten yet."""
        try:
            with self.engine.connect() as connection:
                found = connection.execute(select(spool_segments.c.segment, spool_segments.c.loaded_bytes,
                                                  spool_segments.c.loaded_rows)).all()
        except SQLAlchemyError as exc:
            raise StateError(f"reading the prediction log's spool progress failed: {exc}") from None
        return {segment: SpoolProgress(segment, int(offset), int(rows)) for segment, offset, rows in found}

    def forget_spool(self, segments: Iterable[str]) -> None:
        """Drop the progress of segments that are loaded whole and deleted."""
        names = list(segments)
        if not names:
            return
        try:
            with self.engine.begin() as connection:
                connection.execute(delete(spool_segments).where(spool_segments.c.segment.in_(names)))
        except SQLAlchemyError as exc:
            raise StateError(f"updating the prediction log's spool progress failed: {exc}") from None

    def add_feedback(self, records: list[FeedbackRecord]) -> FeedbackResult:
        """Store feedback rows (one transaction) and count how many match a logged
        prediction of their model and environment already."""
        if not records:
            return FeedbackResult(0, 0, 0)
        now = time.time()
        try:
            with self.engine.connect() as connection:
                matched = self._matching(connection, records)
            with self.engine.begin() as connection:
                connection.execute(insert(feedback), [
                    {"model": r.model, "environment": r.environment, "at": r.at if r.at is not None else now,
                     "request_id": r.request_id, "row": r.row, "identity_key": r.identity_key,
                     "feature_key": r.feature_key, "actual": _dumps(r.actual)} for r in records])
        except SQLAlchemyError as exc:
            raise StateError(f"storing {len(records)} feedback rows failed: {exc}") from None
        return FeedbackResult(len(records), matched, len(records) - matched)

    def _matching(self, connection: Connection, records: list[FeedbackRecord]) -> int:
        """How many of `records` match at least one logged prediction."""
        matched = 0
        for (model, environment), group in _grouped(records).items():
            p = predictions.c
            scope = and_(p.model == model, p.environment == environment)
            requests = self._requests(connection, scope, {r.request_id for r in group if r.request_id is not None})
            identities = self._scanned(connection, scope, p.identity_key,
                                       {r.identity_key for r in group if r.identity_key is not None})
            features = self._scanned(connection, scope, p.feature_key,
                                     {r.feature_key for r in group if r.feature_key is not None})
            for r in group:
                if r.request_id is not None:
                    rows = requests.get(r.request_id, set())
                    hit = bool(rows) if r.row is None else r.row in rows
                else:
                    hit = r.identity_key in identities if r.identity_key is not None else r.feature_key in features
                matched += hit
        return matched

    def _requests(self, connection: Connection, scope: Any, ids: set[str]) -> dict[str, set[int]]:
        """Request id -> its logged rows. Ids the endpoint made (UUIDv7) carry their time:
        each is looked up in a few minutes of the window index; the others (the client's
        own), and timed ones not found there, by one pass over the model's rows."""
        p = predictions.c
        found: dict[str, set[int]] = {}
        timed = sorted((t, rid) for rid in ids if (t := request_time(rid)) is not None)
        for cluster in _clusters(timed, _CLOCK_SLACK):
            for chunk in _chunks([rid for _, rid in cluster]):
                query = select(p.request_id, p.row).where(
                    scope, p.at >= cluster[0][0] - _CLOCK_SLACK, p.at <= cluster[-1][0] + _CLOCK_SLACK,
                    p.request_id.in_(chunk))
                for rid, row in connection.execute(query):
                    found.setdefault(rid, set()).add(row)
        for chunk in _chunks(sorted(ids - set(found))):
            for rid, row in connection.execute(select(p.request_id, p.row).where(scope, p.request_id.in_(chunk))):
                found.setdefault(rid, set()).add(row)
        return found

    @staticmethod
    def _scanned(connection: Connection, scope: Any, column: Any, keys: set[str]) -> set[str]:
        """The `keys` present in `column`: one pass over the model's rows per chunk of keys."""
        present: set[str] = set()
        for chunk in _chunks(sorted(keys)):
            present.update(connection.execute(select(column).where(scope, column.in_(chunk)).distinct()).scalars())
        return present

    def purge(self, older_than: float, *, model: str | None = None, environment: str | None = None) -> int:
        """Delete predictions, feedback, drop counts and traffic minutes from before
        `older_than` (epoch seconds), of one model and/or environment if named (an endpoint
        purges its own: each environment has its own retention), in small transactions; the
        number of predictions deleted."""
        deleted = 0
        m = prediction_minutes.c
        old_minutes = [m.minute <= older_than - 60]  # whole minutes before the cutoff
        if model is not None:
            old_minutes.append(m.model == model)
        if environment is not None:
            old_minutes.append(m.environment == environment)
        try:
            with self.engine.begin() as connection:  # a few rows per minute of traffic: one statement
                connection.execute(delete(prediction_minutes).where(*old_minutes))
            for table in (predictions, feedback, log_drops):
                scope = [table.c.at < older_than]
                if model is not None:
                    scope.append(table.c.model == model)
                if environment is not None:
                    scope.append(table.c.environment == environment)
                while True:
                    doomed = select(table.c.id).where(*scope).limit(_PURGE_BATCH)
                    with self.engine.begin() as connection:
                        count = connection.execute(delete(table).where(table.c.id.in_(doomed))).rowcount
                    if table is predictions:
                        deleted += count
                    if count < _PURGE_BATCH:
                        break
        except SQLAlchemyError as exc:
            raise StateError(f"deleting old predictions failed: {exc}") from None
        return deleted

    # ---- reading ------------------------------------------------------------------------------
    def window(self, model: str, environment: str, *, rows: int | None = None, seconds: float | None = None,
               until: float | None = None, since: float | None = None) -> LoggedWindow:
        """Logged predictions of `model` in `environment`, oldest first, with their feedback.

        `rows`: the last N before `until`; `seconds`: the span of that length before `until`
        (default now); `since`: nothing older. They combine (the last N rows of a span)."""
        end = time.time() if until is None else until
        p = predictions.c
        where = [p.model == model, p.environment == environment, p.at <= end]
        if seconds is not None:
            where.append(p.at > end - seconds)
        if since is not None:
            where.append(p.at >= since)

        def selected(*columns: Any) -> Select[Any]:
            query = select(*columns).where(*where)
            if rows is not None:
                return query.order_by(p.at.desc(), p.id.desc()).limit(rows)
            return query.order_by(p.at, p.id)

        try:
            with self.engine.connect() as connection:
                # One call: 1M rows one by one took 5 s.
                found = list(connection.execute(selected(p.id, p.request_id, p.row, p.at, p.version, p.inputs,
                                                         p.output, p.proba, p.latency_ms)).fetchall())
                if rows is not None:
                    found.reverse()
                # The window's rows again, found from its oldest row rather than by its order and
                # limit (which sorted a million rows once per kind of key).
                span = None
                if found:
                    first_at, first_id = found[0][3], found[0][0]
                    span = select(p.id, p.request_id, p.row, p.identity_key, p.feature_key).where(
                        *where, p.at >= first_at, or_(p.at > first_at, p.id >= first_id))
                actual = self._actuals(connection, model, environment, span) if span is not None else {}
                classes = self._classes(connection, model, sorted({r[4] for r in found}))
        except SQLAlchemyError as exc:
            raise StateError(f"reading the prediction log failed: {exc}") from None
        return _window(model, environment, found, actual, classes)

    def _actuals(self, connection: Connection, model: str, environment: str, query: Select[Any]) -> dict[int, Any]:
        """Prediction id -> the latest matching feedback's actual value, for the predictions
        `query` selects: one join per kind of key, each on its own index; none when the model
        has no feedback in this environment."""
        if not _has_feedback(connection, model, environment):
            return {}
        f = feedback.c
        scope = and_(f.model == model, f.environment == environment)
        win = query.subquery()
        joins = [
            and_(f.request_id == win.c.request_id, or_(f.row.is_(None), f.row == win.c.row)),
            f.identity_key == win.c.identity_key,
            f.feature_key == win.c.feature_key,
        ]
        latest: dict[int, tuple[float, int, str]] = {}
        for on in joins:
            for pid, at, fid, value in connection.execute(
                    select(win.c.id, f.at, f.id, f.actual).select_from(win.join(feedback, and_(scope, on)))):
                best = latest.get(pid)
                if best is None or (at, fid) > best[:2]:
                    latest[pid] = (at, fid, value)
        return {pid: orjson.loads(value) for pid, (_, _, value) in latest.items()}

    def _classes(self, connection: Connection, model: str, versions: list[int]) -> dict[int, list[Any]]:
        c = prediction_classes.c
        query = select(c.version, c.classes).where(c.model == model)
        if versions:
            query = query.where(c.version.in_(versions))
        else:  # an empty window: the classes of the newest version logged, for the shape of `proba`
            query = query.order_by(c.version.desc()).limit(1)
        return {v: orjson.loads(classes) for v, classes in connection.execute(query)}

    def dropped(self, model: str | None = None) -> dict[tuple[str, str], int]:
        """Rows never logged (a full queue, a failed write, a dead worker's unfinished line)
        per (model, environment), within the retention; cheap enough for every scrape."""
        c = log_drops.c
        query = select(c.model, c.environment, func.sum(c.rows)).group_by(c.model, c.environment)
        if model is not None:
            query = query.where(c.model == model)
        try:
            with self.engine.connect() as connection:
                return {(m, e): int(n) for m, e, n in connection.execute(query) if n}
        except SQLAlchemyError as exc:
            raise StateError(f"reading the prediction log failed: {exc}") from None

    def counts(self, model: str, environment: str) -> dict[str, Any]:
        """`logged`, `labelled` (with matching feedback), `dropped` (never logged: the queue
        was full or a write failed), `oldest` and `newest` (epoch seconds, or None)."""
        p, f = predictions.c, feedback.c
        scope = and_(f.model == p.model, f.environment == p.environment)
        labelled = or_(
            exists().where(scope, f.request_id == p.request_id, or_(f.row.is_(None), f.row == p.row)),
            exists().where(scope, f.identity_key == p.identity_key),
            exists().where(scope, f.feature_key == p.feature_key),
        )
        mine = and_(p.model == model, p.environment == environment)
        try:
            with self.engine.connect() as connection:
                logged, oldest, newest = connection.execute(
                    select(func.count(), func.min(p.at), func.max(p.at)).where(mine)).one()
                with_labels = 0
                if _has_feedback(connection, model, environment):  # else: a million rows probed for nothing
                    with_labels = connection.execute(select(func.count()).where(mine, labelled)).scalar_one()
                dropped = connection.execute(select(func.coalesce(func.sum(log_drops.c.rows), 0)).where(
                    log_drops.c.model == model, log_drops.c.environment == environment)).scalar_one()
        except SQLAlchemyError as exc:
            raise StateError(f"reading the prediction log failed: {exc}") from None
        return {"logged": int(logged), "labelled": int(with_labels), "dropped": int(dropped),
                "oldest": oldest, "newest": newest}


# ---- helpers ----------------------------------------------------------------------------------
def _minutes_upsert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO UPDATE SET x = x + excluded.x for the rollup, or None where
    the database has no such statement."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as upsert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert  # type: ignore[assignment]
    else:
        return None
    statement = upsert(prediction_minutes)
    return statement.on_conflict_do_update(
        index_elements=list(_MINUTE_KEY),
        set_={c: prediction_minutes.c[c] + statement.excluded[c] for c in MINUTE_COUNTS})


def _rollup(rows: Sequence[EncodedRow], failures: Failures) -> dict[MinuteKey, list[Any]]:
    """Per (model, environment, minute, version): an accumulator in `MINUTE_COUNTS` order.
    A request counts once, at its first row (row 0), with its latency; every row counts in
    `rows`. This runs for every logged row in the loader (~0.3 us a row, measured): a row of
    the same minute, model and version as the one before reuses its accumulator without
    building a key (rows come in time order)."""
    minutes: dict[MinuteKey, list[Any]] = {}
    width, bounds, first = len(MINUTE_COUNTS), LATENCY_BOUNDS_MS, _FIRST_BUCKET
    counts: list[Any] = []
    model = environment = ""
    version, start, end = -1, 0, 0
    for r in rows:
        at = r[2]
        if not (start <= at < end and r[5] == version and r[0] == model and r[1] == environment):
            model, environment, version = r[0], r[1], r[5]
            start = int(at) // 60 * 60  # `minute_of`, inlined
            end = start + 60
            key = (model, environment, start, version)
            counts = minutes.get(key) or minutes.setdefault(key, [0] * width)
        counts[1] += 1
        if r[4] == 0:
            latency = r[9]
            counts[0] += 1
            counts[4] += latency
            counts[first + bisect_left(bounds, latency)] += 1
    for key, (errors, rejected) in failures.items():
        if errors or rejected:
            counts = minutes.get(key) or minutes.setdefault(key, [0] * width)
            counts[2] += errors
            counts[3] += rejected
    return minutes


def _has_feedback(connection: Connection, model: str, environment: str) -> bool:
    """Whether any feedback arrived for `model` in `environment` (one index probe)."""
    f = feedback.c
    return connection.execute(select(f.id).where(f.model == model, f.environment == environment)
                              .limit(1)).first() is not None


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode("utf-8")


def _chunks(keys: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start:start + _CHUNK]


def _clusters(timed: list[tuple[float, str]], gap: float) -> Iterable[list[tuple[float, str]]]:
    """Time-sorted ids in runs whose neighbours are at most `gap` seconds apart."""
    run: list[tuple[float, str]] = []
    for item in timed:
        if run and item[0] - run[-1][0] > gap:
            yield run
            run = []
        run.append(item)
    if run:
        yield run


def _grouped(records: list[FeedbackRecord]) -> dict[tuple[str, str], list[FeedbackRecord]]:
    groups: dict[tuple[str, str], list[FeedbackRecord]] = {}
    for r in records:
        groups.setdefault((r.model, r.environment), []).append(r)
    return groups


def _loads_all(texts: Sequence[str]) -> list[Any]:
    """Many JSON documents parsed in one call (one array): a million `orjson.loads` calls
    cost more than the parsing itself."""
    return orjson.loads("[" + ",".join(texts) + "]") if texts else []


def _window(model: str, environment: str, found: list[Any], actual: dict[int, Any],
            classes_of: dict[int, list[Any]]) -> LoggedWindow:
    n = len(found)
    # Columns, not rows: one transpose in C instead of a million rows' attribute reads.
    ids, request_ids, rows, times, versions, inputs_json, outputs_json, proba_json, latency = (
        zip(*found, strict=True) if n else ((),) * 9)
    parsed = _loads_all(inputs_json)
    names = list(parsed[0]) if parsed else []
    keys = parsed[0].keys() if parsed else None
    if all(d.keys() == keys for d in parsed):  # the usual case: one set of columns
        inputs: dict[str, list[Any]] = {name: [d[name] for d in parsed] for name in names}
    else:
        inputs = {}
        for position, document in enumerate(parsed):
            for name, value in document.items():
                column = inputs.get(name)
                if column is None:  # a column first seen here: earlier rows lacked it
                    column = inputs[name] = [None] * position
                column.append(value)
            for column in inputs.values():
                if len(column) <= position:
                    column.append(None)
    version_array = np.asarray(versions, dtype=np.int64)
    forecasts = not n and not classes_of or None in proba_json
    classes = _union_classes(classes_of)
    proba: np.ndarray | None = None
    # Probabilities whose classes nobody recorded (rows appended without `classes=`) cannot be
    # placed in columns: the window has none, and the monitor reads outputs and inputs only.
    if not forecasts and classes:
        values = _loads_all(proba_json)
        index = {c: k for k, c in enumerate(classes)}
        # `classes_of` has logged versions only; one missing from it is read in the union's order.
        same = all((order or classes) == classes for order in classes_of.values())
        if same:  # every version with these classes: one array, unless the lists are ragged
            proba = _matrix(values, n, len(classes))
        if proba is None:
            proba = np.zeros((n, len(classes)))
            for i, version in enumerate(versions):
                order = classes_of.get(version) or classes
                for c, value in zip(order, values[i], strict=False):
                    proba[i, index[c]] = value
    labels: list[Any] = [None] * n
    if actual:
        id_array = np.asarray(ids, dtype=np.int64)
        by_id = np.argsort(id_array)
        at = by_id[np.searchsorted(id_array, np.asarray(list(actual), dtype=np.int64), sorter=by_id)]
        for position, value in zip(at.tolist(), actual.values(), strict=True):
            labels[position] = value
    return LoggedWindow(
        model=model, environment=environment,
        request_ids=list(request_ids),
        rows=np.asarray(rows, dtype=np.int64),
        times=np.asarray(times, dtype=float),
        versions=version_array,
        inputs=inputs,
        outputs=_loads_all(outputs_json),
        proba=proba,
        classes=[] if forecasts else classes,
        actual=labels,
        latency_ms=np.asarray(latency, dtype=float),
    )


def _matrix(values: list[Any], rows: int, columns: int) -> np.ndarray | None:
    """`values` (lists) as a (rows, columns) float array; None when they are not all that long."""
    try:
        matrix = np.asarray(values, dtype=float)
    except ValueError:  # ragged
        return None
    return matrix if matrix.shape == (rows, columns) else None


def _union_classes(classes_of: dict[int, list[Any]]) -> list[Any]:
    """The newest version's classes, then any other version's extra ones."""
    union: list[Any] = []
    for version in sorted(classes_of, reverse=True):
        union.extend(c for c in classes_of[version] if c not in union)
    return union
