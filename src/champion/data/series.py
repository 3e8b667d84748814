"""Missing values of a time series: interpolated in time, and remembered as not observed.

A target declared `nullable` may have empty cells. Forecasting models need a complete
history, so the gaps between two observed values are filled by time-weighted linear
interpolation; the filled periods are kept in a mask so that no error is ever computed on a
value that was never observed. Missing values at the start or the end (nothing on one side to
interpolate from) and a series with no value at all are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from champion.errors import DataError

_SHOWN = 5


@dataclass(frozen=True)
class FilledSeries:
    """A complete series and where its values were filled in."""

    series: pd.Series
    filled: np.ndarray  # bool, one per period: True where the value was interpolated

    @property
    def count(self) -> int:
        return int(self.filled.sum())


def fill_missing(series: pd.Series, column: str | None = None) -> FilledSeries:
    """Interpolate missing values between observed ones (time-aware); refuse leading,
    trailing and all-missing values with a `DataError` naming their dates."""
    missing = series.isna().to_numpy()
    if not missing.any():
        return FilledSeries(series, missing)
    if missing.all():
        raise DataError(f"all {len(series)} values of the series are missing", column=column)
    observed = np.flatnonzero(~missing)
    for where, positions in (("starts", np.arange(observed[0])),
                             ("ends", np.arange(observed[-1] + 1, len(series)))):
        if len(positions):
            plural = "s" if len(positions) > 1 else ""
            raise DataError(
                f"the series {where} with {len(positions)} missing value{plural} "
                f"({_dates(series.index[positions])}): there is no observed value on that side to "
                "interpolate from; remove those rows or give them values", column=column)
    timed = isinstance(series.index, pd.DatetimeIndex)
    filled = series.interpolate(method="time" if timed else "linear")
    return FilledSeries(filled, missing)


def model_series(frame: pd.DataFrame, time: str, target: str, frequency: str) -> FilledSeries:
    """A forecaster's series from its dataset: the target by date at the model's frequency,
    missing values filled (see `fill_missing`)."""
    series = frame.set_index(time)[target].astype(float)
    series.index = pd.DatetimeIndex(series.index, freq=frequency)
    return fill_missing(series, target)


def _dates(index: pd.Index) -> str:
    shown = ", ".join(str(t.date()) if isinstance(t, pd.Timestamp) and t == t.normalize()
                      else str(t) for t in index[:_SHOWN])
    return shown + (f", ... {len(index) - _SHOWN} more" if len(index) > _SHOWN else "")
