"""Missing values of a series: interpolated for the models' histories, never scored."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from champion.config import PolicySettings
from champion.data.golden import split_series
from champion.data.series import fill_missing
from champion.errors import DataError
from champion.evaluation.compare import compare_forecasts
from champion.evaluation.metrics import forecast_metrics, scalar
from champion.evaluation.policy import resolve_policy
from champion.pipelines import golden_set
from champion.pipelines.golden_set import ForecastSplit
from champion.recipes.base import Forecaster


def weekly(values: list[float]) -> pd.Series:
    return pd.Series(values, index=pd.date_range("2020-01-05", periods=len(values), freq="W-SUN"), dtype=float)


def test_gaps_are_interpolated_in_time_and_remembered() -> None:
    series = weekly([1.0, np.nan, np.nan, 4.0, 5.0, np.nan, 9.0])
    filled = fill_missing(series, "sales")
    assert filled.series.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 9.0]
    assert filled.filled.tolist() == [False, True, True, False, False, True, False] and filled.count == 3
    untouched = fill_missing(weekly([1.0, 2.0]))
    assert untouched.count == 0 and untouched.series.tolist() == [1.0, 2.0]


def test_time_weights_follow_the_dates() -> None:
    index = pd.DatetimeIndex(["2020-01-01", "2020-01-02", "2020-01-11"])
    filled = fill_missing(pd.Series([0.0, np.nan, 10.0], index=index))
    assert filled.series.iloc[1] == pytest.approx(1.0)  # a day of ten, not half way


@pytest.mark.parametrize(("values", "fragment"), [
    ([np.nan, np.nan, 3.0, 4.0], "starts with 2 missing values (2020-01-05, 2020-01-12)"),
    ([1.0, 2.0, np.nan], "ends with 1 missing value (2020-01-19)"),
    ([np.nan, np.nan], "all 2 values of the series are missing"),
])
def test_missing_values_at_an_end_are_refused_naming_their_dates(values: list[float], fragment: str) -> None:
    with pytest.raises(DataError) as caught:
        fill_missing(weekly(values), "sales")
    assert fragment in caught.value.reason and caught.value.column == "sales"


def test_filled_values_are_never_scored() -> None:
    series = weekly([float(v) for v in range(30)])
    series.iloc[[24, 26, 27, 28]] = np.nan  # golden periods: the last 8 (22..29)
    filled = fill_missing(series)
    history, _ = split_series(filled.series, 8)
    data = ForecastSplit(filled.series, history, 3, filled.filled)
    actual = data.actual()
    assert np.isnan(actual).sum() > 0 and data.filled_count == 4
    # origins whose whole horizon was filled in (26..28, after origin 25) are left out
    assert 25 not in data.origins and data.origins == [21, 22, 23, 24, 26]
    assert data.describe()["golden_filled_values"] == 4 and data.describe()["filled_values"] == 4
    assert "4 missing values interpolated (4 in the golden set, not scored)" == data.filled_note()
    predicted = np.nan_to_num(actual, nan=1000.0) + 1.0  # off by 1 where observed, wildly where filled
    assert scalar(forecast_metrics(actual, predicted))["rmse"] == pytest.approx(1.0)
    assert scalar(forecast_metrics(actual, predicted))["mae"] == pytest.approx(1.0)


def test_the_gate_copes_with_unscored_values() -> None:
    rng = np.random.default_rng(0)
    actual = rng.normal(100, 10, (30, 7))
    actual[3, :4] = np.nan
    actual[10, 2] = np.nan
    champion = actual + rng.normal(0, 5, actual.shape)
    challenger = actual + rng.normal(0, 2, actual.shape)
    policy = resolve_policy(PolicySettings(test="diebold-mariano"), "forecasting", "m")
    evidence = compare_forecasts(policy, actual, challenger, champion, 7)
    assert np.isfinite(evidence.challenger["rmse"]) and np.isfinite(evidence.champion["rmse"])  # type: ignore[index]
    assert all(np.isfinite(v) for v in evidence.p_values.values()) and evidence.p_values
    assert all(np.isfinite(v) for pair in evidence.intervals.values() for v in pair)


class _Notes:
    def __init__(self) -> None:
        self.notes: list[str] = []

    def step(self, description: str):  # type: ignore[no-untyped-def]
        from contextlib import nullcontext

        return nullcontext()

    def note(self, message: str) -> None:
        self.notes.append(message)


class _Mean(Forecaster):
    """A user's forecaster that reports what it does."""

    def fit(self, series: pd.Series) -> _Mean:
        from champion.recipes.progress import report

        report(f"averaging {len(series)} periods")
        self.mean_ = float(series.mean())
        self.history_ = series
        return self

    def forecast(self, history: pd.Series, steps: int) -> np.ndarray:
        return np.full(steps, self.mean_)


def test_golden_set_fit_passes_notes_of_any_recipe_to_the_progress() -> None:
    series = weekly([float(v) for v in range(40)])
    series.iloc[5] = np.nan
    filled = fill_missing(series)
    history, _ = split_series(filled.series, 10)
    progress = _Notes()
    golden_set.fit(_Mean(), ForecastSplit(filled.series, history, 3, filled.filled), progress)
    assert progress.notes == ["1 missing value interpolated (0 in the golden set, not scored)", "averaging 30 periods"]
