"""Metrics of one model on the golden set, computed from per-row quantities.

Each metric is a function of a weight vector over the golden rows (all ones for the plain
value), so the paired bootstrap can recompute it on thousands of resamples at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

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


def classification_metrics(
    scores: ClassifierScores, rows: np.ndarray | None = None, names: Iterable[str] | None = None
) -> dict[str, np.ndarray]:
    """Metrics for each resample in `rows` (B x n row indices); B = 1 when None.

    `names` limits the work to the metrics asked for (the bootstrap needs only a few).
    """
    wanted = set(CLASSIFICATION_METRICS if names is None else names)
    n = len(scores.y)
    idx = np.arange(n)[None, :] if rows is None else rows
    out: dict[str, np.ndarray] = {}
    y_pos = (scores.y == scores.positive)[idx]
    if wanted & {"accuracy"}:
        out["accuracy"] = scores.correct[idx].mean(axis=1)
    if wanted & {"precision", "recall", "f1"}:
        pred_pos = (scores.predicted == scores.positive)[idx]
        tp = (y_pos & pred_pos).sum(axis=1)
        fp = (~y_pos & pred_pos).sum(axis=1)
        fn = (y_pos & ~pred_pos).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["precision"] = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
            out["recall"] = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
            out["f1"] = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    if "roc_auc" in wanted:
        out["roc_auc"] = _roc_auc(scores.y == scores.positive, scores.positive_score, idx)
    if "log_loss" in wanted:
        out["log_loss"] = -np.log(np.clip(scores.true_class_proba(), _EPS, 1.0))[idx].mean(axis=1)
    if "brier" in wanted:
        out["brier"] = _brier_rows(scores)[idx].mean(axis=1)
    return {name: out[name] for name in CLASSIFICATION_METRICS if name in wanted}


def _brier_rows(scores: ClassifierScores) -> np.ndarray:
    """Per-row Brier score; for two classes the usual binary (p - y)^2, in [0, 1]."""
    one_hot = (scores.classes[None, :] == scores.y[:, None]).astype(float)
    rows = ((scores.proba - one_hot) ** 2).sum(axis=1)
    return rows / 2 if len(scores.classes) == 2 else rows


def _roc_auc(y_pos: np.ndarray, score: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Mann-Whitney AUC (ties count one half) for each resample (row of `idx`).

    A resample only changes how often each row counts, so the scores are sorted once and
    each resample's AUC comes from its per-row counts, summed within groups of tied scores.
    """
    order = np.argsort(score, kind="stable")
    sorted_scores = score[order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    counts = np.zeros((idx.shape[0], len(score)))
    np.add.at(counts, (np.arange(idx.shape[0])[:, None], idx), 1.0)
    counts = counts[:, order]
    positive = y_pos[order]
    pos = np.add.reduceat(counts * positive, starts, axis=1)
    neg = np.add.reduceat(counts * ~positive, starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    n_pos, n_neg = pos.sum(axis=1), neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (pos * (below + 0.5 * neg)).sum(axis=1) / (n_pos * n_neg)
    return np.where((n_pos > 0) & (n_neg > 0), auc, np.nan)


def forecast_metrics(actual: np.ndarray, predicted: np.ndarray, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """RMSE, MAE, MAPE, R2 over origins x horizons; `rows` resamples the origins.

    A NaN actual (a value that was filled in, never observed) is left out of every metric.
    """
    idx = np.arange(actual.shape[0])[None, :] if rows is None else rows
    a = actual[idx].reshape(idx.shape[0], -1)
    p = predicted[idx].reshape(idx.shape[0], -1)
    err = p - a
    with np.errstate(invalid="ignore", divide="ignore"):
        mape = np.nanmean(np.where(a != 0, np.abs(err) / np.abs(a), np.nan), axis=1)
        ss_tot = np.nansum((a - np.nanmean(a, axis=1, keepdims=True)) ** 2, axis=1)
        r2 = 1 - np.nansum(err**2, axis=1) / ss_tot
    return {
        "rmse": np.sqrt(np.nanmean(err**2, axis=1)),
        "mae": np.nanmean(np.abs(err), axis=1),
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
