"""Shared by the export tests: the export commands mounted on a throwaway app, run in-process.

Not named conftest.py on purpose: tests/ has no __init__.py, so a second conftest module
would shadow tests/conftest.py for `from conftest import cli` elsewhere. No __init__.py here
either: it would make this folder shadow the `packaging` distribution on sys.path.
"""

from __future__ import annotations

import typer
from conftest import Result
from typer.testing import CliRunner

from champion.cli.export_commands import export_app

_app = typer.Typer(add_completion=False)


@_app.callback()
def _root() -> None:
    """Throwaway root: `export` is its only group."""


_app.add_typer(export_app, name="export")


def export(*args: str) -> Result:
    """Run `champion export ARGS...` in this process."""
    outcome = CliRunner().invoke(_app, ["export", *args], catch_exceptions=False)
    return Result(outcome.exit_code, outcome.stdout, outcome.stderr)
