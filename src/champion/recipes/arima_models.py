"""One ARIMA model of the forecaster: its plan (differencing, season, Fourier columns), the
statsmodels SARIMAX it is, and its fit from several starting points.

A specification (`spec`) is what a saved model holds: `order`, `seasonal_order`, `trend`
("c": a constant, or a drift when the model is differenced; "n": none), `params` and, for
Fourier terms, `fourier`. The constant is the intercept of the ARMA equation (statsmodels'
`trend="c"`), which a saved model keeps whatever form it was fitted in.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from champion.recipes.arima_search import Candidate, Fit, Space, fit_model


@dataclass(frozen=True)
class Plan:
    """One search: its space, the Fourier columns it may use, the observations it burns."""

    space: Space
    terms: np.ndarray | None  # every Fourier column of the whole history (None: no terms)
    season: float | None
    burn: int | None  # left out of every likelihood, the same for all plans (None: the default)

    def exog(self, pairs: int, length: int) -> np.ndarray | None:
        """The Fourier columns of `pairs` pairs for the first `length` periods."""
        if self.terms is None or self.season is None:
            return None
        return self.terms[:length, : fourier_columns(self.season, pairs)]


@dataclass(frozen=True)
class Fitter:
    """Fits candidates with one criterion and optimizer budget."""

    criterion: str
    maxiter: int

    def fit(self, plan: Plan, c: Candidate, y: np.ndarray, callback: Any,
            start: list[float] | None = None, fresh: bool = True) -> Fit:
        """Fit one candidate on `y` (scale concentrated out) and keep the best of its starts.

        `start`: the parameters of an earlier fit of the same candidate (scale last). `fresh`:
        also start from statsmodels' starting values and, for a constant or drift without
        Fourier terms, from the regression form's estimate (`regression_start`)."""
        exog = plan.exog(c.pairs, len(y))
        spec = plan.space.spec(c)
        model = sarimax(y, spec, exog, concentrate_scale=True, burn=plan.burn)
        fixed = None if exog is None else harmonic_coefficients(y, exog, plan.space.d)
        starts: list[list[float] | None] = []
        if start is not None:  # first: it converges fastest, and the budget may stop the others
            starts.append([v for name, v in zip(model.param_names, start, strict=False)
                           if name not in (fixed or {})])
        if fresh or start is None:
            starts.append(None)
        if fresh and c.trend and exog is None:
            regression = regression_start(y, spec, self.maxiter, callback)
            if regression is not None:
                starts.append(regression)
        fits = [fit_model(model, self.criterion, self.maxiter, callback, fixed, s) for s in starts]
        return min(fits, key=lambda f: f.value)


def sarimax(y: np.ndarray, spec: dict[str, Any], exog: np.ndarray | None = None,
            concentrate_scale: bool = False, burn: int | None = None) -> Any:
    """The statsmodels SARIMAX of a specification on `y`."""
    from statsmodels.tools.sm_exceptions import EstimationWarning
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    # Saved before the trend was searched: a constant exactly when the model is not differenced.
    trend = spec.get("trend", "n" if differenced(spec) else "c")
    extra = {} if burn is None else {"loglikelihood_burn": burn}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)  # notices about starting values
        return SARIMAX(y, exog=exog, order=tuple(spec["order"]),
                       seasonal_order=tuple(spec["seasonal_order"]), trend=trend,
                       concentrate_scale=concentrate_scale, **extra)


def regression_start(y: np.ndarray, spec: dict[str, Any], maxiter: int,
                     callback: Any) -> list[float] | None:
    """Starting values for a model with a constant (or drift), from the same model fitted as
    a regression on a constant (or a time trend) with ARMA errors (statsmodels' `ARIMA`),
    its coefficient turned into the intercept of the ARMA equation (times the AR polynomials
    at 1). The two forms have the same likelihood; the regression form is better conditioned
    when the AR part is persistent (the intercept is then a small multiple of a large mean):
    on the Nile the intercept form stopped at a worse optimum (log-likelihood -374.80
    instead of -374.61) with an AR root at -1."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, EstimationWarning
    from statsmodels.tsa.arima.model import ARIMA

    p, d, q = spec["order"]
    sp, big_d, _, _ = spec["seasonal_order"]
    try:
        with warnings.catch_warnings():
            for category in (ConvergenceWarning, EstimationWarning, RuntimeWarning, UserWarning):
                warnings.simplefilter("ignore", category)
            model = ARIMA(y, order=tuple(spec["order"]),
                          seasonal_order=tuple(spec["seasonal_order"]),
                          trend="c" if d + big_d == 0 else "t", concentrate_scale=True)
            params = np.asarray(model.fit(method_kwargs={"maxiter": maxiter, "callback": callback},
                                          return_params=True), dtype=float)
    except (ValueError, np.linalg.LinAlgError, StopIteration):
        return None
    ar, seasonal_ar = params[1 : 1 + p], params[1 + p + q : 1 + p + q + sp]
    intercept = params[0] * (1 - ar.sum()) * (1 - seasonal_ar.sum())
    start = [float(intercept), *params[1:].tolist()]
    return start if np.all(np.isfinite(start)) else None


def harmonic_coefficients(y: np.ndarray, exog: np.ndarray, d: int) -> dict[str, float]:
    """Least-squares coefficients of the Fourier columns, on the series differenced as the
    model differences it. For harmonic regressors least squares is as efficient as maximum
    likelihood (Grenander, 1954; measured on weekly co2: within 0.003, the same likelihood),
    and holding them fixed leaves the optimizer only the ARMA part: about twice as fast."""
    target, columns = np.diff(y, d), np.diff(exog, d, axis=0)
    design = np.column_stack([np.ones(len(target)), columns])
    beta = np.linalg.lstsq(design, target, rcond=None)[0][1:]
    return {f"x{i + 1}": float(b) for i, b in enumerate(beta)}


def deseasoned(y: np.ndarray, terms: np.ndarray | None, m: int, big_d: int) -> np.ndarray:
    """The series with its season taken out (Fourier) or differenced away (seasonal ARIMA),
    for the unit-root tests."""
    if terms is not None:
        design = np.column_stack([np.ones(len(y)), terms[: len(y)]])
        return y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    if m and big_d:
        return y[m:] - y[:-m]
    return y


def fourier_columns(season: float, pairs: int) -> int:
    """Columns of `pairs` Fourier pairs (an even season's last pair has only its cosine)."""
    return 2 * pairs - (1 if 2 * pairs == season else 0)


def differenced(spec: dict[str, Any]) -> bool:
    return bool(spec["order"][1] + spec["seasonal_order"][1] > 0)
