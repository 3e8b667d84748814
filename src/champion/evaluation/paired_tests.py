"""Paired tests: is the challenger better than the champion on the same golden rows?

All are one-sided ("challenger better") and return p-values a person can quote. Each also
gives the two-sided interval at level 1 - 2 alpha of the quantity it tests (challenger minus
champion) that agrees with it exactly: the interval lies entirely on the better side of 0 if
and only if p < alpha. So the interval shown next to a verdict never contradicts it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.special import bdtrc, betaincinv, stdtr, stdtrit  # scipy.stats costs ~1 s to import

Interval = tuple[float, float]

MAX_CELLS = 4_000_000  # bootstrap index cells per chunk: bounds memory on big golden sets


@dataclass(frozen=True)
class McNemar:
    """Exact McNemar test on correctness."""

    challenger_only: int  # rows only the challenger gets right
    champion_only: int  # rows only the champion gets right
    p_value: float

    def accuracy_interval(self, alpha: float, rows: int) -> Interval:
        """Exact (Clopper-Pearson) interval of the accuracy difference on `rows` golden rows,
        given the rows where the models disagree.

        The test is on the challenger's share of those rows; its equal-tailed 1 - 2 alpha
        interval, mapped to (2 share - 1) * disagreements / rows, lies above 0 exactly when
        p < alpha (the exact binomial test and its interval are the same inequality).
        """
        b, c = self.challenger_only, self.champion_only
        n = b + c
        low_share = float(betaincinv(b, c + 1, alpha)) if b > 0 else 0.0
        high_share = float(betaincinv(b + 1, c, 1 - alpha)) if c > 0 else 1.0
        scale = n / rows if rows else 0.0
        low, high = (2 * low_share - 1) * scale, (2 * high_share - 1) * scale
        return _agree(low, high, self.p_value < alpha, higher_better=True)


def mcnemar_exact(champion_correct: np.ndarray, challenger_correct: np.ndarray) -> McNemar:
    """One-sided exact binomial test on the discordant rows."""
    b = int((challenger_correct & ~champion_correct).sum())
    c = int((champion_correct & ~challenger_correct).sum())
    n = b + c
    p = float(bdtrc(b - 1, n, 0.5)) if b > 0 else 1.0  # P(X >= b), X ~ Binomial(n, 1/2)
    return McNemar(challenger_only=b, champion_only=c, p_value=min(p, 1.0))


@dataclass(frozen=True)
class BootstrapDelta:
    """Paired bootstrap of (challenger - champion) for each metric."""

    delta: dict[str, float]
    low: dict[str, float]
    high: dict[str, float]
    p_better: dict[str, float]  # share of resamples where the challenger is not better
    samples: dict[str, np.ndarray] = field(default_factory=dict, compare=False)  # sorted, finite

    def one_sided(self, metric: str, higher_better: bool, alpha: float) -> tuple[float, Interval]:
        """The one-sided p-value of `metric` and its percentile interval at level 1 - 2 alpha.

        The interval's ends are order statistics of the resampled differences chosen so that
        the end on the better side passes 0 exactly when p = (not better + 1) / (B + 1) < alpha.
        """
        d = self.samples.get(metric, np.empty(0))
        b = len(d)
        if b == 0:
            return 1.0, (float("nan"), float("nan"))
        not_better = int(np.count_nonzero(d <= 0 if higher_better else d >= 0))
        p = (not_better + 1) / (b + 1)
        worst = _most_not_better(b, alpha)  # the most resamples not better that still pass
        if worst < 0:  # too few resamples to ever reach alpha: no interval can pass
            return p, (float("nan"), float("nan"))
        return p, (float(d[worst]), float(d[b - 1 - worst]))


def _most_not_better(b: int, alpha: float) -> int:
    """The largest m with (m + 1) / (b + 1) < alpha, computed as the p-value is (-1 if none)."""
    m = min(int(alpha * (b + 1)) + 2, b - 1)
    while m >= 0 and not (m + 1) / (b + 1) < alpha:
        m -= 1
    return m


def paired_bootstrap(
    n_rows: int,
    metrics_of: Callable[[np.ndarray], tuple[dict[str, np.ndarray], dict[str, np.ndarray]]],
    higher_better: dict[str, bool],
    samples: int,
    seed: int,
    level: float = 0.95,
) -> BootstrapDelta:
    """Resample golden rows with replacement; both models see the same resample."""
    rng = np.random.default_rng(seed)
    chunk = max(1, MAX_CELLS // max(n_rows, 1))
    deltas: dict[str, list[np.ndarray]] = {m: [] for m in higher_better}
    done = 0
    while done < samples:
        size = min(chunk, samples - done)
        rows = rng.integers(0, n_rows, size=(size, n_rows))
        champion, challenger = metrics_of(rows)
        for metric in higher_better:
            deltas[metric].append(challenger[metric] - champion[metric])
        done += size
    alpha = (1 - level) / 2
    out = BootstrapDelta({}, {}, {}, {})
    full_champion, full_challenger = metrics_of(np.arange(n_rows)[None, :])
    for metric, sign_up in higher_better.items():
        d = np.concatenate(deltas[metric])
        d = d[np.isfinite(d)]
        out.delta[metric] = float(full_challenger[metric][0] - full_champion[metric][0])
        out.samples[metric] = np.sort(d)
        if len(d) == 0:
            out.low[metric] = out.high[metric] = float("nan")
            out.p_better[metric] = 1.0
            continue
        out.low[metric] = float(np.quantile(d, alpha))
        out.high[metric] = float(np.quantile(d, 1 - alpha))
        not_better = (d <= 0) if sign_up else (d >= 0)
        out.p_better[metric] = float((not_better.sum() + 1) / (len(d) + 1))
    return out


@dataclass(frozen=True)
class DieboldMariano:
    """Diebold-Mariano test with the Harvey-Leybourne-Newbold small-sample correction."""

    statistic: float
    p_value: float
    origins: int
    mean_difference: float = float("nan")  # mean loss, challenger - champion (< 0: better)
    std_error: float = float("nan")  # of the mean, HAC with the HLN correction
    enough_origins: bool = True  # False: more origins than the horizon (and 3) are needed

    def interval(self, alpha: float) -> Interval:
        """Interval of the mean loss difference (challenger - champion) at level 1 - 2 alpha,
        from the test's own variance and t distribution: it lies below 0 exactly when p < alpha.
        """
        if not np.isfinite(self.std_error):
            return float("nan"), float("nan")
        half = float(stdtrit(self.origins - 1, 1 - alpha)) * self.std_error
        low, high = self.mean_difference - half, self.mean_difference + half
        return _agree(low, high, self.p_value < alpha, higher_better=False)


def diebold_mariano(
    champion_loss: np.ndarray, challenger_loss: np.ndarray, horizon: int
) -> DieboldMariano:
    """One-sided test that the challenger's loss is lower.

    Losses are per forecast origin (averaged over its horizon); the variance of their mean
    difference uses a Newey-West (HAC) estimate with lag horizon - 1, and the statistic the
    Harvey-Leybourne-Newbold factor sqrt((n + 1 - 2h + h(h - 1) / n) / n), which is defined
    (positive) for every n > h. With no more origins than the horizon (or fewer than 3) every
    origin overlaps every other: there is nothing to test, and p is 1.
    """
    champion_loss = np.asarray(champion_loss, float)
    d = champion_loss - np.asarray(challenger_loss, float)  # > 0: challenger better
    n, h = len(d), horizon
    if n < 3 or n <= h:
        return DieboldMariano(
            0.0, 1.0, n, float(-d.mean()) if n else float("nan"), enough_origins=False
        )
    mean = d.mean()
    if np.allclose(d, d[0]):  # no variance: the sign of the mean decides
        return DieboldMariano(0.0, 1.0 if mean <= 0 else 0.0, n, float(-mean), 0.0)
    centered = d - mean
    lags = max(0, min(h - 1, n - 1))
    gamma0 = centered @ centered / n
    variance = gamma0 + 2 * sum(
        (1 - k / (lags + 1)) * (centered[k:] @ centered[:-k]) / n for k in range(1, lags + 1)
    )
    if variance <= 0:
        variance = gamma0
    dm = mean / np.sqrt(variance / n)
    # (n - h)(n - h + 1) / n^2 > 0 for n > h. An older guard dropped the factor below 2h
    # origins, where it matters most: the test then promoted ~30% of equally good
    # challengers at horizon 7 (benchmarks/gate_dm.py, docs/benchmarks.md).
    correction = np.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    statistic = float(dm * correction)
    p_value = float(stdtr(n - 1, -statistic))  # Student t upper tail
    std_error = float(np.sqrt(variance / n) / correction)
    return DieboldMariano(statistic, p_value, n, float(-mean), std_error)


def min_periods_for_dm(horizon: int) -> int:
    """Fewest golden periods whose rolling origins (periods - horizon + 1) the test can use."""
    return max(2 * horizon, horizon + 2)


def _agree(low: float, high: float, significant: bool, higher_better: bool) -> Interval:
    """Align the interval's end on the better side with the test's verdict where rounding
    (a quantile function against a tail function, both to ~1e-16) could leave them a hair
    apart at the very boundary; anywhere else this changes nothing."""
    if higher_better:
        if significant and not low > 0:
            low = float(np.nextafter(0.0, 1.0))
        elif not significant and low > 0:
            low = 0.0
    else:
        if significant and not high < 0:
            high = float(np.nextafter(0.0, -1.0))
        elif not significant and high < 0:
            high = 0.0
    return low, high
