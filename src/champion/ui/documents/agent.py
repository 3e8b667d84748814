"""The agent page's document: whether the agent runs, its queue, the running job with the tail
of its log, and past jobs with their verdicts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from champion.pipelines.status import agent_status
from champion.state.jobs import JobStore
from champion.workspace import Workspace

PAST_JOBS = 30
TAIL_BYTES = 8_000
"""How much of the end of a running job's log the page shows (it follows it live)."""


def agent_page(ws: Workspace) -> dict[str, Any]:
    presence = agent_status(ws, limit=0)
    store = JobStore(ws.state)
    queued = [job.as_dict() for job in store.jobs("queued")]
    running = [{**job.as_dict(), "log_tail": log_tail(job.log_path)} for job in store.jobs("running")]
    past = [job.as_dict() for job in store.recent(PAST_JOBS) if job.status not in ("queued", "running")]
    return {"project": ws.project.config.project.name, "models": list(ws.project.config.models),
            "running": presence["running"], "pid": presence["pid"], "started_at": presence["started_at"],
            "queued": queued, "jobs_running": running, "past": past,
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds")}


def log_tail(path: str | None, size: int = TAIL_BYTES) -> str | None:
    """The last `size` bytes of a job's log, from a whole line on (None: no log on this machine)."""
    if not path:
        return None
    try:
        with open(Path(path), "rb") as log:
            log.seek(0, 2)
            end = log.tell()
            log.seek(max(0, end - size))
            data = log.read()
    except OSError:
        return None
    if end > size and b"\n" in data:
        data = data.split(b"\n", 1)[1]
    return data.decode("utf-8", errors="replace")
