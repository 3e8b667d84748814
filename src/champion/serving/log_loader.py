"""The endpoint's log loader: a process beside the workers that moves spooled requests into
the prediction log of the state store.

It reads every segment of the endpoint's spool (`log_spool.py`) from where it stopped,
turns each line into log rows, and writes them with how far it read, in one transaction,
so a loader that dies neither loses nor repeats a row. The traffic rollup (requests per
minute, with the failed ones the workers counted in `x` lines) is written in that same
transaction (`PredictionLog.append_rows`). It tells the workers how many rows
of each segment it has loaded (`<segment>.loaded`), deletes a segment once loaded whole
and ended (or its worker is gone), and deletes rows older than the environment's retention
(at start, then hourly). A line may be of any length. Unread bytes are never deleted: the
unfinished last line of a worker killed mid-write is moved to `quarantine/` and counted as a
dropped request (the store's drop count: `/metrics`, `status`, `monitor`).

It runs at the lowest priority (nice 19): under a load that takes every core, logging
waits on disk instead of taking CPU from scoring, and catches up when the load eases (each
worker's spool holds at most `log_queue_rows` rows not yet loaded; past that, it drops and
counts). On SIGTERM or SIGINT it loads what the workers write until they have ended their
segments, then exits; the endpoint's process waits for it.

    python -m champion.serving.log_loader PROJECT_ROOT ENVIRONMENT
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from champion.config import ModelSettings
from champion.errors import ChampionError
from champion.serving.log_spool import (
    END_LINE,
    LOADED_SUFFIX,
    SEGMENT_SUFFIX,
    spool_dir,
    write_loaded,
)
from champion.serving.prediction_log import VersionShape, classifier_rows, forecast_rows
from champion.serving.workers import endpoint_dir
from champion.startup import log_to_stderr
from champion.state.predictions import EncodedRow, MinuteKey, PredictionLog, SpoolProgress
from champion.workspace.processes import pid_alive

log = logging.getLogger("champion.serving")

POLL_SECONDS = 0.1
"""How often the loader looks for new lines when it found none."""
PACE_SECONDS = 1.0
"""Pause after a load of at least `PACE_ROWS` rows: under heavy traffic each transaction
carries a second of rows (a commit costs ~1.5 ms of CPU: 500-row transactions cost 8.9 us
a row, 2,500-row ones 6.1, 5,000-row ones 5.9, measured); light traffic is loaded within
`POLL_SECONDS`."""
PACE_ROWS = 500
WRITE_ROWS = 5_000
"""Most rows per transaction."""
READ_BYTES = 4 << 20
"""Bytes read from a segment at once (more when one line is longer)."""
QUARANTINE_DIR = "quarantine"
"""Where the unfinished last line of a dead worker's segment is kept (counted as dropped)."""
PURGE_SECONDS = 3600.0
RETRY_SECONDS = 1.0
DRAIN_SECONDS = 18.0
"""How long a stopping loader waits for the workers to end their segments (the rest stays
in the spool and is loaded at the next start)."""
NICENESS = 19


@dataclass
class _Segment:
    name: str
    path: Path
    pid: int
    offset: int = 0
    rows: int = 0
    ended: bool = False
    shapes: dict[tuple[str, int], VersionShape] = field(default_factory=dict)


class SpoolLoader:
    """Loads one environment's spool folder into `store`."""

    def __init__(self, folder: Path, store: PredictionLog, environment: str, models: dict[str, ModelSettings],
                 retention_days: float, write_rows: int = WRITE_ROWS) -> None:
        self.folder = folder
        self.write_rows = write_rows
        self.store = store
        self.environment = environment
        self.models = models
        self.retention_seconds = retention_days * 86400.0
        self._segments: dict[str, _Segment] = {}
        self._known = store.spool_progress()

    def load(self) -> int:
        """Load what the spool holds now (at most `write_rows` rows per transaction); the
        number of log rows written."""
        written = 0
        for segment in self._scan():
            while True:
                count, more = self._load_some(segment)
                written += count
                if not more:
                    break
            if self._finished(segment):
                self._delete(segment)
        return written

    def idle(self) -> bool:
        """No segment left: every worker ended its segments and they are loaded."""
        return not any(self.folder.glob("*" + SEGMENT_SUFFIX))

    def purge(self) -> bool:
        """Delete this environment's rows older than the retention; False if it failed."""
        cutoff = time.time() - self.retention_seconds
        try:
            for model in self.models:
                deleted = self.store.purge(cutoff, model=model, environment=self.environment)
                if deleted:
                    log.info("prediction log: deleted %d %s rows older than %.4g days", deleted, model,
                             self.retention_seconds / 86400.0)
        except ChampionError as exc:
            log.warning("deleting old prediction log rows failed: %s", exc)
            return False
        return True

    # ---- segments -----------------------------------------------------------------------------
    def _scan(self) -> list[_Segment]:
        found = []
        for path in sorted(self.folder.glob("*" + SEGMENT_SUFFIX)):  # start time first: oldest first
            segment = self._segments.get(path.name)
            if segment is None:
                segment = self._segments[path.name] = self._resume(path)
            found.append(segment)
        return found

    def _resume(self, path: Path) -> _Segment:
        try:
            pid = int(path.stem.split("-")[1])
        except (IndexError, ValueError):
            pid = -1
        segment = _Segment(path.name, path, pid)
        known = self._known.pop(path.name, None)
        if known is not None:
            segment.offset, segment.rows = known.offset, known.rows
            self._read_shapes(segment)
        return segment

    def _read_shapes(self, segment: _Segment) -> None:
        """A loader that starts in the middle of a segment needs the versions described
        before where it stopped."""
        with open(segment.path, "rb") as file:
            head = file.read(segment.offset)
        for line in head.splitlines():
            if line.startswith(b'["v"'):
                self._shape(segment, orjson.loads(line))

    def _finished(self, segment: _Segment) -> bool:
        if segment.offset < _size(segment.path):
            if pid_alive(segment.pid) or _has_newline(segment.path, segment.offset):
                return False  # more lines are coming, or came after this pass read
            self._quarantine(segment)  # a worker that died mid-write: a line without its end
        return segment.ended or not pid_alive(segment.pid)

    def _quarantine(self, segment: _Segment) -> None:
        """Keep the unfinished tail of a dead worker's segment beside the spool (never delete
        unread bytes) and count the request it held as dropped."""
        with open(segment.path, "rb") as file:
            file.seek(segment.offset)
            tail = file.read()
        folder = self.folder / QUARANTINE_DIR
        folder.mkdir(exist_ok=True)
        kept = folder / f"{segment.name}.{segment.offset}.partial"
        kept.write_bytes(tail)
        model = _model_of(tail) or next(iter({m for m, _ in segment.shapes} or self.models), "")
        progress = SpoolProgress(segment.name, segment.offset + len(tail), segment.rows)
        self.store.append_rows([], {}, {(model, self.environment): 1}, progress)
        segment.offset = progress.offset
        log.warning("prediction log spool %s: its worker died writing a line (%d bytes); counted as 1 dropped "
                    "request, the bytes are kept in %s", segment.name, len(tail), kept)

    def _delete(self, segment: _Segment) -> None:
        segment.path.unlink(missing_ok=True)
        segment.path.with_suffix(LOADED_SUFFIX).unlink(missing_ok=True)
        self._segments.pop(segment.name, None)
        try:
            self.store.forget_spool([segment.name])
        except ChampionError as exc:  # harmless: a row for a file that is gone
            log.warning("%s", exc)

    # ---- lines --------------------------------------------------------------------------------
    def _load_some(self, segment: _Segment) -> tuple[int, bool]:
        """Load up to `write_rows` rows of `segment` in one transaction: (rows, more to read)."""
        chunk = _read_lines(segment.path, segment.offset)
        end = chunk.rfind(b"\n") + 1
        if end == 0:
            return 0, False
        rows: list[EncodedRow] = []
        classes: dict[tuple[str, int], list[Any]] = {}
        dropped: dict[tuple[str, str], int] = {}
        failures: dict[MinuteKey, list[int]] = {}
        consumed = 0
        ended = False
        for line in chunk[:end].splitlines(keepends=True):
            consumed += len(line)
            if line == END_LINE:
                ended = True
            elif line.strip():
                self._line(segment, line, segment.offset + consumed - len(line), rows, classes, dropped, failures)
            if len(rows) >= self.write_rows:
                break
        offset = segment.offset + consumed
        progress = SpoolProgress(segment.name, offset, segment.rows + len(rows))
        self.store.append_rows(rows, classes, dropped, progress, failures)
        segment.offset, segment.rows, segment.ended = offset, progress.rows, segment.ended or ended
        write_loaded(segment.path, segment.rows)
        return len(rows), consumed < len(chunk) or len(chunk) >= READ_BYTES

    def _line(self, segment: _Segment, line: bytes, at_byte: int, rows: list[EncodedRow],
              classes: dict[tuple[str, int], list[Any]], dropped: dict[tuple[str, str], int],
              failures: dict[MinuteKey, list[int]]) -> None:
        try:
            record = orjson.loads(line)
            kind = record[0]
            if kind == "c":
                shape = segment.shapes[(record[3], record[4])]
                rows.extend(classifier_rows(self.environment, record, shape))
            elif kind == "f":
                rows.extend(forecast_rows(self.environment, record))
            elif kind == "v":
                described = self._shape(segment, record)
                if described is not None and described.classes:
                    classes[(record[1], record[2])] = described.classes
            elif kind == "d":
                key = (record[1], self.environment)
                dropped[key] = dropped.get(key, 0) + int(record[2])
            elif kind == "x" and record[1] in self.models:  # failed requests: (errors, rejected)
                _, model, version, minute, status, count = record
                counts = failures.setdefault((model, self.environment, int(minute), int(version)), [0, 0])
                counts[0 if int(status) >= 500 else 1] += int(count)
        except Exception:  # noqa: BLE001 - one odd line must not stop the log
            log.exception("prediction log spool %s: could not load a line at byte %d; skipped", segment.name,
                          at_byte)

    def _shape(self, segment: _Segment, record: list[Any]) -> VersionShape | None:
        _, model, version, names, kinds, classes = record
        settings = self.models.get(model)
        if settings is None:
            return None
        shape = segment.shapes[(model, version)] = VersionShape(names, kinds, classes, settings)
        return shape


def _read_lines(path: Path, offset: int) -> bytes:
    """About `READ_BYTES` from `offset`; more when the first line is longer, up to its end
    (a request line has no length limit: one large request must not stop its segment)."""
    with open(path, "rb") as file:
        file.seek(offset)
        chunk = file.read(READ_BYTES)
        if b"\n" in chunk or len(chunk) < READ_BYTES:
            return chunk
        parts = [chunk]
        while block := file.read(READ_BYTES):
            parts.append(block)
            if b"\n" in block:
                break
        return b"".join(parts)


def _has_newline(path: Path, offset: int) -> bool:
    with open(path, "rb") as file:
        file.seek(offset)
        while block := file.read(READ_BYTES):
            if b"\n" in block:
                return True
    return False


_MODEL_OF_LINE = re.compile(rb'^\["[cf]",\s*"(?:[^"\\]|\\.)*",\s*[-+0-9.eE]+,\s*"((?:[^"\\]|\\.)*)"')


def _model_of(line: bytes) -> str | None:
    """The model a (possibly unfinished) request line was for, when its start says."""
    found = _MODEL_OF_LINE.match(line)
    if found is None:
        return None
    try:
        return str(orjson.loads(b'"' + found.group(1) + b'"'))
    except orjson.JSONDecodeError:
        return None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


# ---- the process --------------------------------------------------------------------------------
def run(root: str, environment: str, stop: threading.Event) -> None:
    """Load the environment's spool until `stop` is set and the workers have ended."""
    # Here, not at the top: the endpoint's supervisor imports this module for `LoaderProcess`
    # and needs none of the data stack the workspace brings (pandas).
    from champion.project import Project
    from champion.workspace import Workspace

    project = Project.open(root)
    settings = project.environment(environment)
    loader = SpoolLoader(spool_dir(endpoint_dir(project, environment)), Workspace(project).predictions,
                         environment, dict(project.config.models), settings.log_retention_days)
    next_purge = time.monotonic()
    drain_until: float | None = None
    while True:
        if stop.is_set() and drain_until is None:
            drain_until = time.monotonic() + DRAIN_SECONDS
        if drain_until is None and time.monotonic() >= next_purge:
            next_purge = time.monotonic() + (PURGE_SECONDS if loader.purge() else 60.0)
        try:
            written = loader.load()
        except ChampionError as exc:
            log.warning("loading the prediction log failed (retrying): %s", exc)
            written, pause = 0, RETRY_SECONDS
        except Exception:  # noqa: BLE001 - a bug here must not stop the log for good
            log.exception("the prediction log loader failed (retrying)")
            written, pause = 0, RETRY_SECONDS
        else:
            pause = PACE_SECONDS if written >= PACE_ROWS else POLL_SECONDS  # load() left nothing waiting
        if drain_until is not None:
            idle = loader.idle()
            if idle or time.monotonic() >= drain_until:
                if not idle:
                    log.warning("prediction log: stopping with spooled rows left; they load at the next start")
                return
        if drain_until is None:
            stop.wait(pause)
        elif not written:
            time.sleep(POLL_SECONDS)


def main(argv: list[str] | None = None) -> None:
    root, environment = (argv if argv is not None else sys.argv[1:])[:2]
    log_to_stderr()
    os.nice(NICENESS)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        run(root, environment, stop)
    except ChampionError as exc:
        log.error("the prediction log loader stopped: %s", exc)
        sys.exit(1)


class LoaderProcess:
    """The loader as a child process of the endpoint, restarted if it dies."""

    def __init__(self, root: str, environment: str) -> None:
        self.root = root
        self.environment = environment
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._watch = threading.Thread(target=self._keep_running, name="log-loader-watch", daemon=True)

    def start(self) -> None:
        self._process = self._spawn()
        self._watch.start()

    def stop(self, timeout: float = DRAIN_SECONDS + 2.0) -> None:
        """Ask the loader to finish (after the workers ended their segments) and wait."""
        self._stopping.set()
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.error("the prediction log loader did not stop within %.0f s; its spool loads at the next start",
                      timeout)
            process.kill()
            process.wait()

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "champion.serving.log_loader", self.root, self.environment],
                                stdin=subprocess.DEVNULL)

    def _keep_running(self) -> None:
        while not self._stopping.wait(1.0):
            process = self._process
            if process is not None and process.poll() is not None and not self._stopping.is_set():
                log.error("the prediction log loader exited with %s; starting another", process.returncode)
                self._process = self._spawn()


if __name__ == "__main__":
    main()
