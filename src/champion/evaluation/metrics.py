"""Metrics of one model on the golden set, computed from per-row quantities.

Each metric is a function of a weight vector over the golden rows (all ones for the plain
value), so the paired bootstrap can recompute it on thousands of resamples at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

HIGHER_IS_BETTER = {"accuracy", "precision", "recall", "f1", "roc_auc", "r2"}
LOWER_IS_BETTER = {"log_loss", "brier", "rmse", "mae", "mape"}
CLASSIFICATION_METRICS = ["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "brier"]
FORECAST_METRICS = ["rmse", "mae", "mape", "r2"]
_EPS = 1e-15


@dataclass(frozen=True)
class ClassifierScores:
    """One classifier's answers on the golden rows."""

    y: np.ndarray  # true labels
    proba: np.ndarray  # n x k probabilities, columns in `classes` order
    classes: np.ndarray
    positive: object

    @property
    def predicted(self) -> np.ndarray:
        return self.classes[np.argmax(self.proba, axis=1)]

    @property
    def correct(self) -> np.ndarray:
        return self.predicted == self.y

    @property
    def positive_score(self) -> np.ndarray:
        column = int(np.flatnonzero(self.classes == self.positive)[0])
        return self.proba[:, column]

    def true_class_proba(self) -> np.ndarray:
        positions = np.searchsorted(self.classes, self.y)
        return self.proba[np.arange(len(self.y)), positions]


def classification_metrics(scores: ClassifierScores, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Metrics for each resample in `rows` (B x n row indices); B = 1 when None."""
    n = len(scores.y)
    idx = np.arange(n)[None, :] if rows is None else rows
    y_pos = (scores.y == scores.positive)[idx]
    pred_pos = (scores.predicted == scores.positive)[idx]
    correct = scores.correct[idx]
    tp = (y_pos & pred_pos).sum(axis=1)
    fp = (~y_pos & pred_pos).sum(axis=1)
    fn = (y_pos & ~pred_pos).sum(axis=1)
    p_true = np.clip(scores.true_class_proba(), _EPS, 1.0)[idx]
    one_hot = (scores.classes[None, :] == scores.y[:, None]).astype(float)
    brier_rows = ((scores.proba - one_hot) ** 2).sum(axis=1)
    if len(scores.classes) == 2:  # binary Brier: (p - y)^2 of one class, in [0, 1]
        brier_rows = brier_rows / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    return {
        "accuracy": correct.mean(axis=1),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "roc_auc": _roc_auc(y_pos, scores.positive_score[idx]),
        "log_loss": -np.log(p_true).mean(axis=1),
        "brier": brier_rows[idx].mean(axis=1),
    }


def _roc_auc(y_pos: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Mann-Whitney AUC per row of a B x n matrix (ties count one half)."""
    ranks = rankdata(score, axis=1)
    n_pos = y_pos.sum(axis=1)
    n_neg = y_pos.shape[1] - n_pos
    rank_sum = np.where(y_pos, ranks, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return np.where((n_pos > 0) & (n_neg > 0), auc, np.nan)


def forecast_metrics(actual: np.ndarray, predicted: np.ndarray, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """RMSE, MAE, MAPE, R2 over origins x horizons; `rows` resamples the origins."""
    idx = np.arange(actual.shape[0])[None, :] if rows is None else rows
    a = actual[idx].reshape(idx.shape[0], -1)
    p = predicted[idx].reshape(idx.shape[0], -1)
    err = p - a
    with np.errstate(invalid="ignore", divide="ignore"):
        mape = np.nanmean(np.where(a != 0, np.abs(err) / np.abs(a), np.nan), axis=1)
        ss_tot = ((a - a.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
        r2 = 1 - (err**2).sum(axis=1) / ss_tot
    return {
        "rmse": np.sqrt((err**2).mean(axis=1)),
        "mae": np.abs(err).mean(axis=1),
        "mape": mape,
        "r2": r2,
    }


def scalar(metrics: dict[str, np.ndarray]) -> dict[str, float]:
    """The single values of a B = 1 metric dict, as plain floats."""
    return {name: float(values[0]) for name, values in metrics.items()}


def higher_is_better(metric: str) -> bool | None:
    if metric in HIGHER_IS_BETTER:
        return True
    if metric in LOWER_IS_BETTER:
        return False
    return None
