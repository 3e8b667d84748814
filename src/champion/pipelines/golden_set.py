"""The golden set of a model's current data, and each model's answers on it.

Classification and regression: rows whose split key hashes below the golden fraction. Forecasting: the
last `days` periods, scored by rolling origin: from each origin every model forecasts the
next `horizon` periods from the same history, with its own fitted parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from champion.config import ModelSettings
from champion.data.dataset import Dataset
from champion.data.golden import golden_mask, split_series
from champion.errors import ChampionError, DataError, RecipeError
from champion.evaluation.compare import compare_classifiers, compare_forecasts, compare_regressors
from champion.evaluation.metrics import ClassifierScores, RegressorScores
from champion.evaluation.policy import Evidence, Policy
from champion.recipes.base import Classifier, Forecaster, Recipe, Regressor


@dataclass
class ClassificationSplit:
    train_X: pd.DataFrame
    train_y: pd.Series
    golden_X: pd.DataFrame
    golden_y: pd.Series
    positive: object

    def describe(self) -> dict[str, object]:
        return {"kind": "hash", "train_rows": len(self.train_y), "golden_rows": len(self.golden_y),
                "golden_label_counts": {str(k): int(v) for k, v in self.golden_y.value_counts().sort_index().items()}}


@dataclass
class RegressionSplit:
    train_X: pd.DataFrame
    train_y: pd.Series
    golden_X: pd.DataFrame
    golden_y: pd.Series

    def describe(self) -> dict[str, object]:
        y = self.golden_y.astype(float)
        return {"kind": "hash", "train_rows": len(self.train_y), "golden_rows": len(self.golden_y),
                "golden_target": {"mean": float(y.mean()), "std": float(y.std()), "min": float(y.min()),
                                  "max": float(y.max())}}


@dataclass
class ForecastSplit:
    series: pd.Series  # the whole current series
    history: pd.Series  # what a challenger is fitted on
    horizon: int

    @property
    def origins(self) -> range:
        """Positions (in `series`) of the last observed period of each forecast."""
        start = len(self.history) - 1
        return range(start, len(self.series) - self.horizon)

    def actual(self) -> np.ndarray:
        values = self.series.to_numpy(dtype=float)
        return np.array([values[o + 1 : o + 1 + self.horizon] for o in self.origins])

    def describe(self) -> dict[str, object]:
        return {"kind": "last periods", "train_periods": len(self.history),
                "golden_periods": len(self.series) - len(self.history), "origins": len(self.origins),
                "horizon": self.horizon, "golden_start": str(self.series.index[len(self.history)].date()),
                "golden_end": str(self.series.index[-1].date())}


Split = ClassificationSplit | RegressionSplit | ForecastSplit
RowSplit = ClassificationSplit | RegressionSplit
"""The splits whose golden set is rows (the models read feature columns)."""


def split(dataset: Dataset, settings: ModelSettings, recipe_cls: type[Recipe]) -> Split:
    frame = dataset.frame
    if issubclass(recipe_cls, Classifier | Regressor):
        mask = golden_mask(frame, settings.split_columns, settings.golden.fraction, settings.golden.salt)
        if mask.all() or not mask.any():
            raise DataError(f"the golden set would hold {int(mask.sum())} of {len(frame)} rows: add data")
        train, golden = frame[~mask], frame[mask]
        if issubclass(recipe_cls, Regressor):
            return RegressionSplit(train[settings.features], train[settings.target].astype(float),
                                   golden[settings.features], golden[settings.target].astype(float))
        positive = settings.positive_label if settings.positive_label is not None else settings.labels[-1]
        return ClassificationSplit(train[settings.features], train[settings.target],
                                   golden[settings.features], golden[settings.target], positive)
    assert settings.time is not None  # checked by check_task_settings
    series = frame.set_index(settings.time)[settings.target].astype(float)
    series.index = pd.DatetimeIndex(series.index, freq=settings.frequency)
    history, _ = split_series(series, settings.golden.days)
    return ForecastSplit(series, history, settings.golden.horizon)


def fit(recipe: Recipe, data: Split) -> Recipe:
    with _recipe_errors(recipe, "fit"):
        if isinstance(data, ClassificationSplit | RegressionSplit):
            assert isinstance(recipe, Classifier | Regressor)
            return recipe.fit(data.train_X, data.train_y)
        assert isinstance(recipe, Forecaster)
        return recipe.fit(data.history)


@contextmanager
def _recipe_errors(recipe: Recipe, method: str) -> Iterator[None]:
    """A user's recipe that raises is a recipe problem (exit 2), not a champion bug."""
    try:
        yield
    except ChampionError:
        raise
    except Exception as exc:
        raise RecipeError(f"recipe {type(recipe).__name__}.{method} failed: {type(exc).__name__}: {exc}") from exc


Answers = ClassifierScores | RegressorScores | np.ndarray


def answers(recipe: Recipe, data: Split) -> Answers:
    """The recipe's answers on the golden set."""
    if isinstance(data, ClassificationSplit):
        assert isinstance(recipe, Classifier)
        with _recipe_errors(recipe, "predict_proba"):
            proba = np.asarray(recipe.predict_proba(data.golden_X), dtype=float)
        classes = np.asarray(recipe.classes_)
        _check_proba(type(recipe).__name__, proba, classes, data)
        return ClassifierScores(data.golden_y.to_numpy(), proba, classes, data.positive)
    if isinstance(data, RegressionSplit):
        assert isinstance(recipe, Regressor)
        with _recipe_errors(recipe, "predict"):
            predicted = np.asarray(recipe.predict(data.golden_X), dtype=float).reshape(-1)
        if len(predicted) != len(data.golden_y) or not np.isfinite(predicted).all():
            raise RecipeError(f"{type(recipe).__name__}.predict returned {len(predicted)} values for "
                              f"{len(data.golden_y)} rows, or values that are not finite")
        return RegressorScores(data.golden_y.to_numpy(dtype=float), predicted)
    assert isinstance(recipe, Forecaster)
    with _recipe_errors(recipe, "forecast"):
        return np.array([recipe.forecast(data.series.iloc[: o + 1], data.horizon) for o in data.origins],
                        dtype=float)


def _check_proba(name: str, proba: np.ndarray, classes: np.ndarray, data: ClassificationSplit) -> None:
    expected = (len(data.golden_y), len(classes))
    if proba.shape != expected:
        raise RecipeError(f"{name}.predict_proba returned shape {proba.shape}, expected {expected}")
    if not np.isfinite(proba).all() or (proba < 0).any():
        raise RecipeError(f"{name}.predict_proba returned negative or non-finite probabilities")
    if list(classes) != sorted(classes):
        raise RecipeError(f"{name}.classes_ must be sorted, got {list(classes)}")
    unseen = sorted(set(data.golden_y.unique()) - set(classes.tolist()), key=str)
    if unseen:
        raise DataError(f"labels {unseen} are in the golden set but the model never saw them in training")
    if data.positive not in set(classes.tolist()):
        raise DataError(f"the positive label {data.positive!r} never occurs in the training rows")


def compare(policy: Policy, data: Split, challenger: Answers, champion: Answers | None) -> Evidence:
    if isinstance(data, ClassificationSplit):
        assert isinstance(challenger, ClassifierScores) and isinstance(champion, ClassifierScores | None)
        return compare_classifiers(policy, challenger, champion)
    if isinstance(data, RegressionSplit):
        assert isinstance(challenger, RegressorScores) and isinstance(champion, RegressorScores | None)
        return compare_regressors(policy, challenger, champion)
    assert isinstance(challenger, np.ndarray)
    return compare_forecasts(policy, data.actual(), challenger, champion, data.horizon)  # type: ignore[arg-type]
