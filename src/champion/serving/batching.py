"""Adaptive batching: concurrent requests for one model version share one predict call.

No timer: while a predict call runs, new requests queue (in the socket buffers); when it
returns, everything queued for the same version (up to `max_rows`) goes into the next call.
At low load a request runs at once (no added latency); under load batches grow by
themselves, and a request waits at most for the call in progress plus its own. A large
request (more than `max_rows` rows or `PIECE_CHARS` characters of text) is predicted in
pieces, and requests that arrive meanwhile go between them: one-row requests keep answering
while a large batch runs.

Predict calls run on the event loop itself. Handing them to a thread made the loop wait
for the GIL (the 5 ms switch interval) and cut throughput at concurrency 8 from ~1,500 to
~400 requests/s (measured); forecasts, which can take longer, still go to a thread.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from champion.serving.loaded import LoadedModel, Rows, row_count, text_lengths

BatchObserver = Callable[[int], None]


PIECE_CHARS = 16_384
"""Most characters of text in one predict call (besides a single longer row): a large
request is predicted in pieces, and requests that arrive meanwhile are answered between them
(a text classifier spends ~4 us a character: a piece takes at most ~70 ms)."""
YIELDS = 3
"""Event-loop turns given between predict calls, so requests that arrived meanwhile are read
and queued before the next piece of a large one."""


@dataclass
class _Pending:
    model: LoadedModel
    rows: Rows
    future: asyncio.Future[tuple[np.ndarray, np.ndarray]]
    size: int = 0
    chars: list[int] = field(default_factory=list)
    """Characters of text of each row (empty when the rows hold no text)."""
    done: int = 0
    """Rows predicted so far."""
    parts: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)


class Batcher:
    """Merges concurrent classifier requests into batched predict calls, and splits large
    ones into pieces."""

    def __init__(self, max_rows: int, observe: BatchObserver | None = None, piece_chars: int = PIECE_CHARS) -> None:
        self.max_rows = max_rows
        self.piece_chars = piece_chars
        self._queue: deque[_Pending] = deque()
        self._running = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="predict")
        self._observe = observe

    async def predict(self, model: LoadedModel, rows: Rows,
                      chars: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Labels and probabilities of `rows`, computed by `model` (the version the request
        was accepted with, even if a newer one is switched in meanwhile). `chars`: the rows'
        `text_lengths` when the caller has them already."""
        future: asyncio.Future[tuple[np.ndarray, np.ndarray]] = asyncio.get_running_loop().create_future()
        lengths = text_lengths(rows) if chars is None else chars
        self._queue.append(_Pending(model, rows, future, row_count(rows), lengths))
        if not self._running:
            self._running = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run other model work (a forecast) on the predict thread, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _drain(self) -> None:
        try:
            await asyncio.sleep(0)  # let requests that already arrived join the first batch
            while self._queue:
                pieces = self._take()
                rows = _merge(pieces)
                if self._observe:
                    self._observe(sum(stop - start for _, start, stop in pieces))
                try:
                    labels, proba = pieces[0][0].model.predict_rows(rows)
                except Exception as exc:  # noqa: BLE001 - handed to each waiting request
                    for p, _, _ in pieces:
                        if not p.future.done():
                            p.future.set_exception(exc)
                    continue
                offset = 0
                for p, start, stop in pieces:
                    count = stop - start
                    p.parts.append((labels[offset:offset + count], proba[offset:offset + count]))
                    p.done, offset = stop, offset + count
                    if p.done < p.size:
                        self._queue.append(p)  # the rest after the requests waiting now
                    elif not p.future.done():  # the client may have gone away
                        p.future.set_result(p.parts[0] if len(p.parts) == 1 else (
                            np.concatenate([a for a, _ in p.parts]), np.concatenate([b for _, b in p.parts])))
                if self._queue:
                    for _ in range(YIELDS):
                        await asyncio.sleep(0)
        finally:
            self._running = False

    def _take(self) -> list[tuple[_Pending, int, int]]:
        """Rows of the oldest request and of every queued one for the same version, up to
        `max_rows` rows and `piece_chars` characters (a request that does not fit whole gives
        a piece; the oldest gives at least one row): (request, first row, row after the last)."""
        first = self._queue.popleft()
        rows_left, chars_left = self.max_rows, self.piece_chars
        pieces, kept = [], deque[_Pending]()
        candidate: _Pending | None = first
        while candidate is not None:
            p = candidate
            if p.model is first.model and rows_left > 0 and (chars_left > 0 or p is first):
                stop = _piece_end(p, rows_left, chars_left, at_least_one=p is first)
                if stop > p.done:
                    pieces.append((p, p.done, stop))
                    rows_left -= stop - p.done
                    chars_left -= sum(p.chars[p.done:stop]) if p.chars else 0
                else:
                    kept.append(p)
            else:
                kept.append(p)
            candidate = self._queue.popleft() if self._queue else None
        self._queue.extendleft(reversed(kept))
        return pieces


def _piece_end(p: _Pending, rows: int, chars: int, at_least_one: bool) -> int:
    """Where a piece of `p` starting at its next row ends, within the row and character budget."""
    stop = min(p.size, p.done + rows)
    if p.chars:
        end, used = p.done, 0
        while end < stop and used + p.chars[end] <= chars:
            used += p.chars[end]
            end += 1
        stop = end
    if at_least_one and stop == p.done:
        stop = p.done + 1
    return stop


def _merge(pieces: list[tuple[_Pending, int, int]]) -> Rows:
    if len(pieces) == 1:
        p, start, stop = pieces[0]
        if start == 0 and stop == p.size:
            return p.rows
        return {name: values[start:stop] for name, values in p.rows.items()}
    names = pieces[0][0].rows
    return {name: [v for p, start, stop in pieces for v in p.rows[name][start:stop]] for name in names}
