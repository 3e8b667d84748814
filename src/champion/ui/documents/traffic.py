"""Requests, latency and errors of each model x environment, from the prediction log's
per-minute rollups (written by the endpoints' log loaders)."""

from __future__ import annotations

from typing import Any

from champion.workspace import Workspace

SPANS = {"last_5_min": 300, "last_24_h": 86_400}


def traffic_figures(ws: Workspace, model: str, environment: str) -> dict[str, Any]:
    """{span: figures} for the overview's spans (empty until the rollups exist)."""
    return {}


def traffic_series(ws: Workspace, model: str, environment: str, seconds: int) -> list[dict[str, Any]]:
    """Per-minute points over the last `seconds` (empty until the rollups exist)."""
    return []
