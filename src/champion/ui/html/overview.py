"""The pages, rendered on the server from the overview document. Every value is escaped;
the page's only script is `/static/ui.js` (it swaps in a fresh fragment every few seconds)."""

from __future__ import annotations

from html import escape
from typing import Any

from champion import __version__

REFRESH_SECONDS = 5


def overview_page(document: dict[str, Any]) -> str:
    project = escape(document["project"])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{project} · champion</title><link rel="stylesheet" href="/static/ui.css">
<script src="/static/ui.js" defer></script></head>
<body><header><h1>{project}</h1><p class="quiet">champion {escape(__version__)} · read-only</p></header>
<main id="overview" data-fragment="/fragments/overview" data-every="{REFRESH_SECONDS}">
{overview_fragment(document)}
</main></body></html>"""


def overview_fragment(document: dict[str, Any]) -> str:
    """The part of the overview that updates in place."""
    parts = [_model_section(model) for model in document["models"]]
    if not parts:
        parts.append('<p class="next">no model in champion.toml: add one under <code>[models.NAME]</code></p>')
    parts.append(_agent_section(document["agent"]))
    parts.append(f'<p class="quiet">as of <time datetime="{escape(document["generated_at"])}">'
                 f'{escape(document["generated_at"])}</time></p>')
    return "\n".join(parts)


def _model_section(model: dict[str, Any]) -> str:
    name = escape(model["model"])
    verdict = model["last_verdict"]
    gate = (f'last registered: version {verdict["version"]} ({escape(str(verdict["verdict"] or "not judged"))})'
            if verdict else "nothing registered yet")
    rows = "".join(_environment_row(row) for row in model["environments"])
    next_step = f'<p class="next">{_code(model["next"])}</p>' if model["next"] else ""
    return f"""<section aria-labelledby="model-{name}"><h2 id="model-{name}">{name}</h2>
<p>{model["versions"]} version(s); champion: {escape(str(model["champion"] or "none"))}; {gate}</p>{next_step}
<table><caption>{name} by environment</caption>
<thead><tr><th scope="col">environment</th><th scope="col">alias points at</th><th scope="col">served</th>
<th scope="col">health</th></tr></thead><tbody>{rows}</tbody></table></section>"""


def _environment_row(row: dict[str, Any]) -> str:
    served = row["endpoints"]
    if not served:
        cells = f'<td data-label="served">-</td><td data-label="health" class="next">{_code(row["next"])}</td>'
    else:
        versions = ", ".join(f'v{escape(str(e["version"]))} on {escape(e["machine"])}' for e in served)
        states = "".join(f'<span class="state {escape(e["state"].lower())}">{escape(e["state"])}</span>'
                         + "".join(f'<br><small>{escape(note)}</small>' for note in e["notes"]) for e in served)
        cells = f'<td data-label="served">{versions}</td><td data-label="health">{states}</td>'
    alias = f'{escape(row["alias"])} → {escape(str(row["alias_version"]))}' if row["alias_version"] else "unset"
    return (f'<tr><th scope="row">{escape(row["environment"])}</th>'
            f'<td data-label="alias points at">{alias}</td>{cells}</tr>')


def _agent_section(agent: dict[str, Any]) -> str:
    if agent["running"]:
        state = f'running (pid {escape(str(agent["pid"]))}, since {escape(str(agent["started_at"]))})'
    else:
        state = 'not running: <code>champion agent</code> retrains on schedule, new data and alerts'
    jobs = "".join(f'<li>{escape(str(j.get("model")))}: {escape(str(j.get("reason") or ""))} '
                   f'- {escape(str(j.get("status")))}</li>' for j in agent["jobs"])
    listed = f"<ul>{jobs}</ul>" if jobs else "<p>no job yet</p>"
    return f'<section aria-labelledby="agent"><h2 id="agent">agent</h2><p>{state}</p>{listed}</section>'


def _code(text: str) -> str:
    """`backquoted` parts of a sentence as code."""
    pieces = escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(pieces))
