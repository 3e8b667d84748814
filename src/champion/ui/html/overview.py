"""The overview page: every model x environment at a glance, updated in place every few seconds
(`/static/ui.js` swaps in a fresh fragment)."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote

from champion.ui.html.layout import Viewer, action_link, code, number, page, state, when

REFRESH_SECONDS = 5


def overview_page(document: dict[str, Any], viewer: Viewer) -> str:
    body = (f'<div id="overview" data-fragment="/fragments/overview" data-every="{REFRESH_SECONDS}">'
            f"{overview_fragment(document, viewer)}</div>")
    return page("Overview", document["project"], [m["model"] for m in document["models"]], viewer, body, "/")


def overview_fragment(document: dict[str, Any], viewer: Viewer) -> str:
    """The part of the overview that updates in place."""
    parts = [_model_section(model, viewer) for model in document["models"]]
    if not parts:
        parts.append('<p class="next">no model in champion.toml: add one under <code>[models.NAME]</code></p>')
    parts.append(_agent_section(document["agent"]))
    parts.append(f'<p class="quiet">as of {when(document["generated_at"])}</p>')
    return "\n".join(parts)


def _model_section(model: dict[str, Any], viewer: Viewer) -> str:
    name = model["model"]
    verdict = model["last_verdict"]
    gate = (f'last registered: version {verdict["version"]} ({escape(str(verdict["verdict"] or "not judged"))}, '
            f'{when(verdict["registered_at"])})' if verdict else "nothing registered yet")
    rows = "".join(_environment_row(name, row, model["version_numbers"], viewer) for row in model["environments"])
    next_step = f'<p class="next">{code(model["next"])}</p>' if model["next"] else ""
    retrain = action_link(viewer, "retrain", "retrain now…", model=name)
    alerts = _alerts(model)
    return f"""<section aria-labelledby="model-{escape(name)}"><h2 id="model-{escape(name)}">
<a href="/models/{quote(name)}">{escape(name)}</a></h2>
<p>{model["versions"]} version(s); champion: {escape(str(model["champion"] or "none"))}; {gate} {retrain}</p>
{next_step}{alerts}
<table><caption>{escape(name)} by environment</caption>
<thead><tr><th scope="col">environment</th><th scope="col">alias points at</th><th scope="col">served</th>
<th scope="col">health</th><th scope="col">traffic, last 5 min</th><th scope="col">last 24 h</th>
<th scope="col">drift and performance</th></tr></thead>
<tbody>{rows}</tbody></table></section>"""


def _alerts(model: dict[str, Any]) -> str:
    open_alerts = [a for a in model.get("alerts", []) if not a.get("acknowledged")]
    if not open_alerts:
        return ""
    items = "".join(f'<li><strong>{escape(a["environment"])}</strong>: {escape(a["kind"])}: {escape(a["message"])}</li>'
                    for a in open_alerts)
    link = f'/models/{quote(model["model"])}/monitoring'
    return f'<div class="alerts" role="note"><p>{len(open_alerts)} open alert(s) (<a href="{link}">monitoring</a>)</p><ul>{items}</ul></div>'


def _environment_row(model: str, row: dict[str, Any], versions: list[int], viewer: Viewer) -> str:
    served = row["endpoints"]
    environment = row["environment"]
    if not served:
        served_cell, health = "-", f'<span class="next">{code(row["next"])}</span>'
    else:
        served_cell = ", ".join(f'v{escape(str(e["version"]))} on {escape(e["machine"])}'
                                + (f' ({e["workers"]} workers)' if e.get("workers", 1) > 1 else "") for e in served)
        health = "".join(state(e["state"]) + "".join(f"<br><small>{escape(n)}</small>" for n in e["notes"])
                         for e in served)
    alias = f'{escape(row["alias"])} → v{escape(str(row["alias_version"]))}' if row["alias_version"] else "unset"
    actions = _deploy_form(model, environment, versions, row["alias_version"], viewer)
    if row["alias_version"] is not None:
        actions += " " + action_link(viewer, "rollback", "rollback…", model=model, environment=environment)
    traffic = row.get("traffic") or {}
    return (f'<tr><th scope="row">{escape(environment)}</th>'
            f'<td data-label="alias points at">{alias}{actions}</td>'
            f'<td data-label="served">{served_cell}</td><td data-label="health">{health}</td>'
            f'<td data-label="traffic, last 5 min">{_traffic(traffic.get("last_5_min"))}</td>'
            f'<td data-label="last 24 h">{_traffic(traffic.get("last_24_h"))}</td>'
            f'<td data-label="drift and performance">{_monitor(row.get("monitor"))}</td></tr>')


def _deploy_form(model: str, environment: str, versions: list[int], current: int | None, viewer: Viewer) -> str:
    choices = [v for v in sorted(versions, reverse=True) if v != current]
    if not viewer.can_act or not choices:
        return ""
    options = "".join(f'<option value="{v}">v{v}</option>' for v in choices)
    label = f"deploy-{model}-{environment}"
    return (f'<form class="inline" method="get" action="/actions/deploy" data-confirm>'
            f'<input type="hidden" name="model" value="{escape(model)}">'
            f'<input type="hidden" name="environment" value="{escape(environment)}">'
            f'<label for="{escape(label)}" class="quiet">version</label> '
            f'<select id="{escape(label)}" name="version">{options}</select> '
            f'<button type="submit">deploy…</button></form>')


def _traffic(figures: dict[str, Any] | None) -> str:
    if not figures or not figures.get("requests"):
        return '<span class="quiet">no requests</span>'
    errors, rejected = figures.get("error_rate") or 0.0, figures.get("rejected_rate") or 0.0
    latency = (f'p50 {number(figures["p50_ms"])} ms · p99 {number(figures["p99_ms"])} ms'
               if figures.get("p50_ms") is not None else "no scored request")
    refused = f" · {rejected * 100:.2g}% rejected" if rejected else ""
    return (f'{number(figures["requests_per_second"])} req/s <small>({figures["requests"]:,} requests)</small>'
            f'<br><small>{latency} · '
            f'<span class="{"bad" if errors else ""}">{errors * 100:.2g}% errors</span>{refused}</small>')


def _monitor(monitor: dict[str, Any] | None) -> str:
    if not monitor:
        return '<span class="quiet">not monitored yet</span>'
    drift = "drift" if monitor.get("drift_detected") else "no drift"
    performance = monitor.get("performance") or ""
    return f'{escape(drift)}<br><small>{escape(performance)} · {when(monitor.get("generated_at"))}</small>'


def _agent_section(agent: dict[str, Any]) -> str:
    if agent["running"]:
        status = f'running (pid {escape(str(agent["pid"]))}, since {when(agent.get("started_at"))})'
    else:
        status = 'not running: <code>champion agent</code> retrains on schedule, new data and alerts'
    jobs = "".join(f'<li>{escape(str(j.get("model")))}: {escape(str(j.get("reason") or ""))} '
                   f'- {escape(str(j.get("status")))}</li>' for j in agent["jobs"])
    listed = f"<ul>{jobs}</ul>" if jobs else "<p>no job yet</p>"
    return (f'<section aria-labelledby="agent"><h2 id="agent"><a href="/agent">agent</a></h2>'
            f"<p>{status}</p>{listed}</section>")
