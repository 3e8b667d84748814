"""An endpoint's traffic from the per-minute rollup (`prediction_minutes`): rates, error
rates and latency percentiles over a span, and per-minute series for charts.

The rollup is written with the prediction log (`PredictionLog.append_rows`, in the log
loader's transaction) and holds, per model, environment, minute and version: scored
requests and rows, failed requests, the latency sum and a histogram. Reading a day is
reading ~1,440 small rows per version, whatever the size of the log.

What counts: `scored` requests are those the prediction log holds (answered 2xx, not
synthetic, not dropped by a full spool); `errors` were answered 5xx and `rejected` 4xx
(bad input, too large, too slow to arrive, a version not served), except 401 (a missing
or wrong key is not the model's traffic) and 499 (the client left). Requests for a model the
endpoint does not serve are not counted. Latency percentiles are of the scored requests,
interpolated linearly inside the histogram's bucket (`LATENCY_BOUNDS_MS`, ~1.5x apart);
past the last bound they are that bound.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, TypedDict

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from champion.state.predictions import (
    BUCKET_COLUMNS,
    LATENCY_BOUNDS_MS,
    MINUTE_COUNTS,
    PredictionLog,
    minute_of,
    prediction_minutes,
)
from champion.state.store import StateError

__all__ = ["TrafficPoint", "TrafficSummary", "percentile", "series", "traffic"]

_BUCKETS = slice(MINUTE_COUNTS.index(BUCKET_COLUMNS[0]), None)
_LATENCY_SUM = MINUTE_COUNTS.index("latency_sum_ms")


class TrafficSummary(TypedDict):
    """`traffic()`: one model in one environment over a span."""

    model: str
    environment: str
    since: int
    """Start (epoch seconds) of the first minute counted: the span, rounded down to a minute."""
    until: float
    seconds: float
    """`until - since`: what the rate divides by."""
    requests: int
    """Every counted request: scored + errors + rejected."""
    scored: int
    rows: int
    errors: int
    rejected: int
    requests_per_second: float
    error_rate: float | None
    """errors / requests; None without requests."""
    rejected_rate: float | None
    mean_ms: float | None
    p50_ms: float | None
    p99_ms: float | None
    versions: list[int]
    """Versions that answered in the span (0, "none served yet", is left out)."""


class TrafficPoint(TypedDict):
    """One point of `series()`: `step` seconds from `at`."""

    at: int
    requests: int
    scored: int
    rows: int
    errors: int
    rejected: int
    p50_ms: float | None
    p99_ms: float | None
    versions: list[int]


def traffic(log: PredictionLog, model: str, environment: str, seconds: float,
            now: float | None = None) -> TrafficSummary:
    """The traffic of `model` in `environment` over the last `seconds` before `now`
    (default: the clock), counted from the start of the minute holding `now - seconds`
    (`since`; rates divide by `now - since`). The minute being loaded counts as far as it is."""
    until = time.time() if now is None else now
    since = minute_of(until - seconds)
    m = prediction_minutes.c
    query = (select(m.version, *(func.sum(m[c]) for c in MINUTE_COUNTS))
             .where(m.model == model, m.environment == environment, m.minute >= since, m.minute <= until)
             .group_by(m.version))
    try:
        with log.engine.connect() as connection:
            found = connection.execute(query).all()
    except SQLAlchemyError as exc:
        raise StateError(f"reading the traffic of {model} in {environment} failed: {exc}") from None
    totals = _added([row[1:] for row in found])
    scored, rows, errors, rejected, latency_sum = totals[:5]
    requests = scored + errors + rejected
    span = max(until - since, 1e-9)
    histogram = totals[_BUCKETS]
    return {"model": model, "environment": environment, "since": since, "until": until, "seconds": until - since,
            "requests": requests, "scored": scored, "rows": rows, "errors": errors, "rejected": rejected,
            "requests_per_second": requests / span,
            "error_rate": errors / requests if requests else None,
            "rejected_rate": rejected / requests if requests else None,
            "mean_ms": latency_sum / scored if scored else None,
            "p50_ms": percentile(histogram, 0.5), "p99_ms": percentile(histogram, 0.99),
            "versions": sorted(int(row[0]) for row in found if row[0] and any(row[1:5]))}


def series(log: PredictionLog, model: str, environment: str, since: float, until: float | None = None,
           step: int = 60) -> list[TrafficPoint]:
    """Points of `step` seconds (a multiple of a minute) from the minute holding `since` to
    `until` (default: the clock), oldest first, every step present (zeros where no traffic)."""
    end = time.time() if until is None else until
    step = max(60, int(step) // 60 * 60)
    start = minute_of(since)
    m = prediction_minutes.c
    query = (select(m.minute, m.version, *(m[c] for c in MINUTE_COUNTS))
             .where(m.model == model, m.environment == environment, m.minute >= start, m.minute <= end))
    try:
        with log.engine.connect() as connection:
            found = connection.execute(query).all()
    except SQLAlchemyError as exc:
        raise StateError(f"reading the traffic of {model} in {environment} failed: {exc}") from None
    grouped: dict[int, list[Sequence[Any]]] = {}
    versions: dict[int, set[int]] = {}
    for minute, version, *counts in found:
        at = start + (int(minute) - start) // step * step
        grouped.setdefault(at, []).append(counts)
        if version and any(counts[:4]):
            versions.setdefault(at, set()).add(int(version))
    points: list[TrafficPoint] = []
    for at in range(start, int(end) + 1, step):
        totals = _added(grouped.get(at, []))
        scored, rows, errors, rejected = totals[:4]
        histogram = totals[_BUCKETS]
        points.append({"at": at, "requests": scored + errors + rejected, "scored": scored, "rows": rows,
                       "errors": errors, "rejected": rejected, "p50_ms": percentile(histogram, 0.5),
                       "p99_ms": percentile(histogram, 0.99), "versions": sorted(versions.get(at, ()))})
    return points


def percentile(histogram: Sequence[float], q: float) -> float | None:
    """The `q` quantile (0-1) of latencies counted in `histogram` (one count per bucket of
    `LATENCY_BOUNDS_MS`, then the rest), linear inside its bucket; None when it is empty."""
    total = sum(histogram)
    if not total:
        return None
    rank = q * total
    seen = 0.0
    for index, count in enumerate(histogram):
        if count and seen + count >= rank:
            lower = float(LATENCY_BOUNDS_MS[index - 1]) if index else 0.0
            if index == len(LATENCY_BOUNDS_MS):  # the open bucket: no upper bound to reach for
                return lower
            return lower + (LATENCY_BOUNDS_MS[index] - lower) * (rank - seen) / count
        seen += count
    return float(LATENCY_BOUNDS_MS[-1])


def _added(rows: Sequence[Sequence[Any]]) -> list[Any]:
    """Column sums of rollup rows (in `MINUTE_COUNTS` order), counts as int and the latency
    sum as float (PostgreSQL's SUM of a BIGINT is a NUMERIC: a Decimal); zeros for none."""
    totals: list[Any] = [0] * len(MINUTE_COUNTS)
    for row in rows:
        for i, value in enumerate(row):
            totals[i] += value or 0
    return [float(v) if i == _LATENCY_SUM else int(v) for i, v in enumerate(totals)]
