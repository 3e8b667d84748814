"""`monitor`: compare a model's recent production traffic with its reference profile.

Reads the prediction log (with feedback) of one environment, builds the report, writes it as
JSON and as a self-contained HTML page under `.champion/reports/MODEL/`, keeps the document in
the state store (so every machine of a team sees it), and delivers alerts.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from champion.config import parse_window, resolve_monitoring
from champion.errors import UsageError
from champion.monitoring.documents import MonitorReport
from champion.monitoring.profile import PROFILE_FILE
from champion.monitoring.report import build_report
from champion.pipelines.alerts import deliver
from champion.pipelines.progress import Progress, silent
from champion.state.store import REPORTS_KEPT
from champion.workspace import Workspace
from champion.workspace.documents import write_json

HISTORY_WINDOWS = 10
"""The report's metrics over time span this many windows."""


def monitor(ws: Workspace, model: str, environment: str | None = None, window: str | None = None,
            progress: Progress = silent, out_dir: Path | None = None, notify: bool = True) -> dict[str, Any]:
    """The report document, with `report` and `json` paths and the alert deliveries."""
    declared = ws.settings(model)
    settings = resolve_monitoring(declared.monitoring, ws.recipe_class(model).task, declared.frequency)
    environment = environment or settings.environment
    ws.project.environment(environment)  # a clear error for an unknown environment
    spec = window or settings.window
    try:
        rows, seconds = parse_window(spec)
    except ValueError as exc:
        raise UsageError(f"--window: {exc}") from None
    now = time.time()
    with progress.step(f"reading the {environment} prediction log"):
        log = ws.predictions
        # One read: the current window is the newest part of the history.
        history = log.window(model, environment, rows=rows * HISTORY_WINDOWS if rows else None,
                             seconds=seconds * HISTORY_WINDOWS if seconds else None, until=now)
        current = history.tail(rows=rows, seconds=seconds, until=now)
        counts = log.counts(model, environment)
    profiles: dict[int, dict[str, Any] | None] = {}

    def profile_of(version: int) -> dict[str, Any] | None:
        if version not in profiles:
            record = ws.registry.version(model, version)
            profiles[version] = ws.registry.read_document(record.run_id, PROFILE_FILE)
        return profiles[version]

    with progress.step(f"testing {len(current)} rows against the reference"):
        document = build_report(model, environment, current, history, profile_of, settings, spec)
    document["log"] = counts
    document["dropped_log_rows"] = counts["dropped"]
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = report_folder(ws, model)
    html_path = folder / f"{environment}-{stamp}.html"
    json_path = folder / f"{environment}-{stamp}.json"
    document["report"], document["json"] = str(html_path), str(json_path)
    if notify and document["alerts"]:
        context = {"model": model, "environment": environment, "report": str(html_path),
                   "generated_at": document["generated_at"]}
        document["deliveries"] = deliver(document["alerts"], context, settings.alerts,
                                         ws.project.state_dir / "alerts.log")
        ws.state.record_deliveries(model, environment, document["deliveries"])
    MonitorReport.checked(document)
    with progress.step("writing the report"):
        from champion.monitoring.html_report import render_html

        write_json(json_path, document, out_dir)
        _keep_in_state(ws, model, environment, json_path, document)
        _write_text(html_path, render_html(document))
        _write_text(folder / f"{environment}-latest.html", render_html(document))
        if out_dir:
            _write_text(out_dir / html_path.name, render_html(document))
    return document


def report_folder(ws: Workspace, model: str) -> Path:
    """Where this machine's monitor runs write a model's reports."""
    return ws.project.state_dir / "reports" / model


def report_files(ws: Workspace, model: str, environment: str, limit: int) -> list[tuple[str, dict[str, Any]]]:
    """The newest `limit` report documents in this machine's files, oldest first, by name (the
    file's stem); a file that cannot be read (half written, another format) is skipped."""
    folder = report_folder(ws, model)
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob(f"{environment}-2*.json"))[-limit:]:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(document, dict) and document.get("generated_at"):
            found.append((path.stem, document))
    return found


def _keep_in_state(ws: Workspace, model: str, environment: str, json_path: Path, document: dict[str, Any]) -> None:
    """The report into the state store. The first one kept there brings the files of earlier
    runs along (written before the store kept reports), so the history does not restart."""
    if not ws.state.reports(model, environment, 1):
        for name, earlier in report_files(ws, model, environment, REPORTS_KEPT):
            if name != json_path.stem:
                ws.state.record_report(model, environment, name, earlier)
    ws.state.record_report(model, environment, json_path.stem, document)


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
