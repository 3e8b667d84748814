"""The prediction log's hot path: each worker appends one JSON line per scored request to a
spool file; the endpoint's log loader (`log_loader.py`, its own process) turns the lines
into rows of the state store.

Why a spool and another process: building log rows (JSON per row, keys, SQLite) in a
thread of the worker held the GIL its event loop needs, and cost 10-12% of the endpoint's
throughput (measured, docs/benchmarks.md). Here a request costs one `orjson.dumps` of what
it already holds; the lines are written with one `os.write` every `FLUSH_SECONDS` (page
cache, no fsync), from the event loop's timer, not from a request.

Lines (JSON arrays, the first item says what the line is):
- `["v", model, version, names, kinds, classes]`: a version's inputs, once per segment
  before its first request;
- `["c", request_id, at, model, version, latency_ms, rows, ids, labels, proba]`: a
  classifier request (`rows`: column -> values; `ids`: the id columns sent beside them);
- `["f", request_id, at, model, version, latency_ms, times, values]`: a forecast;
- `["d", model, rows]`: rows dropped because the spool was full (or a write failed);
- `["x", model, version, minute, status, count]`: `count` scoring requests answered `status`
  (4xx or 5xx) in the minute starting at `minute` (epoch seconds), `version` being the one
  served then (0: none yet). Counted in memory, one line per key per flush (never a write per
  request), and not bounded by `max_rows` (a few lines a flush); the loader adds them to the
  traffic rollup: 5xx as errors, 4xx as rejected. The endpoint leaves out 401 (no key),
  499 (the client left), synthetic `/score` requests and unknown models;
- `["end"]`: the worker wrote its last line to this segment.

Each worker writes its own segments, `SPOOLDIR/<start ns>-<pid>-<seq>.jsonl`, rotated past
`SEGMENT_BYTES`. Scoring never waits for the log: when `max_rows` rows are spooled but not
yet loaded (the loader writes how many it loaded to `<segment>.loaded`), new rows are
dropped and counted (Prometheus, and a `d` line for the store). `close()` writes what is
buffered and the `end` line: a graceful stop loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

if TYPE_CHECKING:  # the log loader imports this module's constants: keep it light
    from champion.serving.loaded import LoadedModel, Rows
    from champion.serving.metrics import ServingMetrics

log = logging.getLogger("champion.serving")

FLUSH_SECONDS = 0.2
"""Longest a scored request waits in memory before its line is written."""
FLUSH_BYTES = 1 << 20
"""Buffered bytes that make the next request write them at once."""
SEGMENT_BYTES = 64 << 20
"""A segment this large is ended and the next one begun (the loader deletes loaded ones)."""
REFRESH_SECONDS = 0.1
"""How often a full spool looks again at what the loader has loaded."""
SEGMENT_SUFFIX = ".jsonl"
LOADED_SUFFIX = ".loaded"
END_LINE = b'["end"]\n'
_DUMPS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE


def spool_dir(endpoint_folder: Path) -> Path:
    """Where an endpoint's workers spool their log lines."""
    return endpoint_folder / "spool"


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot log a {type(value).__name__}")


def encode(line: list[Any]) -> bytes:
    """One spool line (with its newline)."""
    return orjson.dumps(line, default=_plain, option=_DUMPS)


def read_loaded(segment: Path) -> int:
    """Rows of `segment` the loader has loaded, from its `.loaded` file (0 if none yet)."""
    try:
        return int(segment.with_suffix(LOADED_SUFFIX).read_bytes() or 0)
    except (OSError, ValueError):
        return 0


def write_loaded(segment: Path, rows: int) -> None:
    """Tell the workers that `rows` rows of `segment` are loaded (the loader's side)."""
    target = segment.with_suffix(LOADED_SUFFIX)
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(str(rows).encode())
    partial.replace(target)


@dataclass
class _Segment:
    path: Path
    written: int = 0
    """Rows written to this segment."""
    loaded: int = 0
    """Rows of it the loader had loaded when last looked at."""


class SpoolWriter:
    """One worker's side of the prediction log: `scored()`/`forecasted()` on the hot path."""

    def __init__(self, folder: Path, max_rows: int, metrics: ServingMetrics,
                 segment_bytes: int = SEGMENT_BYTES) -> None:
        self.folder = folder
        self.max_rows = max_rows
        self.metrics = metrics
        self.segment_bytes = segment_bytes
        folder.mkdir(parents=True, exist_ok=True)
        self._stream = f"{time.time_ns()}-{os.getpid()}"
        self._seq = 0
        self._segments: list[_Segment] = []  # oldest first; the last one is written to
        self._fd = -1
        self._shapes: set[tuple[str, int]] = set()  # versions described in the current segment
        # One growing bytearray, not a list of lines: thousands of small bytes objects kept
        # alive made each orjson.dumps 5x slower (2.3 against 0.5 us, measured; malloc).
        self._buffer = bytearray()
        self._buffered: dict[str, int] = {}  # rows per model in the buffer
        self._pending = 0  # rows buffered, or written and not loaded when last looked
        self._looked = 0.0
        self._dropped: dict[str, int] = {}  # rows dropped, not yet told to the store
        self._failed: dict[tuple[str, int, int, int], int] = {}  # (model, version, minute, status) -> requests
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False
        self._open_segment()

    # ---- the hot path -------------------------------------------------------------------------
    def scored(self, model: LoadedModel, request_id: str, at: float, started: float, rows: Rows,
               ids: Rows | None, labels: Any, proba: Any) -> None:
        """Log a classifier request (`started`: its `time.perf_counter()` at arrival; labels
        and probabilities as lists or numpy arrays)."""
        self._log(model, len(labels), ["c", request_id, at, model.name, model.version,
                                       (time.perf_counter() - started) * 1e3, rows, ids, labels, proba])

    def forecasted(self, model: LoadedModel, request_id: str, at: float, started: float, times: list[str],
                   values: Any) -> None:
        """Log a forecast request: one log row per step."""
        self._log(model, len(times), ["f", request_id, at, model.name, model.version,
                                      (time.perf_counter() - started) * 1e3, times, values])

    def failed(self, model: str, version: int, at: float, status: int) -> None:
        """Count a scoring request of `model` that arrived at `at` (epoch seconds) and was
        answered `status` (4xx/5xx); written as an `x` line with the next flush."""
        if self._closed:
            return
        key = (model, version, int(at) // 60 * 60, status)
        self._failed[key] = self._failed.get(key, 0) + 1
        self._schedule()

    @property
    def pending(self) -> int:
        """Rows not yet in the store (buffered, or spooled and not loaded), when last looked."""
        return self._pending

    def _log(self, model: LoadedModel, count: int, record: list[Any]) -> None:
        # Runs in every logged request, on the event loop: ~2.5 us in a live endpoint (measured).
        if (self._pending + count > self.max_rows or self._closed) and not self._room_after_look(count):
            self._drop(model.name, count)
            return
        try:
            line = encode(record)
        except (TypeError, orjson.JSONEncodeError):  # a value JSON cannot hold: never fail the request
            log.exception("could not log request %s; dropped", record[1])
            self._drop(model.name, count)
            return
        if (model.name, model.version) not in self._shapes:
            self._describe(model)
        self._buffer += line
        self._buffered[model.name] = self._buffered.get(model.name, 0) + count
        self._pending += count
        if len(self._buffer) >= FLUSH_BYTES:
            self.flush()
        elif self._timer is None:
            self._schedule()

    def _room_after_look(self, count: int) -> bool:
        """A full spool looks again at what the loader has loaded, at most every
        `REFRESH_SECONDS`."""
        if self._closed or time.monotonic() - self._looked < REFRESH_SECONDS:
            return False
        self._look()
        return self._pending + count <= self.max_rows

    def _drop(self, model: str, count: int) -> None:
        self._count_drop(model, count)
        self._schedule()

    def _count_drop(self, model: str, count: int) -> None:
        self._dropped[model] = self._dropped.get(model, 0) + count
        self.metrics.log_dropped.labels(model).inc(count)

    def _describe(self, model: LoadedModel) -> None:
        self._shapes.add((model.name, model.version))
        self._buffer += encode(["v", model.name, model.version, [c.name for c in model.columns],
                                [c.kind for c in model.columns], model.classes])

    def _schedule(self) -> None:
        if self._timer is None and not self._closed:
            try:
                self._timer = asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)
            except RuntimeError:  # no event loop (a direct caller): write now
                self.flush()

    # ---- writing ------------------------------------------------------------------------------
    def flush(self) -> None:
        """Write the buffered lines and drop counts to the current segment."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        data = self._buffer
        for model, rows in self._dropped.items():
            data += encode(["d", model, rows])
        for (model, version, minute, status), count in self._failed.items():
            data += encode(["x", model, version, minute, status, count])
        if not data:
            self._look()
            return
        dropped, buffered, failed = self._dropped, self._buffered, self._failed
        self._buffer, self._buffered, self._dropped, self._failed = bytearray(), {}, {}, {}
        segment = self._segments[-1]
        if self._write(data):
            segment.written += sum(buffered.values())
            for model, rows in buffered.items():
                self.metrics.log_rows.labels(model).inc(rows)
        else:  # nothing of it is in the file: its rows are lost, and counted as dropped
            self._dropped, self._failed = dropped, failed  # the counts it carried go with the next write
            for model, rows in buffered.items():
                self._count_drop(model, rows)
            self._shapes.clear()  # the lost lines may have described versions
        self._look()
        if self._size() >= self.segment_bytes:
            self._end_segment()
            self._open_segment()

    def close(self) -> None:
        """Write everything buffered, end the segment, stop logging (graceful shutdown)."""
        if self._closed:
            return
        self.flush()
        if self._dropped:
            log.error("stopping with %d prediction log rows unwritten", sum(self._dropped.values()))
        self._end_segment()
        self._closed = True

    def _write(self, data: bytes | bytearray) -> bool:
        """Append `data` whole or not at all (a failed write is cut off again)."""
        size = self._size()
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view):]
            return True
        except OSError as exc:
            log.error("writing the prediction log spool %s failed: %s", self._segments[-1].path, exc)
            try:
                os.ftruncate(self._fd, size)
            except OSError:
                pass
            return False

    def _size(self) -> int:
        return os.fstat(self._fd).st_size

    def _open_segment(self) -> None:
        path = self.folder / f"{self._stream}-{self._seq:05d}{SEGMENT_SUFFIX}"
        self._seq += 1
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        self._segments.append(_Segment(path))
        self._shapes.clear()

    def _end_segment(self) -> None:
        if self._fd < 0:
            return
        self._write(END_LINE)
        os.close(self._fd)
        self._fd = -1

    def _look(self) -> None:
        """Read what the loader has loaded; forget segments it has loaded whole (deleted)."""
        self._looked = time.monotonic()
        current = self._segments[-1]
        live = []
        for segment in self._segments:
            if segment is not current and not segment.path.exists():
                continue
            segment.loaded = read_loaded(segment.path)
            live.append(segment)
        self._segments = live
        self._pending = sum(max(0, s.written - s.loaded) for s in live) + sum(self._buffered.values())
        self.metrics.log_queue.set(self.pending)
