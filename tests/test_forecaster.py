"""The forecaster on series that are not daily: seasons by frequency, Fourier terms for long
seasons, the time budget, progress notes, and saved models old and new (real statsmodels)."""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from champion.config import ModelSettings, pandas_frequency
from champion.errors import RecipeError
from champion.recipes import seasons
from champion.recipes.forecaster import ArimaForecaster
from champion.recipes.progress import listening, report

FIXTURES = Path(__file__).parent / "fixtures"
WEEKS_A_YEAR = 365.25 / 7


def seasonal(freq: str, periods: int, season: float, *, seed: int = 0, trend: float = 0.0,
             start: str = "2000-01-01") -> pd.Series:
    """A level, a trend, a sine of the season and AR(1) noise, on a regular index."""
    rng = np.random.default_rng(seed)
    noise = np.zeros(periods)
    for t in range(1, periods):
        noise[t] = 0.5 * noise[t - 1] + rng.normal()
    t = np.arange(periods)
    values = 100 + trend * t + 10 * np.sin(2 * np.pi * t / season) + noise
    return pd.Series(values, index=pd.date_range(start, periods=periods, freq=freq))


@pytest.mark.parametrize(("alias", "season"), [
    ("h", 24), ("30min", 48), ("min", 1440), ("D", 7), ("B", 5), ("W", WEEKS_A_YEAR),
    ("W-SAT", WEEKS_A_YEAR), ("MS", 12), ("ME", 12), ("SMS", 24), ("QS", 4), ("QE-DEC", 4),
    ("YS", None), ("YE", None),
])
def test_the_season_follows_the_frequency(alias: str, season: float | None) -> None:
    found = seasons.season_of(alias)
    assert found == pytest.approx(season) if season is not None else found is None


@pytest.mark.parametrize(("older", "newer"), [("M", "ME"), ("Q", "QE"), ("Q-DEC", "QE-DEC"), ("A", "YE"),
                                              ("AS", "YS"), ("H", "h"), ("T", "min"), ("2M", "2ME")])
def test_older_frequency_aliases_are_read(older: str, newer: str) -> None:
    assert pandas_frequency(older) == newer
    model = ModelSettings.model_validate({"recipe": "forecaster", "data": ["x.csv"], "time": "t", "target": "y",
                                          "frequency": older, "columns": {"t": "date", "y": "number"}})
    assert model.frequency == newer


def test_a_frequency_that_is_no_alias_is_a_config_error() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="not a pandas offset alias"):
        ModelSettings.model_validate({"recipe": "forecaster", "data": ["x.csv"], "time": "t", "target": "y",
                                      "frequency": "fortnightly", "columns": {"t": "date", "y": "number"}})


def test_positions_count_periods_from_the_anchor() -> None:
    index = pd.date_range("2001-03-01", periods=5, freq="MS")
    assert seasons.positions(index, pd.Timestamp("2000-01-01"), "MS").tolist() == [14, 15, 16, 17, 18]
    weekly = pd.date_range("2000-01-01", periods=3, freq="W-SAT")
    assert seasons.positions(weekly, pd.Timestamp("2000-01-15"), "W-SAT").tolist() == [-2, -1, 0]
    hourly = pd.date_range("2000-01-02", periods=2, freq="h")
    assert seasons.positions(hourly, pd.Timestamp("2000-01-01"), "h").tolist() == [24, 25]


def test_monthly_series_get_a_season_of_12_and_yearly_none() -> None:
    monthly = ArimaForecaster(time_budget=15).fit(seasonal("MS", 96, 12))
    assert monthly.spec_["seasonal_order"][3] == 12 and "fourier" not in monthly.spec_
    yearly = ArimaForecaster(time_budget=15).fit(seasonal("YS", 60, 12, start="1900-01-01"))
    assert yearly.spec_["seasonal_order"] == [0, 0, 0, 0] and "fourier" not in yearly.spec_
    assert yearly.frequency_ == "YS-JAN" and len(yearly.forecast(yearly.history_, 5)) == 5


def test_hourly_series_get_fourier_terms_of_a_day_and_business_days_a_week_of_5() -> None:
    hourly = ArimaForecaster(time_budget=15).fit(seasonal("h", 24 * 12, 24))
    assert hourly.spec_["fourier"]["period"] == 24 and hourly.spec_["seasonal_order"] == [0, 0, 0, 0]
    business = ArimaForecaster(time_budget=15).fit(seasonal("B", 150, 5))
    assert business.spec_["seasonal_order"][3] == 5 and "fourier" not in business.spec_


def test_seasonal_period_overrides_the_frequency() -> None:
    series = seasonal("MS", 96, 4)
    assert ArimaForecaster(seasonal_period=4, time_budget=15).fit(series).spec_["seasonal_order"][3] == 4
    assert ArimaForecaster(seasonal_period=0, time_budget=15).fit(series).spec_["seasonal_order"] == [0, 0, 0, 0]


def test_a_series_without_a_seasonal_pattern_is_fitted_without_one() -> None:
    rng = np.random.default_rng(3)
    adjusted = pd.Series(np.cumsum(rng.normal(0.5, 1, 120)), index=pd.date_range("1990-01-01", periods=120, freq="QS"))
    notes: list[str] = []
    with listening(notes.append):
        model = ArimaForecaster(time_budget=15).fit(adjusted)
    assert model.spec_["seasonal_order"] == [0, 0, 0, 0]
    assert any("no seasonal pattern" in n for n in notes)


def test_a_weekly_series_uses_fourier_terms_and_keeps_its_phase() -> None:
    """Fourier pairs of a 52.18-week year; forecasts from a grown history, or one that lost
    its oldest weeks, follow the season where it is (positions counted from the anchor)."""
    truth = seasonal("W-SUN", 260, WEEKS_A_YEAR, seed=1, trend=0.05)
    model = ArimaForecaster(time_budget=30).fit(truth.iloc[:180])
    fourier = model.spec_["fourier"]
    assert fourier["period"] == pytest.approx(WEEKS_A_YEAR) and fourier["pairs"] >= 1
    assert model.spec_["seasonal_order"] == [0, 0, 0, 0]
    signal = 100 + 0.05 * np.arange(260) + 10 * np.sin(2 * np.pi * np.arange(260) / WEEKS_A_YEAR)
    for history in (truth.iloc[:230], truth.iloc[26:230]):  # grown; grown and trimmed by half a year
        ahead = model.forecast(history, 13)
        assert np.sqrt(np.mean((ahead - signal[230:243]) ** 2)) < 4  # the sine's amplitude is 10
    shifted = pd.Series(truth.iloc[26:230].to_numpy(), index=truth.index[:204])  # same values, dates 26 weeks early
    assert np.abs(model.forecast(shifted, 13) - model.forecast(truth.iloc[26:230], 13)).max() > 5


def test_the_time_budget_stops_the_search_and_keeps_the_best_so_far() -> None:
    series = seasonal("W-SUN", 400, WEEKS_A_YEAR, seed=2, trend=0.02)
    start = time.monotonic()
    model = ArimaForecaster(time_budget=0.5).fit(series)
    took = time.monotonic() - start
    assert model.search_["stopped_by_budget"] is True
    assert took < 10  # a full search takes several times longer; a fit in progress is cut short
    assert np.isfinite(model.forecast(series, 10)).all()


def test_progress_notes_reach_the_listener_and_only_it() -> None:
    heard: list[str] = []
    report("nobody listens")  # no listener: nothing happens
    with listening(heard.append):
        ArimaForecaster(time_budget=15).fit(seasonal("QS", 80, 4))
        with listening(lambda _: None):
            report("inner")
        report("outer again")
    report("after")
    assert heard[-1] == "outer again" and "inner" not in heard and "after" not in heard
    tried = [n for n in heard if n.startswith("model ")]
    assert tried and "s left" in tried[-1] and "best ARIMA" in tried[-1]
    assert any(n.startswith("chose ARIMA") for n in heard)


def test_save_load_round_trip_of_a_fourier_model(tmp_path: Path) -> None:
    series = seasonal("W-SUN", 200, WEEKS_A_YEAR, seed=4)
    model = ArimaForecaster(time_budget=20).fit(series.iloc[:150])
    model.save(tmp_path)
    saved = json.loads((tmp_path / "arima.json").read_text())
    assert saved["spec"]["fourier"]["anchor"].startswith(str(series.index[0].date()))
    loaded = ArimaForecaster.load(tmp_path)
    assert loaded.get_params() == model.get_params() and loaded.summary == model.summary
    for history in (series.iloc[:150], series):
        np.testing.assert_allclose(loaded.forecast(history, 8), model.forecast(history, 8), rtol=1e-10)
    assert loaded.future_dates(3)[0] == series.index[149] + pd.offsets.Week(weekday=6)


@pytest.mark.parametrize("folder", ["forecaster-v1", "forecaster-v1-constant"])
def test_models_saved_before_fourier_terms_still_load(folder: str) -> None:
    """Files written by the previous forecaster (no trend, no Fourier, fewer params) load, and
    forecast as SARIMAX with their spec: a constant exactly when nothing is differenced."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    payload = json.loads((FIXTURES / folder / "arima.json").read_text())
    assert "trend" not in payload["spec"] and "time_budget" not in payload["params"]
    model = ArimaForecaster.load(FIXTURES / folder)
    spec = payload["spec"]
    differenced = spec["order"][1] + spec["seasonal_order"][1] > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = SARIMAX(model.history_.to_numpy(), order=spec["order"], seasonal_order=spec["seasonal_order"],
                           trend="n" if differenced else "c").filter(spec["params"]).forecast(7)
    np.testing.assert_allclose(model.forecast(model.history_, 7), expected, rtol=1e-10)
    assert model.get_params()["seasonal_period"] == 7 and model.search_ is None


def test_missing_values_and_bad_parameters_are_recipe_errors() -> None:
    series = seasonal("MS", 60, 12)
    series.iloc[10] = np.nan
    with pytest.raises(RecipeError, match="1 missing"):
        ArimaForecaster().fit(series)
    with pytest.raises(RecipeError, match="too few"):
        ArimaForecaster().fit(seasonal("MS", 12, 12))
    with pytest.raises(RecipeError, match="every value of the series is 3"):
        ArimaForecaster().fit(pd.Series(3.0, index=pd.date_range("2000-01-01", periods=40, freq="D")))
    with pytest.raises(RecipeError, match="time_budget"):
        ArimaForecaster(time_budget=0).fit(seasonal("MS", 60, 12))
    irregular = pd.Series(np.arange(30.0), index=pd.DatetimeIndex(
        [pd.Timestamp("2000-01-01") + pd.Timedelta(days=int(d)) for d in np.cumsum(np.arange(1, 31))]))
    with pytest.raises(RecipeError, match="not regular"):
        ArimaForecaster().fit(irregular)
