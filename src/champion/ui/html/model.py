"""The model page: why each version was promoted or rejected, where each alias has been, and
charts of the golden-set metrics per version and of production over time."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from champion.monitoring import svg
from champion.ui.html.layout import Viewer, action_link, code, number, page, table, when


def model_page(document: dict[str, Any], models: list[str], viewer: Viewer) -> str:
    model = document["model"]
    champion = (f'<p>champion: {escape(str(document["champion"] or "none"))} · '
                f'{action_link(viewer, "retrain", "retrain now…", model=model)}</p>')
    parts = [champion,
             _timeline(document, viewer), _golden_chart(document), _production(document), _runs(document, viewer)]
    return page(model, document["project"], models, viewer, "\n".join(parts), f"/models/{model}")


def _timeline(document: dict[str, Any], viewer: Viewer) -> str:
    sections = []
    for entry in document["timeline"]:
        rows = [[when(m["at"]), _v(m["from_version"]) + " → " + _v(m["to_version"]), escape(m["actor"]),
                 escape(m["reason"])] for m in entry["moves"]]
        heading = (f'<h3>{escape(entry["environment"])} (alias {escape(entry["alias"])}, now '
                   f'{_v(entry["version"])})</h3>')
        sections.append(heading + (table(f"moves of the {entry['alias']} alias, newest first",
                                         ["when", "move", "who", "why"], rows)
                                   if rows else '<p class="quiet">never deployed</p>'))
    champion = [[when(m["at"]), _v(m["from_version"]) + " → " + _v(m["to_version"]), escape(m["actor"]),
                 escape(m["reason"])] for m in document["champion_moves"]]
    if champion:
        sections.append("<h3>champion</h3>" + table("moves of the champion alias, newest first",
                                                    ["when", "move", "who", "why"], champion))
    return '<section aria-labelledby="timeline"><h2 id="timeline">Alias timeline</h2>' + "".join(sections) + "</section>"


def _golden_chart(document: dict[str, Any]) -> str:
    golden = document["golden"]
    if not golden:
        return ('<section aria-labelledby="golden"><h2 id="golden">Golden-set metrics per version</h2>'
                f'<p class="next">{code("no version yet: `champion build " + document["model"] + "`")}</p></section>')
    names = [name for name in golden[-1]["metrics"] if all(name in g["metrics"] for g in golden)]
    xs = [float(g["version"]) for g in golden]
    primary = document["primary"] if document["primary"] in names else (names[0] if names else None)
    chart = svg.line_chart(xs, [svg.Series(primary, [g["metrics"][primary] for g in golden], svg.LINE_COLOURS[0])],
                           title=f"{primary} on the golden set, per registered version (the gate's metric)",
                           y_label=primary, x_label="version", time_axis=False) if primary else None
    rows = [[f"v{g['version']}", *[number(g["metrics"].get(n), 4) for n in names]] for g in golden]
    return ('<section aria-labelledby="golden"><h2 id="golden">Golden-set metrics per version</h2>'
            + (f"<figure>{chart}</figure>" if chart else "")
            + table("golden-set metrics per version", ["version", *names], rows) + "</section>")


def _production(document: dict[str, Any]) -> str:
    production = document["production"]
    environment = production["environment"]
    markers = [svg.Marker(_epoch(m["at"]), f"v{m['to_version']}") for m in production["changes"]
               if m["to_version"] is not None]
    charts = []
    traffic = production["traffic"]
    if any(p["requests"] for p in traffic):
        # From just before the first traffic of the day: a new endpoint's hour is not squeezed
        # into the right edge of an empty day.
        first = next(i for i, p in enumerate(traffic) if p["requests"])
        traffic = traffic[max(0, first - 1):]
        xs = [float(p["at"]) for p in traffic]
        shown = [m for m in markers if xs[0] <= m.x <= xs[-1]]
        charts.append(svg.line_chart(
            xs, [svg.Series("requests", [float(p["requests"]) for p in traffic], svg.LINE_COLOURS[0]),
                 svg.Series("errors and rejected", [float(p["errors"] + p["rejected"]) for p in traffic],
                            svg.LINE_COLOURS[1], dash="6 3")],
            title=f"{environment}: requests per 5 minutes (last 24 h)", y_label="requests / 5 min",
            x_label="time (UTC)",
            time_axis=True, markers=shown))
        charts.append(svg.line_chart(
            xs, [svg.Series("p50", [p.get("p50_ms") for p in traffic], svg.LINE_COLOURS[0]),
                 svg.Series("p99", [p.get("p99_ms") for p in traffic], svg.LINE_COLOURS[1], dash="6 3")],
            title=f"{environment}: latency of scored requests (last 24 h)", y_label="milliseconds", x_label="time (UTC)", time_axis=True,
            markers=shown))
    monitor = production["monitor"]
    if monitor:
        xs = [_epoch(p["at"]) for p in monitor]
        shown = [m for m in markers if xs[0] - 3600 <= m.x <= xs[-1]]
        metric_names = list(monitor[-1]["names"] or {})
        series = []
        for i, name in enumerate(metric_names[:2]):
            label = monitor[-1]["names"].get(name, name)
            estimated = [p["estimated"].get(name) or {} for p in monitor]
            series.append(svg.Series(f"{label}, estimated", [e.get("value") for e in estimated],
                                     svg.LINE_COLOURS[2 * i], dash="6 3", low=[e.get("low") for e in estimated],
                                     high=[e.get("high") for e in estimated], band_label=f"{label}, interval"))
            series.append(svg.Series(f"{label}, realized", [p["realized"].get(name) for p in monitor],
                                     svg.LINE_COLOURS[2 * i + 1]))
        charts.append(svg.line_chart(xs, series, title=f"{environment}: performance at each monitor run",
                                     y_label="score", x_label="time (UTC)", time_axis=True, markers=shown))
    drawn = "".join(f"<figure>{c}</figure>" for c in charts if c)
    if not drawn:
        hint = (f"no traffic or monitor run in {environment} yet: `champion up {environment}`, then "
                f"`champion monitor {document['model']}`")
        drawn = f'<p class="next">{code(hint)}</p>'
    return (f'<section aria-labelledby="production"><h2 id="production">{escape(environment)} over time</h2>'
            f'<p class="quiet">vertical markers: the served version changed</p>{drawn}</section>')


def _runs(document: dict[str, Any], viewer: Viewer) -> str:
    items = [_run(run, document["model"], document["timeline"], viewer) for run in document["runs"]]
    if not items:
        items = [f'<p class="next">{code("no run judged yet: `champion build " + document["model"] + "`")}</p>']
    return ('<section aria-labelledby="runs"><h2 id="runs">Versions and the gate\'s evidence</h2>'
            + "".join(items) + "</section>")


def _run(run: dict[str, Any], model: str, timeline: list[dict[str, Any]], viewer: Viewer) -> str:
    evidence = run["evidence"]
    name = f"version {run['version']}" if run["version"] is not None else "not registered"
    aliases = f' · {escape(", ".join(run["aliases"]))}' if run["aliases"] else ""
    reasons = "".join(f"<li>{escape(r)}</li>" for r in evidence["reasons"])
    metrics = sorted(set(evidence["challenger"]) | set(evidence["champion"]))
    rows = []
    for metric in metrics:
        interval = evidence["intervals"].get(metric)
        level = evidence["interval_level"].get(metric)
        shown = (f"[{number(interval[0], 3)}, {number(interval[1], 3)}]"
                 + (f" ({level * 100:.0f}%)" if level else "")) if interval else "-"
        role = " (primary)" if metric == evidence["primary"] else (
            f" (guardrail {evidence['guardrails'][metric]})" if metric in evidence["guardrails"] else "")
        rows.append([escape(metric + role), number(evidence["champion"].get(metric), 4),
                     number(evidence["challenger"].get(metric), 4), number(evidence["deltas"].get(metric), 3),
                     shown, number(evidence["p_values"].get(metric), 3)])
    against = (f"against version {evidence['champion_version']}" if evidence["champion_version"] is not None
               else "no champion to compare with")
    test = (f'test: {escape(str(evidence["test"]))}, alpha {escape(str(evidence["alpha"]))}; '
            f'{escape(str(evidence["golden_rows"]))} golden rows; {against}') if evidence["test"] else ""
    params = ", ".join(f"{escape(k)}={escape(v)}" for k, v in run["params"].items())
    link = (f' · <a href="{escape(run["mlflow_url"])}" rel="noreferrer">MLflow run</a>' if run["mlflow_url"]
            else f' · run <code>{escape(run["run_id"])}</code>')
    deploys = " ".join(action_link(viewer, "deploy", f"deploy to {t['environment']}…", model=model,
                                   environment=t["environment"], version=run["version"])
                       for t in timeline if run["version"] is not None and t["version"] != run["version"])
    return (f'<article class="run"><h3>{escape(name)}: {escape(run["verdict"] or "registered without the gate")}{aliases}</h3>'
            f'<p class="quiet">{when(run["started_at"])} by {escape(str(run["actor"] or "?"))} · recipe '
            f'{escape(str(run["recipe"]))}{link}</p><ul>{reasons}</ul><p class="quiet">{test}</p>'
            + (table(f"golden-set metrics of {name}", ["metric", "champion", "challenger", "change", "interval",
                                                        "p-value"], rows) if rows else "")
            + (f'<p class="quiet">parameters: {params}</p>' if params else "")
            + (f"<p>{deploys}</p>" if deploys else "") + "</article>")


def _v(version: int | None) -> str:
    return "none" if version is None else f"v{version}"


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()
