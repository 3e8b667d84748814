"""`champion monitor`: drift, data quality and performance of a model in production.
The work is in `champion.pipelines.monitor`, which the agent runs too."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from champion.cli import render
from champion.cli.app import app
from champion.cli.errors import EXIT_CHECK_FAILED, Exit, handled
from champion.cli.options import JsonOpt, ModelArg, OutOpt, ProjectOpt, QuietOpt, log_dir, workspace


@app.command()
def monitor(
    model: ModelArg = None,
    env: Annotated[str | None, typer.Option("--env", "-e", help="Environment to watch (default: monitoring.environment, production).")] = None,
    window: Annotated[str | None, typer.Option("--window", "-w", help="Rows (1000) or a duration (30m, 24h, 7d) of recent traffic (default: monitoring.window; unset: 1000 rows, a forecaster 90 periods).")] = None,
    notify: Annotated[bool, typer.Option("--notify/--no-notify", help="Deliver alerts to the configured sinks (log, webhook, command).")] = True,
    fail_on_alert: Annotated[bool, typer.Option("--fail-on-alert", help="Exit 4 when any alert is raised.")] = False,
    project: ProjectOpt = Path("."),
    out: OutOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Compare recent production traffic with the served version's reference profile.

    Tests every input column for drift (Evidently's defaults: K-S or chi-square up to 1,000
    reference rows, normalized Wasserstein or Jensen-Shannon above, a domain classifier for
    text), the predictions for drift, the data's quality, and performance: realized on rows
    whose actual values came back (`champion feedback`), estimated from the probabilities on
    the rest. Writes a JSON report and a self-contained HTML page; alerts go to the sinks in
    `monitoring.alerts`. What a check finds on fewer rows than `monitoring.min_rows` (labelled
    rows than `min_labelled`) is a low-evidence warning: shown, but no alert and no
    retraining. `--json` prints the report (`drift_detected`, `alerts`, `warnings`, `report`).
    """
    with handled(as_json, lambda: log_dir(project)):
        from champion.pipelines.monitor import monitor as run_monitor

        ws = workspace(project)
        name = ws.project.model_name(model)
        document = run_monitor(ws, name, env, window, render.RichProgress(quiet or as_json), out, notify)
        if as_json:
            render.print_json(document)
        else:
            _summary(document)
        if fail_on_alert and document["alerts"]:
            raise Exit(EXIT_CHECK_FAILED)


def _summary(document: dict[str, Any]) -> None:
    console = render.console
    window = document["window"]
    console.print(f"[bold]{escape(document['model'])}[/] in {escape(document['environment'])}: "
                  f"{window['rows']} logged rows in window {escape(str(window['spec']))}"
                  + (f", reference version {document['reference']['version']}" if document.get("reference") else ""))
    if document["status"] != "ok":
        console.print(f"[yellow]{escape(document.get('message', document['status']))}[/]")
    dropped = int(document.get("dropped_log_rows") or 0)
    if dropped:
        console.print(f"[yellow]{dropped:,} scored row{'s' if dropped != 1 else ''} never reached the prediction "
                      "log[/] (a full queue, a failed write or a killed worker): this window may miss traffic")
    drift = document.get("data_drift")
    if drift:
        table = Table("column", "type", "method", "statistic", "threshold", "drifted")
        for c in drift["columns"]:
            value = c["p_value"] if c["p_value"] is not None else c["statistic"]
            table.add_row(escape(c["column"]), c["type"], c["method"],
                          ("p=" if c["p_value"] is not None else "") + render.fmt(value),
                          render.fmt(c["threshold"]), "[red]yes[/]" if c["drifted"] else "no")
        console.print(table)
    _predictions(document.get("prediction_drift"))
    perf = document.get("performance") or {}
    names = perf.get("names") or {}
    if perf.get("realized"):
        r = perf["realized"]
        low = " [yellow](low evidence)[/]" if r.get("evidence") == "low" else ""
        golden = perf["golden"]
        console.print(f"realized on {r['labelled']} labelled rows{low}: " + ", ".join(
            f"{escape(names.get(k, k))} {render.fmt(v)} (golden {render.fmt(golden.get(k))})"
            for k, v in r["metrics"].items()))
    if perf.get("estimated"):
        e = perf["estimated"]["metrics"]
        console.print("estimated: " + ", ".join(
            f"{escape(names.get(k, k))} {render.fmt(v['value'])} [{render.fmt(v['low'])}, {render.fmt(v['high'])}]"
            for k, v in e.items()))
    elif perf.get("estimated_reason"):
        console.print(f"[yellow]no estimate: {escape(perf['estimated_reason'])}[/]")
    for alert in document["alerts"]:
        console.print(f"[red]ALERT[/] {alert['kind']}{' (retrain)' if alert['retrain'] else ''}: "
                      f"{escape(alert['message'])}")
    warnings = document.get("warnings") or []
    for warning in warnings:
        console.print(f"[yellow]WARNING[/] {warning['kind']} (low evidence, {warning['rows']} rows): "
                      f"{escape(warning['message'])}")
    if not document["alerts"]:
        if warnings:
            console.print(f"[yellow]no alerts, but {len(warnings)} low-evidence warning"
                          f"{'s' if len(warnings) > 1 else ''} (too few rows to act on; no retraining)[/]")
        else:
            console.print("[green]no alerts[/]")
    console.print(f"report: {escape(document['report'])}")


def _predictions(prediction: dict[str, Any] | None) -> None:
    """One line for the prediction drift test, and the class shares of a classifier."""
    if not prediction:
        return
    value = prediction["p_value"] if prediction["p_value"] is not None else prediction["statistic"]
    console = render.console
    console.print(f"predictions ({escape(str(prediction.get('subject') or 'scores'))}): {prediction['method']} "
                  + ("p=" if prediction["p_value"] is not None else "") + render.fmt(value)
                  + (", [red]drifted[/]" if prediction["drifted"] else ", stable"))
    share = prediction.get("class_share") or {}
    reference, current = share.get("reference") or {}, share.get("current") or {}
    if reference or current:
        console.print("class shares (golden set -> now): " + ", ".join(
            f"{escape(k)} {reference.get(k, 0):.0%} -> {current.get(k, 0):.0%}"
            for k in dict.fromkeys([*reference, *current])))


@app.command()
def alerts(
    model: ModelArg = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many deliveries to show.")] = 20,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Alerts sent to each sink (log, webhook, command), newest first: whether they arrived,
    after how many tries, and the webhook's message id (`webhook-id`) and answer."""
    with handled(as_json, lambda: log_dir(project)):
        ws = workspace(project)
        name = ws.project.model_name(model) if model or ws.project.default_model() else None
        rows = ws.state.deliveries(name, limit)
        if as_json:
            render.print_json(rows)
            return
        if not rows:
            render.console.print("no alerts delivered yet (`champion monitor` sends them)")
            return
        table = Table("at (UTC)", "model", "environment", "kind", "sink", "result", "tries", "detail")
        for row in rows:
            result = "[green]delivered[/]" if row["ok"] else "[red]failed[/]"
            detail = row["error"] or (f"{row['status']} {row['message_id']}" if row["message_id"] else "")
            table.add_row(str(row["at"])[:19].replace("T", " "), escape(str(row["model"])),
                          escape(str(row["environment"])), str(row["kind"]), str(row["sink"]), result,
                          str(row["attempts"]), escape(str(detail)))
        render.console.print(table)
