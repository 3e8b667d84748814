"""The golden set: held-out rows chosen by a stable hash of each row's identity.

A row's side depends only on its own key (and the salt), never on the other rows, so when the
data grows old rows keep their side and golden rows are never trained on.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from champion.data.keys import row_keys
from champion.errors import DataError

_SCALE = float(2**64)


def hash_unit(key: str, salt: str = "") -> float:
    """Map a key to [0, 1) by SHA-256: stable across processes, machines and versions."""
    digest = hashlib.sha256(f"{salt}\x1f{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def golden_mask(frame: pd.DataFrame, columns: list[str], fraction: float, salt: str = "") -> np.ndarray:
    """True for the rows that belong to the golden set."""
    keys = row_keys(frame, columns) if columns else frame.index.astype(str)
    return np.fromiter((hash_unit(k, salt) < fraction for k in keys), dtype=bool, count=len(frame))


def split_series(series: pd.Series, periods: int) -> tuple[pd.Series, pd.Series]:
    """Split a time series into (history, golden): the golden set is the last `periods`
    periods (`golden.periods`: days of a daily series, weeks of a weekly one)."""
    if len(series) <= periods:
        raise DataError(
            f"the series has {len(series)} periods; a golden set of the last {periods} "
            "(golden.periods) needs more"
        )
    return series.iloc[:-periods], series.iloc[-periods:]
