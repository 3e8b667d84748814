"""What every file reader hands back: the declared columns as Python values, and problems.

Text files and Parquet files are read by different code (`delimited`, `parquet`) into the
same `ReadColumns`, so the frame built from them, and every message about them, does not
depend on the format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from champion.config import ModelSettings
from champion.errors import DataError

MAX_PROBLEMS_SHOWN = 5
MAX_NAMES_SHOWN = 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one cell, row or column."""

    row: int | None
    line: int | None
    column: str | None
    message: str

    def as_error(self, file: Path) -> DataError:
        return DataError(self.message, file=file, row=self.row, line=self.line, column=self.column)


class FileProblems(DataError):
    """Several problems in one file; the message shows the first few."""

    def __init__(self, file: Path, problems: list[Problem]) -> None:
        first, rest = problems[0], problems[1:]
        message = first.message
        if rest:
            shown = "; ".join(_short(p) for p in rest[: MAX_PROBLEMS_SHOWN - 1])
            ellipsis = "; ..." if len(rest) >= MAX_PROBLEMS_SHOWN else ""
            message += f" ({len(rest)} more: {shown}{ellipsis})"
        super().__init__(message, file=file, row=first.row, line=first.line, column=first.column)
        self.problems = problems


def _short(problem: Problem) -> str:
    where = [f"row {problem.row}"] if problem.row is not None else []
    if problem.column:
        where.append(f"column {problem.column!r}")
    return f"{', '.join(where)}: {problem.message}" if where else problem.message


class RowNumbers(tuple[Any, ...]):
    """Row or line numbers kept in `DataFrame.attrs`. pandas deep-copies `attrs` into every
    frame and series derived from a frame; an immutable tuple can be shared instead (copying
    two lists of 200,000 numbers cost more than parsing the file's dates)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> RowNumbers:
        return self


@dataclass
class ReadColumns:
    """The model's columns read from one file: one list (or array) of values per column,
    each value already of the column's declared type (None where empty)."""

    values: dict[str, Any]
    rows: RowNumbers
    """Each row's number, counted from 1 after the header."""
    lines: RowNumbers
    """The physical line where each row starts (None for formats without lines)."""


def check_header(path: Path, names: list[str], model: ModelSettings, where: str,
                 hint: Callable[[], str | None]) -> None:
    """Every declared column present once among `names` (`where` they come from: "the header",
    "the file"); a missing one gets `hint()` (what the file looks like) when there is one."""
    seen: set[str] = set()
    for name in names:
        if name in seen and name in model.columns:
            raise DataError(f"column appears twice in {where}", file=path, column=name)
        seen.add(name)
    missing = [name for name in model.columns if name not in seen]
    if missing:
        advice = hint()
        raise DataError(
            f"required column{'s' if len(missing) > 1 else ''} missing: {', '.join(map(show_name, missing))}"
            f" ({where} has: {show_names(names)})" + (f"; {advice}" if advice else ""),
            file=path,
            column=missing[0],
        )


def show_name(name: str) -> str:
    """A column name as written in messages (quoted when it holds a tab or other control)."""
    return name if name.isprintable() and name.strip() == name and name else repr(name)


def show_names(names: Iterable[str]) -> str:
    listed = list(names)
    if not listed:
        return "nothing"
    shown = ", ".join(show_name(n) for n in listed[:MAX_NAMES_SHOWN])
    return shown + (f", ... ({len(listed)} in all)" if len(listed) > MAX_NAMES_SHOWN else "")
