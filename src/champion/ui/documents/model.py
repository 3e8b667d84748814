"""The model page's document: every judged run with the gate's evidence, the alias timeline
of each environment, the golden-set metrics per version, and production's traffic over time
with the moments its served version changed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from champion.errors import NotFoundError
from champion.pipelines.aliases import CHAMPION
from champion.pipelines.evaluation import EVALUATION_FILE
from champion.pipelines.release import alias_of
from champion.pipelines.status import history
from champion.registry.records import EVALUATION_DIGEST_TAG, VERDICT_TAG, RunRecord
from champion.ui.documents.monitoring import reports
from champion.ui.documents.overview import iso_ms
from champion.ui.documents.traffic import traffic_series
from champion.workspace import Workspace

RUNS_SHOWN = 20
SERIES_SECONDS = 24 * 3600
EVALUATIONS_KEPT = 1000
_evaluations: dict[tuple[str, str, str], dict[str, Any]] = {}
"""evaluation.json by (run, digest tag, verdict tag): reading one from MLflow costs ~10 ms, and a
model page lists up to 20. A run evaluated again gets a new digest, so nothing stale is shown."""


def model_page(ws: Workspace, model: str) -> dict[str, Any]:
    """`NotFoundError` for a model the project does not have."""
    if model not in ws.project.config.models:
        raise NotFoundError(f"no model {model!r} in this project")
    aliases = ws.registry.aliases(model)
    registered = {v.run_id: v for v in ws.registry.versions(model)}
    runs: list[dict[str, Any]] = []
    judged = ws.registry.evaluated_runs(model, RUNS_SHOWN)
    seen = {run.run_id for run in judged}
    # Versions registered without the gate (by hand, by an older champion) are versions too.
    unjudged = [ws.registry.run(v.run_id) for v in registered.values() if v.run_id not in seen]
    for run in sorted([*judged, *unjudged], key=lambda r: r.start_time, reverse=True):
        evaluation = _evaluation(ws, run)
        version = registered.get(run.run_id)
        runs.append({
            "run_id": run.run_id,
            "version": version.version if version else None,
            "aliases": sorted(a for a, v in aliases.items() if version and v == version.version),
            "verdict": run.tags.get(VERDICT_TAG),
            "started_at": iso_ms(run.start_time),
            "recipe": run.tags.get("champion.recipe") or run.params.get("recipe"),
            "params": {k: v for k, v in sorted(run.params.items()) if k != "recipe" and not k.startswith("data.")},
            "data": {k.removeprefix("data."): v for k, v in run.params.items() if k.startswith("data.")},
            "actor": run.tags.get("champion.actor"),
            "evidence": _evidence(evaluation),
            "mlflow_url": _run_url(ws, run.run_id, model),
        })
    timeline: list[dict[str, Any]] = []
    for environment in ws.project.config.environments:
        alias = alias_of(ws, environment)
        moves = history(ws, model, alias)
        timeline.append({"environment": environment, "alias": alias, "version": aliases.get(alias),
                         "moves": [_move(m) for m in reversed(moves)]})
    champion_moves = [_move(m) for m in reversed(history(ws, model, CHAMPION))]
    production = _watched_environment(ws, model)
    return {
        "project": ws.project.config.project.name,
        "model": model,
        "champion": aliases.get(CHAMPION),
        "champion_moves": champion_moves,
        "primary": runs[0]["evidence"]["primary"] if runs else None,
        "runs": runs,
        "timeline": timeline,
        "golden": [{"version": r["version"], "metrics": r["evidence"]["challenger"]} for r in reversed(runs)
                   if r["version"] is not None],
        "production": {"environment": production,
                       "traffic": traffic_series(ws, model, production, SERIES_SECONDS),
                       "monitor": [_monitor_point(r) for r in reports(ws, model, production)],
                       "changes": [m for t in timeline if t["environment"] == production for m in t["moves"]]},
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _evaluation(ws: Workspace, run: RunRecord) -> dict[str, Any]:
    # Runs judged before the digest tag existed key on their verdict alone: a new evaluation
    # of one sets the digest, which changes its key.
    key = (run.run_id, run.tags.get(EVALUATION_DIGEST_TAG, ""), run.tags.get(VERDICT_TAG, ""))
    kept = _evaluations.get(key)
    if kept is not None:
        return kept
    document = ws.registry.read_document(run.run_id, EVALUATION_FILE)
    if document is None:  # none yet, or the tracking server did not answer: ask again next time
        return {}
    while len(_evaluations) >= EVALUATIONS_KEPT:
        _evaluations.pop(next(iter(_evaluations)), None)
    _evaluations[key] = document
    return document


def _evidence(evaluation: dict[str, Any]) -> dict[str, Any]:
    """The gate's decision as the page shows it: metrics with intervals, the test, reasons."""
    policy = evaluation.get("policy") or {}
    challenger = (evaluation.get("challenger") or {}).get("metrics") or {}
    champion = (evaluation.get("champion") or {}) or {}
    return {
        "reasons": list(evaluation.get("reasons") or []),
        "challenger": challenger,
        "champion_version": champion.get("version"),
        "champion": champion.get("metrics") or {},
        "deltas": evaluation.get("deltas") or {},
        "intervals": evaluation.get("intervals") or {},
        "interval_level": evaluation.get("interval_level") or {},
        "p_values": evaluation.get("p_values") or {},
        "primary": policy.get("primary"),
        "higher_is_better": policy.get("higher_is_better"),
        "test": policy.get("test"),
        "alpha": policy.get("alpha"),
        "guardrails": policy.get("guardrails") or {},
        "golden_rows": (evaluation.get("golden_set") or {}).get("golden_rows"),
        "evaluated_at": evaluation.get("evaluated_at"),
    }


def _move(move: Any) -> dict[str, Any]:
    return {"alias": move.alias, "from_version": move.from_version, "to_version": move.to_version,
            "at": move.at.isoformat(timespec="seconds"), "actor": move.actor, "reason": move.reason}


def _watched_environment(ws: Workspace, model: str) -> str:
    """The environment the monitor watches (`monitoring.environment`, production by default)."""
    environment = ws.settings(model).monitoring.environment
    names = list(ws.project.config.environments)
    return environment if environment in names or not names else names[-1]


def _monitor_point(report: dict[str, Any]) -> dict[str, Any]:
    performance = report.get("performance") or {}
    realized = (performance.get("realized") or {}).get("metrics") or {}
    estimated = (performance.get("estimated") or {}).get("metrics") or {}
    return {"at": report["generated_at"], "versions": (report.get("window") or {}).get("versions") or [],
            "realized": realized, "estimated": estimated, "names": performance.get("names") or {},
            "drift_share": (report.get("data_drift") or {}).get("share")}


def _run_url(ws: Workspace, run_id: str, model: str) -> str | None:
    """The run in the MLflow UI of a tracking server; None for an embedded store (no UI runs)."""
    uri = ws.project.tracking_uri
    if not uri.startswith(("http://", "https://")):
        return None
    return f"{uri.rstrip('/')}/#/experiments/{ws.registry.experiment_id(model)}/runs/{run_id}"
