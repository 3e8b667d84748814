"""What the overview shows: every model x environment, the agent, and what to do next.

One document, built from the same pipeline functions as `champion ps` and `champion status`,
the monitor's reports, and the prediction log's per-minute traffic (aggregates, never a scan
of the log)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from champion.pipelines import endpoints
from champion.pipelines.aliases import CHAMPION
from champion.pipelines.release import alias_of
from champion.pipelines.status import agent_status
from champion.registry.records import VERDICT_TAG
from champion.ui.documents import monitoring
from champion.ui.documents.traffic import traffic_figures
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
        rows, open_alerts = [], []
        for environment in ws.project.config.environments:
            alias = alias_of(ws, environment)
            running = [e for e in served.get(environment, []) if e.pid is not None]
            history = monitoring.reports(ws, model, environment, limit=2 * monitoring.STREAK_LOOKBACK)
            open_alerts += monitoring.alerts(ws, model, environment, history)
            rows.append({
                "environment": environment,
                "alias": alias,
                "alias_version": aliases.get(alias),
                "endpoints": [_served(e, model) for e in running],
                "traffic": traffic_figures(ws, model, environment),
                "monitor": monitoring.summary(history[-1] if history else None),
                "next": _next_step(model, environment, bool(versions), aliases.get(alias), bool(running)),
            })
        models.append({
            "model": model,
            "versions": len(versions),
            "version_numbers": sorted(versions),
            "champion": aliases.get(CHAMPION),
            "last_verdict": None if newest is None else {
                "version": newest, "verdict": versions[newest].tags.get(VERDICT_TAG),
                "registered_at": iso_ms(versions[newest].created)},
            "environments": rows,
            "alerts": open_alerts,
            "next": None if versions else f"no version yet: `champion build {model}`",
        })
    agent = agent_status(ws, limit=5)
    return {"project": ws.project.config.project.name, "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "models": models, "agent": agent}


def _next_step(model: str, environment: str, built: bool, deployed: int | None, running: bool) -> str | None:
    """What to do for an environment that serves nothing: build, deploy, or start its endpoint."""
    if running:
        return None
    if not built:
        return "nothing to serve yet"  # the model's own line says to build
    if deployed is None:
        return f"nothing deployed: `champion deploy {environment} --model {model}`"
    return f"no endpoint running: `champion up {environment}`"


def _served(endpoint: endpoints.EndpointInfo, model: str) -> dict[str, Any]:
    """An endpoint as one of its models sees it: that model's state and notes (another model
    it serves may be the Unhealthy one); another machine's heartbeat has only the endpoint's
    state. A model the endpoint does not serve (added to champion.toml after it started) is
    Unhealthy there, and says so."""
    served = endpoint.models.get(model)
    if served is None and endpoint.models:
        state = "Unhealthy"
        notes = [f"{model}: not served by this endpoint, which started before {model} was in champion.toml "
                 f"(`champion down {endpoint.environment}`, then `champion up {endpoint.environment}`)"]
    else:
        state = (served or {}).get("state") or endpoint.state
        notes = [n for n in endpoint.notes if n.startswith(f"{model}: ")]
    return {"machine": endpoint.machine, "url": endpoint.url, "pid": endpoint.pid, "state": state,
            "version": (served or {}).get("version"), "workers": endpoint.workers, "notes": notes}


def iso_ms(epoch_ms: int) -> str | None:
    """An MLflow time (epoch milliseconds) as ISO 8601 in UTC."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="seconds") if epoch_ms else None
