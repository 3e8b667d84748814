"""The recipe protocol: how a model is trained, used and saved.

Shaped like scikit-learn estimators: `__init__` only stores keyword parameters, `fit`
returns `self`, learned state ends in `_`. Three kinds exist, told apart by `task`:

- `Classifier`: `fit(X, y)`, `predict_proba(X)`, `classes_`.
- `Regressor`: `fit(X, y)`, `predict(X)`: one number per row.
- `Forecaster`: `fit(series)`, `forecast(history, steps)`: the fitted parameters applied to
  any history, never refitted (so a champion can be scored on today's data as it is).

`save(folder)` / `load(folder)` persist a fitted recipe; the built-ins avoid pickle.
"""

from __future__ import annotations

import inspect
import pickle
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import numpy as np
import pandas as pd

Task = Literal["classification", "regression", "forecasting"]
_PICKLE = "recipe.pkl"


class Recipe:
    """Common base: parameters, persistence and requirements."""

    task: ClassVar[Task]

    @classmethod
    def param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [
            name
            for name, p in signature.parameters.items()
            if name != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]

    def get_params(self) -> dict[str, Any]:
        """The parameters this recipe was built with."""
        return {name: getattr(self, name) for name in self.param_names()}

    def save(self, folder: Path) -> None:
        """Write the fitted recipe into `folder` (which exists and is empty).

        The default pickles the recipe, which only your own trusted artifacts should be
        loaded from; the built-in recipes override this with pickle-free formats.
        """
        with open(folder / _PICKLE, "wb") as file:
            pickle.dump(self, file, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def load(cls, folder: Path) -> Self:
        """Read a recipe written by `save`."""
        with open(folder / _PICKLE, "rb") as file:
            recipe = pickle.load(file)  # noqa: S301 - written by `save` above, hash-checked
        if not isinstance(recipe, cls):
            raise TypeError(f"{folder / _PICKLE} holds a {type(recipe).__name__}, not a {cls.__name__}")
        return recipe

    @classmethod
    def pip_requirements(cls) -> list[str]:
        """Packages (with versions) a fitted recipe needs to be loaded elsewhere."""
        return []


class Classifier(Recipe):
    """A recipe that labels rows and gives calibrated class probabilities."""

    task: ClassVar[Task] = "classification"
    classes_: np.ndarray

    def fit(self, X: pd.DataFrame, y: pd.Series) -> Self:
        raise NotImplementedError

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probabilities, one column per entry of `classes_`."""
        raise NotImplementedError

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class Regressor(Recipe):
    """A recipe that predicts one number per row."""

    task: ClassVar[Task] = "regression"

    def fit(self, X: pd.DataFrame, y: pd.Series) -> Self:
        raise NotImplementedError

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """One finite float per row of `X`."""
        raise NotImplementedError


class Forecaster(Recipe):
    """A recipe that forecasts a regular time series.

    `fit` keeps the series it saw in `history_`, so a saved model can forecast what comes
    after its training data with no other input.
    """

    task: ClassVar[Task] = "forecasting"
    history_: pd.Series

    def fit(self, series: pd.Series) -> Self:
        """Fit on `series`, indexed by a regular DatetimeIndex."""
        raise NotImplementedError

    def forecast(self, history: pd.Series, steps: int) -> np.ndarray:
        """Forecast `steps` periods after `history` with the fitted parameters."""
        raise NotImplementedError

    def future_dates(self, steps: int) -> pd.DatetimeIndex:
        """The dates of the `steps` periods after `history_` (at `frequency_` when the recipe
        recorded one, else the history's own frequency, else daily)."""
        dates = pd.DatetimeIndex(self.history_.index)
        freq = getattr(self, "frequency_", None) or dates.freq or pd.infer_freq(dates) or "D"
        return pd.date_range(dates[-1], periods=steps + 1, freq=freq)[1:]

    def extend_history(self, series: pd.Series) -> None:
        """Forecast after `series` from now on; the fitted parameters stay as they are."""
        self.history_ = series
