"""Choosing how many boosting iterations to keep, by cross-validation on the training rows.

Each fold's model grows (warm start, doubling: 50, 100, 200, ... up to `max_iter`) until the
second half of its iterations lowered its held-out loss by less than `TOLERANCE` of what the
first half did (the long tail of a separable problem buys time and overconfidence, little
else); the loss after every iteration is then averaged over the folds, and the number kept is
the one with the lowest mean. The folds' held-out scores there are returned, so a classifier
can calibrate on them. Unlike a single validation split, no row is set aside for good, which
matters on the small tables users often bring.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import log_softmax
from sklearn.base import clone

FIRST = 50
"""Iterations grown before the first look at the held-out loss."""
TOLERANCE = 0.01
"""Growth stops when the last half of the iterations improved the held-out loss by less than
this share of what the first half improved it."""


@dataclass(frozen=True)
class CrossValidated:
    iterations: int
    """Boosting iterations kept (the lowest mean held-out loss)."""
    scores: np.ndarray
    """Every row's held-out score there (raw decision values; predictions for a regressor)."""
    curve: np.ndarray
    """Mean held-out loss after each iteration."""


def cross_validate_iterations(model: Any, matrix: np.ndarray, target: np.ndarray,
                              folds: list[tuple[np.ndarray, np.ndarray]], max_iter: int) -> CrossValidated:
    """`model`: an unfitted HistGradientBoosting estimator; `folds`: (train, held-out) indices."""
    loss = _log_loss if hasattr(model, "decision_function") else _squared_error
    fitted, curves = [], []
    for train, held_out in folds:
        fold = clone(model).set_params(warm_start=True, early_stopping=False)
        size = min(FIRST, max_iter)
        while True:
            fold.set_params(max_iter=size).fit(matrix[train], target[train])
            curve = [loss(s, target[held_out]) for s in _stages(fold, matrix[held_out])]
            # HistGradientBoosting stops by itself when no tree can split any more.
            if fold.n_iter_ < size or size >= max_iter or _settled(curve):
                break
            size = min(2 * size, max_iter)
        fitted.append(fold)
        curves.append(curve)
    length = max(len(c) for c in curves)
    # A fold that stopped growing keeps its last loss for the iterations it did not grow.
    mean = np.average([c + [c[-1]] * (length - len(c)) for c in curves], axis=0,
                      weights=[len(held_out) for _, held_out in folds])
    iterations = int(np.argmin(mean)) + 1
    scores: np.ndarray | None = None
    for fold, (_, held_out) in zip(fitted, folds, strict=True):
        stage = min(iterations, fold.n_iter_)
        at = next(s for i, s in enumerate(_stages(fold, matrix[held_out]), start=1) if i == stage)
        if scores is None:
            scores = np.zeros((len(target), *at.shape[1:]))
        scores[held_out] = at
    assert scores is not None
    return CrossValidated(iterations, scores, mean)


def _settled(curve: list[float]) -> bool:
    first = min(curve[: len(curve) // 2])
    return first - min(curve) < TOLERANCE * (curve[0] - first)


def logits(scores: np.ndarray) -> np.ndarray:
    """Two-class decision values as two-column logits (one temperature fit serves both)."""
    return np.column_stack([np.zeros_like(scores), scores]) if scores.ndim == 1 else scores


def _stages(model: Any, matrix: np.ndarray) -> Iterator[np.ndarray]:
    stages = model.staged_decision_function if hasattr(model, "decision_function") else model.staged_predict
    return (np.asarray(s) for s in stages(matrix))


def _log_loss(scores: np.ndarray, codes: np.ndarray) -> float:
    return float(-log_softmax(logits(scores), axis=1)[np.arange(len(codes)), codes].mean())


def _squared_error(predicted: np.ndarray, target: np.ndarray) -> float:
    return float(np.mean((predicted - target) ** 2))
