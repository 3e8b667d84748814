"""Read one data file strictly: every problem names the file, row, line and column.

Rows are numbered from 1 after the header, as a spreadsheet user counts records; `line` is
the physical line in the file where the record starts (quoted text may span lines).
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from champion.config import ColumnSpec, ModelSettings
from champion.data.keys import row_keys
from champion.errors import DataError

MAX_PROBLEMS_SHOWN = 5


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one cell or row."""

    row: int | None
    line: int | None
    column: str | None
    message: str

    def as_error(self, file: Path) -> DataError:
        return DataError(self.message, file=file, row=self.row, line=self.line, column=self.column)


@dataclass(frozen=True)
class Duplicate:
    """A row whose identity was already seen (kept: the first one)."""

    row: int
    line: int
    first_row: int
    key: str
    same_content: bool


@dataclass
class ValidatedFile:
    """A file that passed validation, with its typed rows."""

    path: Path
    sha256: str
    frame: pd.DataFrame
    duplicates: list[Duplicate] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.frame)


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
    column = f", column {problem.column!r}" if problem.column else ""
    return f"row {problem.row}{column}: {problem.message}"


def read_data_file(path: Path, model: ModelSettings) -> ValidatedFile:
    """Validate `path` against the model's columns and return its typed rows.

    Raises `DataError` naming file, row and column for: a missing or empty file, text that is
    not UTF-8, missing columns, empty cells, values of the wrong type, unknown labels,
    unparseable dates, identity conflicts and gaps in a time series.
    """
    raw = _read_bytes(path)
    text = _decode(path, raw)
    header, records = _parse_csv(path, text)
    _check_header(path, header, model)
    if not records:
        raise DataError("the file has a header but no data rows", file=path)

    index = {name: header.index(name) for name in model.columns}
    values: dict[str, list[Any]] = {name: [] for name in model.columns}
    problems: list[Problem] = []
    for row, line, cells in records:
        if len(cells) != len(header):
            problems.append(Problem(row, line, None, f"has {len(cells)} fields, the header has {len(header)}"))
            continue
        for name, spec in model.columns.items():
            value, problem = _convert(cells[index[name]], spec, model)
            if problem:
                problems.append(Problem(row, line, name, problem))
            values[name].append(value)
    if problems:
        raise FileProblems(path, problems)

    frame = _frame(values, model, records)
    duplicates = _duplicates(path, frame, model)
    if model.time:
        frame = frame.sort_values(model.time, kind="stable")
        check_continuous(frame, model, path)
    return ValidatedFile(path=path, sha256=hashlib.sha256(raw).hexdigest(), frame=frame, duplicates=duplicates)


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError("file not found", file=path) from None
    except IsADirectoryError:
        raise DataError("is a folder, not a data file", file=path) from None
    except OSError as exc:
        raise DataError(f"cannot be read: {exc.strerror}", file=path) from None
    if not raw.strip():
        raise DataError("the file is empty", file=path)
    return raw


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        bad = raw[exc.start : exc.start + 1].hex()
        raise DataError(
            f"not valid UTF-8 text (byte 0x{bad} at offset {exc.start}); save the file as UTF-8",
            file=path,
            line=line,
        ) from None


def _parse_csv(path: Path, text: str) -> tuple[list[str], list[tuple[int, int, list[str]]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise DataError(f"no CSV header: {exc}", file=path) from None
    records: list[tuple[int, int, list[str]]] = []
    start = reader.line_num + 1
    try:
        for cells in reader:
            if cells or reader.line_num != start:  # skip blank lines
                if any(cell.strip() for cell in cells):
                    records.append((len(records) + 1, start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise DataError(f"broken CSV: {exc}", file=path, row=len(records) + 1, line=start) from None
    return [h.strip() for h in header], records


def _check_header(path: Path, header: list[str], model: ModelSettings) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen and name in model.columns:
            raise DataError("column appears twice in the header", file=path, column=name)
        seen.add(name)
    missing = [name for name in model.columns if name not in seen]
    if missing:
        raise DataError(
            f"required column{'s' if len(missing) > 1 else ''} missing: {', '.join(missing)}"
            f" (header has: {', '.join(header)})",
            file=path,
            column=missing[0],
        )


def _convert(cell: str, spec: ColumnSpec, model: ModelSettings) -> tuple[Any, str | None]:
    """Return (value, None) or (None, what is wrong)."""
    if spec.type not in ("text", "string"):
        cell = cell.strip()
    if cell == "" or (spec.type not in ("text", "string") and cell.lower() in ("nan", "null", "none")):
        return (None, None) if spec.nullable else (None, "empty value")
    try:
        match spec.type:
            case "string" | "text":
                if "\x00" in cell:
                    return None, "contains a NUL character"
                return cell, None
            case "integer":
                return int(cell), None
            case "number":
                value = float(cell)
                if value != value or value in (float("inf"), float("-inf")):
                    return None, f"{cell!r} is not a finite number"
                return value, None
            case "date":
                return date.fromisoformat(cell), None
            case "datetime":
                return datetime.fromisoformat(cell), None
            case "label":
                return _label(cell, model)
    except ValueError:
        expected = {"integer": "an integer", "number": "a number",
                    "date": "a date (YYYY-MM-DD)", "datetime": "a date-time (ISO 8601)"}[spec.type]
        return None, f"{cell!r} is not {expected}"
    raise AssertionError(f"unhandled column type {spec.type}")  # pragma: no cover


def _label(cell: str, model: ModelSettings) -> tuple[Any, str | None]:
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
    return None, f"label {cell!r} is not one of {list(model.labels)}"


def _frame(values: dict[str, list[Any]], model: ModelSettings, records: list[tuple[int, int, list[str]]]) -> pd.DataFrame:
    frame = pd.DataFrame(values)
    for name, spec in model.columns.items():
        if spec.type in ("date", "datetime"):
            frame[name] = pd.to_datetime(frame[name], errors="raise", format="mixed")
        elif spec.type == "number":
            frame[name] = frame[name].astype("float64")
        elif spec.type == "integer" and not spec.nullable:
            frame[name] = frame[name].astype("int64")
        elif spec.type in ("string", "text"):
            frame[name] = frame[name].astype(object)
    frame.attrs["row"] = [r for r, _, _ in records]
    frame.attrs["line"] = [line for _, line, _ in records]
    return frame


def identity_keys(frame: pd.DataFrame, model: ModelSettings) -> pd.Series:
    """One string per row that identifies it (the `id` columns, or the time column)."""
    return row_keys(frame, model.id or ([model.time] if model.time else []))


def _duplicates(path: Path, frame: pd.DataFrame, model: ModelSettings) -> list[Duplicate]:
    keys = identity_keys(frame, model)
    rows, lines = frame.attrs["row"], frame.attrs["line"]
    first_seen: dict[str, int] = {}
    found: list[Duplicate] = []
    for position, key in enumerate(keys):
        if key not in first_seen:
            first_seen[key] = position
            continue
        first = first_seen[key]
        same = frame.iloc[position].equals(frame.iloc[first])
        if not same and model.target in frame and frame.iloc[position][model.target] != frame.iloc[first][model.target]:
            raise DataError(
                f"row {rows[first]} has the same identity ({key}) with another {model.target} value",
                file=path, row=rows[position], line=lines[position], column=model.target,
            )
        found.append(Duplicate(rows[position], lines[position], rows[first], key, same))
    return found


def _off_grid_message(times: pd.DatetimeIndex, frequency: str) -> str:
    """No date on the frequency's grid: weekly data on Saturdays with `W` (weeks ending on
    Sunday), month starts with `ME`. Name the frequency the dates do follow."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3 announces that it will return an offset
        inferred = pd.infer_freq(times) if len(times) >= 3 else None
    hint = f"; they follow {str(inferred)!r}: set frequency = \"{inferred}\"" if inferred else ""
    return (f"no date is on the {frequency!r} grid (the first is {times[0].date()}, "
            f"a {times[0].day_name()}){hint}")


def check_continuous(frame: pd.DataFrame, model: ModelSettings, path: Path | str) -> None:
    """Raise if a time series misses a period of the model's frequency."""
    if model.time is None:
        return
    times = pd.DatetimeIndex(frame[model.time]).unique()
    if len(times) < 2:
        return
    expected = pd.date_range(times[0], times[-1], freq=model.frequency)
    if not times.isin(expected).any():
        raise DataError(_off_grid_message(times, model.frequency), file=path, column=model.time)
    missing = expected.difference(times)
    if len(missing):
        after = times[times < missing[0]][-1]
        label = frame.index[(frame[model.time] == after).to_numpy()][-1]
        rows = frame.attrs.get("row")
        raise DataError(
            f"gap in the time series: {len(missing)} missing period(s) at frequency "
            f"{model.frequency!r}, the first is {missing[0].date()} (the row before it is {after.date()})",
            file=path, row=rows[int(label)] if rows else None, column=model.time,
        )
    off_grid = times.difference(expected)
    if len(off_grid):
        raise DataError(
            f"time {off_grid[0]} is not on the {model.frequency!r} grid starting {times[0].date()}",
            file=path, column=model.time,
        )
