"""Seasons of a regular series, from its pandas frequency, and Fourier terms for long ones.

The season is the number of periods in the next natural cycle above the period: a day for
sub-daily series (hourly: 24), a week for daily ones (daily: 7, business-daily: 5), a year for
weekly to quarterly ones (weekly: 365.25 / 7 = 52.18, monthly: 12, quarterly: 4) and none for
yearly series. It is measured on the offset itself (how many periods fit in a 28-year span,
a whole cycle of leap years and weekdays), never read from the alias's letters.

Fourier terms are functions of a period's position, counted from a fixed anchor (the first
period the model was fitted on), so that fitting, forecasting and a history that grew or
lost its oldest periods since all agree on where in the season each period falls.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset
from pandas.tseries.offsets import BaseOffset, Tick

_DAY = pd.Timedelta(days=1)
_YEAR_DAYS = 365.25
_SPAN_START, _SPAN_YEARS = pd.Timestamp("2001-01-01"), 28


def offset_of(frequency: str | BaseOffset) -> BaseOffset:
    """The pandas offset of an alias ('D', 'W-SUN', 'MS', ...)."""
    return frequency if isinstance(frequency, BaseOffset) else to_offset(frequency)


def period_days(frequency: str | BaseOffset) -> float:
    """The average length of one period, in days."""
    offset = offset_of(frequency)
    if isinstance(offset, Tick):
        return pd.Timedelta(offset) / _DAY
    end = _SPAN_START + pd.DateOffset(years=_SPAN_YEARS)
    count = len(pd.date_range(_SPAN_START, end, freq=offset, inclusive="left"))
    return _SPAN_YEARS * _YEAR_DAYS / count


def season_of(frequency: str | BaseOffset) -> float | None:
    """Periods per natural cycle (hourly 24, daily 7, weekly 52.18, monthly 12, quarterly 4),
    or None when the period is a year or longer (or fits no cycle at least twice)."""
    days = period_days(frequency)
    if days < 1:
        cycle = 1.0  # a day
    elif days < 7:
        cycle = 7.0  # a week
    elif days < _YEAR_DAYS * 0.99:
        cycle = _YEAR_DAYS  # a year
    else:
        return None
    season = cycle / days
    nearest = round(season)
    if abs(season - nearest) < 1e-3 * season:
        season = float(nearest)
    return season if season >= 2 else None


def steps_between(start: pd.Timestamp, end: pd.Timestamp, frequency: str | BaseOffset) -> int:
    """How many periods `end` lies after `start` (negative when before); both on the grid."""
    offset = offset_of(frequency)
    if isinstance(offset, Tick):
        return int(round((end - start) / pd.Timedelta(offset)))
    low, high = (start, end) if start <= end else (end, start)
    count = len(pd.date_range(low, high, freq=offset)) - 1
    return count if start <= end else -count


def positions(index: pd.DatetimeIndex, anchor: pd.Timestamp,
              frequency: str | BaseOffset) -> np.ndarray:
    """Positions of a regular index's periods, counted from `anchor` (position 0)."""
    if len(index) == 0:
        return np.zeros(0)
    first = steps_between(anchor, pd.Timestamp(index[0]), frequency)
    return np.arange(first, first + len(index), dtype=float)


def fourier_terms(position: np.ndarray, period: float, pairs: int) -> np.ndarray:
    """Columns sin(2 pi k t / period), cos(2 pi k t / period) for k = 1..pairs.

    The cosine of k = period / 2 (an even period's Nyquist frequency) duplicates a constant
    up to sign, and its sine is zero: such a pair keeps only the cosine.
    """
    columns = []
    for k in range(1, pairs + 1):
        angle = 2 * np.pi * k * position / period
        if 2 * k != period:
            columns.append(np.sin(angle))
        columns.append(np.cos(angle))
    return np.column_stack(columns) if columns else np.zeros((len(position), 0))


def max_pairs(period: float) -> int:
    """The most sine/cosine pairs a season supports (half the period, rounded down)."""
    return int(period // 2)
