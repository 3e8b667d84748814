"""A model's dataset: its declared files plus the files ingested since, deduplicated."""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from champion.config import ModelSettings
from champion.data.validation import ValidatedFile, check_continuous, identity_keys, read_data_file
from champion.errors import ConfigError, DataError


@dataclass(frozen=True)
class DataFileRecord:
    """One file of a dataset, as recorded in runs and in the state store."""

    path: str
    sha256: str
    rows: int

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "sha256": self.sha256, "rows": self.rows}


@dataclass(frozen=True)
class SkippedRow:
    """A row left out of a dataset: an earlier row (of its file or an earlier file) has its
    identity. Files are read in order: declared files, then ingested ones."""

    file: str
    row: int
    line: int | None
    identity: str
    first_file: str
    first_row: int

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "row": self.row, "line": self.line, "identity": self.identity,
                "first_seen": {"file": self.first_file, "row": self.first_row}}


@dataclass
class Dataset:
    """The typed, deduplicated rows a model is trained and evaluated on."""

    frame: pd.DataFrame
    files: list[DataFileRecord]
    duplicates_dropped: int
    skipped: list[SkippedRow] = field(default_factory=list)
    """The dropped rows, in file order (`duplicates_dropped` of them)."""

    @property
    def rows(self) -> int:
        return len(self.frame)

    def duplicates_document(self, listed: int = 100) -> dict[str, object]:
        """The skipped rows counted by file, and the first `listed` of them, for documents."""
        by_file: dict[str, int] = {}
        for skipped in self.skipped:
            by_file[skipped.file] = by_file.get(skipped.file, 0) + 1
        return {"duplicates_by_file": by_file, "duplicates": [s.as_dict() for s in self.skipped[:listed]]}


def declared_files(root: Path, model_name: str, model: ModelSettings) -> list[Path]:
    """Expand the model's `data` patterns (relative to the project) into sorted files."""
    files: list[Path] = []
    for pattern in model.data:
        matches = sorted(Path(p) for p in glob.glob(str(root / pattern)))
        if not matches:
            raise ConfigError(f"models.{model_name}.data: {pattern!r} matches no file in {root}")
        files.extend(m for m in matches if m not in files)
    return files


def assemble(files: list[ValidatedFile], model: ModelSettings, root: Path) -> Dataset:
    """Concatenate validated files; drop rows whose identity an earlier file already had."""
    if not files:
        raise DataError("the model has no data files")
    frames = [f.frame.assign(_file=_relative(f.path, root)) for f in files]
    frame = pd.concat(frames, ignore_index=True)
    keys = identity_keys(frame, model)
    first = ~keys.duplicated(keep="first")
    _reject_conflicts(frame, keys, model)
    deduplicated = frame[first.to_numpy()].drop(columns="_file").reset_index(drop=True)
    deduplicated.attrs.clear()  # per-file row numbers do not index the combined frame
    if model.time:
        deduplicated = deduplicated.sort_values(model.time, kind="stable").reset_index(drop=True)
        check_continuous(deduplicated, model, "the combined data")
    records = [DataFileRecord(_relative(f.path, root), f.sha256, f.rows) for f in files]
    skipped = _skipped(files, frame, keys, (~first).to_numpy()) if not first.all() else []
    return Dataset(deduplicated, records, len(skipped), skipped)


def _skipped(files: list[ValidatedFile], frame: pd.DataFrame, keys: pd.Series, dropped: np.ndarray) -> list[SkippedRow]:
    """Where each dropped row of the concatenated `frame` was, and where its identity was first."""
    rows: list[int] = []
    lines: list[int | None] = []
    for f in files:  # a file's frame may be sorted (time series): its index labels its rows
        numbers, starts = f.frame.attrs["row"], f.frame.attrs["line"]
        for label in f.frame.index.tolist():
            rows.append(numbers[label])
            lines.append(starts[label])
    first = pd.Series(np.arange(len(keys))).groupby(keys.to_numpy(), dropna=False).transform("first").to_numpy()
    names = frame["_file"].to_numpy()
    return [SkippedRow(str(names[i]), int(rows[i]), lines[i], str(keys.iloc[i]), str(names[first[i]]),
                       int(rows[first[i]])) for i in dropped.nonzero()[0].tolist()]


def load_dataset(root: Path, model_name: str, model: ModelSettings, ingested: list[Path]) -> Dataset:
    """Read and validate every file of the model's dataset."""
    paths = declared_files(root, model_name, model) + [p for p in ingested]
    return assemble([read_data_file(p, model, model_name) for p in paths], model, root)


def _reject_conflicts(frame: pd.DataFrame, keys: pd.Series, model: ModelSettings) -> None:
    """Two rows with one identity but different targets cannot both be true."""
    dupes = keys.duplicated(keep=False)
    if not dupes.any():
        return
    subset = frame[dupes.to_numpy()].assign(_key=keys[dupes].to_numpy())
    for key, group in subset.groupby("_key", sort=False):
        values = group[model.target]
        if values.nunique(dropna=False) > 1:
            files = sorted(set(group["_file"]))
            raise DataError(
                f"rows with identity {key!r} disagree on {model.target!r} "
                f"({', '.join(map(str, values.unique()))}) in {', '.join(files)}",
                file=files[-1],
                column=model.target,
            )


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
