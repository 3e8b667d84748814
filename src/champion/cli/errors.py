"""Map errors to exit codes and messages; never show a traceback to the user."""

from __future__ import annotations

import json
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from champion.credentials import scrub
from champion.errors import (  # noqa: F401  (the exit codes are re-exported for the commands)
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_REJECTED,
    BrokenChampionError,
    ChampionError,
    ConfigError,
    DataError,
    EndpointError,
    InputError,
    NotFoundError,
    RecipeError,
    UsageError,
)

_BAD_INPUT = (BrokenChampionError, ConfigError, DataError, InputError, NotFoundError, RecipeError, UsageError)

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


class Exit(Exception):
    """Stop the command with an exit code (after its output was printed)."""

    def __init__(self, code: int) -> None:
        self.code = code


def exit_code_of(error: BaseException) -> int:
    if isinstance(error, EndpointError):
        return EXIT_CHECK_FAILED
    return EXIT_BAD_INPUT if isinstance(error, _BAD_INPUT) else EXIT_INTERNAL


@contextmanager
def handled(as_json: bool, log_dir: Callable[[], Path | None]) -> Iterator[None]:
    """Run a command body; turn every failure into a message and an exit code."""
    try:
        yield
    except Exit as stop:
        sys.exit(stop.code)
    except ChampionError as error:
        code = exit_code_of(error)
        # Not the user's input: keep the evidence (the traceback) for a bug report.
        details = f" (details in {_write_traceback(log_dir())})" if code == EXIT_INTERNAL else ""
        _report(error, code, as_json, details)
        sys.exit(code)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        sys.exit(130)
    except Exception as error:  # a bug of ours: say so, keep the traceback in a log file
        details = f" (details in {_write_traceback(log_dir())})"
        _report(ChampionError(f"internal error: {type(error).__name__}: {error}"), EXIT_INTERNAL, as_json, details)
        sys.exit(EXIT_INTERNAL)


def _report(error: ChampionError, code: int, as_json: bool, details: str = "") -> None:
    message = scrub(str(error) + details)
    if as_json:
        body: dict[str, object] = {"type": type(error).__name__, "message": message, "exit_code": code}
        if isinstance(error, DataError):
            body.update({k: v for k, v in error.as_dict().items() if k != "message"})
        print(json.dumps({"error": body}, indent=2))
    err_console.print(f"[bold red]error:[/] {escape(message)}")


def _write_traceback(folder: Path | None) -> Path:
    folder = folder or Path(tempfile.gettempdir())
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "champion-errors.log"
        with open(path, "a", encoding="utf-8") as file:
            file.write(f"--- {datetime.now(UTC).isoformat()} {' '.join(sys.argv)}\n")
            file.write(scrub(traceback.format_exc()))
        return path
    except OSError:
        return Path("(no log: the folder is not writable)")
