"""Writes the prediction log off the hot path: a bounded queue and one writer thread per worker.

A scored request hands over references only (its rows, labels, probabilities, the version
that answered); turning them into log rows (JSON, keys) happens in the writer thread, which
flushes every `FLUSH_SECONDS` or as soon as `BATCH_ROWS` rows wait, in one transaction.
Scoring never waits for the log: when the queue holds `max_rows` rows, new rows are dropped
and counted (Prometheus, and in the store with the next batch, so `counts()` reports them).
`close()` writes everything still queued: a graceful stop loses nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from hashlib import sha256
from typing import Any
import numpy as np
import orjson

from champion.config import ModelSettings
from champion.errors import ChampionError
from champion.serving.loaded import LoadedModel, Rows
from champion.serving.metrics import ServingMetrics
from champion.state.predictions import EncodedRow, PredictionLog, row_key

log = logging.getLogger("champion.serving")

FLUSH_SECONDS = 0.3
"""Longest a scored row waits in memory before the writer writes it."""
BATCH_ROWS = 1_000
"""Rows waiting that wake the writer before its next tick."""
WRITE_ROWS = 5_000
"""Most rows per transaction (a long backlog is written in several)."""
PURGE_SECONDS = 3600.0
"""How often the writer deletes rows older than the retention."""
RETRY_SECONDS = 1.0
RETRY_PURGE_SECONDS = 60.0
CLOSE_ATTEMPTS = 5


@dataclass(slots=True)
class Scored:
    """One scored request as the hot path hands it over (references, nothing serialized)."""

    request_id: str
    at: float
    model: LoadedModel
    latency_ms: float
    count: int
    rows: Rows | None = None
    ids: Rows | None = None
    labels: np.ndarray | None = None
    proba: np.ndarray | None = None
    times: list[str] | None = None
    values: np.ndarray | None = None


class PredictionLogWriter:
    """The prediction log of one worker process: `record()` on the hot path, a writer thread
    behind it."""

    def __init__(self, store: PredictionLog, environment: str, models: dict[str, ModelSettings], max_rows: int,
                 retention_days: float, metrics: ServingMetrics) -> None:
        self.store = store
        self.environment = environment
        self.max_rows = max_rows
        self.retention_seconds = retention_days * 86400.0
        self.metrics = metrics
        self._settings = models
        self._shapes: dict[tuple[str, int], _Shape] = {}  # written by the writer thread only
        self._queue: deque[Scored] = deque()
        self._queued = 0
        self._dropped: dict[str, int] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._unwritten: list[EncodedRow] = []  # taken from the queue, not yet committed
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    # ---- the hot path -------------------------------------------------------------------------
    def scored(self, model: LoadedModel, request_id: str, at: float, started: float, rows: Rows,
               ids: Rows | None, labels: np.ndarray, proba: np.ndarray) -> None:
        """Queue a classifier request (`started`: its `time.perf_counter()` at arrival)."""
        self.record(Scored(request_id, at, model, (time.perf_counter() - started) * 1e3, len(labels),
                           rows=rows, ids=ids, labels=labels, proba=proba))

    def forecasted(self, model: LoadedModel, request_id: str, at: float, started: float, times: list[str],
                   values: np.ndarray) -> None:
        """Queue a forecast request: one log row per step."""
        self.record(Scored(request_id, at, model, (time.perf_counter() - started) * 1e3, len(times),
                           times=times, values=values))

    def record(self, item: Scored) -> None:
        """Queue `item`, or drop and count it when the queue is full. Never blocks on I/O."""
        wake = False
        with self._lock:
            full = self._closing or self._queued + item.count > self.max_rows
            if full:
                self._dropped[item.model.name] = self._dropped.get(item.model.name, 0) + item.count
            else:
                self._queue.append(item)
                self._queued += item.count
                wake = self._queued >= BATCH_ROWS
        if full:
            self.metrics.log_dropped.labels(item.model.name).inc(item.count)
        elif wake:
            self._wake.set()

    @property
    def queued(self) -> int:
        """Rows waiting in memory (queued or taken but not yet written)."""
        return self._queued + len(self._unwritten)

    # ---- shutting down ------------------------------------------------------------------------
    def close(self, timeout: float = 30.0) -> None:
        """Write everything queued, then stop the writer (graceful shutdown)."""
        with self._lock:
            self._closing = True
        self._wake.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("the prediction log writer did not finish within %.0f s; %d rows may be lost",
                      timeout, self.queued)

    # ---- the writer thread --------------------------------------------------------------------
    def _run(self) -> None:
        next_purge = time.monotonic()
        failures = 0
        while True:
            self._wake.wait(FLUSH_SECONDS if failures == 0 else RETRY_SECONDS)
            self._wake.clear()
            closing = self._closing
            if time.monotonic() >= next_purge and not closing:
                next_purge = time.monotonic() + (PURGE_SECONDS if self._purge() else RETRY_PURGE_SECONDS)
            try:
                self._flush()
                failures = 0
            except ChampionError as exc:
                failures += 1
                log.warning("writing the prediction log failed (%d rows wait): %s", self.queued, exc)
            except Exception:  # noqa: BLE001 - a bug here must not stop the log for good
                failures += 1
                log.exception("the prediction log writer failed (%d rows wait)", self.queued)
            if closing and (self.queued == 0 or failures >= CLOSE_ATTEMPTS):
                if self.queued:
                    log.error("stopping with %d prediction log rows unwritten", self.queued)
                return

    def _flush(self) -> None:
        """Write what waits now, in transactions of at most `WRITE_ROWS` rows (rows that
        arrive meanwhile wait for the next round, so retention and closing get their turn)."""
        budget = self._queued + len(self._unwritten) + 1
        while budget > 0:
            if not self._unwritten:
                self._unwritten = self._records(self._take())
            dropped = self._take_dropped()
            if not self._unwritten and not dropped:
                return
            classes = {key: shape.classes for key, shape in self._shapes.items()}
            try:
                self.store.append_rows(self._unwritten, classes, {(m, self.environment): n for m, n in dropped.items()})
            except ChampionError:
                self._restore_dropped(dropped)
                raise
            budget -= len(self._unwritten) + 1
            written: dict[str, int] = {}
            for row in self._unwritten:
                written[row[0]] = written.get(row[0], 0) + 1
            for model, count in written.items():
                self.metrics.log_rows.labels(model).inc(count)
            self._unwritten = []
            self.metrics.log_queue.set(self._queued)

    def _take(self) -> list[Scored]:
        taken: list[Scored] = []
        rows = 0
        with self._lock:
            while self._queue and rows < WRITE_ROWS:
                item = self._queue.popleft()
                taken.append(item)
                rows += item.count
            self._queued -= rows
        return taken

    def _take_dropped(self) -> dict[str, int]:
        with self._lock:
            dropped, self._dropped = self._dropped, {}
        return dropped

    def _restore_dropped(self, dropped: dict[str, int]) -> None:
        with self._lock:
            for model, count in dropped.items():
                self._dropped[model] = self._dropped.get(model, 0) + count

    def _purge(self) -> bool:
        """Delete this environment's rows older than the retention; False if it failed (the
        writing goes on regardless)."""
        cutoff = time.time() - self.retention_seconds
        try:
            for model in self._settings:
                deleted = self.store.purge(cutoff, model=model, environment=self.environment)
                if deleted:
                    log.info("prediction log: deleted %d %s rows older than %.4g days", deleted, model,
                             self.retention_seconds / 86400.0)
        except ChampionError as exc:
            log.warning("deleting old prediction log rows failed: %s", exc)
            return False
        return True

    def _records(self, items: list[Scored]) -> list[EncodedRow]:
        records: list[EncodedRow] = []
        for item in items:
            try:
                records.extend(self._rows_of(item))
            except Exception:  # noqa: BLE001 - one odd request must not cost the whole batch
                log.exception("could not log request %s; dropped", item.request_id)
                self._restore_dropped({item.model.name: item.count})
                self.metrics.log_dropped.labels(item.model.name).inc(item.count)
        return records

    def _rows_of(self, item: Scored) -> list[EncodedRow]:
        """The request's log rows, encoded. This runs for every logged row and holds the GIL
        the event loop needs, so it is written for speed: each row goes straight to its final
        tuple (measured: a log row cost the endpoint ~60 us of CPU with a record object and
        a dict per row in between)."""
        rid, at, latency, env = item.request_id, item.at, item.latency_ms, self.environment
        name, version = item.model.name, item.model.version
        if item.times is not None and item.values is not None:
            values = item.values.tolist()
            keys = [row_key([t], ["datetime"]) for t in item.times]
            return [(name, env, at, rid, i, version, _json({"time": t}), _json(values[i]), None, latency, keys[i],
                     keys[i]) for i, t in enumerate(item.times)]
        if item.rows is None or item.labels is None or item.proba is None:
            raise ValueError("a classifier request without rows, labels or probabilities")
        shape = self._shape(item.model)
        labels = [shape.label_json.get(label) or _json(label) for label in item.labels.tolist()]
        proba = [_json(p) for p in item.proba.tolist()]
        ids = self._id_values(item, shape)
        if shape.text_column is not None and ids is None:  # one text feature, no identity: most traffic
            column = shape.text_column
            return [(name, env, at, rid, i, version, _json({column: text}), labels[i], proba[i], latency, None,
                     sha256(text.encode("utf-8")).hexdigest()) for i, text in enumerate(item.rows[column])]
        columns = [item.rows[n] for n in shape.names]
        records: list[EncodedRow] = []
        for i in range(item.count):
            values = [column[i] for column in columns]
            identity = None
            if ids is not None and all(column[i] is not None for column in ids):
                identity = row_key([column[i] for column in ids], shape.id_kinds)
            records.append((name, env, at, rid, i, version, _json(dict(zip(shape.names, values, strict=True))),
                            labels[i], proba[i], latency, identity, row_key(values, shape.kinds)))
        return records

    def _shape(self, model: LoadedModel) -> _Shape:
        shape = self._shapes.get((model.name, model.version))
        if shape is None:
            settings = self._settings[model.name]
            shape = self._shapes[model.name, model.version] = _Shape(model, settings)
        return shape

    @staticmethod
    def _id_values(item: Scored, shape: _Shape) -> list[list[Any]] | None:
        """One list per id column (None where a row came without), or None: no identity."""
        if not shape.id_names or (item.ids is None and not shape.ids_in_features):
            return None
        rows, sent = item.rows or {}, item.ids or {}
        found = [rows.get(n) if n in rows else sent.get(n) for n in shape.id_names]
        ids = [column for column in found if column is not None]
        return ids if len(ids) == len(found) else None


class _Shape:
    """What every logged row of one model version shares: input names and types, classes,
    and the identity columns (typed as feedback types them, so the keys agree)."""

    def __init__(self, model: LoadedModel, settings: ModelSettings) -> None:
        self.names = [c.name for c in model.columns]
        self.kinds = [c.kind for c in model.columns]
        self.classes = model.classes
        self.label_json = {label: _json(label) for label in self.classes}
        # One text feature: its key is the sha256 of the text itself (`row_key` of one string).
        self.text_column = self.names[0] if len(self.names) == 1 and self.kinds[0] in ("text", "string") else None
        self.id_names = list(settings.id) if settings.features else []
        self.id_kinds = [settings.columns[c].type for c in self.id_names]
        self.ids_in_features = all(c in settings.features for c in self.id_names)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


def identity_kinds(settings: ModelSettings) -> list[tuple[str, str]]:
    """The model's `id` columns a `/score` row may carry (besides its features), with types."""
    if settings.time or not settings.features:
        return []
    return [(c, settings.columns[c].type) for c in settings.id if c not in settings.features]
