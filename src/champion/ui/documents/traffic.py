"""Requests, latency and errors of each model x environment, from the prediction log's
per-minute rollups (`state.traffic`: written by the endpoints' log loaders, never a scan of
the log)."""

from __future__ import annotations

import time
from typing import Any

from champion.state.traffic import series, traffic
from champion.workspace import Workspace

SPANS = {"last_5_min": 300, "last_24_h": 86_400}
SERIES_STEP_SECONDS = 300
"""Charts of a day draw one point per five minutes (288 points)."""


def traffic_figures(ws: Workspace, model: str, environment: str) -> dict[str, Any]:
    """{span: figures} over the overview's spans (see `state.traffic.traffic`)."""
    now = time.time()
    return {name: dict(traffic(ws.predictions, model, environment, seconds, now)) for name, seconds in SPANS.items()}


def traffic_series(ws: Workspace, model: str, environment: str, seconds: int) -> list[dict[str, Any]]:
    """Points over the last `seconds`, oldest first (see `state.traffic.series`)."""
    now = time.time()
    return [dict(point) for point in series(ws.predictions, model, environment, now - seconds, now,
                                            step=SERIES_STEP_SECONDS)]
