"""Text cells to typed values, a column at a time.

`convert_column` first tries a fast conversion of the whole column (one C-level call per
cell); when any cell does not convert plainly it converts the column cell by cell, which is
the reference: the fast path returns a result only where it equals the cell-by-cell one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from champion.config import ColumnSpec, ModelSettings

NULL_WORDS = ("nan", "null", "none")
"""Cells that mean "no value" in a column that is not text."""
_INT64 = (-(2**63), 2**63 - 1)
_EXPECTED = {"integer": "an integer", "number": "a number", "date": "a date (YYYY-MM-DD)",
             "datetime": "a date-time (ISO 8601)"}

Converted = tuple[list[Any], list[tuple[int, str]]]
"""Values (None where empty), and (position, what is wrong) for cells that failed."""


def convert_column(cells: list[str | None], spec: ColumnSpec, model: ModelSettings) -> Converted:
    """Convert one column's cells (None: a missing value, as an empty cell) to `spec.type`."""
    fast = _FAST[spec.type]
    try:
        values = fast(cells, model)
    except (ValueError, TypeError, KeyError, OverflowError):
        values = None
        if spec.nullable and spec.type in _NULLABLE_FAST:
            values = _fast_with_empty(cells, spec.type)
    if values is not None:
        return values, ([] if spec.type != "datetime" else time_zone_problems(values))
    converted: list[Any] = []
    problems: list[tuple[int, str]] = []
    for position, cell in enumerate(cells):
        value, problem = convert_cell(cell, spec, model)
        if problem:
            problems.append((position, problem))
        converted.append(value)
    if spec.type == "datetime" and not problems:
        problems = time_zone_problems(converted)
    return converted, problems


def convert_cell(cell: str | None, spec: ColumnSpec, model: ModelSettings) -> tuple[Any, str | None]:
    """Return (value, None) or (None, what is wrong)."""
    if cell is None:
        cell = ""
    if spec.type not in ("text", "string"):
        cell = cell.strip()
    if cell == "" or (spec.type not in ("text", "string") and cell.lower() in NULL_WORDS):
        return (None, None) if spec.nullable else (None, "empty value")
    try:
        match spec.type:
            case "string" | "text":
                if "\x00" in cell:
                    return None, "contains a NUL character"
                return cell, None
            case "integer":
                number = int(cell)
                if not _INT64[0] <= number <= _INT64[1]:
                    return None, f"{_clip(cell)} is out of range (a 64-bit integer)"
                return number, None
            case "number":
                value = float(cell)
                if not math.isfinite(value):
                    return None, f"{_clip(cell)} is not a finite number"
                return value, None
            case "date":
                return date.fromisoformat(cell), None
            case "datetime":
                return datetime.fromisoformat(cell), None
            case "label":
                return label_of(cell, model)
    except ValueError:
        return None, f"{_clip(cell)} is not {_EXPECTED[spec.type]}"
    raise AssertionError(f"unhandled column type {spec.type}")  # pragma: no cover


def is_iso_time(value: Any) -> bool:
    """Whether `value` is ISO 8601 text of a date or a date and time (as JSON carries them)."""
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def label_of(cell: str, model: ModelSettings) -> tuple[Any, str | None]:
    """The declared label that `cell` spells (`1.0` spells the integer label 1)."""
    for label in model.labels:
        if cell == str(label):
            return label, None
    if model.labels and all(isinstance(label, int) for label in model.labels):
        try:
            number = float(cell)
            if number.is_integer() and int(number) in model.labels:
                return int(number), None
        except ValueError:
            pass
    return None, f"label {_clip(cell)} is not one of {list(model.labels)}"


def time_zone_problems(values: list[Any]) -> list[tuple[int, str]]:
    """Date-times with a time zone and without one cannot share a column."""
    first = next((i for i, v in enumerate(values) if v is not None), None)
    if first is None:
        return []
    aware = values[first].tzinfo is not None
    odd = [i for i, v in enumerate(values) if v is not None and (v.tzinfo is not None) != aware]
    here, there = ("no time zone", "has one") if aware else ("a time zone", "has none")
    reference = values[first].isoformat()
    return [(i, (f"{values[i].isoformat()}: {here} here, while the column's first value ({reference}) "
                 f"{there}: give every value a time zone, or none")) for i in odd]


def _clip(cell: str, limit: int = 60) -> str:
    """A cell quoted for a message, shortened when long."""
    return repr(cell) if len(cell) <= limit else repr(cell[:limit]) + f"... ({len(cell):,} characters)"


# ---- fast paths: a list of values, or an exception / None to go cell by cell ----------------
def _fast_text(cells: list[Any], model: ModelSettings) -> list[Any] | None:
    if "\x00" in "".join(cells) or "" in cells:  # join raises TypeError on a missing value
        return None
    return cells


def _fast_integer(cells: list[Any], model: ModelSettings) -> list[Any] | None:
    values = list(map(int, cells))
    if values and (min(values) < _INT64[0] or max(values) > _INT64[1]):
        return None
    return values


def _fast_number(cells: list[Any], model: ModelSettings) -> list[Any] | None:
    values = list(map(float, cells))
    return values if all(map(math.isfinite, values)) else None


def _fast_date(cells: list[Any], model: ModelSettings) -> list[Any]:
    return list(map(date.fromisoformat, cells))


def _fast_datetime(cells: list[Any], model: ModelSettings) -> list[Any]:
    return list(map(datetime.fromisoformat, cells))


def _fast_label(cells: list[Any], model: ModelSettings) -> list[Any]:
    spelled: dict[str, Any] = {}
    for label in model.labels:
        text = str(label)
        # Spellings the cell-by-cell path reads otherwise (empty, null words, padded) stay out.
        if text and text == text.strip() and text.lower() not in NULL_WORDS:
            spelled.setdefault(text, label)
    return [spelled[cell] for cell in cells]


_NULLABLE_FAST: dict[str, Callable[[str], Any]] = {
    "integer": int, "number": float, "date": date.fromisoformat, "datetime": datetime.fromisoformat}


def _fast_with_empty(cells: list[Any], kind: str) -> list[Any] | None:
    """A nullable column whose cells are plain values or empty ("" or missing)."""
    parse = _NULLABLE_FAST[kind]
    try:
        values = [parse(cell) if cell else None for cell in cells]
    except (ValueError, TypeError, OverflowError):
        return None
    present = [v for v in values if v is not None]
    if kind == "integer" and present and (min(present) < _INT64[0] or max(present) > _INT64[1]):
        return None
    if kind == "number" and not all(map(math.isfinite, present)):
        return None
    return values


_FAST: dict[str, Callable[[list[Any], ModelSettings], list[Any] | None]] = {
    "string": _fast_text, "text": _fast_text, "integer": _fast_integer, "number": _fast_number,
    "date": _fast_date, "datetime": _fast_datetime, "label": _fast_label}
