"""What the overview shows: every model x environment, the agent, and what to do next.

One document, built from the same pipeline functions as `champion ps` and `champion status`
(no store is read here that the CLI does not read)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from champion.pipelines import endpoints
from champion.pipelines.aliases import CHAMPION
from champion.pipelines.release import alias_of
from champion.pipelines.status import agent_status
from champion.workspace import Workspace


def overview(ws: Workspace) -> dict[str, Any]:
    """The project's models, each with one entry per environment, and the agent's state."""
    served: dict[str, list[endpoints.EndpointInfo]] = {}
    for endpoint in endpoints.endpoints(ws):
        served.setdefault(endpoint.environment, []).append(endpoint)
    models = []
    for model in ws.project.config.models:
        aliases = ws.registry.aliases(model)
        versions = {v.version: v for v in ws.registry.versions(model)}
        newest = max(versions) if versions else None
        rows = []
        for environment in ws.project.config.environments:
            alias = alias_of(ws, environment)
            running = served.get(environment, [])
            rows.append({
                "environment": environment,
                "alias": alias,
                "alias_version": aliases.get(alias),
                "endpoints": [{"machine": e.machine, "url": e.url, "pid": e.pid, "state": e.state,
                               "version": (e.models.get(model) or {}).get("version"), "notes": e.notes}
                              for e in running if e.pid is not None],
                "next": None if any(e.pid is not None for e in running) else
                f"no endpoint running: `champion up {environment}`",
            })
        champion = aliases.get(CHAMPION)
        models.append({
            "model": model,
            "versions": len(versions),
            "champion": champion,
            "last_verdict": None if newest is None else {
                "version": newest, "verdict": versions[newest].tags.get("champion.verdict"),
                "registered_at": _iso_ms(versions[newest].created)},
            "environments": rows,
            "next": None if versions else f"no version yet: `champion build {model}`",
        })
    agent = agent_status(ws, limit=5)
    return {"project": ws.project.config.project.name, "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "models": models, "agent": agent}


def _iso_ms(epoch_ms: int) -> str | None:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="seconds") if epoch_ms else None
