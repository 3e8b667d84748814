"""Sign-in, an action's confirmation, its outcome, and errors: pages that work without script
(ui.js opens confirmations in a dialog and posts them without leaving the page)."""

from __future__ import annotations

from html import escape

from champion.ui.actions import Preview
from champion.ui.html.layout import Viewer, code, csrf_field, page


def signin_page(project: str, models: list[str], viewer: Viewer, message: str | None = None) -> str:
    said = f'<p class="bad" role="alert">{escape(message)}</p>' if message else ""
    body = f"""{said}<form method="post" action="/signin" class="stack">{csrf_field(viewer)}
<label for="name">your name (history records actions as <code>ui:NAME</code>)</label>
<input id="name" name="name" required maxlength="64" autocomplete="username">
<label for="key">admin key</label>
<input id="key" name="key" type="password" required autocomplete="current-password">
<button type="submit">sign in</button></form>"""
    return page("Sign in", project, models, viewer, body)


def confirm_fragment(preview: Preview, viewer: Viewer) -> str:
    """The confirmation: what will happen, a reason, confirm (or why it cannot be done)."""
    hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in preview.fields.items())
    if not preview.possible:
        return f'<div class="confirm"><h2>{escape(preview.title)}</h2><p>{code(preview.effect)}</p><a href="/">back</a></div>'
    return f"""<div class="confirm"><h2 id="confirm-title">{escape(preview.title)}</h2><p>{code(preview.effect)}</p>
<form method="post" action="/actions/{escape(preview.kind)}" class="stack" data-action>{csrf_field(viewer)}{hidden}
<label for="reason">why (written in the history with your name)</label>
<input id="reason" name="reason" required maxlength="500">
<div><button type="submit">{escape(preview.title)}</button> <a href="/" data-cancel>cancel</a></div></form></div>"""


def confirm_page(preview: Preview, project: str, models: list[str], viewer: Viewer) -> str:
    return page("Confirm", project, models, viewer, confirm_fragment(preview, viewer))


def message_page(title: str, message: str, project: str, models: list[str], viewer: Viewer, bad: bool = False) -> str:
    role = ' role="alert"' if bad else ""
    return page(title, project, models, viewer,
                f'<p class="{"bad" if bad else "done"}"{role}>{code(message)}</p><p><a href="/">back to the overview</a></p>')
