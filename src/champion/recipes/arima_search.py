"""The stepwise search over ARIMA candidates, within a time budget, reporting as it goes.

Hyndman-Khandakar's stepwise search (R's auto.arima): start from a few small models, move
one order (p, q, P, Q), the constant or drift, or the number of Fourier pairs by one while the
information criterion improves. Every candidate of one search shares the differencing
orders, so their likelihoods are comparable. A fit that did not converge, or whose
(non-seasonal) AR or MA roots lie within 1% of the unit circle (auto.arima's guard against
models at the edge of their space), has its criterion raised by `NOT_CONVERGED`: it is kept
only when nothing better was found. When the budget runs out the fit in progress is stopped
(it counts as not converged) and the best model so far is kept.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from champion.recipes.progress import report

NOT_CONVERGED = 1e6  # added to the criterion of a fit the optimizer did not finish
NEAR_UNIT_ROOT = 1.01  # AR or MA roots closer to the unit circle count as not converged
_MOVES = [(-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (1, 1)]


@dataclass(frozen=True)
class Candidate:
    """One model of the search: ARMA orders, a constant (or drift), Fourier pairs."""

    p: int
    q: int
    sp: int = 0  # seasonal AR order P
    sq: int = 0  # seasonal MA order Q
    trend: bool = False  # a constant; a drift when the model is differenced once
    pairs: int = 0  # sine/cosine pairs of the season, as regressors


@dataclass(frozen=True)
class Space:
    """The bounds of a search and its fixed parts (differencing, season)."""

    d: int
    big_d: int
    m: int  # season of the seasonal ARMA part (0: none)
    max_p: int
    max_q: int
    max_seasonal: int
    trend_allowed: bool
    max_pairs: int = 0  # 0: no Fourier terms
    min_pairs: int = 0

    def allows(self, c: Candidate) -> bool:
        seasonal = self.max_seasonal if self.m else 0
        return (0 <= c.p <= self.max_p and 0 <= c.q <= self.max_q and 0 <= c.sp <= seasonal
                and 0 <= c.sq <= seasonal and (self.trend_allowed or not c.trend)
                and self.min_pairs <= c.pairs <= self.max_pairs)

    def neighbours(self, c: Candidate) -> list[Candidate]:
        moves = [replace(c, p=c.p + a, q=c.q + b) for a, b in _MOVES]
        moves += [replace(c, sp=c.sp + a, sq=c.sq + b) for a, b in _MOVES]
        moves += [replace(c, trend=not c.trend)]
        moves += [replace(c, pairs=c.pairs + k) for k in (-1, 1)]
        return [n for n in moves if self.allows(n)]

    def spec(self, c: Candidate) -> dict[str, Any]:
        return {"order": [c.p, self.d, c.q],
                "seasonal_order": [c.sp, self.big_d, c.sq, self.m] if self.m else [0, 0, 0, 0],
                "trend": "c" if c.trend else "n"}

    def describe(self, c: Candidate) -> str:
        text = f"ARIMA({c.p},{self.d},{c.q})"
        if self.m:
            text += f"({c.sp},{self.big_d},{c.sq})[{self.m}]"
        if c.trend:
            text += " with drift" if self.d + self.big_d else " with constant"
        if c.pairs:
            text += f" + {c.pairs} Fourier pair{'s' if c.pairs > 1 else ''}"
        return text


@dataclass
class Fit:
    value: float  # the criterion, penalized when not converged; inf when it failed
    params: list[float]
    converged: bool


FitOne = Callable[[Candidate, Callable[[Any], None]], Fit]


class Clock:
    """A time budget; `share` hands a part of what is left to one of several searches."""

    def __init__(self, seconds: float) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + seconds
        self.out_of_time = False
        self._parts: list[Clock] = []

    def share(self, parts: int) -> Clock:
        """A clock with 1/`parts` of the time left (its running out counts as this one's)."""
        return self.portion(1 / max(parts, 1))

    def portion(self, fraction: float) -> Clock:
        """A clock with `fraction` of the time left (its running out counts as this one's)."""
        part = Clock(self.left() * fraction)
        self._parts.append(part)
        return part

    @property
    def ran_out(self) -> bool:
        """Whether this budget, or a part of it, stopped a search."""
        return self.out_of_time or any(p.ran_out for p in self._parts)

    def left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.out_of_time = True
        return max(left, 0.0)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def stop_at_deadline(self, _: Any) -> None:
        """An optimizer's callback: ends a fit that runs past the budget."""
        if self.left() <= 0:
            raise StopIteration


class Search:
    """Scores candidates of one space once each; stops at `max_models` or when time is up."""

    def __init__(self, space: Space, fit_one: FitOne, criterion: str, clock: Clock,
                 max_models: int) -> None:
        self.space, self.fit_one, self.criterion = space, fit_one, criterion
        self.clock, self.max_models = clock, max_models
        self.tried: dict[Candidate, Fit] = {}
        self.best: Candidate | None = None

    @property
    def best_value(self) -> float:
        return float("inf") if self.best is None else self.tried[self.best].value

    def can_try(self) -> bool:
        return self.clock.left() > 0 and len(self.tried) < self.max_models

    def score(self, c: Candidate) -> float:
        if c not in self.tried:
            if not self.can_try():
                return float("inf")
            report(f"model {len(self.tried) + 1}: {self.space.describe(c)}; {self._status()}")
            self.tried[c] = self.fit_one(c, self.clock.stop_at_deadline)
            if self.best is None or self.tried[c].value < self.tried[self.best].value:
                self.best = c
        return self.tried[c].value

    def scan(self, candidates: list[Candidate], patience: int | None = None) -> Candidate | None:
        """The best of `candidates`, tried in order (stopping after `patience` without gain)."""
        best: Candidate | None = None
        since = 0
        for c in candidates:
            if not self.space.allows(c):
                continue
            if best is None or self.score(c) < self.score(best):
                best, since = c, 0
            else:
                since += 1
                if patience is not None and since >= patience:
                    break
        return best

    def climb(self, start: Candidate) -> Candidate:
        """Move to the first better neighbour until none is better (or time is up)."""
        best, improved = start, True
        while improved and self.can_try():
            improved = False
            for c in self.space.neighbours(best):
                if c not in self.tried and self.score(c) < self.score(best):
                    best, improved = c, True
                    break
        return best

    def _status(self) -> str:
        left = f"{self.clock.left():.0f} s left"
        if self.best is None:
            return left
        best = f"{self.space.describe(self.best)}, {self.criterion.upper()} {self.best_value:.1f}"
        return f"best {best}; {left}"


def fit_model(model: Any, criterion: str, maxiter: int, callback: Callable[[Any], None],
              fixed: dict[str, float] | None = None, start: list[float] | None = None) -> Fit:
    """Fit one statsmodels SARIMAX (scale concentrated out) and read its criterion.

    `fixed` parameters are held at their values (e.g. regression coefficients estimated
    beforehand) but still counted in the criterion's penalty, as estimated ones. `start`:
    starting values of the free parameters (default: statsmodels' own).
    """
    from contextlib import nullcontext

    from statsmodels.tools.sm_exceptions import ConvergenceWarning, EstimationWarning

    try:
        with warnings.catch_warnings(), (model.fix_params(fixed) if fixed else nullcontext()):
            warnings.simplefilter("ignore", ConvergenceWarning)  # read from mle_retvals below
            warnings.simplefilter("ignore", EstimationWarning)  # notices about starting values
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow in a bad trial step
            if model.k_params == len(fixed or {}):
                result = model.filter(list((fixed or {}).values()))
            else:
                result = model.fit(start_params=start, disp=False, method="lbfgs", maxiter=maxiter,
                                   callback=callback)
    except (ValueError, np.linalg.LinAlgError):
        return Fit(float("inf"), [], False)
    converged = bool((getattr(result, "mle_retvals", None) or {}).get("converged", True))
    converged = converged and _roots_clear_of_the_unit_circle(result)
    value = _criterion(result, criterion, len(fixed or {})) + (0.0 if converged else NOT_CONVERGED)
    # The scale was concentrated out; appended, the parameters fit the plain model.
    params = [*np.asarray(result.params, dtype=float).tolist(), float(result.scale)]
    if not np.isfinite(value) or not np.all(np.isfinite(params)):
        return Fit(float("inf"), params, False)
    return Fit(value, params, converged)


def _roots_clear_of_the_unit_circle(result: Any) -> bool:
    """auto.arima's guard, on the non-seasonal polynomials: an AR or MA root within 1% of the
    unit circle marks a model at the edge of its space. An MA root at 1 means the series was
    differenced once too often: on the Nile's level shift the criterion preferred such a model
    with a drift, a linear trend in disguise, whose forecasts went on falling (RMSE 244 instead
    of 118). A seasonal MA near -1 is left alone: after a seasonal difference it stands for a
    season that repeats unchanged, and El Nino's best monthly model has one (checked too, the
    search fell back to a model with RMSE 1.11 instead of 0.83)."""
    for name, sign in (("arparams", -1.0), ("maparams", 1.0)):
        coefficients = np.asarray(getattr(result, name, []), dtype=float)
        if coefficients.size and np.any(coefficients != 0):
            roots = np.polynomial.polynomial.polyroots(np.r_[1.0, sign * coefficients])
            if np.abs(roots).min() < NEAR_UNIT_ROOT:
                return False
    return True


def _criterion(result: Any, name: str, fixed: int) -> float:
    """statsmodels' criterion, with `fixed` more parameters counted."""
    if not fixed:
        return float(getattr(result, name))
    from statsmodels.tools import eval_measures

    k = int(result.df_model) + fixed
    return float(getattr(eval_measures, name)(result.llf, result.nobs_effective, k))
