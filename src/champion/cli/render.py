"""Human output: progress on stderr, summaries as Rich tables on stdout."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.status import Status
from rich.table import Table

from champion.cli.errors import err_console
from champion.state.store import AliasMove

# Piped output (CI logs, files) would get Rich's 80 columns and truncated tables.
console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)
VERDICT_STYLE = {"FIRST_MODEL": "bold green", "PROMOTE": "bold green", "REJECT": "bold yellow"}


class RichProgress:
    """Each step shows a spinner while it runs and a line with its duration when done.

    A step's notes (`note`, e.g. a recipe's search reporting its candidates) replace the text
    next to its spinner, and the last one is kept on the done line; when stderr is not a
    terminal (CI logs), where a spinner shows nothing, notes are printed at most every
    `NOTE_SECONDS`.
    """

    NOTE_SECONDS = 10.0

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self._status: Status | None = None
        self._description = ""
        self._last_note = ""
        self._printed_at = 0.0

    @contextmanager
    def step(self, description: str) -> Iterator[None]:
        if self.quiet:
            yield
            return
        start = time.perf_counter()
        self._description, self._last_note, self._printed_at = description, "", start
        with err_console.status(escape(description) + " ...") as status:
            self._status = status
            try:
                yield
            finally:
                self._status = None
        took = f"({time.perf_counter() - start:.1f} s)"
        if self._last_note:
            took += f": {escape(self._last_note)}"
        err_console.print(f"[green]✓[/] {escape(description)} [dim]{took}[/]")

    def note(self, message: str) -> None:
        if self.quiet or self._status is None:
            return
        self._last_note = message
        self._status.update(f"{escape(self._description)} ... [dim]{escape(message)}[/]")
        now = time.perf_counter()
        if not err_console.is_terminal and now - self._printed_at >= self.NOTE_SECONDS:
            self._printed_at = now
            err_console.print(f"  [dim]{escape(self._description)}: {escape(message)}[/]")


def print_json(document: Any) -> None:
    print(json.dumps(document, indent=2, default=str))


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1e4 else f"{value:,.1f}"
    return str(value)


def metrics_table(challenger: dict[str, float], champion: dict[str, float] | None,
                  champion_label: str = "champion") -> Table:
    table = Table(show_edge=False, header_style="bold")
    table.add_column("metric")
    if champion is not None:
        table.add_column(champion_label, justify="right")
    table.add_column("challenger", justify="right")
    if champion is not None:
        table.add_column("delta", justify="right")
    for name, value in challenger.items():
        if champion is None:
            table.add_row(name, fmt(value))
        else:
            old = champion.get(name)
            delta = value - old if old is not None else None
            table.add_row(name, fmt(old), fmt(value), f"{delta:+.4f}" if delta is not None else "-")
    return table


SHOWN_DUPLICATES = 5
"""Duplicate rows listed on the terminal; --json and metric.json have more."""


def data_summary(data: dict[str, Any] | None) -> None:
    """One line: the rows a model was built from, and the duplicate rows skipped (first few)."""
    if not data:
        return
    files = data["files"] if isinstance(data["files"], int) else len(data["files"])
    line = f"data: {data['rows']:,} rows from {files} file{'s' if files != 1 else ''}"
    dropped = int(data.get("duplicates_dropped") or 0)
    if dropped:
        counts = sorted((data.get("duplicates_by_file") or {}).items(), key=lambda item: -item[1])
        by_file = ", ".join(f"{_base(name)} {count:,}" for name, count in counts[:3])
        by_file += ", ..." if len(counts) > 3 else ""
        first = (data.get("duplicates") or [None])[0]
        line += (f"; {dropped:,} duplicate row{'s' if dropped != 1 else ''} skipped, an earlier row having the same "
                 f"identity ({by_file})" + (f", the first: {_skipped_row(first)}" if first else ""))
    console.print(escape(line))


def _skipped_row(d: dict[str, Any]) -> str:
    line = f" (line {d['line']})" if d.get("line") is not None else ""
    first = d["first_seen"]
    where = f"its row {first['row']}" if first["file"] == d["file"] else f"{_base(first['file'])} row {first['row']}"
    return f"{_base(d['file'])} row {d['row']}{line} repeats {where}"


def _base(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def ingest_summary(report: dict[str, Any]) -> None:
    """Each file's outcome with the duplicate rows skipped (counts, then the first few)."""
    for f in report["files"]:
        dupes = f["duplicate_rows"]
        count = f" ({len(dupes):,} duplicate row{'s' if len(dupes) != 1 else ''} skipped: the identity is " \
                "already in the dataset or earlier in the file)" if dupes else ""
        console.print(escape(f"{f['status']}: {f['file']}, {f['rows']:,} rows{count}"))
        for d in dupes[:SHOWN_DUPLICATES]:
            line = f" (line {d['line']})" if d.get("line") is not None else ""
            identity = str(d["identity"]).replace("\x1f", " | ")
            first = d["first_seen"]
            console.print(escape(f"  skipped row {d['row']}{line}: identity {identity}, first seen in {first}"))
        if len(dupes) > SHOWN_DUPLICATES:
            console.print(f"  ... and {len(dupes) - SHOWN_DUPLICATES:,} more (--json lists them all)")
    console.print(f"dataset of {report['model']}: {report['rows_before']:,} -> {report['rows_after']:,} rows")


def evaluation_summary(document: dict[str, Any]) -> None:
    data_summary(document.get("data"))
    verdict = document["verdict"]
    champion = document.get("champion")
    label = f"champion v{champion['version']}" if champion else "champion"
    console.print(metrics_table(document["challenger"]["metrics"], champion["metrics"] if champion else None, label))
    console.print()
    console.print(f"verdict: [{VERDICT_STYLE.get(verdict, 'bold')}]{verdict}[/]")
    for reason in document["reasons"]:
        console.print(f"  - {escape(reason)}")
    if document.get("version") is not None:
        console.print(f"registered as [bold]{document['model']}[/] version {document['version']}; "
                      f"alias [bold]champion[/] -> v{document['version']}")
    elif verdict == "REJECT":
        console.print("not registered: the champion stays as it is")


def history_table(moves: list[AliasMove]) -> Table:
    table = Table(show_edge=False, header_style="bold")
    for column in ("when (UTC)", "alias", "from", "to", "who", "why"):
        table.add_column(column)
    for m in moves:
        table.add_row(m.at.strftime("%Y-%m-%d %H:%M:%S"), m.alias, fmt(m.from_version), fmt(m.to_version),
                      escape(m.actor), escape(m.reason))
    return table


def status_tables(document: dict[str, Any]) -> None:
    for model in document["models"]:
        console.print(f"[bold]{model['model']}[/]: {model['versions']} version(s), "
                      f"{len(model['ingested_files'])} ingested file(s); the next build trains "
                      f"{escape(str(model['recipe']))}")
        for environment, rows in (model.get("log_dropped") or {}).items():
            console.print(f"  [yellow]prediction log of {escape(environment)}: {rows:,} row{'s' if rows != 1 else ''} "
                          "dropped, never logged[/] (a full queue, a failed write or a killed worker; see the "
                          "endpoint's log)")
        _leftovers(model.get("leftovers") or {})
        if not model["aliases"]:
            console.print("  no aliases yet: run `champion build` to train the first champion")
            continue
        names = sorted({k for a in model["aliases"].values() for k in a["metrics"]})
        table = Table(show_edge=False, header_style="bold")
        table.add_column("alias")
        table.add_column("version", justify="right")
        table.add_column("recipe")
        for name in names:
            table.add_column(name, justify="right")
        for alias, info in model["aliases"].items():
            table.add_row(alias, str(info["version"]), escape(str(info.get("recipe") or "-")),
                          *(fmt(info["metrics"].get(n)) for n in names))
        console.print(table)
    agent = document.get("agent")
    if agent is not None:
        agent_table(agent)


def _leftovers(found: dict[str, Any]) -> None:
    moves, runs, orphans = (found.get(k) or [] for k in ("interrupted_moves", "dead_runs", "orphan_versions"))
    for move in moves:
        console.print(f"  [yellow]an interrupted command moved {escape(move['alias'])} from {fmt(move['from_version'])} "
                      f"to {fmt(move['to_version'])} ({escape(move['reason'])}) without its history row[/]")
    if runs:
        console.print(f"  [yellow]{len(runs)} run(s) marked RUNNING whose process is gone[/]: {', '.join(runs)}")
    if orphans:
        console.print(f"  [yellow]version(s) {', '.join(map(str, orphans))} registered by a build that stopped "
                      "before they became champion[/]")
    if moves or runs or orphans:
        console.print("  `champion gc` tidies these up (every build does it too); `--delete-orphans` removes orphan versions")


def tidy_summary(documents: list[dict[str, Any]]) -> None:
    """`champion gc`: what was settled, marked or deleted, per model."""
    for found in documents:
        done = []
        done += [f"recorded the move of {m['alias']} to version {m['to_version']} in the history"
                 for m in found["settled_moves"]]
        done += [f"marked run {r} KILLED" for r in found["dead_runs"]]
        deleted = set(found["deleted_versions"])
        done += [f"deleted orphan version {v}" if v in deleted else f"tagged version {v} champion.orphan"
                 for v in found["orphan_versions"]]
        console.print(f"[bold]{escape(found['model'])}[/]: " + ("; ".join(escape(d) for d in done) or "nothing to tidy"))


JOB_STYLE = {"succeeded": "green", "rejected": "yellow", "failed": "red", "cancelled": "yellow",
             "running": "bold cyan", "queued": "cyan"}


def agent_table(agent: dict[str, Any]) -> None:
    """`champion agent`: running or not, and its latest jobs."""
    state = f"running (pid {agent['pid']})" if agent["running"] else "not running"
    console.print(f"[bold]agent[/]: {state}")
    if not agent["jobs"]:
        console.print("  no jobs yet")
        return
    table = Table(show_edge=False, header_style="bold")
    for column in ("created (UTC)", "model", "trigger", "status", "took", "outcome"):
        table.add_column(column)
    for job in agent["jobs"]:
        style = JOB_STYLE.get(job["status"], "")
        summary = job["summary"]
        outcome = summary.get("error") or summary.get("verdict") or job["reason"]
        if summary.get("version") is not None:
            outcome = f"{outcome} v{summary['version']}"
        table.add_row(job["created_at"][:19].replace("T", " "), job["model"], "+".join(job["triggers"]),
                      f"[{style}]{job['status']}[/]" if style else job["status"], _took(job),
                      escape(str(outcome))[:100])
    console.print(table)


def _took(job: dict[str, Any]) -> str:
    if not job["started_at"]:
        return "-"
    end = datetime.fromisoformat(job["finished_at"]) if job["finished_at"] else None
    if end is None:
        return "running"
    return f"{(end - datetime.fromisoformat(job['started_at'])).total_seconds():.0f} s"


STATE_STYLE = {"Healthy": "green", "Transitioning": "yellow", "Unhealthy": "red", "Starting": "yellow",
               "Stopped": "dim"}


def endpoints_table(documents: list[dict[str, Any]]) -> Table:
    several = len({d.get("machine") for d in documents}) > 1 or any(d.get("seen_at") for d in documents)
    columns = ["environment", *(["machine"] if several else []), "url", "pid", "state", "model", "version"]
    table = Table(*columns, title="endpoints")
    for d in documents:
        style = STATE_STYLE.get(d["state"], "")
        table.add_row(d["environment"], *([d.get("machine") or ""] if several else []), d["url"], fmt(d["pid"]),
                      f"[{style}]{d['state']}[/]" if style else d["state"], fmt(d["model"]), fmt(d["version"]))
    notes = [f"{d['environment']}: {note}" for d in documents for note in d.get("notes") or []]
    if notes:
        table.caption = "\n".join(escape(n) for n in notes)
        table.caption_justify = "left"
        table.caption_style = "yellow"
    return table


def smoke_table(report: dict[str, Any]) -> None:
    table = Table("check", "result", "detail",
                  title=f"smoke test of {report['environment']} ({report['model']} version {report['version']})")
    for check in report["checks"]:
        table.add_row(check["name"], "[green]ok[/]" if check["ok"] else "[bold red]FAILED[/]", escape(check["detail"]))
    console.print(table)
    console.print("[bold green]passed[/]" if report["ok"] else "[bold red]failed[/]")


def release_summary(result: dict[str, Any]) -> None:
    for step in result["steps"]:
        if step["step"].startswith("smoke-test"):
            smoke_table(step)
        else:
            console.print(f"{step['step']}: version {step['version']} (was {step['previous']}), {step['state']}")
    style = "bold green" if result["ok"] else "bold red"
    console.print(f"[{style}]{escape(result['message'])}[/]")


def scaffold_summary(result: Any, rows: int) -> None:
    """What `init --data` read off a file: the task, the recipe and every column's role."""
    console.print(f"created project [bold]{escape(str(result.project))}[/] for {escape(result.data_file)} "
                  f"({rows} rows)")
    what = f"{result.task}: {escape(result.model)} predicts {escape(result.target)} with {result.recipe}"
    if result.labels:
        what += f", labels {escape(str(result.labels))}"
    if result.frequency:
        what += f", a series at frequency {result.frequency} (horizon {result.horizon}, golden set of the last " \
                f"{result.golden_periods} periods)"
    console.print(what)
    table = Table(show_edge=False, header_style="bold")
    for column in ("column", "type", "empty values", "role", "note"):
        table.add_column(column)
    for column in result.columns:
        role = ("target" if column.name == result.target else "time" if column.name == result.time
                else "identity" if column.name in result.id else "feature" if column.name in result.features else "-")
        table.add_row(escape(column.name), column.type, "allowed" if column.nullable else "no", role,
                      escape(column.note))
    console.print(table)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
