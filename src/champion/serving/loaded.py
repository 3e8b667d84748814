"""A model version ready to serve: its recipe, its input contract and a self-test."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from champion.errors import RegistryError
from champion.recipes.base import Classifier, Forecaster, Recipe, Regressor

Rows = dict[str, list[Any]]
"""Classifier input: one list of values per input column, all of one length."""

MAX_STEPS = 3660
"""Longest forecast one request may ask for (ten years of days)."""


@dataclass(frozen=True)
class InputColumn:
    """One input of the model's signature."""

    name: str
    kind: str
    """A declared column type: `text`, `string`, `label` (strings), `integer`, `number`, `date`,
    `datetime` (ISO text)."""
    nullable: bool = False
    """Whether a row may leave it empty (null)."""


@dataclass
class LoadedModel:
    """One version of one model, loaded, hash-checked and self-tested; immutable once served."""

    name: str
    version: int
    run_id: str
    recipe: Recipe
    columns: list[InputColumn]
    sha256: str
    recipe_spec: str
    loaded_at: float = field(default_factory=time.time)

    @property
    def task(self) -> str:
        return self.recipe.task

    @property
    def classes(self) -> list[Any]:
        recipe = self.recipe
        return [_plain(c) for c in recipe.classes_] if isinstance(recipe, Classifier) else []

    def predict_rows(self, rows: Rows) -> tuple[np.ndarray, np.ndarray]:
        """Labels and class probabilities (one column per class) of a classifier's rows; a
        regressor's values, with no probabilities (an n x 0 array)."""
        recipe = self.recipe
        if isinstance(recipe, Forecaster):
            raise TypeError(f"{self.name} is a forecaster; ask it for steps")
        frame = pd.DataFrame({c.name: _column(rows[c.name], c.kind) for c in self.columns}, copy=False)
        if isinstance(recipe, Regressor):
            values = np.asarray(recipe.predict(frame), dtype=float).reshape(-1)
            if len(values) != len(frame) or not np.all(np.isfinite(values)):
                raise ValueError(f"{self.name}.predict gave {len(values)} values for {len(frame)} rows, "
                                 "or values that are not finite")
            return values, np.empty((len(values), 0))
        assert isinstance(recipe, Classifier)
        proba = np.asarray(recipe.predict_proba(frame), dtype=float)
        return recipe.classes_[np.argmax(proba, axis=1)], proba

    def forecast(self, steps: int) -> tuple[list[str], np.ndarray]:
        """The next `steps` periods after the model's history: their dates and forecasts."""
        recipe = self.recipe
        if not isinstance(recipe, Forecaster):
            raise TypeError(f"{self.name} is a classifier; send it rows")
        values = np.asarray(recipe.forecast(recipe.history_, steps), dtype=float)
        return [t.isoformat() for t in recipe.future_dates(steps)], values

    def self_test(self, example: Any) -> None:
        """Predict the input example logged with the version; `RegistryError` if the answer is
        not a well-formed prediction (so a broken version is never switched in)."""
        try:
            if self.task == "forecasting":
                steps = _example_steps(example)
                _, values = self.forecast(steps)
                if len(values) != steps or not np.all(np.isfinite(values)):
                    raise ValueError(f"forecast of {steps} steps gave {values[:5]}...")
                return
            rows = example if isinstance(example, pd.DataFrame) else None
            if rows is None or rows.empty:
                rows = pd.DataFrame({c.name: ["self-test"] if c.kind in ("text", "string") else [0]
                                     for c in self.columns})
            labels, proba = self.predict_rows({c.name: _example_values(rows[c.name]) for c in self.columns})
            if self.task == "regression":
                if len(labels) != len(rows) or not np.all(np.isfinite(labels)):
                    raise ValueError(f"{len(labels)} values for {len(rows)} rows: {labels[:3]}")
                return
            sums = proba.sum(axis=1)
            if proba.shape != (len(rows), len(self.classes)) or not np.all(np.isfinite(proba)) \
                    or not np.allclose(sums, 1.0, atol=1e-6) or len(labels) != len(rows):
                raise ValueError(f"probabilities of shape {proba.shape} summing to {sums[:3]}")
        except RegistryError:
            raise
        except Exception as exc:  # any failure of user code means: do not serve this version
            raise RegistryError(f"{self.name} version {self.version} failed its self-test: "
                                f"{type(exc).__name__}: {exc}") from None


def _column(values: list[Any], kind: str) -> np.ndarray:
    """One input column as the recipe saw it in training (strings as objects, dates as
    datetime64, numbers as floats with NaN for a missing value)."""
    if kind in ("text", "string", "label"):
        return np.asarray(values, dtype=object)
    if kind in ("date", "datetime"):
        return pd.to_datetime(pd.Series(values, dtype=object), errors="coerce", format="mixed").to_numpy()
    if any(v is None for v in values):
        return np.asarray([np.nan if v is None else v for v in values], dtype=float)
    return np.asarray(values)


def _example_values(column: pd.Series) -> list[Any]:
    """An input example's column as JSON would bring it (dates as ISO text, NaN as None)."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return [None if pd.isna(v) else v.isoformat() for v in column]
    return [None if (isinstance(v, float) and v != v) else v for v in column.tolist()]


def row_count(rows: Rows) -> int:
    return len(next(iter(rows.values()))) if rows else 0


def text_lengths(rows: Rows) -> list[int]:
    """Characters of text per row, all columns together; [] when no column holds text (the
    request limits and the batcher's pieces are both measured in these)."""
    lengths: list[int] = []
    for values in rows.values():
        if not any(isinstance(v, str) for v in values):
            continue
        column = [len(v) if isinstance(v, str) else 0 for v in values]
        lengths = column if not lengths else [a + b for a, b in zip(lengths, column, strict=True)]
    return lengths


def _example_steps(example: Any) -> int:
    if isinstance(example, pd.DataFrame) and "steps" in example and len(example):
        return int(example["steps"].iloc[0])
    return 1


def _plain(value: Any) -> Any:
    """numpy scalars as JSON-ready Python values."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value
