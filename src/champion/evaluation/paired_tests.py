"""Paired tests: is the challenger better than the champion on the same golden rows?

All are one-sided ("challenger better") and return p-values a person can quote.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import bdtrc, stdtr  # scipy.stats costs ~1 s to import; these are its tails

MAX_CELLS = 4_000_000  # bootstrap index cells per chunk: bounds memory on big golden sets


@dataclass(frozen=True)
class McNemar:
    """Exact McNemar test on correctness."""

    challenger_only: int  # rows only the challenger gets right
    champion_only: int  # rows only the champion gets right
    p_value: float


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


def diebold_mariano(champion_loss: np.ndarray, challenger_loss: np.ndarray, horizon: int) -> DieboldMariano:
    """One-sided test that the challenger's loss is lower.

    Losses are per forecast origin (averaged over its horizon); the variance of their mean
    difference uses a Newey-West (HAC) estimate with lag horizon - 1.
    """
    d = np.asarray(champion_loss, float) - np.asarray(challenger_loss, float)  # > 0: challenger better
    n = len(d)
    if n < 3 or np.allclose(d, d[0]):
        return DieboldMariano(0.0, 1.0 if (n < 3 or d[0] <= 0) else 0.0, n)
    mean = d.mean()
    centered = d - mean
    lags = max(0, min(horizon - 1, n - 1))
    gamma0 = centered @ centered / n
    variance = gamma0 + 2 * sum(
        (1 - k / (lags + 1)) * (centered[k:] @ centered[:-k]) / n for k in range(1, lags + 1)
    )
    if variance <= 0:
        variance = gamma0
    dm = mean / np.sqrt(variance / n)
    h = horizon
    correction = np.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n) if n + 1 - 2 * h > 0 else 1.0
    statistic = float(dm * correction)
    return DieboldMariano(statistic, float(stdtr(n - 1, -statistic)), n)  # Student t upper tail
