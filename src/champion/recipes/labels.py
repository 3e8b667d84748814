"""Class labels of any type the config allows (int, str, or a mix), kept exactly.

The estimators underneath learn integer codes 0..k-1; the recipe keeps the labels themselves
in `classes_`, sorted, and saves them as JSON, so ints stay ints and strings stay strings
without pickle. One rule builds the array at fit and at load, so both give the same dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from champion.errors import RecipeError


def encode_labels(y: pd.Series | np.ndarray, recipe: str) -> tuple[np.ndarray, np.ndarray]:
    """(classes, codes): the sorted distinct labels and each row's index into them."""
    values = [_plain(v) for v in (y.tolist() if isinstance(y, pd.Series | np.ndarray) else list(y))]
    if any(_missing(v) for v in values):
        raise RecipeError(f"{recipe}: the target has missing values; every training row needs a label")
    if not values:
        raise RecipeError(f"{recipe}: no training rows")
    distinct = sorted(set(values), key=label_order)
    classes = class_array(distinct)
    index = {label: i for i, label in enumerate(distinct)}
    return classes, np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values))


def class_array(labels: list[Any]) -> np.ndarray:
    """The `classes_` array for `labels`: int64 when all are ints, float64 when all are floats,
    bool when all are bools, else an object array of the values themselves."""
    if labels and all(isinstance(v, bool) for v in labels):
        return np.array(labels, dtype=bool)
    if labels and all(isinstance(v, int) and not isinstance(v, bool) for v in labels):
        return np.array(labels, dtype=np.int64)
    if labels and all(isinstance(v, float) for v in labels):
        return np.array(labels, dtype=np.float64)
    array = np.empty(len(labels), dtype=object)
    array[:] = labels
    return array


def classes_to_json(classes: np.ndarray) -> list[Any]:
    """Plain Python values (JSON keeps int, float, str and bool apart)."""
    return [_plain(v) for v in classes.tolist()]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA


def label_order(value: Any) -> tuple[int, Any]:
    """The sort key of labels: numbers before strings, each kind in its natural order (a mixed
    list has no other); `sorted(labels)` raises TypeError on a mixed list."""
    if isinstance(value, bool | int | float):
        return 0, value
    return 1, str(value)
