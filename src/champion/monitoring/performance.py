"""Performance in production: realized on labelled rows, estimated on unlabelled ones.

The estimate is confidence-based (NannyML's CBPE): when probabilities are calibrated, a row
predicted with confidence q is right with probability q, so expected accuracy is the mean
confidence and the expected confusion counts give F1 (of the positive class for two classes,
macro F1 for three or more). Its interval is the spread of the realized metric over label
draws from those probabilities (the sampling error the window's size allows). Calibration is
checked on whatever labelled rows exist.

Regression and forecast errors have no such estimate: a number predicted says nothing about
how far off it is, so their performance is realized only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from champion.evaluation.metrics import (
    ClassifierScores,
    classification_metrics,
    forecast_metrics,
    scalar,
)

CLASSIFIER_METRICS = ["accuracy", "f1"]
ERROR_METRICS = ["rmse", "mae"]
"""Regressors and forecasters: compared with the golden set as a relative rise."""
NO_ESTIMATE = {
    "regression": "regression error cannot be estimated without labels; watch data and prediction drift",
    "forecasting": "forecast error cannot be estimated before the actual values come back; watch data and "
                   "prediction drift",
}
_DRAWS = 500
_DRAW_CELLS = 4_000_000
"""Label draws are made in batches of about this many cells (draws x rows)."""


def align_labels(values: Sequence[Any] | np.ndarray, classes: Sequence[Any]) -> np.ndarray:
    """Each label as the class it names: the class itself, the class whose text it is (a
    label read back as `"1"` for the class `1`) or whose whole number it is (`1.0`); labels
    of no class are kept as they are."""
    exact = {_key(c): c for c in classes}
    by_text = {str(c): c for c in classes}
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        found = exact.get(_key(value))
        if found is None and isinstance(value, float | np.floating) and float(value).is_integer():
            found = exact.get(("int", int(value)))  # 1.0 from a file's number column for the class 1
        out[i] = found if found is not None else by_text.get(str(value), value)
    return out


def f1_name(classes: Sequence[Any], positive: Any) -> str:
    """What `f1` means for these classes, for reports."""
    if len(classes) > 2:
        return f"macro F1 over {len(classes)} classes"
    return f"F1 of class {positive}"


def realized_classifier(labels: np.ndarray, proba: np.ndarray, classes: list[Any], positive: Any) -> dict[str, float]:
    """Accuracy and F1 (of `positive` for two classes, macro F1 for more) of labelled rows,
    computed as on the golden set (`champion.evaluation.metrics`). Labels and classes are
    passed as positions, so labels of any type compare alike. A label the model does not
    know counts as a miss; with three or more classes it is a class of its own that is
    never predicted (F1 0), as scikit-learn counts it."""
    position = {_key(c): i for i, c in enumerate(classes)}
    extra = {_key(v): len(classes) + i for i, v in enumerate(unknown_labels(labels, classes))}
    codes = np.array([position.get(_key(v), extra.get(_key(v), -1)) for v in align_labels(list(labels), classes)],
                     dtype=int)
    proba = np.asarray(proba, dtype=float)
    k = len(classes)
    if k > 2 and extra:
        proba = np.c_[proba, np.zeros((len(proba), len(extra)))]
        k += len(extra)
    scores = ClassifierScores(codes, proba, np.arange(k), _column(classes, positive))
    return scalar(classification_metrics(scores, names=CLASSIFIER_METRICS))


def unknown_labels(labels: Sequence[Any] | np.ndarray, classes: Sequence[Any]) -> list[Any]:
    """The labels (once each) that name none of `classes`."""
    known = {_key(c) for c in classes}
    out: dict[tuple[str, Any], Any] = {}
    for value in align_labels(list(labels), classes).tolist():
        if _key(value) not in known:
            out.setdefault(_key(value), value)
    return list(out.values())


def realized_errors(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """RMSE and MAE of predictions (regression) or forecasts whose actual values came back."""
    values = forecast_metrics(np.asarray(actual, dtype=float)[None, :], np.asarray(predicted, dtype=float)[None, :])
    return {k: float(np.asarray(values[k]).ravel()[0]) for k in ERROR_METRICS}


def expected_classifier(proba: np.ndarray, classes: list[Any], positive: Any) -> dict[str, float]:
    """The point estimates of accuracy and F1 from calibrated probabilities (no interval)."""
    proba = np.asarray(proba, dtype=float)
    if not len(proba):
        return {}
    predicted = np.argmax(proba, axis=1)
    accuracy = float(proba[np.arange(len(proba)), predicted].mean())
    if len(classes) > 2:
        return {"accuracy": accuracy, "f1": _expected_macro_f1(proba, predicted)}
    column = _column(classes, positive)
    p_pos, said_pos = proba[:, column], predicted == column
    tp, fp, fn = p_pos[said_pos].sum(), (1 - p_pos[said_pos]).sum(), p_pos[~said_pos].sum()
    return {"accuracy": accuracy, "f1": _f1(tp, fp, fn)}


def estimate_classifier(proba: np.ndarray, classes: list[Any], positive: Any, level: float = 0.95,
                        seed: int = 0) -> dict[str, dict[str, float]]:
    """Expected accuracy and F1 (macro F1 for three or more classes) of unlabelled rows, each
    with a `level` interval: the spread of the realized value over labels drawn from `proba`."""
    proba = np.asarray(proba, dtype=float)
    n, k = proba.shape if proba.ndim == 2 else (0, 0)
    if n == 0:
        return {}
    point = expected_classifier(proba, classes, positive)
    predicted = np.argmax(proba, axis=1)
    rng = np.random.default_rng(seed)
    counts = _label_counts(proba, predicted, rng)
    tp = np.diagonal(counts, axis1=1, axis2=2)  # drawn label == predicted label
    truth = counts.sum(axis=1)  # per draw, how many rows drew each label
    said = np.bincount(predicted, minlength=k)
    accuracy = tp.sum(axis=1) / n
    column = _column(classes, positive)
    f1 = _macro_f1(tp, truth, said) if k > 2 else _positive_f1(tp[:, column], truth[:, column], said[column])
    tail = (1 - level) / 2 * 100
    out: dict[str, dict[str, float]] = {}
    for name, samples in (("accuracy", accuracy), ("f1", f1)):
        low, high = np.nanpercentile(samples, [tail, 100 - tail])
        out[name] = {"value": point[name], "low": float(min(low, point[name])), "high": float(max(high, point[name]))}
    return out


EXACT_DRAW_ROWS = 50_000
"""Up to this many rows (of a window, or of one predicted class) a label is drawn for every
row; beyond, the counts come from an aggregate that sums the same draws (`_label_counts`)."""
_GRID = 1000
"""Two classes: probabilities are binned to this many steps of the unit interval."""


def _label_counts(proba: np.ndarray, predicted: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(draws, k, k): per draw of labels from `proba`, how many rows predicted as class p drew
    label c. Drawing a label per row costs draws x rows; a million rows took seconds per window,
    so large windows draw sums instead:
    - two classes: rows binned by predicted class and probability (a 1/1000 grid); a bin's
      label count is one binomial draw with the bin's mean probability, so expected counts
      are exact and the variance is off by at most (1/2000)^2 per row;
    - more classes: a predicted class's rows past EXACT_DRAW_ROWS draw their label counts
      from the normal approximation of a sum of that many independent categorical draws
      (its mean and covariance are exact); smaller ones draw per row."""
    n, k = proba.shape
    if n <= EXACT_DRAW_ROWS:
        return _drawn_counts(proba, predicted, rng)
    if k == 2:
        return _binned_binary_counts(proba, predicted, rng)
    counts = np.zeros((_DRAWS, k, k))
    for p in range(k):
        mine = predicted == p
        if mine.sum() > EXACT_DRAW_ROWS:
            counts[:, p] = _normal_counts(proba[mine], rng)
        elif mine.any():
            counts += _drawn_counts(proba[mine], predicted[mine], rng)
    return counts


def _drawn_counts(proba: np.ndarray, predicted: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`_label_counts` with a label drawn for every row."""
    n, k = proba.shape
    cumulative = np.cumsum(proba, axis=1)
    counts = np.empty((_DRAWS, k, k), dtype=np.int64)
    batch = max(1, _DRAW_CELLS // n)
    for start in range(0, _DRAWS, batch):
        size = min(batch, _DRAWS - start)
        u = rng.random((size, n))
        drawn = np.zeros((size, n), dtype=np.int64)  # a label index per draw and row
        for c in range(k - 1):
            drawn += u > cumulative[None, :, c]
        cell = (np.arange(size) * k * k)[:, None] + predicted[None, :] * k + drawn
        counts[start:start + size] = np.bincount(cell.ravel(), minlength=size * k * k).reshape(size, k, k)
    return counts


def _binned_binary_counts(proba: np.ndarray, predicted: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`_label_counts` for two classes, one binomial draw per bin of rows."""
    key = predicted.astype(np.int64) * (_GRID + 1) + np.rint(proba[:, 1] * _GRID).astype(np.int64)
    bins, which = np.unique(key, return_inverse=True)
    size = np.bincount(which, minlength=len(bins))
    mean = np.clip(np.bincount(which, weights=proba[:, 1], minlength=len(bins)) / size, 0.0, 1.0)
    group = bins // (_GRID + 1)
    ones = rng.binomial(size[None, :], mean[None, :], size=(_DRAWS, len(bins)))
    counts = np.zeros((_DRAWS, 2, 2), dtype=np.int64)
    for p in (0, 1):
        counts[:, p, 1] = ones[:, group == p].sum(axis=1)
        counts[:, p, 0] = size[group == p].sum() - counts[:, p, 1]
    return counts


def _normal_counts(proba: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(draws, k) label counts of many rows from the normal approximation of their sum:
    mean the column sums, covariance diag(mean) - P'P (singular: counts add up to the rows)."""
    mean = proba.sum(axis=0)
    values, vectors = np.linalg.eigh(np.diag(mean) - proba.T @ proba)
    noise = rng.standard_normal((_DRAWS, len(mean))) * np.sqrt(np.clip(values, 0.0, None))
    return np.clip(mean[None, :] + noise @ vectors.T, 0.0, len(proba))


def calibration(proba: np.ndarray, labels: np.ndarray, classes: list[Any], bins: int = 10) -> dict[str, Any]:
    """Expected calibration error of the top-class confidence, with the reliability bins."""
    proba = np.asarray(proba, dtype=float)
    labels = align_labels(list(labels), classes)
    predicted = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)]
    confidence = proba.max(axis=1)
    correct = (predicted == labels).astype(float)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="right") - 1, 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        mask = which == b
        if not mask.any():
            continue
        predicted_b, observed_b = float(confidence[mask].mean()), float(correct[mask].mean())
        ece += mask.mean() * abs(predicted_b - observed_b)
        rows.append({"predicted": predicted_b, "observed": observed_b, "count": int(mask.sum())})
    return {"ece": float(ece), "labelled": int(len(labels)), "bins": rows}


def macro_f1(labels: np.ndarray, predicted: np.ndarray) -> float:
    """Macro F1 over the classes that occur among the true or the predicted labels
    (scikit-learn's `f1_score(average="macro")`)."""
    present = sorted(set(labels.tolist()) | set(predicted.tolist()), key=str)
    index = {c: i for i, c in enumerate(present)}
    truth = np.array([index[v] for v in labels.tolist()], dtype=np.int64)
    guess = np.array([index[v] for v in predicted.tolist()], dtype=np.int64)
    k = len(present)
    tp = np.bincount(truth[truth == guess], minlength=k)[None, :]
    return float(_macro_f1(tp, np.bincount(truth, minlength=k)[None, :], np.bincount(guess, minlength=k))[0])


# ---- arithmetic ---------------------------------------------------------------------------
def _expected_macro_f1(proba: np.ndarray, predicted: np.ndarray) -> float:
    """Macro F1 from the expected per-class confusion counts. A class never predicted in the
    window has F1 0 whenever it occurs in the truth and is left out of the mean otherwise, so
    it counts with the probability that it occurs at all."""
    n, k = proba.shape
    said = np.zeros((n, k), dtype=bool)
    said[np.arange(n), predicted] = True
    tp = (proba * said).sum(axis=0)
    fp = ((1 - proba) * said).sum(axis=0)
    fn = (proba * ~said).sum(axis=0)
    named = said.any(axis=0)
    with np.errstate(divide="ignore"):
        absent = np.exp(np.log1p(-np.clip(proba[:, ~named], 0.0, 1.0 - 1e-12)).sum(axis=0))
    classes = named.sum() + float((1 - absent).sum())
    f1 = 2 * tp[named] / np.maximum(2 * tp[named] + fp[named] + fn[named], 1e-12)
    return float(f1.sum() / classes) if classes > 0 else float("nan")


def _macro_f1(tp: np.ndarray, truth: np.ndarray, said: np.ndarray) -> np.ndarray:
    """Macro F1 per draw from its (draws, k) true-positive and true-label counts and the
    (k,) predicted counts, over the classes present in the truth or the prediction."""
    denominator = truth + said[None, :]  # 2tp + fp + fn
    present = denominator > 0
    f1 = np.where(present, 2 * tp / np.maximum(denominator, 1), 0.0)
    return np.asarray(f1.sum(axis=1) / np.maximum(present.sum(axis=1), 1), dtype=float)


def _positive_f1(tp: np.ndarray, truth: np.ndarray, said: int) -> np.ndarray:
    """F1 of the positive class per draw (fp = said - tp, fn = truth - tp)."""
    denominator = truth + said
    return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), np.nan)


def _f1(tp: float, fp: float, fn: float) -> float:
    denominator = 2 * tp + fp + fn
    return float(2 * tp / denominator) if denominator > 0 else float("nan")


def _column(classes: Sequence[Any], positive: Any) -> int:
    """The positive class's column (the last when it is not among `classes`)."""
    target = _class_of(positive, classes)
    for i, c in enumerate(classes):
        if _key(c) == _key(target):
            return i
    return len(classes) - 1


def _class_of(value: Any, classes: Sequence[Any]) -> Any:
    return align_labels([value], classes)[0] if value is not None else (classes[-1] if classes else None)


def _key(value: Any) -> tuple[str, Any]:
    """A dictionary key that tells `1` from `"1"` and `True` (JSON keeps their types); an
    unhashable value (no label at all) is keyed by its text."""
    if isinstance(value, np.generic):
        value = value.item()
    try:
        hash(value)
    except TypeError:
        return "unhashable", repr(value)
    return type(value).__name__, value
