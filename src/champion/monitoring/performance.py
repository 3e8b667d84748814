"""Performance in production: realized on labelled rows, estimated on unlabelled ones.

The estimate is confidence-based (NannyML's CBPE): when probabilities are calibrated, a row
predicted with confidence q is right with probability q, so expected accuracy is the mean
confidence and the expected confusion matrix gives F1. Its interval is the spread of the
realized metric over label draws from those probabilities (the sampling error the window's
size allows). Calibration is checked on whatever labelled rows exist.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from champion.evaluation.metrics import ClassifierScores, classification_metrics, forecast_metrics, scalar

CLASSIFIER_METRICS = ["accuracy", "f1"]
FORECAST_METRICS = ["rmse", "mae"]
_DRAWS = 500


def realized_classifier(labels: np.ndarray, proba: np.ndarray, classes: list[Any], positive: Any) -> dict[str, float]:
    """Accuracy and F1 (of `positive`) of labelled rows."""
    scores = ClassifierScores(np.asarray(labels, dtype=object), proba, np.asarray(classes, dtype=object), positive)
    return scalar(classification_metrics(scores, names=CLASSIFIER_METRICS))


def realized_forecast(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """RMSE and MAE of forecasts whose actual values came back."""
    values = forecast_metrics(np.asarray(actual, dtype=float)[None, :], np.asarray(predicted, dtype=float)[None, :])
    return {k: float(np.asarray(values[k]).ravel()[0]) for k in FORECAST_METRICS}


def estimate_classifier(proba: np.ndarray, classes: list[Any], positive: Any, level: float = 0.95,
                        seed: int = 0) -> dict[str, dict[str, float]]:
    """Expected accuracy and F1 of unlabelled rows, each with a `level` interval."""
    proba = np.asarray(proba, dtype=float)
    n = len(proba)
    if n == 0:
        return {}
    column = classes.index(positive) if positive in classes else len(classes) - 1
    predicted = np.argmax(proba, axis=1)
    confidence = proba[np.arange(n), predicted]
    p_pos = proba[:, column]
    said_pos = predicted == column
    tp, fp, fn = p_pos[said_pos].sum(), (1 - p_pos[said_pos]).sum(), p_pos[~said_pos].sum()
    point = {"accuracy": float(confidence.mean()), "f1": _f1(tp, fp, fn)}

    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(proba, axis=1)
    draws = rng.random((_DRAWS, n, 1))
    drawn = (draws > cumulative[None, :, :]).sum(axis=2)  # a label index per row and draw
    drawn = np.minimum(drawn, len(classes) - 1)
    correct = (drawn == predicted[None, :]).mean(axis=1)
    truly_pos = drawn == column
    tps = (truly_pos & said_pos[None, :]).sum(axis=1)
    fps = (~truly_pos & said_pos[None, :]).sum(axis=1)
    fns = (truly_pos & ~said_pos[None, :]).sum(axis=1)
    f1s = np.array([_f1(a, b, c) for a, b, c in zip(tps, fps, fns, strict=True)])
    tail = (1 - level) / 2 * 100
    out: dict[str, dict[str, float]] = {}
    for name, samples in (("accuracy", correct), ("f1", f1s)):
        low, high = np.nanpercentile(samples, [tail, 100 - tail])
        out[name] = {"value": point[name], "low": float(min(low, point[name])), "high": float(max(high, point[name]))}
    return out


def calibration(proba: np.ndarray, labels: np.ndarray, classes: list[Any], bins: int = 10) -> dict[str, Any]:
    """Expected calibration error of the top-class confidence, with the reliability bins."""
    proba = np.asarray(proba, dtype=float)
    labels = np.asarray(labels, dtype=object)
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


def _f1(tp: float, fp: float, fn: float) -> float:
    denominator = 2 * tp + fp + fn
    return float(2 * tp / denominator) if denominator > 0 else float("nan")
