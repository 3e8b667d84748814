"""The golden set of a model's current data, and each model's answers on it.

Classification and regression: rows whose split key hashes below the golden fraction. Forecasting: the
last `periods` periods, scored by rolling origin: from each origin every model forecasts the
next `horizon` periods from the same history, with its own fitted parameters. Missing values
of a series are interpolated for the models' histories but never scored: an error on a
value that was never observed is no evidence.
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
from champion.data.series import model_series
from champion.errors import ChampionError, DataError, RecipeError
from champion.evaluation.compare import compare_classifiers, compare_forecasts, compare_regressors
from champion.evaluation.metrics import ClassifierScores, RegressorScores
from champion.evaluation.policy import Evidence, Policy
from champion.pipelines.progress import Progress, silent
from champion.recipes.base import Classifier, Forecaster, Recipe, Regressor
from champion.recipes.labels import label_order
from champion.recipes.progress import listening, report


@dataclass
class ClassificationSplit:
    train_X: pd.DataFrame
    train_y: pd.Series
    golden_X: pd.DataFrame
    golden_y: pd.Series
    positive: object

    def describe(self) -> dict[str, object]:
        return {"kind": "hash", "train_rows": len(self.train_y), "golden_rows": len(self.golden_y),
                "golden_label_counts": {str(k): int(v) for k, v in sorted(self.golden_y.value_counts().items(),
                                                                     key=lambda kv: label_order(kv[0]))}}


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
    series: pd.Series  # the whole current series, missing values interpolated
    history: pd.Series  # what a challenger is fitted on
    horizon: int
    filled: np.ndarray | None = None  # True where a value was interpolated, not observed

    @property
    def origins(self) -> list[int]:
        """Positions (in `series`) of the last period before each forecast; an origin whose
        whole horizon was filled in has nothing to be scored on and is left out."""
        observed = self._observed()
        start = len(self.history) - 1
        return [o for o in range(start, len(self.series) - self.horizon)
                if observed[o + 1 : o + 1 + self.horizon].any()]

    def actual(self) -> np.ndarray:
        """Origins x horizon actual values; NaN where a value was filled in (never scored)."""
        values = np.where(self._observed(), self.series.to_numpy(dtype=float), np.nan)
        rows = [values[o + 1 : o + 1 + self.horizon] for o in self.origins]
        return np.array(rows).reshape(-1, self.horizon)

    def _observed(self) -> np.ndarray:
        return np.ones(len(self.series), dtype=bool) if self.filled is None else ~self.filled

    @property
    def filled_count(self) -> int:
        return int((~self._observed()).sum())

    @property
    def golden_filled_count(self) -> int:
        return int((~self._observed()[len(self.history):]).sum())

    def filled_note(self) -> str:
        """What was filled in, for the user ('' when nothing was)."""
        if not self.filled_count:
            return ""
        plural = "s" if self.filled_count > 1 else ""
        return (f"{self.filled_count} missing value{plural} interpolated "
                f"({self.golden_filled_count} in the golden set, not scored)")

    def describe(self) -> dict[str, object]:
        return {"kind": "last periods", "train_periods": len(self.history),
                "golden_periods": len(self.series) - len(self.history), "origins": len(self.origins),
                "horizon": self.horizon, "golden_start": str(self.series.index[len(self.history)].date()),
                "golden_end": str(self.series.index[-1].date()),
                "filled_values": self.filled_count,
                "golden_filled_values": self.golden_filled_count}


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
    filled = model_series(frame, settings.time, settings.target, settings.frequency)
    history, _ = split_series(filled.series, settings.golden.periods)
    return ForecastSplit(filled.series, history, settings.golden.horizon, filled.filled)


def fit(recipe: Recipe, data: Split, progress: Progress = silent) -> Recipe:
    """Fit the recipe on the training side; its `report`s become the progress's notes."""
    with _recipe_errors(recipe, "fit"), listening(progress.note):
        if isinstance(data, ClassificationSplit | RegressionSplit):
            assert isinstance(recipe, Classifier | Regressor)
            return recipe.fit(data.train_X, data.train_y)
        assert isinstance(recipe, Forecaster)
        if data.filled_count:
            report(data.filled_note())
        _validate_as_judged(recipe, data)
        return recipe.fit(data.history)


def _validate_as_judged(recipe: Forecaster, data: ForecastSplit) -> None:
    """A forecaster with `validation_horizon` / `validation_periods` parameters left unset
    chooses its model at the golden set's horizon, over as many periods as the golden set."""
    params = recipe.get_params()
    golden = {"validation_horizon": data.horizon,
              "validation_periods": len(data.series) - len(data.history)}
    for name, value in golden.items():
        if name in params and params[name] is None:
            setattr(recipe, name, value)


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
    if list(classes) != sorted(classes, key=label_order):
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
