"""`tabular-classifier` and `tabular-regressor`: scikit-learn HistGradientBoosting over the
numbers, categories and dates of the declared features (see `tabular_columns.py` for how
each column is read), with native categorical splits and missing values.

The number of boosting iterations is chosen by cross-validation on the training rows
(`tabular_fit.py`, `early_stopping="cv"`), and the classifier's probabilities are calibrated
by temperature scaling on the same folds' held-out scores: one T >= 1 minimising their log
loss, applied to the final model's scores (softening only, see `fit`). Monitoring estimates
accuracy from these probabilities; docs/benchmarks.md has the defaults' measurements against
a tuned HistGradientBoosting and the calibration error with and without the temperature.

Saved without pickle: the trees with skops (loaded only if the file holds nothing but the
types listed in `TRUSTED`), everything else as JSON.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import skops.io as sio
from scipy.special import expit, softmax
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

from champion.errors import RecipeError
from champion.recipes.base import Classifier, Recipe, Regressor
from champion.recipes.calibration import fit_temperature
from champion.recipes.labels import class_array, classes_to_json, encode_labels
from champion.recipes.tabular_columns import ColumnPlan
from champion.recipes.tabular_fit import cross_validate_iterations, logits

_STATE = "tabular.json"
_TREES = "trees.skops"
TRUSTED = [
    "functools.partial",  # HistGradientBoosting keeps partial(check_array, ...) as its validator
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
]
"""The only types beyond skops' defaults a saved model may hold."""
SMOOTH = {"max_leaf_nodes": 4, "min_samples_leaf": 40, "learning_rate": 0.05}
"""The smoother trees `tree_search` weighs against the parameters as set."""
_FALLBACK_ITERATIONS = 100
"""Iterations when the table is too small for two folds."""


class _Tabular(Recipe):
    """Parameters, column handling, fitting and persistence shared by both tabular recipes."""

    name: ClassVar[str]
    model_: HistGradientBoostingClassifier | HistGradientBoostingRegressor
    columns_: ColumnPlan
    iterations_: int

    def __init__(
        self,
        *,
        learning_rate: float = 0.1,
        max_iter: int = 500,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 10,
        l2_regularization: float = 1.0,
        max_features: float = 0.5,
        early_stopping: bool | str = "cv",
        cv_folds: int = 5,
        tree_search: bool = True,
        random_state: int = 0,
    ) -> None:
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_features = max_features
        self.early_stopping = early_stopping
        self.cv_folds = cv_folds
        self.tree_search = tree_search
        self.random_state = random_state

    def _estimator(self, kind: type[Any]) -> Any:
        if not (isinstance(self.early_stopping, bool) or self.early_stopping in ("cv", "auto")):
            raise RecipeError(f"{self.name}: early_stopping must be 'cv', 'auto', true or false, "
                              f"not {self.early_stopping!r}")
        return kind(learning_rate=self.learning_rate, max_iter=self.max_iter, max_leaf_nodes=self.max_leaf_nodes,
                    min_samples_leaf=self.min_samples_leaf, l2_regularization=self.l2_regularization,
                    max_features=self.max_features, categorical_features=self.columns_.categorical,
                    early_stopping=False if self.early_stopping == "cv" else self.early_stopping,
                    random_state=self.random_state)

    def _boost(self, model: Any, matrix: np.ndarray, target: np.ndarray,
               folds: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray | None:
        """Fit `model` as `early_stopping` says; the folds' held-out scores when it used them."""
        scores = None
        self.trees_ = "as set"
        if self.early_stopping == "cv":
            if folds:
                chosen = cross_validate_iterations(model, matrix, target, folds, self.max_iter)
                if self.tree_search:
                    # The same folds also judge a smoother model (few, large leaves, slower
                    # learning): on noisy tables it generalizes better, and trying it is what a
                    # tuned search finds first (docs/benchmarks.md).
                    smooth = clone(model).set_params(**SMOOTH)
                    other = cross_validate_iterations(smooth, matrix, target, folds, self.max_iter)
                    if other.curve.min() < chosen.curve.min():
                        model, chosen, self.trees_ = smooth, other, "smooth"
                iterations, scores = chosen.iterations, chosen.scores
            else:
                iterations = min(self.max_iter, _FALLBACK_ITERATIONS)
            model.set_params(max_iter=iterations)
        self.model_ = model.fit(matrix, target)
        self.iterations_ = int(self.model_.n_iter_)
        return scores

    def _matrix(self, X: pd.DataFrame, learn: bool = False) -> np.ndarray:
        if learn:
            self.columns_ = ColumnPlan.learn(X, self.name)
        return self.columns_.transform(X, self.name)

    def _state(self) -> dict[str, Any]:
        return {"params": self.get_params(), "columns": self.columns_.to_json(), "iterations": self.iterations_,
                "trees": self.trees_}

    def _restore(self, state: dict[str, Any]) -> None:
        self.columns_ = ColumnPlan(state["columns"])
        self.iterations_ = int(state["iterations"])
        self.trees_ = str(state.get("trees", "as set"))

    def save(self, folder: Path) -> None:
        (folder / _STATE).write_text(json.dumps(self._state(), ensure_ascii=False), encoding="utf-8")
        sio.dump(self.model_, folder / _TREES)

    @classmethod
    def load(cls, folder: Path) -> Self:
        state = json.loads((folder / _STATE).read_text(encoding="utf-8"))
        found = sio.get_untrusted_types(file=folder / _TREES)
        unexpected = sorted(set(found) - set(TRUSTED))
        if unexpected:
            raise RecipeError(f"{folder / _TREES} holds types a {cls.name} model never has: "
                              f"{', '.join(unexpected)}; it is not loaded")
        recipe = cls(**state["params"])
        recipe.model_ = sio.load(folder / _TREES, trusted=TRUSTED)
        recipe._restore(state)
        return recipe

    @classmethod
    def pip_requirements(cls) -> list[str]:
        return [f"{name}=={version(name)}" for name in ("scikit-learn", "numpy", "pandas", "scipy", "skops")]


class TabularClassifier(_Tabular, Classifier):
    """Classifies rows of numbers, categories and dates, with calibrated probabilities."""

    name = "tabular-classifier"

    def __init__(
        self,
        *,
        learning_rate: float = 0.1,
        max_iter: int = 500,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 10,
        l2_regularization: float = 1.0,
        max_features: float = 0.5,
        early_stopping: bool | str = "cv",
        cv_folds: int = 5,
        tree_search: bool = True,
        calibration: str = "temperature",
        random_state: int = 0,
    ) -> None:
        super().__init__(learning_rate=learning_rate, max_iter=max_iter, max_leaf_nodes=max_leaf_nodes,
                         min_samples_leaf=min_samples_leaf, l2_regularization=l2_regularization,
                         max_features=max_features, early_stopping=early_stopping, cv_folds=cv_folds,
                         tree_search=tree_search, random_state=random_state)
        self.calibration = calibration

    def fit(self, X: pd.DataFrame, y: pd.Series) -> Self:
        if self.calibration not in ("temperature", "none"):
            raise RecipeError(f"{self.name}: calibration must be 'temperature' or 'none', not {self.calibration!r}")
        classes, codes = encode_labels(y, self.name)
        if len(classes) < 2:
            raise RecipeError(f"{self.name} needs two classes or more; the training data has {classes.tolist()}")
        matrix = self._matrix(X, learn=True)
        model = self._estimator(HistGradientBoostingClassifier)
        count = min(self.cv_folds, int(np.bincount(codes).min()))
        split = StratifiedKFold(count, shuffle=True, random_state=self.random_state) if count >= 2 else None
        folds = list(split.split(matrix, codes)) if split else []
        scores = self._boost(model, matrix, codes, folds)
        if scores is None and self.calibration == "temperature" and split is not None:
            scores = cross_val_predict(self._estimator(HistGradientBoostingClassifier), matrix, codes, cv=split,
                                       method="decision_function")
        # Softening only: the model refitted on every row is at least as confident as the fold
        # models T was measured on, so a T < 1 from them over-sharpens it (wine: golden log
        # loss 0.129 with T = 0.65 against 0.089 with T = 1).
        self.temperature_ = 1.0
        if self.calibration == "temperature" and scores is not None:
            self.temperature_ = fit_temperature(logits(scores), codes, lowest=1.0)
        self.classes_ = classes
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        scores = self.model_.decision_function(self._matrix(X)) / self.temperature_
        if scores.ndim == 1:
            positive = expit(scores)
            return np.column_stack([1.0 - positive, positive])
        return softmax(scores, axis=1)

    def _state(self) -> dict[str, Any]:
        return {**super()._state(), "classes": classes_to_json(self.classes_), "temperature": self.temperature_}

    def _restore(self, state: dict[str, Any]) -> None:
        super()._restore(state)
        self.classes_ = class_array(state["classes"])
        self.temperature_ = float(state["temperature"])


class TabularRegressor(_Tabular, Regressor):
    """Predicts a number from rows of numbers, categories and dates."""

    name = "tabular-regressor"

    def __init__(
        self,
        *,
        learning_rate: float = 0.1,
        max_iter: int = 500,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 2,
        l2_regularization: float = 1.0,
        max_features: float = 0.5,
        early_stopping: bool | str = "cv",
        cv_folds: int = 5,
        tree_search: bool = True,
        random_state: int = 0,
    ) -> None:
        # Leaves of 2 rows where the classifier keeps 10: on the regression data sets a leaf
        # of 10 could not single out one firm's few large values (grunfeld; docs/benchmarks.md).
        super().__init__(learning_rate=learning_rate, max_iter=max_iter, max_leaf_nodes=max_leaf_nodes,
                         min_samples_leaf=min_samples_leaf, l2_regularization=l2_regularization,
                         max_features=max_features, early_stopping=early_stopping, cv_folds=cv_folds,
                         tree_search=tree_search, random_state=random_state)

    def fit(self, X: pd.DataFrame, y: pd.Series) -> Self:
        target = pd.to_numeric(pd.Series(y), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = int((~np.isfinite(target)).sum())
        if bad:
            raise RecipeError(f"{self.name}: {bad} target value(s) are missing or not finite numbers")
        matrix = self._matrix(X, learn=True)
        count = min(self.cv_folds, len(target) // 10)  # folds of ten rows at least
        folds = list(KFold(count, shuffle=True, random_state=self.random_state).split(matrix)) if count >= 2 else []
        self._boost(self._estimator(HistGradientBoostingRegressor), matrix, target, folds)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.model_.predict(self._matrix(X)), dtype=np.float64)
