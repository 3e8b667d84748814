"""`champion export docker|k8s`: ship an environment's endpoint as an image or manifests.

Mounted on the main app with `app.add_typer(export_app, name="export")`. This module does
not import `champion.cli.app` at import time, so either may be imported first.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from champion.cli import render
from champion.cli.errors import handled
from champion.cli.options import JsonOpt, ProjectOpt, log_dir

if TYPE_CHECKING:
    from champion.packaging import ExportResult

export_app = typer.Typer(
    help=(
        "Ship an environment's endpoint elsewhere: a Docker build context (docker), a team's stack for "
        "Docker Compose (compose), or a "
        "Kubernetes Deployment and Service (k8s)."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

@export_app.command()
def docker(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the build context into (new or empty).")],
    environment: Annotated[str, typer.Option("--env", help="Environment from champion.toml.")] = "production",
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Write a self-contained Docker build context that serves one environment.

    The context holds champion (source and pinned requirements), champion.toml and the
    project's Python files, and, with the embedded SQLite registry, a consistent snapshot of
    it and its artifacts. The image runs as a non-root user, exposes the environment's port
    and has a HEALTHCHECK on /v2/health/ready. README.md in the context says how to build
    and run it. Exits 2 when the folder is not empty or the environment is unknown.
    """
    with handled(as_json, lambda: log_dir(project)):
        from champion.packaging import export_docker
        from champion.project import Project

        result = export_docker(Project.open(project), out, environment)
        _show(result, as_json, f"docker build -t {result.image} {result.out}")


@export_app.command()
def k8s(
    environment: Annotated[str, typer.Option("--env", help="Environment from champion.toml.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write ENV.yaml into (created if missing).")] = Path("k8s"),
    image: Annotated[str | None, typer.Option(
        "--image", help="Image to run (default: champion-PROJECT:latest, the tag the docker export's "
                        "README builds).")] = None,
    replicas: Annotated[int, typer.Option("--replicas", min=1, help="Pods of the Deployment.")] = 1,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Write OUT/ENV.yaml: a Deployment and a ClusterIP Service for one environment.

    Readiness probe on /v2/health/ready, liveness on /v2/health/live, the environment's port
    and workers, resources per worker; the Service listens on port 80. Exits 2 when the
    environment is unknown.
    """
    with handled(as_json, lambda: log_dir(project)):
        from champion.packaging import export_k8s
        from champion.packaging.common import default_image
        from champion.project import Project

        opened = Project.open(project)
        result = export_k8s(opened, out, environment, image or default_image(opened), replicas)
        _show(result, as_json, f"kubectl apply -f {Path(result.out) / result.files[0]}")


@export_app.command()
def compose(
    out: Annotated[Path, typer.Option("--out", help="Folder to write compose.yaml into (created if missing).")] = Path("compose"),
    image: Annotated[str | None, typer.Option(
        "--image", help="Image of champion's services (default: champion-PROJECT:latest, the tag the docker "
                        "export's README builds).")] = None,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Write OUT/compose.yaml: a team's whole stack on one Docker host.

    PostgreSQL, an MLflow tracking server proxying artifacts, one endpoint per environment and
    the agent, each with a healthcheck and started once what it needs is healthy. The password
    comes from PGPASSWORD in the shell that runs `docker compose`; the file holds none.
    """
    with handled(as_json, lambda: log_dir(project)):
        from champion.packaging import export_compose
        from champion.project import Project

        result = export_compose(Project.open(project), out, image)
        _show(result, as_json, f"PGPASSWORD=... docker compose -f {Path(result.out) / 'compose.yaml'} up -d")


def _show(result: ExportResult, as_json: bool, next_step: str) -> None:
    if as_json:
        render.print_json(result.as_dict())
        return
    files = result.files
    listed = ", ".join(files) if len(files) <= 5 else f"{len(files)} files"
    render.console.print(f"wrote {escape(listed)} to {escape(result.out)} "
                         f"({result.kind}, environment {escape(result.environment)})")
    for note in result.notes:
        render.console.print(f"[yellow]note:[/] {escape(note)}")
    render.console.print(f"next: [bold]{escape(next_step)}[/]")
