"""What every command shares: its options and arguments, and how it opens the project.

Kept apart from `app.py` so that command modules (`release_commands`, `export_commands`)
import these without importing the app that mounts them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from champion.project import STATE_DIR, Project

if TYPE_CHECKING:
    from champion.workspace import Workspace

ProjectOpt = Annotated[
    Path, typer.Option("--project", "-p", envvar="CHAMPION_PROJECT",
                       help="Project folder (holds champion.toml). [env: CHAMPION_PROJECT]")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout (for automation).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines on stderr.")]
ModelArg = Annotated[str | None, typer.Argument(help="Model name (may be omitted when the project has one).")]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", help="Override a recipe parameter for this run: KEY=VALUE (repeatable)."),
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="Also write the result file(s) into this folder (e.g. a CI artifact dir).")
]
ReplaceBrokenOpt = Annotated[bool, typer.Option(
    "--replace-broken-champion",
    help="When the registered champion cannot be loaded (a deleted or changed artifact, a recipe that "
         "no longer imports), judge the challenger as a first model instead of stopping; the history "
         "records that the champion was replaced and why.")]
RunOpt = Annotated[str, typer.Option("--run", help="MLflow run id of the challenger (printed by `train`).")]


def workspace(project: Path) -> Workspace:
    """The project in `project`, opened for work (stores open on first use)."""
    from champion.workspace import Workspace

    return Workspace(Project.open(project))


def log_dir(project: Path) -> Path | None:
    """Where internal-error tracebacks of this project go (None before `.champion/` exists)."""
    folder = Path(project).expanduser().resolve() / STATE_DIR
    return folder / "logs" if folder.is_dir() else None
