"""The frame every page shares (head, navigation, who is signed in) and small helpers.

Pages load one stylesheet and one script from `/static`; nothing inline (the CSP forbids it).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from champion import __version__


@dataclass(frozen=True)
class Viewer:
    """Who looks at the page: whether actions exist at all, who is signed in, the CSRF token."""

    read_only: bool
    name: str | None = None
    csrf: str | None = None

    @property
    def can_act(self) -> bool:
        return not self.read_only and self.name is not None


def page(title: str, project: str, models: list[str], viewer: Viewer, body: str, current: str = "") -> str:
    """A whole page: `body` inside the shared frame."""
    links = [("/", "overview"), *[(f"/models/{quote(m)}", m) for m in models],
             *[(f"/models/{quote(m)}/monitoring", f"{m} monitoring") for m in models], ("/agent", "agent")]
    here = ' aria-current="page"'
    nav = "".join(f'<li><a href="{href}"{here if href == current else ""}>{escape(text)}</a></li>'
                  for href, text in links)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · {escape(project)} · champion</title><link rel="stylesheet" href="/static/ui.css">
<script src="/static/ui.js" defer></script></head>
<body><a class="skip" href="#main">skip to the content</a>
<header><p class="project"><a href="/">{escape(project)}</a></p><nav aria-label="pages"><ul>{nav}</ul></nav>
{_who(viewer)}</header>
<main id="main"><h1>{escape(title)}</h1>
<div id="said" role="status" aria-live="polite"></div>
{body}
</main><footer class="quiet">champion {escape(__version__)}</footer></body></html>"""


def _who(viewer: Viewer) -> str:
    if viewer.read_only:
        return ('<p class="who quiet" title="start champion ui with CHAMPION_ADMIN_KEY set to act">read-only</p>')
    if viewer.name is None:
        return '<p class="who"><a href="/signin">sign in to act</a></p>'
    return (f'<form class="who" method="post" action="/signout">{csrf_field(viewer)}'
            f'<span>signed in as {escape(viewer.name)}</span> <button type="submit">sign out</button></form>')


def csrf_field(viewer: Viewer) -> str:
    return f'<input type="hidden" name="csrf" value="{escape(viewer.csrf or "")}">'


def action_link(viewer: Viewer, action: str, label: str, **fields: Any) -> str:
    """A link to an action's confirmation (none when the viewer cannot act)."""
    if not viewer.can_act:
        return ""
    return f'<a class="action" data-confirm href="/actions/{action}?{escape(urlencode(fields))}">{escape(label)}</a>'


def code(text: str) -> str:
    """`backquoted` parts of a sentence as code."""
    pieces = escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(pieces))


def when(iso: str | None) -> str:
    """A time the browser shows in the viewer's zone (ui.js); UTC until it does."""
    if not iso:
        return "-"
    return f'<time datetime="{escape(iso)}">{escape(iso.replace("T", " ").replace("+00:00", " UTC"))}</time>'


def state(text: str) -> str:
    return f'<span class="state {escape(text.lower())}">{escape(text)}</span>'


def number(value: float | None, digits: int = 3, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}g}{unit}" if abs(value) < 1000 else f"{value:,.0f}{unit}"


def table(caption: str, headings: list[str], rows: list[list[str]], first_is_heading: bool = True) -> str:
    """A table whose cells carry their heading (shown as a label on narrow screens)."""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headings)
    body = []
    for row in rows:
        cells = []
        for i, (heading, cell) in enumerate(zip(headings, row, strict=True)):
            if i == 0 and first_is_heading:
                cells.append(f'<th scope="row">{cell}</th>')
            else:
                cells.append(f'<td data-label="{escape(heading)}">{cell}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')
