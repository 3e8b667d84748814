"""The health document (`GET /health`, read by `deploy`, `smoke-test`, `ps` and probes) as a
typed model. Its JSON Schema (`docs/schemas/health.schema.json`) is the
contract; the service checks each answer against it."""

from __future__ import annotations

from typing import Literal

from champion.contract import Document

State = Literal["Healthy", "Transitioning", "Unhealthy"]


class Refused(Document):
    """A version this worker would not serve: why, when, how often, and when it tries again."""

    version: int
    reason: str
    at: float
    attempts: int
    retry_at: float


class ModelHealth(Document):
    state: State
    alias: str
    version: int | None
    """The version served (None: none yet)."""
    alias_version: int | None
    """The version the alias points at."""
    loading: int | None = None
    refused: Refused | None = None
    reason: str | None = None
    """Why nothing is served."""
    note: str | None = None
    """When the served version is not the alias', and why."""


class WorkerModel(Document):
    version: int | None
    state: State


class WorkerHealth(Document):
    pid: int
    status: State
    models: dict[str, WorkerModel]


class HealthDocument(Document):
    """One worker's answer, with every worker of the endpoint in `workers`."""

    status: State
    """Healthy only when every worker is Healthy on the same versions."""
    environment: str
    alias: str
    models: dict[str, ModelHealth]
    workers: list[WorkerHealth]
    pid: int
    uptime_seconds: float
