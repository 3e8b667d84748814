"""`champion agent`: run the project's triggers until stopped. The loop is in
`champion.triggers.agent`; this module parses options, handles signals and prints events."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.markup import escape

from champion.cli import render
from champion.cli.app import app
from champion.cli.errors import EXIT_CHECK_FAILED, Exit, handled
from champion.cli.options import ProjectOpt, log_dir

EVENT_STYLE = {"job_finished": "bold", "monitor_failed": "red", "file_error": "red", "stopped": "bold",
               "started": "bold"}
STATUS_STYLE = {"succeeded": "green", "rejected": "yellow", "failed": "red", "cancelled": "yellow"}


@app.command()
def agent(
    project: ProjectOpt = Path("."),
    once: Annotated[bool, typer.Option("--once",
                                       help="Run the triggers due now, wait for their jobs, exit.")] = False,
    monitor: Annotated[bool, typer.Option("--monitor", help="With --once: run the monitor checks too.")] = False,
    poll_seconds: Annotated[float, typer.Option("--poll-seconds", min=0.1,
                                                help="How often triggers are looked at.")] = 5.0,
    grace_seconds: Annotated[float, typer.Option("--grace-seconds", min=0,
                                                 help="On SIGTERM/Ctrl-C: how long running jobs may "
                                                      "finish before they are cancelled.")] = 300.0,
    max_jobs: Annotated[int, typer.Option("--max-jobs", min=1,
                                          help="Jobs running at once over all models (one per model).")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per event (JSON lines).")] = False,
) -> None:
    """Retrain on triggers until stopped: each model's cron schedule, new files in its
    incoming folder (validate, ingest, retrain) and monitor alerts that ask for it.

    Each retraining runs as its own `champion retrain` process at a lower CPU priority, one at
    a time per model; triggers for a model already queued merge into its queued job. A failed
    job is recorded (`champion status`) and the agent goes on. SIGTERM or Ctrl-C: running
    jobs get --grace-seconds to finish, then are cancelled and queued again; a second Ctrl-C
    cancels at once. One agent per project: a second one exits with 2. With --once it exits
    4 when a job failed.

    Start the endpoints first (`champion up`): an endpoint that a releasing job has to start
    inherits the job's lower priority.
    """
    with handled(as_json, lambda: log_dir(project)):
        from champion.project import Project
        from champion.triggers.agent import Agent, AgentEvent, AgentOptions

        def show(event: AgentEvent) -> None:
            if as_json:
                print(json.dumps(event.as_dict(), default=str), flush=True)
                return
            style = STATUS_STYLE.get((event.job or {}).get("status", ""), "") if event.event == "job_finished" \
                else EVENT_STYLE.get(event.event, "")
            line = escape(event.message)
            styled = f"[{style}]{line}[/]" if style else line
            render.console.print(f"[dim]{event.at.astimezone():%H:%M:%S}[/] {styled}")

        options = AgentOptions(poll_seconds=poll_seconds, grace_seconds=grace_seconds, max_running=max_jobs)
        runner = Agent(Project.open(project), options, show)
        runner.start()

        def stop(signum: int, _frame: FrameType | None) -> None:
            again = runner.stopping
            runner.request_stop(now=again)
            if not as_json:
                render.err_console.print(f"{signal.Signals(signum).name}: " + (
                    "cancelling running jobs now" if again else
                    f"stopping (running jobs get up to {grace_seconds:g} s; again to cancel now)"))

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if once:
            finished = runner.run_once(monitor=monitor)
            if any(job.status == "failed" for job in finished):
                raise Exit(EXIT_CHECK_FAILED)
        else:
            runner.run()
