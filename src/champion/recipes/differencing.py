"""How much to difference a series, and whether it has a season at all.

d comes from two unit-root tests with opposite null hypotheses: KPSS (null: stationary) and
augmented Dickey-Fuller (null: a unit root). While KPSS rejects and ADF does not, the series
is differenced again; when both say stationary, d is found. When they contradict each other
the data do not tell, and both orders are returned: the caller lets the information
criterion decide, on likelihoods made comparable (the same first observations left out).

The seasonal strength is Hyndman's measure from an STL decomposition, 1 - Var(remainder) /
Var(season + remainder): 0 for a series without a seasonal pattern (seasonally adjusted
data score 0.0), near 1 for one that is mostly season.
"""

from __future__ import annotations

import warnings

import numpy as np

_LEVEL = 0.05


def difference_orders(values: np.ndarray, max_d: int = 2) -> tuple[int, int]:
    """(lowest, highest) order of differencing the tests leave open; equal when they agree."""
    d = 0
    while d < max_d:
        if np.ptp(values) == 0:
            return d, d  # constant: stationary (and KPSS cannot choose its lags)
        non_stationary = _kpss_rejects(values)
        unit_root = not _adf_rejects(values)
        if non_stationary != unit_root:  # the tests disagree
            return d, d + 1
        if not non_stationary:
            return d, d
        values, d = np.diff(values), d + 1
    return d, d


def seasonal_strength(values: np.ndarray, period: int) -> float:
    """STL seasonal strength in [0, 1] of a season of `period` periods."""
    from statsmodels.tsa.seasonal import STL

    parts = STL(values, period=period, robust=True).fit()
    total = float(np.var(parts.seasonal + parts.resid))
    return max(0.0, 1 - float(np.var(parts.resid)) / total) if total > 0 else 0.0


def _kpss_rejects(values: np.ndarray) -> bool:
    """KPSS rejects (level) stationarity at 5%."""
    from statsmodels.tools.sm_exceptions import InterpolationWarning
    from statsmodels.tsa.stattools import kpss

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InterpolationWarning)  # p beyond the table: still usable
        return bool(kpss(values, regression="c", nlags="auto", result_object=True).pvalue < _LEVEL)


def _adf_rejects(values: np.ndarray) -> bool:
    """Augmented Dickey-Fuller rejects a unit root at 5% (lags by AIC)."""
    from statsmodels.tsa.stattools import adfuller

    return bool(adfuller(values, regression="c", autolag="AIC", result_object=True).pvalue < _LEVEL)
