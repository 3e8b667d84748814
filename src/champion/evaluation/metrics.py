"""Metrics of one model on the golden set, computed from per-row quantities.

Each metric is a function of a weight vector over the golden rows (all ones for the plain
value), so the paired bootstrap can recompute it on thousands of resamples at once.

Classification with two classes reports precision, recall, F1 and ROC AUC of the `positive`
class; with three or more they are macro averages (precision, recall and F1 over the classes
that occur in the truth or the predictions, as scikit-learn's `average="macro"`; ROC AUC
one-vs-rest over the classes with both positives and negatives). The Brier score is the
usual (p - y)^2 of the positive class for two classes (0-1) and the sum of squared errors
over the classes for more (0-2, not halved).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

HIGHER_IS_BETTER = {"accuracy", "precision", "recall", "f1", "roc_auc", "r2"}
LOWER_IS_BETTER = {"log_loss", "brier", "rmse", "mae", "mape"}
CLASSIFICATION_METRICS = ["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "brier"]
FORECAST_METRICS = ["rmse", "mae", "mape", "r2"]
REGRESSION_METRICS = ["rmse", "mae", "r2", "mape"]
_EPS = 1e-15


@dataclass(frozen=True)
class ClassifierScores:
    """One classifier's answers on the golden rows.

    Labels may be numbers or strings (an object array); `classes` is sorted and every label
    of `y` is one of them. `positive` matters only with two classes.
    """

    y: np.ndarray  # true labels
    proba: np.ndarray  # n x k probabilities, columns in `classes` order
    classes: np.ndarray
    positive: object

    @property
    def multiclass(self) -> bool:
        return len(self.classes) >= 3

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

    def truth_positions(self) -> np.ndarray:
        """Each true label's column in `proba` (by lookup: labels may mix numbers and text,
        which no sorted search can compare)."""
        column = {label: k for k, label in enumerate(self.classes.tolist())}
        return np.fromiter((column[label] for label in self.y.tolist()), dtype=np.int64, count=len(self.y))

    def true_class_proba(self) -> np.ndarray:
        return self.proba[np.arange(len(self.y)), self.truth_positions()]


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
    if wanted & {"accuracy"}:
        out["accuracy"] = scores.correct[idx].mean(axis=1)
    if scores.multiclass and wanted & {"precision", "recall", "f1", "roc_auc"}:
        out.update(_macro_metrics(scores, _row_counts(idx, n), wanted))
    elif wanted & {"precision", "recall", "f1"}:
        y_pos = (scores.y == scores.positive)[idx]
        pred_pos = (scores.predicted == scores.positive)[idx]
        tp = (y_pos & pred_pos).sum(axis=1)
        fp = (~y_pos & pred_pos).sum(axis=1)
        fn = (y_pos & ~pred_pos).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["precision"] = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
            out["recall"] = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
            out["f1"] = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    if "roc_auc" in wanted and not scores.multiclass:
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


def _row_counts(idx: np.ndarray, n: int) -> np.ndarray:
    """B x n: how often each golden row occurs in each resample (row of `idx`)."""
    b = idx.shape[0]
    flat = (np.arange(b)[:, None] * n + idx).ravel()
    return np.bincount(flat, minlength=b * n).reshape(b, n).astype(float)


def _macro_metrics(
    scores: ClassifierScores, counts: np.ndarray, wanted: set[str]
) -> dict[str, np.ndarray]:
    """Macro precision, recall, F1 and one-vs-rest ROC AUC for each resample (row of `counts`).

    Per-class counts are weighted sums over the rows, so each is one matrix product.
    """
    k = len(scores.classes)
    truth = scores.truth_positions()
    guess = np.argmax(scores.proba, axis=1)
    true_hot = np.eye(k)[truth]
    out: dict[str, np.ndarray] = {}
    if wanted & {"precision", "recall", "f1"}:
        guess_hot = np.eye(k)[guess]
        true_n = counts @ true_hot
        pred_n = counts @ guess_hot
        tp = counts @ (true_hot * guess_hot)
        present = (true_n + pred_n) > 0  # scikit-learn averages over the labels it sees
        with np.errstate(invalid="ignore", divide="ignore"):
            per_class = {
                "precision": np.where(pred_n > 0, tp / pred_n, 0.0),
                "recall": np.where(true_n > 0, tp / true_n, 0.0),
                "f1": np.where(present, 2 * tp / (true_n + pred_n), 0.0),
            }
        seen = present.sum(axis=1)
        for name, values in per_class.items():
            if name in wanted:
                out[name] = (values * present).sum(axis=1) / seen
    if "roc_auc" in wanted:
        aucs = np.column_stack(
            [_class_auc_of_counts(truth == c, scores.proba[:, c], counts) for c in range(k)]
        )
        defined = np.isfinite(aucs)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["roc_auc"] = np.where(defined, aucs, 0.0).sum(axis=1) / defined.sum(axis=1)
    return out


def _class_auc_of_counts(y_pos: np.ndarray, score: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Mann-Whitney AUC of one class against the rest, for each resample (row of `counts`).

    The same value as `_roc_auc_of_counts`, faster when the class is a minority (as each class
    of several is): only the negatives are sorted and summed cumulatively; each positive looks
    up how many of them score below it and how many tie.
    """
    positives = np.flatnonzero(y_pos)
    negatives = np.flatnonzero(~y_pos)
    negatives = negatives[np.argsort(score[negatives], kind="stable")]
    below_or_at = np.zeros((counts.shape[0], len(negatives) + 1))
    np.cumsum(counts[:, negatives], axis=1, out=below_or_at[:, 1:])
    ranked = score[negatives]
    first = np.searchsorted(ranked, score[positives], "left")
    past = np.searchsorted(ranked, score[positives], "right")
    below = below_or_at[:, first]
    weight = counts[:, positives]
    wins = (weight * (below + 0.5 * (below_or_at[:, past] - below))).sum(axis=1)
    n_pos, n_neg = weight.sum(axis=1), below_or_at[:, -1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((n_pos > 0) & (n_neg > 0), wins / (n_pos * n_neg), np.nan)


def _roc_auc(y_pos: np.ndarray, score: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Mann-Whitney AUC (ties count one half) for each resample (row of `idx`)."""
    counts = np.zeros((idx.shape[0], len(score)))
    np.add.at(counts, (np.arange(idx.shape[0])[:, None], idx), 1.0)
    return _roc_auc_of_counts(y_pos, score, counts)


def _roc_auc_of_counts(y_pos: np.ndarray, score: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Mann-Whitney AUC for each resample given as per-row counts (B x n); NaN without
    both classes.

    A resample only changes how often each row counts, so the scores are sorted once and
    each resample's AUC comes from its per-row counts, summed within groups of tied scores.
    """
    order = np.argsort(score, kind="stable")
    sorted_scores = score[order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    counts = counts[:, order]
    positive = y_pos[order]
    pos = np.add.reduceat(counts * positive, starts, axis=1)
    neg = np.add.reduceat(counts * ~positive, starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    n_pos, n_neg = pos.sum(axis=1), neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (pos * (below + 0.5 * neg)).sum(axis=1) / (n_pos * n_neg)
    return np.where((n_pos > 0) & (n_neg > 0), auc, np.nan)


def forecast_metrics(
    actual: np.ndarray,
    predicted: np.ndarray,
    rows: np.ndarray | None = None,
    names: Iterable[str] | None = None,
) -> dict[str, np.ndarray]:
    """RMSE, MAE, MAPE, R2 over origins x horizons; `rows` resamples the origins.

    `names` limits the work to the metrics asked for (the bootstrap needs only a few). A NaN
    actual (a value that was filled in, never observed) is left out of every metric.
    """
    wanted = set(FORECAST_METRICS if names is None else names)
    idx = np.arange(actual.shape[0])[None, :] if rows is None else rows
    b = idx.shape[0]
    err = (predicted - actual)[idx].reshape(b, -1)
    out: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        if "rmse" in wanted:
            out["rmse"] = np.sqrt(np.nanmean(err**2, axis=1))
        if "mae" in wanted:
            out["mae"] = np.nanmean(np.abs(err), axis=1)
        if wanted & {"mape", "r2"}:
            a = actual[idx].reshape(b, -1)
            if "mape" in wanted:
                out["mape"] = np.nanmean(np.where(a != 0, np.abs(err) / np.abs(a), np.nan), axis=1)
            if "r2" in wanted:
                ss_tot = np.nansum((a - np.nanmean(a, axis=1, keepdims=True)) ** 2, axis=1)
                out["r2"] = 1 - np.nansum(err**2, axis=1) / ss_tot
    return {name: out[name] for name in FORECAST_METRICS if name in out}


@dataclass(frozen=True)
class RegressorScores:
    """One regressor's answers on the golden rows (both coerced to float vectors)."""

    y: np.ndarray  # true values
    predicted: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "y", np.asarray(self.y, dtype=float).ravel())
        object.__setattr__(self, "predicted", np.asarray(self.predicted, dtype=float).ravel())
        if self.y.shape != self.predicted.shape:
            raise ValueError(f"{len(self.predicted)} predictions for {len(self.y)} golden rows")

    @property
    def mape_defined(self) -> bool:
        """MAPE divides by the true values: it exists only when none of them is 0."""
        return bool(len(self.y) > 0 and np.all(self.y != 0))


def regression_metrics(
    scores: RegressorScores, rows: np.ndarray | None = None, names: Iterable[str] | None = None
) -> dict[str, np.ndarray]:
    """RMSE, MAE, R2 and MAPE for each resample in `rows` (B x n row indices); B = 1 when None.

    MAPE is left out when a true value is 0 (see `RegressorScores.mape_defined`); R2 is NaN on
    a resample whose true values are all equal.
    """
    wanted = set(REGRESSION_METRICS if names is None else names)
    if not scores.mape_defined:
        wanted.discard("mape")
    idx = np.arange(len(scores.y))[None, :] if rows is None else rows
    y = scores.y[idx]
    err = scores.predicted[idx] - y
    out: dict[str, np.ndarray] = {}
    if "rmse" in wanted:
        out["rmse"] = np.sqrt((err**2).mean(axis=1))
    if "mae" in wanted:
        out["mae"] = np.abs(err).mean(axis=1)
    if "r2" in wanted:
        ss_tot = ((y - y.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["r2"] = np.where(ss_tot > 0, 1 - (err**2).sum(axis=1) / ss_tot, np.nan)
    if "mape" in wanted:
        out["mape"] = (np.abs(err) / np.abs(y)).mean(axis=1)
    return {name: out[name] for name in REGRESSION_METRICS if name in out}


def scalar(metrics: dict[str, np.ndarray]) -> dict[str, float]:
    """The single values of a B = 1 metric dict, as plain floats."""
    return {name: float(values[0]) for name, values in metrics.items()}


def higher_is_better(metric: str) -> bool | None:
    if metric in HIGHER_IS_BETTER:
        return True
    if metric in LOWER_IS_BETTER:
        return False
    return None
