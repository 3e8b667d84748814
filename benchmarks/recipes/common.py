"""Shared by the recipe benchmarks: calibration error, its noise floor, the machine line."""

from __future__ import annotations

import os
import platform
import time

import numpy as np


def expected_calibration_error(proba: np.ndarray, codes: np.ndarray, bins: int = 15) -> float:
    """Top-class ECE: |accuracy - mean confidence| over equal-width confidence bins, weighted
    by the share of rows in each bin (Guo et al. 2017, 15 bins)."""
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == codes
    which = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        rows = which == b
        if rows.any():
            total += rows.mean() * abs(correct[rows].mean() - confidence[rows].mean())
    return float(total)


def ece_floor(proba: np.ndarray, draws: int = 200, seed: int = 0) -> float:
    """Mean ECE of a perfectly calibrated model with these very probabilities (labels drawn
    from them): what ECE shows from sampling noise alone on this many rows."""
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(proba, axis=1)
    values = []
    for _ in range(draws):
        u = rng.random((len(proba), 1))
        drawn = np.minimum((u > cumulative).sum(axis=1), proba.shape[1] - 1)
        values.append(expected_calibration_error(proba, drawn))
    return float(np.mean(values))


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{time.strftime('%Y-%m-%d %H:%M:%S %z')}, {os.cpu_count()} cores, {platform.python_version()}, "
            f"load average {load:.2f}")
