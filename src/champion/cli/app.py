"""`champion`: train, gate against the champion, register; every command has --json.

Exit codes: 0 success (FIRST_MODEL or PROMOTE), 3 REJECT (the champion stays), 4 a check
failed (smoke test, deploy), 2 bad input or configuration, 1 internal error.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from importlib.resources import as_file, files
from pathlib import Path
from typing import Annotated

import typer

from champion.startup import configure_process, quiet_library_warnings  # noqa: E402

configure_process()  # before anything heavy is imported

from champion import __version__  # noqa: E402
from champion.cli import render  # noqa: E402
from champion.cli.errors import EXIT_REJECTED, Exit, handled  # noqa: E402
from champion.cli.options import (  # noqa: E402
    JsonOpt,
    ModelArg,
    OutOpt,
    ParamOpt,
    ProjectOpt,
    QuietOpt,
    ReplaceBrokenOpt,
    RunOpt,
    log_dir,
    workspace,
)
from champion.errors import UsageError  # noqa: E402
from champion.project import Project  # noqa: E402

app = typer.Typer(
    name="champion",
    help=(
        "Continuous retraining and safe model release.\n\n"
        "Train a challenger with a recipe, score it against the champion on the same golden set, "
        "and register it only when the project's policy says it is better.\n\n"
        "Then release it: staging endpoint, smoke test, production endpoint that swaps versions "
        "without dropping a request.\n\n"
        "Exit codes: 0 success (FIRST_MODEL or PROMOTE), 3 REJECT (champion unchanged), "
        "4 a check failed (smoke test, deploy), 2 bad input or configuration, 1 internal error."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

TEMPLATES = ("youtube-spam", "transactions")

def _verdict_exit(document: dict) -> None:  # type: ignore[type-arg]
    if document["verdict"] == "REJECT":
        raise Exit(EXIT_REJECTED)


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Folder to create the project in (created if missing).")],
    template: Annotated[str, typer.Option("--template", "-t", help=f"One of: {', '.join(TEMPLATES)}.")] = "youtube-spam",
    data: Annotated[Path | None, typer.Option(
        "--data", help="Your own data file (CSV, TSV or any common separator, Parquet): write a project "
                       "for it instead of a template, its settings read off the data.")] = None,
    target: Annotated[str | None, typer.Option("--target", help="With --data: the column to predict.")] = None,
    time: Annotated[str | None, typer.Option(
        "--time", help="With --data: the date column of a series; the project forecasts the target.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="With --data: the model's name (default: "
                                                              "from the target).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a runnable project: from a template with its data, or for your own data file.

    With --data FILE --target COLUMN, each column's type and whether it may be empty are read
    off the file, and the task from the target: a classifier (labels: the values seen), a
    regressor (a number with many values), or with --time DATE_COLUMN a forecaster (the
    frequency from the dates). The recipe, the row identity and the features follow; every
    guess is shown and written as a comment in champion.toml, to check before `champion build`.
    """
    with handled(as_json, lambda: None):
        destination = folder.expanduser().resolve()
        if data is not None:
            _init_from_data(destination, data, target, time, model, as_json)
            return
        if target is not None or time is not None or model is not None:
            raise UsageError("--target, --time and --model go with --data FILE")
        if template not in TEMPLATES:
            raise UsageError(f"unknown template {template!r}; choose one of: {', '.join(TEMPLATES)}")
        if (destination / "champion.toml").exists():
            raise UsageError(f"{destination} already holds a champion.toml; choose another folder")
        if destination.exists() and not destination.is_dir():
            raise UsageError(f"{destination} exists and is not a folder")
        if destination.exists() and any(destination.iterdir()):
            raise UsageError(f"{destination} is not empty; init creates projects in new or empty folders")
        with as_file(files("champion") / "templates" / template) as source:
            shutil.copytree(source, destination, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        name = next(iter(Project.open(destination).config.models))
        if as_json:
            render.print_json({"project": str(destination), "template": template, "model": name})
            return
        render.console.print(f"created project [bold]{destination}[/] from template {template} (model: {name})")
        render.console.print(f"next: [bold]champion build {name} --project {folder}[/]")


def _init_from_data(destination: Path, data: Path, target: str | None, time: str | None, model: str | None,
                    as_json: bool) -> None:
    from champion.pipelines.scaffold import scaffold
    from champion.workspace import Workspace

    if target is None:
        raise UsageError("--data needs --target COLUMN: the column the model predicts")
    existed = destination.exists()
    result = scaffold(destination, data.expanduser().resolve(), target, time, model)
    try:  # the settings must read the file they were inferred from, or nothing is left behind
        ws = Workspace(Project.open(destination))
        ws.recipe_class(result.model)
        rows = ws.dataset(result.model).rows
    except Exception as exc:
        for path in [destination] if not existed else list(destination.iterdir()):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        raise UsageError(f"the settings read off {data} do not validate it ({exc}); write champion.toml by "
                         "hand (see the README) or correct the file") from None
    if as_json:
        render.print_json({**result.as_dict(), "rows": rows})
        return
    render.scaffold_summary(result, rows)
    render.console.print(f"next: check {destination / 'champion.toml'}, then "
                         f"[bold]champion build {result.model} --project {destination}[/]")


@app.command()
def ingest(
    model: Annotated[str, typer.Argument(help="Model whose dataset grows.")],
    data_files: Annotated[list[Path], typer.Argument(help="Data files (CSV, TSV, Parquet) to validate and add.",
                                                        metavar="FILE...")],
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Validate data files and add them to the model's dataset.

    Checks columns, types, empty files, labels, text encoding, dates, duplicate rows and gaps
    in a time series. On any problem it names the file, row and column, exits with 2 and
    stores nothing.
    """
    with handled(as_json, lambda: log_dir(project)):
        from champion.pipelines.ingest import ingest as run_ingest

        ws = workspace(project)
        report = run_ingest(ws, ws.project.model_name(model), data_files, render.RichProgress(quiet))
        if as_json:
            render.print_json(report.as_dict())
            return
        render.ingest_summary(report.as_dict())


@app.command()
def train(
    model: ModelArg = None,
    param: ParamOpt = None,
    project: ProjectOpt = Path("."),
    out: OutOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Train a challenger (one MLflow run) and write metric.json with its golden-set metrics."""
    with handled(as_json, lambda: log_dir(project)):
        from champion.pipelines.training import parse_params
        from champion.pipelines.training import train as run_train

        ws = workspace(project)
        result = run_train(ws, ws.project.model_name(model), parse_params(param or []),
                           render.RichProgress(quiet), out)
        if as_json:
            render.print_json({**result.metric_document, "metric_file": str(result.metric_file)})
            return
        render.data_summary(result.metric_document["data"])
        render.console.print(render.metrics_table(result.metrics, None))
        render.console.print(f"run [bold]{result.run_id}[/]; metrics in {result.metric_file}")
        render.console.print(f"next: champion evaluate {result.model} --run {result.run_id}")


@app.command()
def evaluate(
    run: RunOpt,
    model: ModelArg = None,
    project: ProjectOpt = Path("."),
    out: OutOpt = None,
    replace_broken_champion: ReplaceBrokenOpt = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Score a run against the champion on the current golden set; write evaluation.json.

    Exits 3 when the verdict is REJECT, 2 when the champion cannot be loaded (see
    --replace-broken-champion).
    """
    with handled(as_json, lambda: log_dir(project)):
        from champion.pipelines.evaluation import evaluate as run_evaluate

        ws = workspace(project)
        result = run_evaluate(ws, ws.project.model_name(model), run, progress=render.RichProgress(quiet), out_dir=out,
                              replace_broken_champion=replace_broken_champion)
        _show(result.document, as_json)
        if not as_json:
            render.console.print(f"evaluation in {result.file}")
        _verdict_exit(result.document)


@app.command()
def register(
    run: RunOpt,
    model: ModelArg = None,
    project: ProjectOpt = Path("."),
    out: OutOpt = None,
    replace_broken_champion: ReplaceBrokenOpt = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Register a run as a model version and make it the champion, if its evaluation says so.

    If the champion changed since the run was evaluated, it is evaluated again first. A REJECT
    registers nothing and exits 3.
    """
    with handled(as_json, lambda: log_dir(project)):
        from champion.pipelines.registration import register as run_register

        ws = workspace(project)
        result = run_register(ws, ws.project.model_name(model), run, progress=render.RichProgress(quiet), out_dir=out,
                              replace_broken_champion=replace_broken_champion)
        _show(result.document, as_json)
        _verdict_exit(result.document)


@app.command()
def build(
    model: ModelArg = None,
    param: ParamOpt = None,
    project: ProjectOpt = Path("."),
    out: OutOpt = None,
    replace_broken_champion: ReplaceBrokenOpt = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Train, evaluate against the champion, register if better: the Build pipeline.

    Exits 0 on FIRST_MODEL or PROMOTE, 3 on REJECT (the pipeline is cancelled and the champion
    is untouched), 2 when the registered champion cannot be loaded (the message says why; see
    --replace-broken-champion). --json prints the evaluation (verdict, reasons, run_id, version,
    challenger, champion).
    """
    with handled(as_json, lambda: log_dir(project)):
        from champion.pipelines.build import build as run_build
        from champion.pipelines.training import parse_params

        ws = workspace(project)
        result = run_build(ws, ws.project.model_name(model), parse_params(param or []),
                           render.RichProgress(quiet), out, replace_broken_champion)
        _show(result.document, as_json)
        _verdict_exit(result.document)


@app.command()
def status(
    model: ModelArg = None,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Where each alias of each model points, with the version's golden-set metrics."""
    with handled(as_json, lambda: log_dir(project)):
        from champion.pipelines.status import status as read_status

        ws = workspace(project)
        document = read_status(ws, model)
        if as_json:
            render.print_json(document)
        else:
            render.status_tables(document)


@app.command()
def history(
    model: ModelArg = None,
    alias: Annotated[str | None, typer.Option("--alias", help="Only moves of this alias.")] = None,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Every alias move of a model: when, who, from which version to which, and why."""
    with handled(as_json, lambda: log_dir(project)):
        from champion.pipelines.status import history as read_history

        ws = workspace(project)
        name = ws.project.model_name(model)
        moves = read_history(ws, name, alias)
        if as_json:
            render.print_json([m.as_dict() for m in moves])
        elif not moves:
            render.console.print(f"no alias moves yet for {name}")
        else:
            render.console.print(render.history_table(moves))


@app.command()
def gc(
    model: ModelArg = None,
    delete_orphans: Annotated[bool, typer.Option(
        "--delete-orphans", help="Delete orphan versions from the registry (their runs stay) instead of tagging them.")] = False,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Tidy what killed commands left: record alias moves they made without history, mark
    runs still RUNNING whose process is gone as KILLED, tag versions registered but never
    champion (`champion.orphan`), or delete them with --delete-orphans. Every build does
    the same before it registers; `status` shows what is left."""
    with handled(as_json, lambda: log_dir(project)):
        from champion.pipelines.tidy import tidy

        ws = workspace(project)
        names = [ws.project.model_name(model)] if model else list(ws.project.config.models)
        documents = [tidy(ws, name, delete_orphans).as_dict() for name in names]
        if as_json:
            render.print_json(documents)
        else:
            render.tidy_summary(documents)


def _show(document: dict, as_json: bool) -> None:  # type: ignore[type-arg]
    if as_json:
        render.print_json(document)
    else:
        render.evaluation_summary(document)


# isort: off
from champion.cli import release_commands  # noqa: E402,F401  (registers its commands on `app`)
from champion.cli import feedback_commands  # noqa: E402,F401  (registers `feedback` on `app`)
from champion.cli import agent_commands  # noqa: E402,F401  (registers `agent` on `app`)
from champion.cli import monitor_commands  # noqa: E402,F401  (registers `monitor` on `app`)
from champion.cli import ui_commands  # noqa: E402,F401  (registers `ui` on `app`)
# isort: on
from champion.cli.export_commands import export_app  # noqa: E402

app.add_typer(export_app, name="export")


def _version_callback(value: bool) -> None:
    if value:
        print(f"champion {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version_callback, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    pass


def main() -> None:
    quiet_library_warnings()
    try:
        app()
        code = 0
    except SystemExit as stop:
        if isinstance(stop.code, str):
            print(stop.code, file=sys.stderr)
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    # Every write is committed and every lock released by now. Tearing down the thousands of
    # modules MLflow imports took over a second (measured), so leave without it.
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)
