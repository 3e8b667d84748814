"""`status` and `history`: where each alias points, with metrics, and how it got there."""

from __future__ import annotations

from typing import Any

from champion.pipelines.tidy import leftovers
from champion.pipelines.training import SIZE_PREFIX
from champion.state.jobs import JobStore
from champion.state.store import AliasMove
from champion.triggers.lock import agent_presence
from champion.workspace import Workspace

AGENT_JOBS_SHOWN = 10


def model_status(ws: Workspace, model: str) -> dict[str, Any]:
    """A model's aliases (version, run, golden-set metrics at registration) and its data."""
    aliases: dict[str, Any] = {}
    for alias, version in sorted(ws.registry.aliases(model).items()):
        record = ws.registry.version(model, version)
        run = ws.registry.run(record.run_id)
        # The recipe that trained this version (the run's own record), not today's champion.toml.
        aliases[alias] = {"version": version, "run_id": record.run_id, "recipe": run.tags.get("champion.recipe"),
                          "params": _recipe_params(run.params), "metrics": _golden_metrics(run.metrics),
                          "registered_at": record.created}
    versions = ws.registry.versions(model)
    ingested = ws.state.ingested(model)
    dropped = {env: rows for (_, env), rows in sorted(ws.predictions.dropped(model).items())}
    return {
        "model": model,
        "recipe": ws.settings(model).recipe,
        "aliases": aliases,
        "versions": len(versions),
        "log_dropped": dropped,
        "leftovers": leftovers(ws, model).as_dict(),
        "ingested_files": [{"path": f.path, "rows": f.rows, "sha256": f.sha256, "added_at": f.added_at.isoformat()}
                           for f in ingested],
    }


def status(ws: Workspace, model: str | None = None) -> dict[str, Any]:
    names = [ws.project.model_name(model)] if model else list(ws.project.config.models)
    return {"project": ws.project.config.project.name, "models": [model_status(ws, name) for name in names],
            "agent": agent_status(ws, ws.project.model_name(model) if model else None)}


def agent_status(ws: Workspace, model: str | None = None, limit: int = AGENT_JOBS_SHOWN) -> dict[str, Any]:
    """Whether `champion agent` runs for the project, and its latest jobs (newest first)."""
    presence = agent_presence(ws.project, ws.state)  # the state answers only on a team's PostgreSQL
    jobs = JobStore(ws.state).recent(limit, model)
    return {"running": presence.running, "pid": presence.pid, "started_at": presence.started_at,
            "jobs": [job.as_dict() for job in jobs]}


def history(ws: Workspace, model: str, alias: str | None = None) -> list[AliasMove]:
    return ws.state.moves(model, alias)


def _recipe_params(params: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in sorted(params.items()) if k != "recipe" and not k.startswith("data.")}


def _golden_metrics(metrics: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in sorted(metrics.items()) if not k.startswith(SIZE_PREFIX)}
