"""Commands of the release half: serve, up, down, ps, deploy, smoke-test, release, rollback,
retrain. Each one translates arguments and output; the work is in `champion.pipelines`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from champion.cli import render
from champion.cli.app import app
from champion.cli.errors import EXIT_CHECK_FAILED, EXIT_REJECTED, Exit, err_console, handled
from champion.cli.options import (
    JsonOpt,
    ModelArg,
    OutOpt,
    ProjectOpt,
    QuietOpt,
    ReplaceBrokenOpt,
    log_dir,
    workspace,
)
from champion.errors import UsageError

EnvArg = Annotated[str, typer.Argument(help="Environment from champion.toml, e.g. staging or production.")]
EnvOptionalArg = Annotated[str | None, typer.Argument(help="Environment (default: every environment).")]
ModelOpt = Annotated[str | None, typer.Option("--model", "-m",
                                              help="Model (may be omitted when the project has one).")]


@app.command()
def serve(
    environment: EnvArg,
    project: ProjectOpt = Path("."),
    host: Annotated[str | None, typer.Option(help="Address to bind (default: from champion.toml).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: from champion.toml).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: from champion.toml).")] = None,
) -> None:
    """Run an environment's endpoint in the foreground until Ctrl-C (or SIGTERM).

    Serves the environment's alias of every model: POST /score {"data": [...]}, the Open
    Inference Protocol under /v2, GET /health, /metadata, /metrics, /docs. Versions are
    swapped in without downtime when the alias moves.
    """
    with handled(False, lambda: log_dir(project)):
        from champion.project import Project
        from champion.serving.server import binding
        from champion.serving.server import serve as run_serve

        opened = Project.open(project)
        where = binding(opened, environment, host, port, workers)
        render.err_console.print(f"serving {environment} on {where.url} with {where.workers} worker(s); "
                                 "Ctrl-C stops")
        run_serve(opened, where)


@app.command()
def up(
    environment: EnvOptionalArg = None,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Start endpoints in the background (all environments, or one); no-op if running.

    Exits 4 when an endpoint runs but is not Healthy (for example no version has its alias
    yet, or the version was refused), saying why; it keeps running."""
    with handled(as_json, lambda: log_dir(project)):
        from champion.pipelines import endpoints

        ws = workspace(project)
        names = endpoints.environment_names(ws, environment)
        if not names:
            raise UsageError("this project declares no environments ([environments.NAME] in champion.toml)")
        started = [endpoints.start(ws, name) for name in names]
        _show_endpoints([e.as_dict() for e in started], as_json)
        unhealthy = [e for e in started if e.state != "Healthy"]
        if unhealthy:  # running, but answering 503: say why, and let scripts see it
            for endpoint in unhealthy:
                why = "; ".join(endpoint.notes) or f"see {endpoint.log}"
                err_console.print(f"[yellow]{endpoint.environment} is {endpoint.state}[/]: {escape(why)}")
            raise Exit(EXIT_CHECK_FAILED)


@app.command()
def down(
    environment: EnvOptionalArg = None,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Stop endpoints (all environments, or one), letting requests in flight finish."""
    with handled(as_json, lambda: log_dir(project)):
        from champion.pipelines import endpoints

        ws = workspace(project)
        names = endpoints.environment_names(ws, environment)
        stopped = [endpoints.stop(ws, name) for name in names]
        _show_endpoints([e.as_dict() for e in stopped], as_json)


@app.command()
def ps(
    environment: EnvOptionalArg = None,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Endpoints of the project: environment, url, pid, state, model and version served."""
    with handled(as_json, lambda: log_dir(project)):
        from champion.pipelines import endpoints

        ws = workspace(project)
        _show_endpoints([e.as_dict() for e in endpoints.endpoints(ws, environment)], as_json)


@app.command()
def deploy(
    environment: EnvArg,
    version: Annotated[int | None, typer.Option("--version", "-v",
                                                help="Version to deploy (default: the champion).")] = None,
    model: ModelOpt = None,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Point an environment at a version and wait until its endpoint serves it.

    Moves the environment's alias (compare-and-set, recorded in `champion history`), starts
    the endpoint if it is not running, and waits until every worker reports Healthy on the
    new version. If that does not happen in time, the alias goes back and the command fails.
    """
    with handled(as_json, lambda: log_dir(project)):
        from champion.pipelines.release import deploy as run_deploy

        ws = workspace(project)
        result = run_deploy(ws, environment, ws.project.model_name(model), version, render.RichProgress(quiet))
        if as_json:
            render.print_json(result.as_dict())
            return
        render.console.print(f"{environment}: {result.model} version {result.version} "
                             f"(was {result.previous}) on {result.url}, {result.state}")


@app.command("smoke-test")
def smoke_test(
    environment: EnvArg,
    model: ModelOpt = None,
    project: ProjectOpt = Path("."),
    out: OutOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Check a running endpoint: health, metadata, golden-set answers equal to the offline
    predictions of its version, accuracy floor, p95 latency. Exits 4 when a check fails."""
    with handled(as_json, lambda: log_dir(project)):
        from champion.pipelines.smoke import smoke_test as run_smoke

        ws = workspace(project)
        with render.RichProgress(quiet).step(f"smoke-testing {environment}"):
            report = run_smoke(ws, environment, ws.project.model_name(model), out)
        if as_json:
            render.print_json(report.as_dict())
        else:
            render.smoke_table(report.as_dict())
        if not report.ok:
            raise Exit(EXIT_CHECK_FAILED)


@app.command()
def release(
    model: ModelArg = None,
    version: Annotated[int | None, typer.Option("--version", "-v",
                                                help="Version to release (default: the champion).")] = None,
    project: ProjectOpt = Path("."),
    out: OutOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """The Release pipeline: deploy staging, smoke test, deploy production, smoke test.

    Production goes back to its previous version when its smoke test fails. Exits 4 when a
    smoke test fails.
    """
    with handled(as_json, lambda: log_dir(project)):
        from champion.pipelines.release import release as run_release

        ws = workspace(project)
        result = run_release(ws, ws.project.model_name(model), version, render.RichProgress(quiet), out)
        if as_json:
            render.print_json(result.as_dict())
        else:
            render.release_summary(result.as_dict())
        if not result.ok:
            raise Exit(EXIT_CHECK_FAILED)


@app.command()
def rollback(
    environment: EnvArg,
    model: ModelOpt = None,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Return an environment to the version it served before its alias last moved."""
    with handled(as_json, lambda: log_dir(project)):
        from champion.pipelines.release import rollback as run_rollback

        ws = workspace(project)
        result = run_rollback(ws, environment, ws.project.model_name(model), render.RichProgress(quiet))
        if as_json:
            render.print_json(result.as_dict())
            return
        render.console.print(f"{environment}: {result.model} back on version {result.version} "
                             f"(was {result.previous}), endpoint {result.state}")


@app.command()
def retrain(
    model: ModelArg = None,
    new_data: Annotated[list[Path] | None, typer.Option("--new-data", help="Data file(s) to ingest first (repeatable).")] = None,
    no_release: Annotated[bool, typer.Option("--no-release",
                                             help="Register a winning challenger but do not release it.")] = False,
    project: ProjectOpt = Path("."),
    out: OutOpt = None,
    replace_broken_champion: ReplaceBrokenOpt = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Ingest new data, build, and release when the challenger wins (production serves
    throughout). Exits 3 on REJECT (nothing released), 4 when a smoke test fails.
    --no-release stops after registration (the alias `champion` moves; endpoints do not)."""
    with handled(as_json, lambda: log_dir(project)):
        from champion.pipelines.retrain import retrain as run_retrain

        ws = workspace(project)
        result = run_retrain(ws, ws.project.model_name(model), new_data or [], render.RichProgress(quiet), out,
                             release=not no_release, replace_broken_champion=replace_broken_champion)
        if as_json:
            render.print_json(result)
        else:
            if result.get("ingest"):
                render.ingest_summary(result["ingest"])
            render.evaluation_summary(result["build"])
            if result.get("release"):
                render.release_summary(result["release"])
        if result["build"]["verdict"] == "REJECT":
            raise Exit(EXIT_REJECTED)
        if result.get("release") and not result["release"]["ok"]:
            raise Exit(EXIT_CHECK_FAILED)


def _show_endpoints(documents: list[dict], as_json: bool) -> None:  # type: ignore[type-arg]
    if as_json:
        render.print_json(documents)
    else:
        render.console.print(render.endpoints_table(documents))
