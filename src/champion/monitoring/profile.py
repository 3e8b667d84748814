"""Reference profiles: what monitoring keeps of a version's training data and predictions.

Built once at training time and stored with the run (`profile.json`), so the monitor never
re-reads raw training data. Compact: a uniform sample of at most `sample_size` values per
column (what the distribution tests are fitted on), category counts, text statistics and
vocabulary, the score distribution on the golden set, and the golden-set metrics.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Literal

import numpy as np
import pandas as pd

from champion.monitoring.drift import CategoryCounts, ColumnKind
from champion.monitoring.text import text_profile

PROFILE_FILE = "profile.json"
FORMAT = 1
MAX_CATEGORIES = 1000
"""Most frequent categories kept per column; the rest are counted as `(other)`."""
OTHER = "(other)"

_KINDS: dict[str, ColumnKind] = {"text": "text", "string": "categorical", "label": "categorical",
                                  "integer": "numeric", "number": "numeric"}


def column_kind(declared_type: str) -> ColumnKind | None:
    """How a declared column type is monitored (dates are not)."""
    return _KINDS.get(declared_type)


def build_profile(
    task: Literal["classification", "forecasting"],
    columns: dict[str, tuple[ColumnKind, pd.Series]],
    predictions: dict[str, Any],
    golden_metrics: dict[str, float],
    sample_size: int = 10_000,
    seed: int = 0,
) -> dict[str, Any]:
    """A JSON-ready profile. `columns`: name -> (kind, values); `predictions`: see
    `classifier_predictions` and `forecast_predictions`."""
    rng = np.random.default_rng(seed)
    return {"format": FORMAT, "task": task,
            "columns": {name: _column(kind, values, sample_size, rng) for name, (kind, values) in columns.items()},
            "predictions": predictions, "golden": {"metrics": dict(golden_metrics)}}


def classifier_predictions(classes: list[Any], positive: Any, proba: np.ndarray, labels: np.ndarray,
                           sample_size: int, seed: int = 0) -> dict[str, Any]:
    """Scores on the golden set: the positive class's probability, the predicted class share,
    and the calibration there (the reference for the production check)."""
    from champion.monitoring.performance import calibration

    column = classes.index(positive) if positive in classes else len(classes) - 1
    predicted = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)]
    scores = proba[:, column]
    sample = _sample(scores, sample_size, np.random.default_rng(seed))
    return {"classes": [_plain(c) for c in classes], "positive": _plain(positive), "rows": int(len(scores)),
            "scores": [float(s) for s in sample],
            "class_share": _share(predicted),
            "calibration": calibration(proba, labels, classes) if len(labels) else None}


def forecast_predictions(values: np.ndarray, sample_size: int, seed: int = 0) -> dict[str, Any]:
    flat = np.asarray(values, dtype=float).ravel()
    flat = flat[np.isfinite(flat)]
    return {"rows": int(len(flat)), "values": [float(v) for v in _sample(flat, sample_size, np.random.default_rng(seed))]}


def reference_values(column_profile: dict[str, Any]) -> Any:
    """What a detector is fitted on for this column."""
    kind = column_profile["type"]
    if kind == "numeric":
        return np.asarray(column_profile["sample"], dtype=float)
    if kind == "categorical":
        return CategoryCounts.of(column_profile)
    return list(column_profile["sample"])


def _column(kind: ColumnKind, values: pd.Series, sample_size: int, rng: np.random.Generator) -> dict[str, Any]:
    nulls = int(values.isna().sum())
    present = values.dropna()
    base: dict[str, Any] = {"type": kind, "rows": int(len(values)), "nulls": nulls}
    if kind == "numeric":
        numbers = pd.to_numeric(present, errors="coerce").dropna().to_numpy(dtype=float)
        distinct = int(min(len(np.unique(numbers)), 1_000_000))
        base.update({"sample": [float(v) for v in _sample(numbers, sample_size, rng)], "distinct": distinct,
                     "min": _stat(numbers.min() if len(numbers) else math.nan),
                     "max": _stat(numbers.max() if len(numbers) else math.nan),
                     "mean": _stat(numbers.mean() if len(numbers) else math.nan),
                     "std": _stat(numbers.std() if len(numbers) else math.nan)})
        return base
    if kind == "categorical":
        counts = Counter(str(v) for v in present)
        kept = dict(counts.most_common(MAX_CATEGORIES))
        rest = sum(counts.values()) - sum(kept.values())
        if rest:
            kept[OTHER] = rest
        base.update({"counts": kept, "total": int(len(values)), "distinct": len(counts)})
        return base
    texts = [str(v) for v in present]
    base.update(text_profile(texts))
    base["sample"] = [str(v) for v in _sample(np.asarray(texts, dtype=object), sample_size, rng)]
    return base


def _sample(values: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    if len(values) <= size:
        return values
    return values[np.sort(rng.choice(len(values), size=size, replace=False))]


def _share(values: np.ndarray) -> dict[str, float]:
    counts = Counter(str(_plain(v)) for v in values)
    total = max(len(values), 1)
    return {k: counts[k] / total for k in sorted(counts)}


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _stat(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
