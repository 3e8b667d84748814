"""Reference profiles: what monitoring keeps of a version's training data and predictions.

Built once at training time and stored with the run (`profile.json`), so the monitor never
re-reads raw training data. The document is `ReferenceProfile` (its schema:
`docs/schemas/profile.schema.json`). Compact: a uniform sample of at most `sample_size` values per
column (what the distribution tests are fitted on), category counts, text statistics and
vocabulary, the predictions on the golden set, and the golden-set metrics.

`predictions` by task:
- classification (`classifier_predictions`): `classes`, `positive`, `rows`, `scores` (the
  positive class's probability), `confidence` (the top class's), `class_share` and
  `class_counts` of the predicted classes keyed by `str(label)`, `expected` (accuracy and F1
  as the confidence-based estimate gives them on the golden set), `calibration`.
- regression (`regression_predictions`): `rows`, `values` (predicted), `actual` and
  `residuals` (actual - predicted), one joint sample.
- forecasting (`forecast_predictions`): `rows`, `values` (the golden set's forecasts).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Literal

import numpy as np
import pandas as pd

from champion.monitoring.documents import ReferenceProfile
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
    task: Literal["classification", "regression", "forecasting"],
    columns: dict[str, tuple[ColumnKind, pd.Series]],
    predictions: dict[str, Any],
    golden_metrics: dict[str, float],
    sample_size: int = 10_000,
    seed: int = 0,
) -> dict[str, Any]:
    """A JSON-ready profile. `columns`: name -> (kind, values) of the input columns;
    `predictions`: from `classifier_predictions`, `regression_predictions` or
    `forecast_predictions`."""
    rng = np.random.default_rng(seed)
    return ReferenceProfile.checked({
        "format": FORMAT, "task": task,
        "columns": {name: _column(kind, values, sample_size, rng) for name, (kind, values) in columns.items()},
        "predictions": predictions, "golden": {"metrics": dict(golden_metrics)}})


def classifier_predictions(classes: list[Any], positive: Any, proba: np.ndarray, labels: np.ndarray,
                           sample_size: int, seed: int = 0) -> dict[str, Any]:
    """Scores on the golden set: the positive class's and the top class's probability, the
    predicted class shares and counts, the estimate's own value there, and the calibration
    (the references of the production checks). `labels`: the golden set's true labels."""
    from champion.monitoring.performance import calibration, expected_classifier

    classes = [_plain(c) for c in classes]
    positive = _plain(positive)
    proba = np.asarray(proba, dtype=float)
    column = classes.index(positive) if positive in classes else len(classes) - 1
    predicted = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)]
    picked = _sample_index(len(proba), sample_size, np.random.default_rng(seed))
    counts = Counter(str(v) for v in predicted)
    return {"classes": classes, "positive": positive, "rows": int(len(proba)),
            "scores": [float(s) for s in proba[picked, column]],
            "confidence": [float(s) for s in proba[picked].max(axis=1)] if len(proba) else [],
            "class_share": _share(predicted),
            "class_counts": {k: counts[k] for k in sorted(counts)},
            "expected": expected_classifier(proba, classes, positive),
            "calibration": calibration(proba, labels, classes) if len(labels) else None}


def regression_predictions(predicted: np.ndarray, actual: np.ndarray, sample_size: int,
                           seed: int = 0) -> dict[str, Any]:
    """A regressor on the golden set: one joint sample of its predictions, the actual values
    and the residuals (actual - predicted); rows where either is missing are left out."""
    predicted = np.asarray(predicted, dtype=float).ravel()
    actual = np.asarray(actual, dtype=float).ravel()
    if len(predicted) != len(actual):
        raise ValueError(f"{len(predicted)} predictions for {len(actual)} actual values")
    keep = np.isfinite(predicted) & np.isfinite(actual)
    predicted, actual = predicted[keep], actual[keep]
    picked = _sample_index(len(predicted), sample_size, np.random.default_rng(seed))
    return {"rows": int(len(predicted)), "values": [float(v) for v in predicted[picked]],
            "actual": [float(v) for v in actual[picked]],
            "residuals": [float(v) for v in (actual - predicted)[picked]]}


def forecast_predictions(values: np.ndarray, sample_size: int, seed: int = 0) -> dict[str, Any]:
    """A forecaster's forecasts on the golden set's origins (a sample of their values)."""
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


def _sample_index(rows: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of a uniform sample of at most `size` of `rows` rows, in order."""
    if rows <= size:
        return np.arange(rows)
    return np.sort(rng.choice(rows, size=size, replace=False))


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
