"""The forecaster's choice by rolling-origin validation: the window and its folds, forecasts
from every origin in one filter pass, candidates recorded, the winner's fit on the whole
history, the fallback to the criterion, the budget, and the golden set's horizon passed in
by champion (real statsmodels, series shipped with statsmodels)."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
import pytest

from champion.errors import RecipeError
from champion.pipelines import golden_set
from champion.pipelines.golden_set import ForecastSplit
from champion.recipes import validation
from champion.recipes.arima_models import Fitter, Plan, sarimax
from champion.recipes.arima_search import Candidate, Clock, Fit, Space
from champion.recipes.forecaster import ArimaForecaster
from champion.recipes.progress import listening

SHAPES = {"ARIMA(2,0,2) shape", "ARIMA(2,1,2) shape"}


def macro(column: str) -> pd.Series:
    import statsmodels.datasets as sd

    values = sd.macrodata.load_pandas().data[column].to_numpy(dtype=float)
    return pd.Series(values, index=pd.date_range("1959-01-01", periods=len(values), freq="QS"))


def golden_rmse(model: ArimaForecaster, series: pd.Series, periods: int, horizon: int) -> float:
    """RMSE from every origin of the last `periods` periods, parameters fixed (as the gate)."""
    values = series.to_numpy()
    errors = [model.forecast(series.iloc[: o + 1], horizon) - values[o + 1 : o + 1 + horizon]
              for o in range(len(series) - periods - 1, len(series) - horizon)]
    return float(np.sqrt(np.mean(np.square(errors))))


def test_the_window_leaves_most_of_the_history_to_fit_and_folds_cover_every_origin() -> None:
    split = validation.window(200, 7, 42, 20)
    assert split is not None and split.periods == 42 and split.cut == 158
    folds = split.folds()
    origins = np.concatenate([o for _, o in folds])
    assert origins.tolist() == list(range(157, 193)) == split.origins.tolist()
    assert len(folds) == 6 and all(len(o) <= 7 for _, o in folds)
    assert all(cut == o[0] + 1 for cut, o in folds)  # fitted on everything up to the first origin
    short, long = validation.window(100, 7, 42, 20), validation.window(1000, 7, 250, 20)
    assert short is not None and short.periods == 25  # a quarter of the history at most
    assert long is not None and len(long.folds()) == validation.MAX_FOLDS
    assert validation.window(40, 7, 42, 20) is None  # 10 periods: fewer than 5 origins of 7
    assert validation.window(200, 7, 0, 20) is None


@pytest.mark.parametrize("spec", [
    {"order": [1, 1, 1], "seasonal_order": [0, 1, 1, 4], "trend": "n"},
    {"order": [2, 0, 2], "seasonal_order": [0, 0, 0, 0], "trend": "c"},
    {"order": [1, 1, 1], "seasonal_order": [0, 0, 0, 0], "trend": "c", "exog": True},
])
def test_forecasts_from_every_origin_in_one_filter_equal_forecasting_from_each(spec: dict) -> None:
    rng = np.random.default_rng(5)
    n = 160
    y = np.cumsum(rng.normal(0.2, 1, n)) + 4 * np.sin(np.arange(n) * 2 * np.pi / 4)
    waves = np.column_stack([np.sin(np.arange(n) / 6), np.cos(np.arange(n) / 6)])
    exog = waves if spec.get("exog") else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params = sarimax(y[:120], spec, None if exog is None else exog[:120]).fit(disp=False).params
        whole = sarimax(y, spec, exog).filter(params)
        origins = np.arange(119, n - 6)
        fast = validation.rolling_forecasts(whole, origins, 6)
        slow = [sarimax(y[: o + 1], spec, None if exog is None else exog[: o + 1]).filter(params)
                .forecast(6, exog=None if exog is None else exog[o + 1 : o + 7]) for o in origins]
    np.testing.assert_allclose(fast, np.array(slow), rtol=1e-9, atol=1e-9)


def test_validation_chooses_a_model_that_forecasts_better_than_the_criterions_choice() -> None:
    """Consumer prices (macrodata): the criterion chose ARIMA(3,1,0) with drift; forecasting
    the last 40 quarters of the history, ARIMA(2,1,2) with drift did better, and it forecasts
    the 42 quarters after the history better too."""
    series = macro("cpi")
    history = series.iloc[:-42]
    notes: list[str] = []
    by_criterion = ArimaForecaster(validation_periods=0).fit(history)
    with listening(notes.append):
        by_validation = ArimaForecaster(validation_horizon=7, validation_periods=42).fit(history)
    assert by_criterion.search_["chosen_by"] == "criterion"
    assert "validation" not in by_criterion.search_
    assert by_validation.search_["chosen_by"] == "validation"
    assert by_criterion.search_["chosen"] != by_validation.search_["chosen"]
    ours = golden_rmse(by_validation, series, 42, 7)
    theirs = golden_rmse(by_criterion, series, 42, 7)
    assert ours < 0.97 * theirs, (by_validation.summary, ours, by_criterion.summary, theirs)

    checked = by_validation.search_["validation"]
    assert checked["horizon"] == 7 and checked["periods"] == 40  # a quarter of 161 quarters
    assert checked["origins"] == 34 and checked["folds"] == 5
    candidates = {c["model"]: c for c in checked["candidates"]}
    sources = " ".join(c["source"] for c in candidates.values())
    assert all(s in sources for s in (*SHAPES, "criterion, d = 0", "criterion, d = 1"))
    assert all(c["rmse"] is not None and c["rmse"] > 0 for c in candidates.values())
    criterions = candidates[by_criterion.search_["chosen"]]  # the criterion's model took part
    assert criterions["rmse"] > candidates[by_validation.search_["chosen"]]["rmse"]
    for candidate in candidates.values():
        heard = f"validation: {candidate['model']} ({candidate['source']}): RMSE"
        assert any(n.startswith(heard) for n in notes)


def test_the_winner_keeps_its_fit_on_the_whole_history() -> None:
    """Validated on folds of the history's end, the model kept is fitted on all of it."""
    series = macro("unemp").iloc[:-42]
    model = ArimaForecaster(validation_horizon=7, validation_periods=40).fit(series)
    assert model.search_["chosen_by"] == "validation"
    spec, y = model.spec_, series.to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        on_everything = sarimax(y, spec).filter(model.spec_["params"]).llf
        head = sarimax(y[: -40], spec).fit(disp=False)
        head_params = [*head.params]
        on_the_head = sarimax(y, spec).filter(head_params).llf
        polished = sarimax(y, spec).fit(start_params=spec["params"], disp=False).llf
    assert on_everything > on_the_head  # not the parameters of the history before the window
    assert polished == pytest.approx(on_everything, abs=1e-3)  # a maximum on the whole history


def ar1(seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    y = np.zeros(240)
    for t in range(1, 240):
        y[t] = 0.6 * y[t - 1] + rng.normal()
    return pd.Series(50 + y, index=pd.date_range("1950-01-01", periods=240, freq="QS"))


@pytest.mark.parametrize(("seed", "kept"), [(16, "ARIMA(2,0,2) with constant"),
                                            (17, "ARIMA(1,0,1) with constant")])
def test_without_a_season_a_searched_model_must_beat_the_shape_significantly(seed: int,
                                                                            kept: str) -> None:
    """AR(1) series with a mean: a searched model that forecasts the window better than the
    ARIMA(2,0,2) shape replaces it only when the one-sided Diebold-Mariano test says so (seed
    17, p = 0.013), else the shape is kept (seed 16, p = 0.26); the p-value is recorded."""
    notes: list[str] = []
    with listening(notes.append):
        model = ArimaForecaster(validation_horizon=4, validation_periods=40).fit(ar1(seed))
    candidates = model.search_["validation"]["candidates"]
    shape = next(c for c in candidates if c["source"] == "ARIMA(2,0,2) shape")
    tested = [c for c in candidates if c["p_value"] is not None]
    assert len(tested) == 1 and tested[0]["rmse"] < shape["rmse"]
    significant = tested[0]["p_value"] < validation.ALPHA
    assert model.search_["chosen"] == (tested[0] if significant else shape)["model"] == kept
    verdict = "better" if significant else "not significantly better: keeping the shape"
    assert any(n.endswith(f"({verdict})") for n in notes)


def _trial(source: str, losses: list[float], converged: bool = True) -> validation.Trial:
    plan = Plan(Space(0, 0, 0, 3, 3, 0, trend_allowed=True), None, None, None)
    trial = validation.Trial(plan, Candidate(len(source) % 3, 1), source,
                             Fit(0.0, [0.1, 1.0], converged), shape=source.endswith("shape"))
    trial.losses = np.asarray(losses)
    trial.rmse = float(np.sqrt(np.mean(losses)))
    return trial


def test_the_winner_rule() -> None:
    rng = np.random.default_rng(0)
    base = rng.uniform(1, 2, 30)
    shape = _trial("ARIMA(2,0,2) shape", list(base))
    close = _trial("criterion, d = 0", list(base - rng.normal(0.02, 0.3, 30)))
    clear = _trial("criterion, d = 1", list(base * 0.5))
    edge = _trial("ARIMA(2,1,2) shape", list(base * 0.1), converged=False)
    assert close.rmse < shape.rmse
    assert validation.winner([shape, close], 7, seasonal=False) is shape  # within noise
    assert validation.winner([shape, close, clear], 7, seasonal=False) is clear  # significant
    # With a season the searched (seasonal) models are the incumbents and the shapes challenge.
    assert validation.winner([shape, close], 7, seasonal=True) is close
    assert validation.winner([close, shape], 7, seasonal=True) is close
    seasonal_model = _trial("criterion, d = 0", list(base))
    slightly_better_shape = _trial("ARIMA(2,0,2) shape", list(base - rng.normal(0.02, 0.3, 30)))
    clearly_better_shape = _trial("ARIMA(2,1,2) shape", list(base * 0.5))
    assert slightly_better_shape.rmse < seasonal_model.rmse
    kept = validation.winner([seasonal_model, slightly_better_shape], 7, seasonal=True)
    assert kept is seasonal_model
    assert validation.winner([seasonal_model, clearly_better_shape], 7,
                             seasonal=True) is clearly_better_shape
    assert validation.winner([shape, edge], 7, seasonal=True) is shape  # at the edge: only if alone
    assert validation.winner([edge], 7, seasonal=False) is edge


def test_a_short_history_is_chosen_by_the_criterion_and_says_so() -> None:
    rng = np.random.default_rng(2)
    index = pd.date_range("1990-01-01", periods=30, freq="YS")
    series = pd.Series(np.cumsum(rng.normal(size=30)), index=index)
    notes: list[str] = []
    with listening(notes.append):
        model = ArimaForecaster().fit(series)
    assert model.search_["chosen_by"] == "criterion"
    assert any("too few to validate" in n for n in notes)


def test_a_small_budget_is_kept_and_says_what_it_cut() -> None:
    rng = np.random.default_rng(8)
    t = np.arange(600)
    y = 10 * np.sin(2 * np.pi * t / (365.25 / 7)) + np.cumsum(rng.normal(size=600)) * 0.3
    series = pd.Series(y, index=pd.date_range("2000-01-02", periods=600, freq="W-SUN"))
    start = time.monotonic()
    notes: list[str] = []
    with listening(notes.append):
        model = ArimaForecaster(time_budget=2).fit(series)
    took = time.monotonic() - start
    assert model.search_["stopped_by_budget"] is True
    folds = model.search_["validation"]["folds"]
    assert model.search_["chosen_by"] == ("validation" if folds else "criterion")
    assert folds or any("before a validation fold" in n for n in notes)
    assert took < 15  # a full search and 6 folds take several times longer
    assert np.isfinite(model.forecast(series, 10)).all()


def test_the_regression_form_start_finds_the_better_optimum() -> None:
    """The Nile's first 58 years, ARIMA(2,0,2) with a constant: statsmodels' own start stops at
    a worse likelihood in the intercept form; starting from the regression form reaches
    the maximum that statsmodels' ARIMA (a regression on a constant) finds."""
    import statsmodels.datasets as sd
    from statsmodels.tsa.arima.model import ARIMA

    y = sd.nile.load_pandas().data["volume"].to_numpy(dtype=float)[:58]
    plan = Plan(Space(0, 0, 0, 2, 2, 0, trend_allowed=True), None, None, None)
    fit = Fitter("aic", 200).fit(plan, Candidate(2, 2, trend=True), y, Clock(60).stop_at_deadline)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = ARIMA(y, order=(2, 0, 2), trend="c").fit().llf
        ours = sarimax(y, plan.space.spec(Candidate(2, 2, trend=True))).filter(fit.params).llf
    assert ours >= reference - 1e-4


def test_champion_validates_at_the_golden_sets_horizon_unless_told_otherwise() -> None:
    series = macro("realgdp")
    history = series.iloc[:-30]
    data = ForecastSplit(series, history, 5)
    fitted = golden_set.fit(ArimaForecaster(time_budget=10), data)
    assert isinstance(fitted, ArimaForecaster)
    assert fitted.get_params()["validation_horizon"] == 5
    assert fitted.get_params()["validation_periods"] == 30
    assert fitted.search_["validation"]["horizon"] == 5
    told = golden_set.fit(
        ArimaForecaster(time_budget=10, validation_horizon=3, validation_periods=0), data)
    assert isinstance(told, ArimaForecaster)
    assert told.get_params()["validation_horizon"] == 3 and told.search_["chosen_by"] == "criterion"


@pytest.mark.parametrize(("name", "value"), [
    ("validation_horizon", 0), ("validation_periods", -1), ("validation_horizon", 2.5),
    ("validation_periods", True)])
def test_bad_validation_parameters_are_recipe_errors(name: str, value: object) -> None:
    series = macro("realgdp")
    with pytest.raises(RecipeError, match=name):
        ArimaForecaster(**{name: value}).fit(series)  # type: ignore[arg-type]
