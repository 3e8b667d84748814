"""Drift tests, one detector per method, shaped like scikit-learn estimators.

`__init__` stores parameters, `fit(reference)` learns what the test needs from the
reference (sorted values, category counts, texts) and returns `self`, `test(current)` gives
a `DriftResult`. The formulas follow Evidently 0.7 (benchmarks/monitoring/EVIDENTLY_STATTESTS.md)
so statistics agree with it to 1e-6; `detector_for` picks the method and threshold as
Evidently's defaults do (and Azure ML's: normalized Wasserstein 0.1, Jensen-Shannon 0.1).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Self

import numpy as np
import pandas as pd

ColumnKind = Literal["numeric", "categorical", "text"]

P_VALUE_METHODS = ("ks", "chi2")
DEFAULT_THRESHOLDS = {"ks": 0.05, "chi2": 0.05, "wasserstein": 0.1, "psi": 0.1, "jensenshannon": 0.1,
                      "domain_classifier": 0.55}
SMALL_REFERENCE = 1000
"""Up to this many reference rows `auto` uses p-value tests (K-S, chi-square), as Evidently."""
FEW_VALUES = 5
"""A numeric column with at most this many distinct values is tested as categorical."""


@dataclass(frozen=True)
class DriftResult:
    """The outcome of one drift test."""

    method: str
    statistic: float
    """The distance, or the test statistic of a p-value test."""
    p_value: float | None
    threshold: float
    drifted: bool

    @property
    def score(self) -> float:
        """What the threshold is compared with: the p-value or the distance."""
        return self.p_value if self.p_value is not None else self.statistic

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "statistic": _finite(self.statistic),
                "p_value": None if self.p_value is None else _finite(self.p_value),
                "threshold": self.threshold, "drifted": self.drifted}


class DriftTest:
    """Base of the detectors: parameters and the fitted/unfitted check."""

    method: str = ""

    def __init__(self, threshold: float | None = None) -> None:
        self.threshold = threshold

    @property
    def threshold_(self) -> float:
        return self.threshold if self.threshold is not None else DEFAULT_THRESHOLDS[self.method]

    def fit(self, reference: Any) -> Self:
        raise NotImplementedError

    def test(self, current: Any) -> DriftResult:
        raise NotImplementedError

    def _distance(self, value: float) -> DriftResult:
        return DriftResult(self.method, float(value), None, self.threshold_, bool(value >= self.threshold_))


# ---- numbers ------------------------------------------------------------------------------
class KSTest(DriftTest):
    """Two-sample Kolmogorov-Smirnov; drift when the p-value is at most the threshold."""

    method = "ks"

    def fit(self, reference: Any) -> Self:
        self.reference_ = np.sort(_numbers(reference))
        return self

    def test(self, current: Any) -> DriftResult:
        from scipy import stats  # imported when a test runs: training stores profiles without it

        result = stats.ks_2samp(self.reference_, _numbers(current))
        p_value = float(result.pvalue)
        return DriftResult(self.method, float(result.statistic), p_value, self.threshold_,
                           p_value <= self.threshold_)


class WassersteinTest(DriftTest):
    """Wasserstein-1 distance divided by the reference's standard deviation (at least 0.001)."""

    method = "wasserstein"

    def fit(self, reference: Any) -> Self:
        values = _numbers(reference)
        self.reference_ = np.sort(values)
        self.scale_ = max(float(np.std(values)), 0.001)
        return self

    def test(self, current: Any) -> DriftResult:
        return self._distance(wasserstein_sorted(self.reference_, np.sort(_numbers(current))) / self.scale_)


class PSITest(DriftTest):
    """Population stability index over Sturges bins of reference and current together."""

    method = "psi"

    def fit(self, reference: Any) -> Self:
        self.reference_ = np.sort(_numbers(reference))
        return self

    def test(self, current: Any) -> DriftResult:
        ref, cur = binned_shares(self.reference_, np.sort(_numbers(current)), fill_zeroes=True)
        return self._distance(float(np.sum((ref - cur) * np.log(ref / cur))))


class JensenShannonTest(DriftTest):
    """Jensen-Shannon distance (natural log) of the binned shares; numbers or categories."""

    method = "jensenshannon"

    def __init__(self, threshold: float | None = None, kind: ColumnKind = "categorical") -> None:
        super().__init__(threshold)
        self.kind = kind

    def fit(self, reference: Any) -> Self:
        self.reference_ = np.sort(_numbers(reference)) if self.kind == "numeric" else CategoryCounts.of(reference)
        return self

    def test(self, current: Any) -> DriftResult:
        if isinstance(self.reference_, CategoryCounts):
            ref, cur = self.reference_.shares_with(CategoryCounts.of(current))
        else:
            ref, cur = binned_shares(self.reference_, np.sort(_numbers(current)), fill_zeroes=False)
        from scipy.spatial import distance  # ~0.25 s to import; training never needs it

        return self._distance(float(distance.jensenshannon(ref, cur)))


# ---- categories ---------------------------------------------------------------------------
class ChiSquareTest(DriftTest):
    """Chi-square test that reference and current counts come from one distribution (the
    two-sample test of homogeneity); drift when the p-value is below the threshold.

    Evidently compares current counts with reference shares taken as exact, which ignores
    that the reference is a sample too: with 1,000 reference rows its false-alarm rate at
    level 0.05 is about 10% (measured in tests/test_monitoring_drift.py); this one's is 5%.
    """

    method = "chi2"

    def fit(self, reference: Any) -> Self:
        self.reference_ = CategoryCounts.of(reference)
        return self

    def test(self, current: Any) -> DriftResult:
        observed = CategoryCounts.of(current)
        keys = self.reference_.keys_with(observed)
        table = np.array([[self.reference_.counts.get(k, 0) for k in keys],
                          [observed.counts.get(k, 0) for k in keys]], dtype=float)
        if len(keys) < 2 or table.sum(axis=1).min() == 0:
            return DriftResult(self.method, 0.0, 1.0, self.threshold_, False)
        from scipy import stats

        statistic, p_value, _, _ = stats.chi2_contingency(table, correction=False)
        return DriftResult(self.method, float(statistic), float(p_value), self.threshold_,
                           float(p_value) < self.threshold_)


@dataclass
class CategoryCounts:
    """How often each category occurs (missing values left out); `total` counts every row."""

    counts: dict[Any, int]
    total: int

    @classmethod
    def of(cls, values: Any) -> CategoryCounts:
        if isinstance(values, CategoryCounts):
            return values
        if isinstance(values, dict):  # a stored profile: {"counts": {...}, "total": n}
            return cls({k: int(v) for k, v in values["counts"].items()}, int(values["total"]))
        if isinstance(values, np.ndarray | pd.Series | pd.Categorical) or (isinstance(values, list) and len(values) > 10_000):
            # object dtype: no conversion to an Arrow string column just to count
            series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object, copy=False)
            counts = series.value_counts(dropna=True, sort=False)  # hashing in C
            return cls({_plain(k): int(c) for k, c in counts.items()}, len(series))
        items = list(values)
        return cls(dict(Counter(v for v in items if not _missing(v))), len(items))

    def keys_with(self, other: CategoryCounts) -> list[Any]:
        return sorted(set(self.counts) | set(other.counts), key=str)

    def shares_with(self, other: CategoryCounts) -> tuple[np.ndarray, np.ndarray]:
        keys = self.keys_with(other)
        ref = np.array([self.counts.get(k, 0) for k in keys], dtype=float) / max(self.total, 1)
        cur = np.array([other.counts.get(k, 0) for k in keys], dtype=float) / max(other.total, 1)
        return ref, cur


# ---- shared arithmetic --------------------------------------------------------------------
def wasserstein_sorted(u: np.ndarray, v: np.ndarray) -> float:
    """Wasserstein-1 distance of two sorted samples: the area between their empirical CDFs
    (scipy's `wasserstein_distance`, without sorting again)."""
    if not len(u) or not len(v):
        return float("nan")
    if len(u) == len(v):  # equal sizes: the mean gap between matching order statistics
        return float(np.mean(np.abs(u - v)))
    merged = np.concatenate([u, v])
    order = np.argsort(merged, kind="stable")  # two sorted runs: a linear merge
    from_u = order < len(u)
    # Within a group of tied values the CDF gaps are multiplied by zero widths, so counting
    # in merge order equals counting with `side="right"` as scipy does.
    u_cdf = np.cumsum(from_u)[:-1] / len(u)
    v_cdf = np.cumsum(~from_u)[:-1] / len(v)
    return float(np.sum(np.abs(u_cdf - v_cdf) * np.diff(merged[order])))


def binned_shares(reference: np.ndarray, current: np.ndarray, fill_zeroes: bool) -> tuple[np.ndarray, np.ndarray]:
    """Shares of each side per bin: Sturges bins of both sides together when the reference has
    more than 20 distinct values, else one bin per value (Evidently's `get_binned_data`).
    Both samples sorted."""
    if distinct_sorted(reference) > 20:
        extremes = np.concatenate([reference[:1], reference[-1:], current[:1], current[-1:]])
        edges = np.histogram_bin_edges(extremes, bins=_sturges_bins(extremes, len(reference) + len(current)))
        ref = _sorted_histogram(reference, edges) / len(reference)
        cur = _sorted_histogram(current, edges) / len(current)
    else:
        keys = np.union1d(np.unique(reference), np.unique(current))
        ref = _value_counts(reference, keys) / len(reference)
        cur = _value_counts(current, keys) / len(current)
    if fill_zeroes:
        ref, cur = _fill_zeroes(ref), _fill_zeroes(cur)
    return ref, cur


def distinct_sorted(values: np.ndarray) -> int:
    """Distinct values of a sorted array."""
    return int(np.count_nonzero(np.diff(values))) + 1 if len(values) else 0


def _sturges_bins(extremes: np.ndarray, size: int) -> int:
    """The bin count numpy's "sturges" rule gives `size` values spanning `extremes` (only the
    range and the size matter, so a million values need not be concatenated)."""
    span = float(extremes.max() - extremes.min())
    if span == 0:
        return 1
    width = span / (np.log2(size) + 1.0)
    return int(np.ceil(span / width))


def _sorted_histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """`np.histogram(values, edges)[0]` for sorted values (half-open bins, the last closed)."""
    cuts = np.concatenate([np.searchsorted(values, edges[:-1], side="left"),
                           np.searchsorted(values, edges[-1:], side="right")])
    return np.diff(cuts)


def _value_counts(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    positions = np.searchsorted(values, keys, side="left")
    ends = np.searchsorted(values, keys, side="right")
    return (ends - positions).astype(float)


def _fill_zeroes(shares: np.ndarray) -> np.ndarray:
    shares = shares.astype(float, copy=True)
    present = shares[shares != 0]
    smallest = float(present.min()) if len(present) else 0.0001
    shares[shares == 0] = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return shares


def _numbers(values: Any) -> np.ndarray:
    """Finite values only: missing and infinite values are left out (as Evidently does)."""
    array = np.asarray(values, dtype=float)
    return array[np.isfinite(array)]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def check_columns(tasks: Sequence[tuple[DriftTest, Any, Any]], threads: int | None = None) -> list[DriftResult]:
    """Fit each detector on its reference and test its current values, several columns at
    once: numpy releases the GIL while it sorts and counts, so threads use every core.
    Returns the results in order; the detectors keep what they learned (e.g. top terms)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    def run(task: tuple[DriftTest, Any, Any]) -> DriftResult:
        detector, reference, current = task
        return detector.fit(reference).test(current)

    workers = max(1, min(threads or os.cpu_count() or 1, len(tasks)))
    if workers == 1:
        return [run(t) for t in tasks]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="drift") as pool:
        return list(pool.map(run, tasks))


# ---- choosing a test ------------------------------------------------------------------------
def detector_for(kind: ColumnKind, method: str = "auto", threshold: float | None = None,
                 reference_rows: int | None = None, distinct_values: int | None = None) -> DriftTest:
    """The detector for a column of `kind`. `auto` follows Evidently's defaults: K-S or
    chi-square up to 1,000 reference rows, normalized Wasserstein or Jensen-Shannon above;
    numbers with at most 5 distinct values count as categories; text uses a domain classifier."""
    if method == "auto":
        method = auto_method(kind, reference_rows, distinct_values)
    if kind == "text" and method != "domain_classifier":
        raise ValueError(f"text columns are tested with domain_classifier, not {method}")
    if method == "domain_classifier":
        if kind != "text":
            raise ValueError("domain_classifier tests text columns only")
        from champion.monitoring.text import DomainClassifierTest

        return DomainClassifierTest(threshold)
    if method == "jensenshannon":
        return JensenShannonTest(threshold, kind=kind)
    if kind == "categorical" and method in ("ks", "wasserstein", "psi"):
        raise ValueError(f"{method} tests numbers; use chi2 or jensenshannon for categories")
    classes: dict[str, type[DriftTest]] = {"ks": KSTest, "wasserstein": WassersteinTest, "psi": PSITest,
                                           "chi2": ChiSquareTest}
    if method not in classes:
        raise ValueError(f"unknown drift method {method!r}")
    return classes[method](threshold)


def auto_method(kind: ColumnKind, reference_rows: int | None, distinct_values: int | None = None) -> str:
    if kind == "text":
        return "domain_classifier"
    if kind == "numeric" and distinct_values is not None and distinct_values <= FEW_VALUES:
        kind = "categorical"
    small = reference_rows is not None and reference_rows <= SMALL_REFERENCE
    if kind == "numeric":
        return "ks" if small else "wasserstein"
    return "chi2" if small else "jensenshannon"


def distinct_count(values: Iterable[Any], limit: int = FEW_VALUES + 1) -> int:
    """Distinct non-missing values, counted up to `limit` (enough to choose a test)."""
    seen: set[Any] = set()
    for value in values:
        if not _missing(value):
            seen.add(value)
            if len(seen) >= limit:
                break
    return len(seen)


def shares(values: Sequence[Any]) -> dict[str, float]:
    """Share of each value among `values`, keys as strings (for reports)."""
    counts = Counter(str(v) for v in values)
    total = max(len(values), 1)
    return {k: counts[k] / total for k in sorted(counts)}
