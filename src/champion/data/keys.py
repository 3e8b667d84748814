"""Row keys: the identity of each row as one string, built column-wise (not row by row)."""

from __future__ import annotations

import pandas as pd

SEPARATOR = "\x1f"  # the ASCII unit separator: never part of a CSV cell we accept as text


def row_keys(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """One string per row joining `columns`; the whole row when `columns` is empty."""
    names = columns or list(frame.columns)
    keys = frame[names[0]].astype(str)
    for name in names[1:]:
        keys = keys + SEPARATOR + frame[name].astype(str)
    return keys
