"""Read one data file strictly: every problem names the file, row, line and column.

A file is delimited text (CSV, TSV, any separator: `delimited`) or Parquet (`parquet`), by
its name (`formats`); both give the declared columns as the same Python values, so the typed
frame built here is the same whatever the format. Rows are numbered from 1 after the header,
as a spreadsheet user counts records; `line` is the physical line in a text file where the
record starts (quoted text may span lines), None in a Parquet file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from champion.config import ModelSettings
from champion.data import formats
from champion.data.columns import FileProblems, Problem, ReadColumns
from champion.data.delimited import decode, header_names, read_delimited
from champion.data.keys import row_keys
from champion.data.parquet import column_names, read_parquet
from champion.errors import DataError

__all__ = ["Duplicate", "FileProblems", "Problem", "ValidatedFile", "check_continuous", "identity_keys",
           "read_data_file", "read_header", "refuse_links"]


@dataclass(frozen=True)
class Duplicate:
    """A row whose identity was already seen (kept: the first one)."""

    row: int
    line: int | None
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


def read_data_file(path: Path, model: ModelSettings, model_name: str | None = None) -> ValidatedFile:
    """Validate `path` against the model's columns and return its typed rows.

    Raises `DataError` naming file, row and column for: a missing or empty file, text that is
    not UTF-8 (or a file of another kind: the message says which), a separator other than
    the model's (the message says which), missing columns, empty cells, values of the wrong
    type, unknown labels, unparseable dates, identity conflicts and gaps in a time series.
    `model_name` only makes messages name the settings to change (`[models.NAME]`).
    """
    raw = _read_bytes(path)
    if formats.is_parquet(path):
        columns = read_parquet(path, raw, model, model_name)
    else:
        columns = read_delimited(path, raw, model, model_name)
    frame = _frame(columns, model)
    duplicates = _duplicates(path, frame, model)
    if model.time:
        frame = frame.sort_values(model.time, kind="stable")
        check_continuous(frame, model, path)
    return ValidatedFile(path=path, sha256=hashlib.sha256(raw).hexdigest(), frame=frame, duplicates=duplicates)


def read_header(path: Path, model: ModelSettings) -> list[str]:
    """The column names of a data file of any format, or [] when it cannot be read (reading
    the file with `read_data_file` then says why)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return []
    if formats.is_parquet(path):
        return column_names(raw)
    try:
        text = decode(path, raw)
    except DataError:
        return []
    return header_names(text, formats.text_delimiter(path, model))


def refuse_links(paths: list[Path]) -> None:
    """Files handed in from outside (`ingest`, `feedback`, the incoming folder) must be files,
    not symbolic links: a link could point anywhere (a system file), and a message quoting
    what the file holds would show it."""
    for path in paths:
        if Path(path).is_symlink():
            raise DataError("is a symbolic link; pass the file it points to", file=path)


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


def _frame(columns: ReadColumns, model: ModelSettings) -> pd.DataFrame:
    frame = pd.DataFrame(columns.values)
    for name, spec in model.columns.items():
        if spec.type in ("date", "datetime"):
            frame[name] = _times(frame[name])
        elif spec.type == "number":
            frame[name] = frame[name].astype("float64")
        elif spec.type == "integer" and not spec.nullable:
            frame[name] = frame[name].astype("int64")
        elif spec.type in ("string", "text"):
            frame[name] = frame[name].astype(object)
    frame.attrs["row"] = columns.rows
    frame.attrs["line"] = columns.lines
    return frame


def _times(values: pd.Series) -> pd.Series:
    try:
        return pd.to_datetime(values, errors="raise", format="mixed")
    except ValueError:
        # Every value has a time zone (mixing aware and naive ones is refused earlier), but
        # not all the same offset, e.g. summer and winter time: one column in UTC.
        return pd.to_datetime(values, errors="raise", format="mixed", utc=True)


def identity_keys(frame: pd.DataFrame, model: ModelSettings) -> pd.Series:
    """One string per row that identifies it (the `id` columns, or the time column)."""
    return row_keys(frame, model.id or ([model.time] if model.time else []))


def _duplicates(path: Path, frame: pd.DataFrame, model: ModelSettings) -> list[Duplicate]:
    keys = identity_keys(frame, model)
    repeated = keys.duplicated().to_numpy()
    if not repeated.any():
        return []
    rows, lines = frame.attrs["row"], frame.attrs["line"]
    positions = pd.Series(range(len(keys))).groupby(keys.to_numpy(), dropna=False).transform("first").to_numpy()
    found: list[Duplicate] = []
    for position in repeated.nonzero()[0].tolist():
        first, key = int(positions[position]), keys.iloc[position]
        same = frame.iloc[position].equals(frame.iloc[first])
        if not same and model.target in frame and not _same(frame[model.target].iloc[position],
                                                            frame[model.target].iloc[first]):
            raise DataError(
                f"row {rows[first]} has the same identity ({key}) with another {model.target} value",
                file=path, row=rows[position], line=lines[position], column=model.target,
            )
        found.append(Duplicate(rows[position], lines[position], rows[first], key, same))
    return found


def _same(a: Any, b: Any) -> bool:
    return bool(a == b) or (pd.isna(a) and pd.isna(b))


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
    empty = frame[model.time].isna().to_numpy()
    if empty.any():
        rows = frame.attrs.get("row")
        label = int(frame.index[empty][0])
        raise DataError("a time series needs a date in every row", file=path,
                        row=rows[label] if rows else None, column=model.time)
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
