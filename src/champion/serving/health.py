"""The health document (`GET /health`, read by `deploy`, `smoke-test`, `ps` and probes) as a
typed model. Its JSON Schema (`docs/schemas/health.schema.json`, `python -m
champion.serving.health`) is the contract; the service checks each answer against it."""

from __future__ import annotations

import json
import sys
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

State = Literal["Healthy", "Transitioning", "Unhealthy"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Refused(_Strict):
    """A version this worker would not serve: why, when, how often, and when it tries again."""

    version: int
    reason: str
    at: float
    attempts: int
    retry_at: float


class ModelHealth(_Strict):
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


class WorkerModel(_Strict):
    version: int | None
    state: State


class WorkerHealth(_Strict):
    pid: int
    status: State
    models: dict[str, WorkerModel]


class HealthDocument(_Strict):
    """One worker's answer, with every worker of the endpoint in `workers`."""

    status: State
    """Healthy only when every worker is Healthy on the same versions."""
    environment: str
    alias: str
    models: dict[str, ModelHealth]
    workers: list[WorkerHealth]
    pid: int
    uptime_seconds: float


def checked(document: dict[str, Any]) -> dict[str, Any]:
    HealthDocument.model_validate(document)
    return document


def schema() -> dict[str, Any]:
    return HealthDocument.model_json_schema()


if __name__ == "__main__":
    json.dump(schema(), sys.stdout, indent=2)
    sys.stdout.write("\n")
