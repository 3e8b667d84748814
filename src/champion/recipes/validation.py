"""Rolling-origin validation inside the training history ("time series cross-validation",
Hyndman & Athanasopoulos, Forecasting: Principles and Practice, 5.10), and the choice of a
model from it.

The window is the last `periods` periods of the history. Candidates are fitted on the
history before it, and from every origin inside it forecast `horizon` periods with those
parameters held fixed, as champion's gate scores a forecaster on its golden set; they are
refitted every `horizon` origins or so (`Window.folds`), so that the score measures the
model, not one draw of its parameters (as refitting at every origin would, for less). The
RMSE over every origin and step says how well a candidate forecasts where it counts: out of
sample, at the horizon it will be judged at, on the most recent data.

The forecasts of every origin come from one pass of the Kalman filter over the whole
history: the one-step predicted state after each origin is carried forward through the
state-space transition (the intercepts at their own periods), which is what filtering the
history up to each origin and forecasting from it would compute, at the cost of one filter.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from champion.evaluation.paired_tests import diebold_mariano
from champion.recipes.arima_models import Fitter, Plan, sarimax
from champion.recipes.arima_search import Candidate, Clock, Fit
from champion.recipes.progress import report

ALPHA = 0.025  # the gate's level for forecasts (champion.evaluation.policy)
MIN_ORIGINS = 5  # fewer forecasts than this say too little to choose a model on
FIT_SHARE = 0.75  # the candidates are fitted on at least this share of the history
MAX_FOLDS = 6  # refits per candidate: the golden set's default 36 origins at horizon 7 make 6


@dataclass(frozen=True)
class Window:
    """The last `periods` periods of a history of `length`, forecast `horizon` ahead."""

    length: int
    periods: int
    horizon: int

    @property
    def cut(self) -> int:
        """How many periods the candidates are fitted on."""
        return self.length - self.periods

    @property
    def origins(self) -> np.ndarray:
        """Positions of the last period before each forecast (as the golden set's)."""
        return np.arange(self.cut - 1, self.length - self.horizon)

    def folds(self) -> list[tuple[int, np.ndarray]]:
        """(cut, origins) of each refit: the candidates are fitted on the first `cut` periods
        and forecast from the origins up to the next cut. Blocks of equal size, of `horizon`
        origins or fewer (no forecast then uses parameters estimated more than `horizon`
        periods before its origin) unless that makes more than `MAX_FOLDS` of them."""
        origins = self.origins
        count = min(-(-len(origins) // self.horizon), MAX_FOLDS)
        step = -(-len(origins) // count)
        return [(int(origins[i]) + 1, origins[i : i + step]) for i in range(0, len(origins), step)]

    def describe(self) -> dict[str, int]:
        return {"horizon": self.horizon, "periods": self.periods, "origins": len(self.origins),
                "fitted_on": self.cut, "folds": len(self.folds())}


def window(length: int, horizon: int, periods: int, min_fit: int) -> Window | None:
    """The validation window of a history, or None when the history is too short for one.

    `periods` is shortened to leave `FIT_SHARE` of the history (and at least `min_fit`
    periods) for fitting; too short to give `MIN_ORIGINS` forecasts of `horizon`, no window.
    """
    periods = min(periods, int(length * (1 - FIT_SHARE)), length - min_fit)
    if horizon < 1 or periods - horizon + 1 < MIN_ORIGINS:
        return None
    return Window(length, periods, horizon)


def rolling_forecasts(result: object, origins: np.ndarray, horizon: int) -> np.ndarray:
    """Origins x horizon forecasts from a statsmodels state-space result filtered on the
    whole history; every forecast period must lie inside that history."""
    fr = result.filter_results  # type: ignore[attr-defined]
    origins = np.asarray(origins, dtype=int)
    state = np.asarray(fr.predicted_state)[:, origins + 1]  # a(o+1 | o), states x origins
    out = np.empty((len(origins), horizon))
    for step in range(horizon):
        t = origins + 1 + step
        design, obs_intercept = _at(fr.design, t), _at(fr.obs_intercept, t)
        out[:, step] = np.einsum("ikn,kn->in", design, state)[0] + obs_intercept[0]
        state = np.einsum("jkn,kn->jn", _at(fr.transition, t), state) + _at(fr.state_intercept, t)
    return out


def rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Root mean squared error over every origin and step (the gate's RMSE)."""
    value = float(np.sqrt(np.mean((predicted - actual) ** 2)))
    return value if np.isfinite(value) else float("inf")


def actual(values: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """Origins x horizon observed values after each origin."""
    return np.array([values[o + 1 : o + 1 + horizon] for o in origins], dtype=float)


def _at(matrix: np.ndarray, t: np.ndarray) -> np.ndarray:
    """A system matrix at periods `t` (time is the last axis; one slice when it is constant)."""
    matrix = np.asarray(matrix)
    if matrix.shape[-1] == 1:
        return np.repeat(matrix, len(t), axis=-1)
    return matrix[..., t]


@dataclass
class Trial:
    """A candidate of the validation: its fit on the whole history, its fit on each fold of
    the window so far and their forecasts."""

    plan: Plan
    candidate: Candidate
    source: str  # how it became a candidate
    final: Fit  # on the whole history: what the forecaster keeps if this candidate wins
    shape: bool = False  # one of the plain shapes (not searched)
    fits: list[Fit] = field(default_factory=list)  # one per fold
    predicted: list[np.ndarray] = field(default_factory=list)
    rmse: float = float("inf")
    losses: np.ndarray = field(default_factory=lambda: np.zeros(0))  # squared error, per origin
    p_value: float | None = None  # of the test against the incumbent, when one was made

    @property
    def name(self) -> str:
        return self.plan.space.describe(self.candidate)

    @property
    def edge(self) -> bool:
        """Its fit on the whole history is at the edge of the model's space (a root at the
        unit circle) or did not converge."""
        return not self.final.converged

    @property
    def key(self) -> tuple[Any, ...]:
        spec = self.plan.space.spec(self.candidate)
        return (tuple(spec["order"]), tuple(spec["seasonal_order"]), spec["trend"],
                self.candidate.pairs)

    def describe(self) -> dict[str, Any]:
        return {"model": self.name, "source": self.source,
                "rmse": self.rmse if np.isfinite(self.rmse) else None,
                "edge": self.edge, "p_value": self.p_value}


def distinct(trials: list[Trial]) -> list[Trial]:
    """The trials without repeats of the same model: the first kept, a shape if any was."""
    seen: dict[tuple[Any, ...], Trial] = {}
    for trial in trials:
        first = seen.setdefault(trial.key, trial)
        if first is not trial and trial.shape and not first.shape:
            first.shape, first.source = True, f"{first.source}; {trial.source}"
    return list(seen.values())


def score(trials: list[Trial], y: np.ndarray, split: Window, fitter: Fitter, clock: Clock) -> int:
    """Fit every trial on the history before each fold of the window (starting from its
    previous fit) and forecast the fold's origins, until `clock` runs out (a fold cut short
    is left out for every trial). Sets each trial's `rmse` and `losses` over the folds
    scored; returns how many were."""
    folds = split.folds()
    done = 0
    for number, (cut, origins) in enumerate(folds):
        if clock.left() <= 0:
            break
        report(f"validation: fitting {len(trials)} candidates on {cut} periods "
               f"(fold {number + 1} of {len(folds)})")
        fits = [fitter.fit(t.plan, t.candidate, y[:cut], clock.stop_at_deadline,
                           (t.fits[-1] if t.fits else t.final).params, fresh=False) for t in trials]
        if clock.left() <= 0:
            break
        for trial, fit in zip(trials, fits, strict=True):
            usable = fit.params and np.isfinite(fit.value)
            trial.fits.append(fit if usable or not trial.fits else trial.fits[-1])
            trial.predicted.append(_forecasts(trial, y, origins, split.horizon))
        done = number + 1
    if not done:
        return 0
    scored = np.concatenate([o for _, o in folds[:done]])
    observed = actual(y, scored, split.horizon)
    for trial in trials:
        predicted = np.concatenate(trial.predicted[:done])
        trial.rmse = rmse(observed, predicted)
        trial.losses = np.mean((predicted - observed) ** 2, axis=1)
        report(f"validation: {trial.name} ({trial.source}): RMSE {trial.rmse:.4g} over "
               f"{len(scored)} forecasts of {split.horizon} in {done} fold(s)")
    return done


def winner(trials: list[Trial], horizon: int, seasonal: bool) -> Trial:
    """The candidate to keep: the best of the kind the data call for, unless a candidate of
    the other kind forecasts significantly better.

    The incumbents: on a series with a season, the searched models (which model it); without
    one, the plain shapes (ARIMA models like the searched ones, but fixed, where a searched
    model was picked among many on the same finite sample and is likelier to have been
    lucky). The best other candidate replaces the best incumbent only when the gate's own
    test says it is better (one-sided Diebold-Mariano at the gate's level for forecasts).
    A model at the edge of its space (a root at the unit circle) only when no other is left:
    the validation scores its fits on parts of the history, and on all of it such a model
    is another one (the Nile's ARIMA(2,1,2) with drift validated best, 110, and fitted on
    all 58 years forecast the golden set at 244: its MA root at 1 made the drift a trend).
    A candidate that could not forecast the window (infinite RMSE) likewise."""
    finite = [t for t in trials if np.isfinite(t.rmse)] or trials
    eligible = [t for t in finite if not t.edge] or finite
    incumbents = [t for t in eligible if t.shape != seasonal]
    others = [t for t in eligible if t.shape == seasonal]
    if not incumbents or not others:
        return min(eligible, key=lambda t: t.rmse)
    incumbent = min(incumbents, key=lambda t: t.rmse)
    challenger = min(others, key=lambda t: t.rmse)
    if challenger.rmse >= incumbent.rmse:
        return incumbent
    challenger.p_value = diebold_mariano(incumbent.losses, challenger.losses, horizon).p_value
    better = challenger.p_value < ALPHA
    kept = "the seasonal model" if seasonal else "the shape"
    verdict = "better" if better else f"not significantly better: keeping {kept}"
    report(f"validation: {challenger.name} against {incumbent.name}: one-sided Diebold-Mariano "
           f"p = {challenger.p_value:.3f} ({verdict})")
    return challenger if better else incumbent


def _forecasts(trial: Trial, y: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """Origins x horizon forecasts of the trial's latest fit (inf where it cannot filter)."""
    spec = trial.plan.space.spec(trial.candidate)
    model = sarimax(y, spec, trial.plan.exog(trial.candidate.pairs, len(y)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = model.filter(np.asarray(trial.fits[-1].params))
        return rolling_forecasts(result, origins, horizon)
    except (ValueError, np.linalg.LinAlgError):
        return np.full((len(origins), horizon), np.inf)
