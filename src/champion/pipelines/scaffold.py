"""`init --data`: a project for a user's own data file, its settings read off the data.

A newcomer's first step is a `champion.toml` that describes their file. This reads the file
(delimited text of any common separator, or Parquet), infers each column's type and whether
it may be empty, and from the target column the task: a date column named by `--time` makes a
forecaster; a numeric target with many values a regressor; anything else a classifier whose
labels are the values seen. It then picks the recipe, the row identity and the features, and
writes a commented `champion.toml` next to a copy of the file. Every guess is printed and
written as a comment, so the user can correct it; nothing is hidden.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from champion.data.formats import CANDIDATES, PARQUET_SUFFIXES, TAB_SUFFIXES, describe_delimiter
from champion.errors import UsageError

MAX_LABELS = 50
"""A target with more distinct values than this is numeric (regression) or refused."""
REGRESSION_MIN_VALUES = 20
"""A numeric target with at least this many distinct values is predicted as a number."""
_TEXT_MEAN_CHARS = 20
_TEXT_MEAN_WORDS = 3.0
_ID_NAME = re.compile(r"(^|[^a-z])id($|[^a-z])|_id$|^id|id$", re.IGNORECASE)
_HORIZONS = {"h": 24, "D": 7, "B": 5, "W": 4, "MS": 6, "ME": 6, "QS": 4, "QE": 4, "YS": 2, "YE": 2}


@dataclass
class Column:
    name: str
    type: str
    nullable: bool
    distinct: int
    note: str = ""
    words: float = 0.0
    """Mean words per value (free text has several)."""


@dataclass
class Scaffold:
    """What was inferred, and the files written."""

    project: Path
    model: str
    task: str
    recipe: str
    target: str
    columns: list[Column]
    features: list[str]
    id: list[str]
    labels: list[Any] = field(default_factory=list)
    time: str | None = None
    frequency: str | None = None
    horizon: int = 0
    golden_periods: int = 0
    delimiter: str | None = None
    data_file: str = ""
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"project": str(self.project), "model": self.model, "task": self.task, "recipe": self.recipe,
                "target": self.target, "features": self.features, "id": self.id, "labels": self.labels,
                "time": self.time, "frequency": self.frequency, "delimiter": self.delimiter,
                "data_file": self.data_file, "notes": self.notes,
                "columns": [{"name": c.name, "type": c.type, "nullable": c.nullable, "distinct": c.distinct,
                             "note": c.note} for c in self.columns]}


def scaffold(folder: Path, data_file: Path, target: str, time: str | None = None, model: str | None = None,
             ports: tuple[int, int] = (8601, 8600)) -> Scaffold:
    """Write a project for `data_file` into the new or empty `folder`; `UsageError` when the
    file cannot be read or the target cannot be modelled."""
    frame, delimiter = _read(data_file)
    if target not in frame.columns:
        raise UsageError(f"{data_file}: no column {target!r} to predict (columns: {', '.join(map(repr, frame.columns))})")
    if time is not None and time not in frame.columns:
        raise UsageError(f"{data_file}: no time column {time!r} (columns: {', '.join(map(repr, frame.columns))})")
    columns = {name: _column(name, frame[name]) for name in frame.columns}
    name = model or _model_name(target)
    result = (_forecaster if time else _row_model)(folder, name, frame, columns, target, time)
    result.delimiter = delimiter
    result.data_file = f"data/initial/{data_file.name}"
    _write(result, data_file, ports)
    return result


# ---- reading -------------------------------------------------------------------------------------
def _read(path: Path) -> tuple[pd.DataFrame, str | None]:
    """Every value as text (Parquet as its own types, then as text); the separator when it is
    not the one the file's name implies."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    try:
        if path.suffix.lower() in PARQUET_SUFFIXES:
            frame = pd.read_parquet(path)
            return frame.astype(object).where(frame.notna(), None).map(_text), None
        with open(path, encoding="utf-8-sig", newline="") as handle:
            sample = handle.read(65_536)
        delimiter = _sniff(sample, "\t" if path.suffix.lower() in TAB_SUFFIXES else ",")
        frame = pd.read_csv(path, sep=delimiter, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise UsageError(f"{path}: cannot be read as a data table: {exc}") from None
    if frame.empty:
        raise UsageError(f"{path}: has no data rows")
    default = "\t" if path.suffix.lower() in TAB_SUFFIXES else ","
    return frame.rename(columns=str.strip), (delimiter if delimiter != default else None)


def _sniff(sample: str, default: str) -> str:
    lines = [line for line in sample.splitlines()[:20] if line.strip()]
    if not lines:
        return default

    def fields(delimiter: str) -> list[int]:
        return [len(row) for row in csv.reader(lines, delimiter=delimiter)]

    best, best_width = default, 1
    for delimiter in (default, *CANDIDATES):
        widths = fields(delimiter)
        if len(set(widths[:-1] or widths)) == 1 and widths[0] > best_width:
            best, best_width = delimiter, widths[0]
    return best


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


# ---- types ---------------------------------------------------------------------------------------
def _column(name: str, values: pd.Series) -> Column:
    present = [v.strip() for v in values.tolist() if isinstance(v, str) and v.strip()]
    nullable = len(present) < len(values)
    distinct = len(set(present))
    if not present:
        return Column(name, "string", True, 0, "always empty")
    for kind, check in (("integer", _is_int), ("number", _is_number), ("date", _is_date), ("datetime", _is_datetime)):
        if all(check(v) for v in present):
            return Column(name, kind, nullable, distinct)
    chars = sum(len(v) for v in present) / len(present)
    words = sum(len(v.split()) for v in present) / len(present)
    if chars > _TEXT_MEAN_CHARS and words >= _TEXT_MEAN_WORDS:
        return Column(name, "text", nullable, distinct, "free text", words)
    return Column(name, "string", nullable, distinct, words=words)


def _is_int(value: str) -> bool:
    return re.fullmatch(r"[+-]?\d+", value) is not None and abs(int(value)) < 2**63


def _is_number(value: str) -> bool:
    try:
        number = float(value)
    except ValueError:
        return False
    return number == number and abs(number) != float("inf")


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
        return len(value) <= 10
    except ValueError:
        return False


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
        return True
    except ValueError:
        return False


# ---- the model ----------------------------------------------------------------------------------
def _row_model(folder: Path, name: str, frame: pd.DataFrame, columns: dict[str, Column], target: str,
               time: str | None) -> Scaffold:
    spec = columns[target]
    if spec.nullable:
        raise UsageError(f"the target column {target!r} has empty values: every training row needs one")
    identity = _identity(frame, columns, target)
    candidates = [c for c in columns if c != target and c not in identity]
    numeric = spec.type in ("integer", "number")
    notes: list[str] = []
    labels: list[Any]
    if numeric and (spec.type == "number" or spec.distinct >= REGRESSION_MIN_VALUES):
        task, labels = "regression", []
    elif spec.distinct <= MAX_LABELS:
        task = "classification"
        values = sorted({v.strip() for v in frame[target]})
        labels = sorted(int(v) for v in values) if spec.type == "integer" else values
        spec.type = "label"
        if len(labels) < 2:
            raise UsageError(f"the target column {target!r} holds one value ({labels[0]!r}): nothing to learn")
    else:
        raise UsageError(f"the target column {target!r} holds {spec.distinct} different texts: too many for "
                         f"classes (at most {MAX_LABELS}); is it the column to predict?")
    # The wordiest text first: the one a text classifier reads.
    texts = sorted((c for c in candidates if columns[c].type == "text"), key=lambda c: -columns[c].words)
    others = [c for c in candidates if columns[c].type != "text" and not _identifier_like(columns[c], len(frame))]
    for c in candidates:
        if c not in texts and c not in others:
            columns[c].note = "almost every value differs: left out of the features (an identifier?)"
    if task == "classification" and len(texts) == 1 and not others:
        recipe, features = "text-classifier", texts
    elif task == "classification" and texts and not others:
        recipe, features = "text-classifier", texts[:1]
        notes.append(f"text-classifier reads one text column: {texts[0]!r}; the others are not features")
    else:
        recipe = "tabular-classifier" if task == "classification" else "tabular-regressor"
        features = others
        for c in texts:
            columns[c].note = "free text: not a feature of a tabular recipe"
        if not features:
            raise UsageError(f"no column other than {target!r} can be a feature of a {task} model")
    return Scaffold(folder, name, task, recipe, target, list(columns.values()), features, identity, labels,
                    notes=notes)


def _forecaster(folder: Path, name: str, frame: pd.DataFrame, columns: dict[str, Column], target: str,
                time: str | None) -> Scaffold:
    assert time is not None
    if columns[time].type not in ("date", "datetime"):
        raise UsageError(f"the time column {time!r} must hold ISO dates (YYYY-MM-DD), not {columns[time].type}")
    if columns[target].type not in ("integer", "number"):
        raise UsageError(f"a forecaster predicts numbers: {target!r} holds {columns[target].type} values")
    dates = pd.DatetimeIndex(pd.to_datetime(frame[time])).sort_values()
    frequency = pd.infer_freq(dates) if len(dates) >= 3 else None
    if frequency is None:
        raise UsageError(f"the dates of {time!r} follow no regular frequency (or have gaps); a forecaster "
                         "needs one value per period")
    for c in columns:
        if c not in (time, target):
            columns[c].note = "not used by a forecaster"
    horizon = _HORIZONS.get(re.sub(r"^\d+|-.*$", "", str(frequency)), 7)
    # Six horizons of golden periods resolve smaller gains (docs/benchmarks.md); a short series
    # keeps at least twice the horizon, what the gate's test needs, and most of it for training.
    periods = max(2 * horizon, min(6 * horizon, len(dates) // 4))
    if len(dates) <= periods + 2 * horizon:
        raise UsageError(f"{len(dates)} periods are too few to forecast {horizon} ahead and hold "
                         f"{periods} back as a golden set")
    return Scaffold(folder, name, "forecasting", "forecaster", target, list(columns.values()), [], [],
                    time=time, frequency=str(frequency), horizon=horizon, golden_periods=periods)


def _identity(frame: pd.DataFrame, columns: dict[str, Column], target: str) -> list[str]:
    """A column whose values are all present and all different, or named like an id and
    nearly all different (repeats are then duplicate rows, which champion reports and skips)."""
    keys = [c for c, spec in columns.items() if c != target and not spec.nullable and spec.type in ("string", "integer")]
    unique = [c for c in keys if columns[c].distinct == len(frame)]
    named = [c for c in keys if _ID_NAME.search(c) and columns[c].distinct >= 0.95 * len(frame)]
    return ([c for c in unique if c in named] or named or unique)[:1]


def _identifier_like(column: Column, rows: int) -> bool:
    return column.type == "string" and rows >= 50 and column.distinct > 0.9 * rows


def _model_name(target: str) -> str:
    """A name for URLs and commands: ASCII letters, digits and '-' ("Prix (€)" -> "prix")."""
    ascii_only = unicodedata.normalize("NFKD", target).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", ascii_only.strip().lower()).strip("-")
    return name or "model"


# ---- writing -------------------------------------------------------------------------------------
def _write(result: Scaffold, data_file: Path, ports: tuple[int, int]) -> None:
    folder = result.project
    if (folder / "champion.toml").exists():
        raise UsageError(f"{folder} already holds a champion.toml; choose another folder")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UsageError(f"{folder} is not an empty folder; init creates projects in new or empty folders")
    (folder / "data" / "initial").mkdir(parents=True)
    (folder / "data" / "incoming").mkdir()
    shutil.copyfile(data_file, folder / result.data_file)
    (folder / "champion.toml").write_text(_toml(result, ports), encoding="utf-8")


def _q(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _toml(r: Scaffold, ports: tuple[int, int]) -> str:
    name = r.model
    lines = [f"# A champion project written by `champion init --data` from {Path(r.data_file).name}.",
             "# Every setting below was read off the data: check it, then run `champion build`.",
             "# Reference: champion's README (\"champion.toml\").", "",
             "[project]", f"name = {_q(name)}", "", f"[models.{name}]",
             f"recipe = {_q(r.recipe)}   # {r.task}", f"data = [{_q('data/initial/*' + Path(r.data_file).suffix)}]",
             'incoming = "data/incoming"']
    if r.delimiter is not None:
        lines.append(f"delimiter = {_q(r.delimiter)}   # the file is {describe_delimiter(r.delimiter)}")
    lines.append(f"target = {_q(r.target)}")
    if r.task == "forecasting":
        lines += [f"time = {_q(r.time)}", f"frequency = {_q(r.frequency)}   # inferred from the dates"]
    else:
        lines.append(f"features = [{', '.join(_q(f) for f in r.features)}]")
        if r.labels:
            lines.append(f"labels = [{', '.join(_q(v) for v in r.labels)}]")
        if r.id:
            lines.append(f"id = [{', '.join(_q(c) for c in r.id)}]   # every value differs: the row's identity")
        else:
            lines.append(f"split_by = [{', '.join(_q(f) for f in r.features)}]   # no identity column: the golden "
                         "split hashes the features")
    lines += ["", f"[models.{name}.columns]"]
    for column in r.columns:
        spec = _q(column.type) if not column.nullable else f"{{ type = {_q(column.type)}, nullable = true }}"
        note = f"   # {column.note}" if column.note else ""
        lines.append(f"{_q(column.name)} = {spec}{note}")
    if r.task == "forecasting":
        lines += ["", f"[models.{name}.golden]", f"periods = {r.golden_periods}   # the last periods, never trained on",
                  f"horizon = {r.horizon}   # forecast this many periods from each origin in them"]
    lines += ["", "[environments.staging]", f"port = {ports[0]}", "", "[environments.production]",
              f"port = {ports[1]}", "workers = 2", ""]
    return "\n".join(lines)
