"""A model's dataset: its declared files plus the files ingested since, deduplicated."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

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


@dataclass
class Dataset:
    """The typed, deduplicated rows a model is trained and evaluated on."""

    frame: pd.DataFrame
    files: list[DataFileRecord]
    duplicates_dropped: int

    @property
    def rows(self) -> int:
        return len(self.frame)


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
    return Dataset(deduplicated, records, int((~first).sum()))


def load_dataset(root: Path, model_name: str, model: ModelSettings, ingested: list[Path]) -> Dataset:
    """Read and validate every file of the model's dataset."""
    paths = declared_files(root, model_name, model) + [p for p in ingested]
    return assemble([read_data_file(p, model) for p in paths], model, root)


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
