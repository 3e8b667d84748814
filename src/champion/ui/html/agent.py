"""The agent page: its state, the queue, the running job with its log (followed live), and past
jobs with their verdicts."""

from __future__ import annotations

from html import escape
from typing import Any

from champion.ui.html.layout import Viewer, action_link, page, table, when

REFRESH_SECONDS = 3


def agent_page(document: dict[str, Any], viewer: Viewer) -> str:
    body = (f'<div id="agent-live" data-fragment="/fragments/agent" data-every="{REFRESH_SECONDS}">'
            f"{agent_fragment(document, viewer)}</div>")
    return page("Agent", document["project"], document["models"], viewer, body, "/agent")


def agent_fragment(document: dict[str, Any], viewer: Viewer) -> str:
    if document["running"]:
        state = f'<p>running (pid {escape(str(document["pid"]))}, since {when(document["started_at"])})</p>'
    else:
        state = ('<p class="next">not running: <code>champion agent</code> retrains on schedule, on new data and on '
                 'alerts; jobs queued here wait for it</p>')
    retrain = " ".join(action_link(viewer, "retrain", f"retrain {m} now…", model=m) for m in document["models"])
    parts = [state, f"<p>{retrain}</p>" if retrain else ""]
    parts.append("<h2>Running</h2>")
    if not document["jobs_running"]:
        parts.append("<p>nothing running</p>")
    for job in document["jobs_running"]:
        tail = job["log_tail"]
        parts.append(f'<h3>{escape(job["model"])}: {escape(job["reason"])}</h3><p class="quiet">started '
                     f'{when(job["started_at"])} · pid {escape(str(job["pid"]))}</p>'
                     + (f'<pre class="log" tabindex="0" aria-label="log of job {escape(job["id"])}">{escape(tail)}</pre>'
                        if tail is not None else '<p class="quiet">its log is on the agent\'s machine</p>'))
    parts.append("<h2>Queue</h2>")
    queued = [[escape(j["model"]), escape(", ".join(j["triggers"])), escape(j["reason"]), when(j["created_at"])]
              for j in document["queued"]]
    parts.append(table("queued jobs, oldest first", ["model", "triggers", "why", "queued"], queued, False)
                 if queued else "<p>empty</p>")
    parts.append("<h2>Past jobs</h2>")
    past = [[escape(j["model"]), _outcome(j), escape(", ".join(j["triggers"])), escape(j["reason"]),
             when(j["finished_at"])] for j in document["past"]]
    parts.append(table("past jobs, newest first", ["model", "outcome", "triggers", "why", "finished"], past, False)
                 if past else "<p>none yet</p>")
    parts.append(f'<p class="quiet">as of {when(document["generated_at"])}</p>')
    return "".join(parts)


def _outcome(job: dict[str, Any]) -> str:
    summary = job.get("summary") or {}
    verdict = summary.get("verdict")
    version = f" v{summary['version']}" if summary.get("version") is not None else ""
    released = f" · {escape(str(summary['release_message']))}" if summary.get("release_message") else ""
    error = f" · {escape(str(summary['error']))}" if summary.get("error") else ""
    return f'{escape(job["status"])}{" · " + escape(str(verdict)) + version if verdict else ""}{released}{error}'
