"""`forecaster`: ARIMA models, seasonal as the series' frequency says, chosen by how well
they forecast the recent history out of sample.

The season follows the frequency (hourly 24, daily 7, weekly 52.18, monthly 12, quarterly 4,
yearly none; `seasonal_period` overrides it). A season that follows the frequency but that
the data do not show (STL seasonal strength below 0.3, as in seasonally adjusted series) is
not modelled. Short seasons are seasonal ARIMA terms; long ones (more than `fourier_above`
periods, or not a whole number of periods, as a year of weeks) are sine/cosine pairs of the
season as regressors with ARIMA errors ("dynamic harmonic regression", Hyndman), the number
of pairs chosen by the criterion: a seasonal ARIMA of 52 periods is too slow to fit.

The model is chosen by rolling-origin validation ("time series cross-validation", Hyndman
& Athanasopoulos), the way champion's gate will judge it. The candidates:

- the stepwise information-criterion search's best model (Hyndman-Khandakar, as R's
  auto.arima; `arima_search`) with d = 0 and with d = 1, the order the KPSS and ADF tests
  ask for searched first: likelihoods of differently differenced series are not
  comparable, out-of-sample errors are;
- the plain shapes ARIMA(2,0,2) with a constant and ARIMA(2,1,2) with drift, never searched.

Each is fitted on the whole history (the searches run there: structure chosen on a shorter
history was weaker, as on the daily transactions). The last `validation_periods` periods
(by default as many as the golden set holds, at most a quarter of the history) are then
held out: each candidate is refitted on the history before them and, with those parameters,
forecasts `validation_horizon` periods (by default the golden set's horizon) from every
origin in them, refitted every `horizon` origins or so (at most 6 times:
`validation.Window.folds`).

The choice (`validation.winner`) treats the validation as the gate treats its golden set:
its 36 forecasts of 7 periods (by default) overlap, they are few, and the candidate with
the lowest RMSE is often lucky. So a default stays unless another candidate forecasts
significantly better (the gate's one-sided Diebold-Mariano test at its level, 0.025). The
default is the best of the kind the data call for: on a series with a season, the searched
models (the shapes cannot model the season); without one, the plain shapes (ARIMA models
like the searched ones, but fixed, where a searched model was picked among many on the
same sample). A model at the edge of its space (a unit root left in the AR or MA part)
takes part only when no other is left. The winner keeps its fit on the whole history.
Every fit starts from statsmodels' starting values and, with a constant or drift, also
from the regression form's estimate (`arima_models`), keeping the best likelihood. Too
short a history for 5 validation origins, `validation_periods = 0`, or a budget spent
before one fold: the search's best model by the criterion (both d searched on comparable
likelihoods where the unit-root tests disagree).

Everything shares one time budget (`time_budget`): the searches use 60% of it and keep
their best model so far when it runs out; the validation's folds use the rest (the folds
every candidate completed are scored). Progress goes through `champion.recipes.progress`;
the candidates and their validation RMSE are in `search_` (saved as `search` in
arima.json). Measured on series of four frequencies in
`benchmarks/forecasting/frequencies.py` (docs/benchmarks.md).

The fitted model is its specification plus its parameters, saved as JSON (no pickle).
`forecast(history, steps)` rebuilds the same specification on any history and filters it
with the fitted parameters: the model is never refitted, so a champion trained last month
is scored on today's history exactly as it is. Fourier terms are computed from each period's
position counted from the first period fitted on, so a grown history keeps its phase.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd

from champion.errors import RecipeError
from champion.recipes import seasons, validation
from champion.recipes.arima_models import Fitter, Plan, deseasoned, differenced, sarimax
from champion.recipes.arima_search import Candidate, Clock, Fit, Search, Space
from champion.recipes.base import Forecaster
from champion.recipes.differencing import difference_orders, seasonal_strength
from champion.recipes.progress import report
from champion.recipes.validation import Trial

_FILE = "arima.json"
_STARTS = [(0, 0, 0, 1), (1, 0, 1, 0), (0, 1, 0, 1), (1, 1, 1, 1)]  # (p, q, P, Q)
_CRITERIA = ("aic", "bic", "aicc", "hqic")
_MIN_PERIODS = 20
_MAX_D = 1
_SEASONAL_STRENGTH = 0.3  # below it a season that follows the frequency is not modelled
_DEFAULT_HORIZON, _DEFAULT_PERIODS = 7, 42  # the golden set's defaults
_SEARCH_SHARE = 0.6  # of the time budget, for the searches (then the validation's refits)


_Choice = tuple[Plan, Candidate, list[float], dict[str, Any]]  # plan, model, params, summary


@dataclass(frozen=True)
class _Design:
    """How the season is modelled: Fourier columns (`terms`, up to `pairs` pairs), a seasonal
    ARIMA of `m` periods (`big_d` seasonal differences), or neither (`season` None)."""

    season: float | None
    terms: np.ndarray | None
    m: int = 0
    big_d: int = 0
    pairs: int = 0

    def deseasoned(self, y: np.ndarray) -> np.ndarray:
        return deseasoned(y, self.terms, self.m, self.big_d)


class ArimaForecaster(Forecaster):
    """(S)ARIMA or Fourier terms with ARIMA errors, chosen by rolling-origin validation.

    `seasonal_period`: periods per season (default: from the series' frequency; 0: none).
    `seasonal_difference`: 0 or 1, for a seasonal ARIMA. `max_p`, `max_q`,
    `max_seasonal_order`: bounds of the search. `criterion`: aic, aicc, bic or hqic.
    `max_models`: candidates per search. `maxiter`: optimizer iterations per candidate.
    `fourier_above`: seasons longer than this are Fourier terms. `max_fourier_pairs`: most
    sine/cosine pairs. `time_budget`: seconds for the whole fit (the searches get 60% and
    keep their best model so far, the validation's refits the rest).
    `validation_horizon`, `validation_periods`: the candidates forecast this many periods
    ahead from every origin in this many last periods of the history (default: the golden
    set's horizon and periods when champion fits it, else 7 and 42; `validation_periods = 0`
    chooses by the criterion alone).
    """

    def __init__(
        self,
        *,
        seasonal_period: float | None = None,
        seasonal_difference: int = 1,
        max_p: int = 3,
        max_q: int = 3,
        max_seasonal_order: int = 1,
        criterion: str = "aic",
        max_models: int = 30,
        maxiter: int = 200,
        fourier_above: int = 12,
        max_fourier_pairs: int = 10,
        time_budget: float = 30.0,
        validation_horizon: int | None = None,
        validation_periods: int | None = None,
    ) -> None:
        self.seasonal_period = seasonal_period
        self.seasonal_difference = seasonal_difference
        self.max_p = max_p
        self.max_q = max_q
        self.max_seasonal_order = max_seasonal_order
        self.criterion = criterion
        self.max_models = max_models
        self.maxiter = maxiter
        self.fourier_above = fourier_above
        self.max_fourier_pairs = max_fourier_pairs
        self.time_budget = time_budget
        self.validation_horizon = validation_horizon
        self.validation_periods = validation_periods

    def fit(self, series: pd.Series) -> Self:
        self._check_params()
        y, index = _values(series)
        frequency = _frequency(index)
        season = self._season(y, frequency)
        clock = Clock(self.time_budget)
        design = self._design(y, index, frequency, season)
        horizon = _DEFAULT_HORIZON if self.validation_horizon is None else self.validation_horizon
        periods = _DEFAULT_PERIODS if self.validation_periods is None else self.validation_periods
        split = validation.window(len(y), horizon, periods, self._needed(season))
        if split is None:
            if periods:
                report(f"{len(y)} periods are too few to validate forecasts of {horizon} on: "
                       "choosing by the criterion")
            plan, best, params, summary = self._by_criterion(y, design, clock)
        else:
            plan, best, params, summary = self._by_validation(y, design, clock, split)
        spec: dict[str, Any] = {**plan.space.spec(best), "params": params}
        if best.pairs:
            spec["fourier"] = {"period": plan.season, "pairs": best.pairs, "anchor": str(index[0])}
        self.spec_ = spec
        self.frequency_ = frequency
        self.search_ = {"seconds": round(clock.elapsed(), 2), "stopped_by_budget": clock.ran_out,
                        "chosen": plan.space.describe(best), **summary}
        self.criterion_value_ = summary["criterion_value"]
        self.history_ = series.astype(float)
        budget = ", stopped by the time budget" if clock.ran_out else ""
        report(f"chose {self.search_['chosen']} after {self.search_['models']} models "
               f"in {self.search_['seconds']:.1f} s{budget}")
        return self

    def _by_criterion(self, y: np.ndarray, design: _Design, clock: Clock) -> _Choice:
        """The model of lowest criterion; where the unit-root tests leave d open, both orders
        are searched on likelihoods that leave out the same first observations."""
        low, high = difference_orders(design.deseasoned(y), _MAX_D)
        burn = None if low == high else high + design.big_d * design.m
        plans = [self._plan(d, design, burn) for d in range(low, high + 1)]
        if len(plans) > 1:
            report("KPSS and ADF disagree on d: searching d = 0 and 1")
        searches = [self._search(plan, y, clock.share(len(plans) - i))
                    for i, plan in enumerate(plans)]
        chosen = min(range(len(plans)), key=lambda i: searches[i].best_value)
        search = searches[chosen]
        if search.best is None or not np.isfinite(search.best_value):
            raise RecipeError("forecaster: no candidate model could be fitted")
        summary = {"models": sum(len(s.tried) for s in searches), "chosen_by": "criterion",
                   "criterion_value": search.best_value}
        return plans[chosen], search.best, search.tried[search.best].params, summary

    def _by_validation(self, y: np.ndarray, design: _Design, clock: Clock,
                       split: validation.Window) -> _Choice:
        """The candidate that forecasts the validation window best: the criterion's best
        model for d = 0 and d = 1 and the two plain shapes, each fitted on the whole history
        and, to be scored, refitted on the folds of the window (see the module's docstring)."""
        low, _ = difference_orders(design.deseasoned(y), _MAX_D)
        orders = [low, *(d for d in range(_MAX_D + 1) if d != low)]
        trials: list[Trial] = []
        for d in (0, 1):  # the plain shapes first: cheap, and they always take part
            plan = Plan(Space(d, 0, 0, 2, 2, 0, trend_allowed=True), None, None, None)
            shape = Candidate(2, 2, trend=True)
            fit = self._fitter.fit(plan, shape, y, clock.stop_at_deadline)
            trials.append(Trial(plan, shape, f"ARIMA(2,{d},2) shape", fit, shape=True))
        searching = clock.portion(_SEARCH_SHARE)
        report(f"searching d = {' and '.join(map(str, orders))} (KPSS and ADF: d = {low})")
        models = len(trials)
        for i, d in enumerate(orders):
            plan = self._plan(d, design, None)
            search = self._search(plan, y, searching.share(len(orders) - i))
            models += len(search.tried)
            if search.best is not None and np.isfinite(search.best_value):
                source = f"criterion, d = {d}" + (" (unit-root tests)" if d == low else "")
                trials.insert(i, Trial(plan, search.best, source, search.tried[search.best]))
        trials = validation.distinct([t for t in trials if t.final.params])
        if not trials:
            raise RecipeError("forecaster: no candidate model could be fitted")
        folds = validation.score(trials, y, split, self._fitter, clock)
        models += folds * len(trials)
        if folds:
            winner = validation.winner(trials, split.horizon, design.season is not None)
        else:
            report("the time budget ran out before a validation fold: keeping the criterion's "
                   "choice")
            winner = next((t for t in trials if not t.shape), trials[0])
        scored = split.folds()[:folds]
        summary = {"models": models, "chosen_by": "validation" if folds else "criterion",
                   "criterion_value": winner.final.value,
                   "validation": {**split.describe(), "folds": folds,
                                  "origins": sum(len(origins) for _, origins in scored),
                                  "candidates": [t.describe() for t in trials],
                                  "chosen": winner.source}}
        return winner.plan, winner.candidate, winner.final.params, summary

    def _check_params(self) -> None:
        problems = []
        if self.criterion not in _CRITERIA:
            problems.append(f"criterion must be {', '.join(_CRITERIA)}, not {self.criterion!r}")
        if self.seasonal_difference not in (0, 1):
            problems.append(f"seasonal_difference must be 0 or 1, not {self.seasonal_difference!r}")
        if not self.time_budget > 0:
            problems.append(f"time_budget must be positive seconds, not {self.time_budget!r}")
        if self.seasonal_period is not None and not self.seasonal_period >= 0:
            problems.append(f"seasonal_period must be 0 (none) or more, "
                            f"not {self.seasonal_period!r}")
        for name, least in (("validation_horizon", 1), ("validation_periods", 0)):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                      or value < least):
                problems.append(f"{name} must be a whole number of periods >= {least}, "
                                f"not {value!r}")
        if problems:
            raise RecipeError("forecaster: " + "; ".join(problems))

    def _uses_fourier(self, season: float) -> bool:
        return season > self.fourier_above or season != int(season)

    def _needed(self, season: float | None) -> int:
        """The fewest periods to fit a model with this season."""
        if season is None:
            return _MIN_PERIODS
        seasons_needed = 2 if self._uses_fourier(season) else 3
        return max(_MIN_PERIODS, int(np.ceil(seasons_needed * season)))

    def _season(self, y: np.ndarray, frequency: str) -> float | None:
        """The season to model, or None: none asked for, too few periods to see it, or (when it
        follows the frequency) no seasonal pattern in the data, as in seasonally adjusted series."""
        asked = self.seasonal_period
        season = seasons.season_of(frequency) if asked is None else float(asked)
        if season is None or season <= 1:
            return None
        needed = self._needed(season)
        if len(y) < needed:
            report(f"{len(y)} periods hold too few seasons of {season:g} (need {needed}): "
                   "fitting without a season")
            return None
        if asked is None:
            strength = seasonal_strength(y, round(season))
            if strength < _SEASONAL_STRENGTH:
                report(f"no seasonal pattern of {season:g} periods (STL strength {strength:.2f}): "
                       "fitting without a season")
                return None
        return season

    def _design(self, y: np.ndarray, index: pd.DatetimeIndex, frequency: str,
                season: float | None) -> _Design:
        """How the season is modelled: Fourier columns, or a seasonal ARIMA, or not at all."""
        if season is not None and self._uses_fourier(season):
            pairs = max(1, min(self.max_fourier_pairs, seasons.max_pairs(season)))
            position = seasons.positions(index, pd.Timestamp(index[0]), frequency)
            return _Design(season, seasons.fourier_terms(position, season, pairs), pairs=pairs)
        if season is not None:
            return _Design(season, None, m=int(season), big_d=self.seasonal_difference)
        return _Design(None, None)

    def _plan(self, d: int, design: _Design, burn: int | None) -> Plan:
        # A drift only on a regular first difference: with a seasonal one it extrapolated
        # the daily transactions' last weeks (RMSE 555 instead of 452, docs/benchmarks.md).
        space = Space(d, design.big_d, design.m, self.max_p, self.max_q, self.max_seasonal_order,
                      trend_allowed=design.big_d == 0 and d <= 1, max_pairs=design.pairs,
                      min_pairs=min(design.pairs, 1))
        return Plan(space, design.terms, design.season, burn)

    @property
    def _fitter(self) -> Fitter:
        return Fitter(self.criterion, self.maxiter)

    def _search(self, plan: Plan, y: np.ndarray, clock: Clock) -> Search:
        def fit_one(c: Candidate, callback: Any) -> Fit:
            return self._fitter.fit(plan, c, y, callback)

        search = Search(plan.space, fit_one, self.criterion, clock, self.max_models)
        if plan.space.max_pairs:  # the number of pairs first, with small ARMA errors
            trend, most = plan.space.trend_allowed, plan.space.max_pairs
            scan = [Candidate(1, 1, trend=trend, pairs=k) for k in range(1, most + 1)]
            search.scan(scan, patience=2)
        else:
            search.scan(_starts(plan.space))
        if search.best is not None:
            search.climb(search.best)
        return search

    def forecast(self, history: pd.Series, steps: int) -> np.ndarray:
        spec = self.spec_
        exog, future = self._fourier(history, steps)
        model = sarimax(history.to_numpy(dtype=float), spec, exog)
        result = model.filter(np.asarray(spec["params"]))
        return np.asarray(result.forecast(steps, exog=future), dtype=float)

    def _fourier(self, history: pd.Series,
                 steps: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Fourier columns of `history` and of the `steps` periods after it (None: no terms)."""
        fourier = self.spec_.get("fourier")
        if not fourier:
            return None, None
        if not isinstance(history.index, pd.DatetimeIndex) or len(history) == 0:
            raise RecipeError("forecaster: the history needs its dates (a DatetimeIndex) "
                              "to place its season")
        anchor = pd.Timestamp(fourier["anchor"])
        position = seasons.positions(history.index, anchor, self.frequency_)
        ahead = position[-1] + np.arange(1, steps + 1, dtype=float)
        period, pairs = float(fourier["period"]), int(fourier["pairs"])
        return (seasons.fourier_terms(position, period, pairs),
                seasons.fourier_terms(ahead, period, pairs))

    @property
    def summary(self) -> str:
        text = f"SARIMAX{tuple(self.spec_['order'])}x{tuple(self.spec_['seasonal_order'])}"
        if self.spec_.get("trend", "n") == "c":
            text += " with drift" if differenced(self.spec_) else " with constant"
        fourier = self.spec_.get("fourier")
        if fourier:
            text += f" + {fourier['pairs']} Fourier pairs of period {fourier['period']:g}"
        return text

    def save(self, folder: Path) -> None:
        payload = {"params": self.get_params(), "spec": self.spec_, "frequency": self.frequency_,
                   "criterion_value": self.criterion_value_,
                   "search": getattr(self, "search_", None),
                   "history": {"index": [str(t) for t in self.history_.index],
                               "values": self.history_.tolist()}}
        (folder / _FILE).write_text(json.dumps(payload, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> Self:
        """Read a saved model; files written before Fourier terms and drift load as they were."""
        payload = json.loads((folder / _FILE).read_text(encoding="utf-8"))
        known = set(cls.param_names())
        recipe = cls(**{k: v for k, v in payload["params"].items() if k in known})
        recipe.spec_ = payload["spec"]
        recipe.frequency_ = payload["frequency"]
        recipe.criterion_value_ = payload["criterion_value"]
        recipe.search_ = payload.get("search")
        history = payload["history"]
        index = _with_freq(pd.DatetimeIndex(history["index"]), recipe.frequency_)
        recipe.history_ = pd.Series(history["values"], index=index, dtype=float)
        return recipe

    @classmethod
    def pip_requirements(cls) -> list[str]:
        return [f"{name}=={version(name)}" for name in ("statsmodels", "numpy", "pandas", "scipy")]


def _starts(space: Space) -> list[Candidate]:
    """auto.arima's starting models, within the space (seasonal terms dropped without one)."""
    # Seasonal: a constant when nothing is differenced, as before drift was searched.
    trend = space.trend_allowed and space.d + space.big_d == 0
    starts = [Candidate(p, q, sp, sq, trend) for p, q, sp, sq in _STARTS]
    if not space.m:
        plain = [(0, 0), (1, 0), (0, 1), (1, 1), (2, 2)]
        starts = [Candidate(p, q, 0, 0, space.trend_allowed) for p, q in plain]
    return list(dict.fromkeys(s for s in starts if space.allows(s)))


def _values(series: pd.Series) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """The series' values (complete, enough of them) and dates."""
    y = series.to_numpy(dtype=float)
    index = pd.DatetimeIndex(series.index)
    missing = np.flatnonzero(~np.isfinite(y))
    if len(missing):
        raise RecipeError(f"forecaster: {len(missing)} missing or non-finite values, the first at "
                          f"{index[missing[0]]}; fill them before fitting")
    if len(y) < _MIN_PERIODS:
        raise RecipeError(f"forecaster: {len(y)} periods are too few to fit "
                          f"(need at least {_MIN_PERIODS})")
    if np.ptp(y) == 0:
        raise RecipeError(f"forecaster: every value of the series is {y[0]:g}: there is nothing "
                          "to learn from (an ARIMA needs some variation)")
    return y, index


def _frequency(index: pd.DatetimeIndex) -> str:
    offset = index.freq
    if offset is None and len(index) >= 3:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas 3 announces that it will return an offset
            inferred = pd.infer_freq(index)
        offset = seasons.offset_of(str(inferred)) if inferred else None
    if offset is None:
        raise RecipeError("forecaster: the series' dates are not regular; "
                          "give its index a frequency")
    return str(offset.freqstr)


def _with_freq(index: pd.DatetimeIndex, frequency: str) -> pd.DatetimeIndex:
    try:
        return pd.DatetimeIndex(index, freq=frequency)
    except ValueError:  # an older file whose dates do not follow the recorded frequency
        return index
