"""What `champion monitor` found, over time: its reports (kept in the state store, and as JSON
beside the HTML under `.champion/reports/MODEL/` on the machine that ran it), and the alerts of
the newest one with who acknowledged them.

An alert is open while the newest report of its environment raises it. Acknowledging it
silences it on the pages until it clears (a report without it); when it comes back later, it
is a new alert and is open again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from champion.errors import ChampionError, NotFoundError
from champion.pipelines.monitor import report_files, report_folder
from champion.workspace import Workspace

REPORTS_SHOWN = 30
"""Reports read per environment (the newest): the page's charts span these."""
STREAK_LOOKBACK = 5
"""The overview reads this many reports back to date an alert that is still raised."""


def reports(ws: Workspace, model: str, environment: str, limit: int = REPORTS_SHOWN) -> list[dict[str, Any]]:
    """The newest `limit` monitor reports of `model` in `environment`, oldest first, each with
    its `html_name`. From the state store (every machine of a team sees them); a project whose
    state has none yet reads this machine's files (written before the store kept reports)."""
    stored = ws.state.reports(model, environment, limit)
    if stored:
        return [{**r, "html_name": f"{r['name']}.html"} for r in stored]
    return [{**document, "html_name": f"{name}.html"} for name, document in report_files(ws, model, environment, limit)]


def report_html(ws: Workspace, model: str, name: str) -> str | None:
    """A report's HTML page by file name (`production-20261204T034002Z.html`): the file when this
    machine wrote it, else drawn from the stored document; None when there is no such report."""
    path = report_folder(ws, model) / name
    if path.is_file():
        return path.read_text(encoding="utf-8")
    document = ws.state.report(model, name.removesuffix(".html"))
    if document is None:
        return None
    from champion.monitoring.html_report import render_html  # heavy: only when a page is asked for

    try:
        return render_html(document)
    except Exception as exc:  # noqa: BLE001 - a document another champion wrote: said, not a traceback
        raise ChampionError(f"the report {name} cannot be drawn by this champion: {type(exc).__name__}: {exc}") from None


def monitoring_page(ws: Workspace, model: str) -> dict[str, Any]:
    """Every environment's recent reports (oldest first) and open alerts; `NotFoundError` for a
    model the project does not have."""
    if model not in ws.project.config.models:
        raise NotFoundError(f"no model {model!r} in this project")
    environments = []
    for environment in ws.project.config.environments:
        history = reports(ws, model, environment)
        environments.append({"environment": environment, "reports": history,
                             "alerts": alerts(ws, model, environment, history)})
    return {"project": ws.project.config.project.name, "model": model, "environments": environments}


def summary(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """The overview's line about the newest report: drift, and performance in a few words."""
    if report is None:
        return None
    performance = report.get("performance") or {}
    names = performance.get("names") or {}
    realized, estimated = performance.get("realized") or {}, performance.get("estimated") or {}
    words = ""
    if realized.get("metrics"):
        metric, value = next(iter(realized["metrics"].items()))
        words = f"{names.get(metric, metric)} {value:.3f} on {realized.get('labelled')} labels"
    elif estimated.get("metrics"):
        metric, figures = next(iter(estimated["metrics"].items()))
        words = f"{names.get(metric, metric)} about {figures['value']:.3f} (estimated)"
    return {"generated_at": report["generated_at"], "drift_detected": bool(report.get("drift_detected")),
            "performance": words, "alerts": len(report.get("alerts") or []), "html_name": report.get("html_name")}


def alerts(ws: Workspace, model: str, environment: str, history: list[dict[str, Any]] | None = None
           ) -> list[dict[str, Any]]:
    """The alerts of the newest report, each with when it was first raised (in this streak of
    reports) and its acknowledgement, if any."""
    history = reports(ws, model, environment) if history is None else history
    if not history:
        return []
    newest = history[-1]
    acks = {(a["kind"]): a for a in ws.state.acknowledgements(model, environment)}
    found = []
    for alert in newest.get("alerts") or []:
        kind = str(alert.get("kind"))
        since = newest["generated_at"]
        for report in reversed(history[:-1]):  # back through the reports that raised it too
            if not any(a.get("kind") == kind for a in report.get("alerts") or []):
                break
            since = report["generated_at"]
        ack = acks.get(kind)
        acknowledged = ack if ack and _iso(ack["at"]) >= _iso(since) else None
        found.append({"model": model, "environment": environment, "kind": kind,
                      "message": str(alert.get("message", "")), "retrain": bool(alert.get("retrain")),
                      "raised_at": since, "report": newest.get("html_name"), "acknowledged": acknowledged})
    return found


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text)
