"""The monitoring page of a model: alerts (with acknowledge), drift per column and of the
predictions over time, data quality, realized against estimated performance, and the reports."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote

from champion.monitoring import svg
from champion.ui.html.layout import Viewer, action_link, code, number, page, table, when


def monitoring_page(document: dict[str, Any], models: list[str], viewer: Viewer) -> str:
    model = document["model"]
    sections = [_environment(model, entry, viewer) for entry in document["environments"]]
    if not any(entry["reports"] for entry in document["environments"]):
        sections = [f'<p class="next">{code("no monitor run yet: `champion monitor " + model + "` (or run `champion agent --monitor`)")}</p>']
    return page(f"{model} monitoring", document["project"], models, viewer, "\n".join(sections),
                f"/models/{model}/monitoring")


def _environment(model: str, entry: dict[str, Any], viewer: Viewer) -> str:
    environment, history = entry["environment"], entry["reports"]
    if not history:
        return ""
    anchor = f"env-{escape(environment)}"
    parts = [f'<section aria-labelledby="{anchor}"><h2 id="{anchor}">{escape(environment)}</h2>',
             _alerts(model, entry["alerts"], viewer), _drift(history), _quality(history[-1]),
             _performance(history), _report_links(model, history), "</section>"]
    return "".join(parts)


def _alerts(model: str, alerts: list[dict[str, Any]], viewer: Viewer) -> str:
    if not alerts:
        return "<h3>Alerts</h3><p>no open alert in the newest report</p>"
    rows = []
    for alert in alerts:
        ack = alert["acknowledged"]
        status = (f'acknowledged by {escape(ack["actor"])} {when(ack["at"])}: {escape(ack["reason"])}' if ack else
                  '<strong class="bad">open</strong> '
                  + action_link(viewer, "acknowledge", "acknowledge…", model=model,
                                environment=alert["environment"], kind=alert["kind"]))
        rows.append([escape(alert["kind"]), escape(alert["message"]) + (" <small>(asks for a retraining)</small>"
                                                                        if alert["retrain"] else ""),
                     when(alert["raised_at"]), status])
    return "<h3>Alerts</h3>" + table("alerts of the newest report", ["alert", "what", "raised since", "status"], rows)


def _drift(history: list[dict[str, Any]]) -> str:
    xs = [_epoch(r["generated_at"]) for r in history]
    share = [((r.get("data_drift") or {}).get("share")) for r in history]
    prediction = [((r.get("prediction_drift") or {}).get("p_value")) for r in history]
    charts = [svg.line_chart(xs, [svg.Series("share of input columns drifted", share, svg.LINE_COLOURS[0])],
                             title="data drift at each monitor run", y_label="share of columns", x_label="time (UTC)",
                             time_axis=True, y_range=(0.0, 1.0), percent=True)]
    if any(p is not None for p in prediction):
        threshold = (history[-1].get("prediction_drift") or {}).get("threshold")
        charts.append(svg.line_chart(
            xs, [svg.Series("p-value of the prediction drift test", prediction, svg.LINE_COLOURS[1])],
            title="prediction drift at each monitor run", y_label="p-value", x_label="time (UTC)", time_axis=True,
            y_range=(0.0, 1.0),
            hlines=[svg.HLine(float(threshold), "threshold", svg.MARKER_COLOUR)] if threshold is not None else ()))
    columns: list[str] = []
    for report in history:
        for column in (report.get("data_drift") or {}).get("columns") or []:
            if column["column"] not in columns:
                columns.append(column["column"])
    recent = history[-8:]
    rows = []
    for name in columns:
        cells = [escape(name)]
        for report in recent:
            found = next((c for c in (report.get("data_drift") or {}).get("columns") or [] if c["column"] == name),
                         None)
            cells.append("-" if found is None else
                         f'<span class="{"bad" if found.get("drifted") else "ok"}">'
                         f'{"drifted" if found.get("drifted") else "stable"}</span><br><small>'
                         f'{escape(str(found.get("method")))} {number(found.get("statistic"))}</small>')
        rows.append(cells)
    grid = table("drift per column at the latest monitor runs (oldest first)",
                 ["column", *[_short(r["generated_at"]) for r in recent]], rows) if rows else ""
    drawn = "".join(f"<figure>{c}</figure>" for c in charts if c)
    return f"<h3>Drift</h3>{drawn}{grid}"


def _quality(report: dict[str, Any]) -> str:
    quality = report.get("data_quality") or {}
    issues = quality.get("issues") or []
    if not issues:
        return f'<h3>Data quality</h3><p>no issue in the newest window ({escape(str(quality.get("rows", 0)))} rows)</p>'
    items = "".join(f"<li>{escape(str(i.get('message') or i))}</li>" for i in issues)
    return f"<h3>Data quality</h3><ul>{items}</ul>"


def _performance(history: list[dict[str, Any]]) -> str:
    xs = [_epoch(r["generated_at"]) for r in history]
    newest = history[-1].get("performance") or {}
    names = newest.get("names") or {}
    charts = []
    for i, metric in enumerate(list(names)[:2]):
        label = names[metric]
        estimated = [((r.get("performance") or {}).get("estimated") or {}).get("metrics", {}).get(metric) or {}
                     for r in history]
        realized = [((r.get("performance") or {}).get("realized") or {}).get("metrics", {}).get(metric)
                    for r in history]
        golden = (newest.get("golden") or {}).get(metric)
        charts.append(svg.line_chart(
            xs, [svg.Series(f"{label}, estimated", [e.get("value") for e in estimated], svg.LINE_COLOURS[2 * i],
                            dash="6 3", low=[e.get("low") for e in estimated], high=[e.get("high") for e in estimated],
                            band_label="estimate's interval"),
                 svg.Series(f"{label}, realized (labels)", realized, svg.LINE_COLOURS[2 * i + 1])],
            title=f"{label}: realized and estimated at each monitor run", y_label=label, x_label="time (UTC)",
            time_axis=True, hlines=[svg.HLine(float(golden), "golden set", svg.MARKER_COLOUR)] if golden else ()))
    drawn = "".join(f"<figure>{c}</figure>" for c in charts if c)
    return f"<h3>Performance</h3>{drawn or '<p>no performance figures yet</p>'}"


def _report_links(model: str, history: list[dict[str, Any]]) -> str:
    links = "".join(f'<li><a href="/reports/{quote(model)}/{quote(r["html_name"])}">{when(r["generated_at"])}</a>'
                    f' · {len(r.get("alerts") or [])} alert(s)</li>' for r in reversed(history[-10:]))
    return f"<h3>Reports</h3><ul>{links}</ul>"


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _short(iso: str) -> str:
    """A column heading (plain text): month-day hour:minute in UTC."""
    return iso[5:16].replace("T", " ") + " UTC"
