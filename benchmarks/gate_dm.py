"""Size and power of the forecasting gate's tests with few rolling origins.

Each trial simulates the golden window of a series and two forecasters scored from every
origin over `horizon` steps, as `champion.pipelines.golden_set` does. Forecast errors overlap
the way real multi-step errors do:

    error(origin o, step j) = common(o, j) + scale_X * own_X(o + j)

- common(o, j) = sum over i = 1..j of phi^(j - i) * eps(o + i): the unavoidable error of an
  AR(1) series (phi = 0.7) from origin o, the same for both forecasters. Origins less than
  `horizon` apart share innovations, so each origin's loss is correlated with its neighbours'.
- own_X(t): the forecaster's own mistake about period t, an AR(1) in calendar time (rho = 0.5,
  unit variance), independent between forecasters; all origins forecasting period t share it.

Under the null both forecasters have scale 1 (exchangeable: equally good). Under the
alternatives the challenger's scale is set so that its expected RMSE is 5%, 10% or 15% lower
than the champion's (computed from the variances above, at this horizon).

Tests, all one-sided ("challenger better") on the RMSE, as `compare_forecasts` runs them:

- dm:          our `diebold_mariano` on the per-origin mean squared errors (HAC with lag
               horizon - 1, Harvey-Leybourne-Newbold correction, t with n - 1 df);
- bootstrap:   the paired bootstrap over origins (`paired_bootstrap`, iid resampling of
               origins, which ignores the overlap of horizons), as `compare_forecasts` runs it
               with test = "bootstrap";
- block:       a moving-block bootstrap over origins (blocks of `horizon` origins), for
               comparison only: it keeps neighbouring origins together.

    python benchmarks/gate_dm.py --trials 1000
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import date
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from champion.evaluation.paired_tests import diebold_mariano, paired_bootstrap  # noqa: E402

PHI, RHO = 0.7, 0.5
ORIGINS = [5, 10, 14, 20, 36, 50, 100]
HORIZONS = [1, 7]
GAINS = {
    "equally good (size)": 0.0,
    "5% lower RMSE": 0.05,
    "10% lower RMSE": 0.10,
    "15% lower RMSE": 0.15,
}
TESTS = ["dm", "bootstrap", "block"]
ALPHA = 0.05  # the forecasting default
STRICT = 0.025  # the classification default, for comparison
RESAMPLES = 999


def ar1(rng: np.random.Generator, length: int, coefficient: float) -> np.ndarray:
    """A stationary AR(1) path with unit variance."""
    noise = rng.normal(0, np.sqrt(1 - coefficient**2), length)
    path = np.empty(length)
    path[0] = rng.normal()
    for t in range(1, length):
        path[t] = coefficient * path[t - 1] + noise[t]
    return path


def common_variance(horizon: int) -> float:
    """Mean over the steps of the variance of the common error (unit innovations)."""
    return float(np.mean([np.sum(PHI ** (2 * np.arange(j + 1))) for j in range(horizon)]))


def scale_for(gain: float, horizon: int) -> float:
    """The challenger's own-error scale that makes its expected MSE (1 - gain)^2 the champion's."""
    v = common_variance(horizon)
    return float(np.sqrt((1 - gain) ** 2 * (v + 1) - v))


def simulate(
    rng: np.random.Generator, origins: int, horizon: int, scale: float
) -> tuple[np.ndarray, ...]:
    """(actual, champion, challenger) as origins x horizon matrices."""
    periods = origins + horizon
    eps = rng.normal(0, 1, periods)
    steps = np.arange(horizon)
    common = np.empty((origins, horizon))  # step j from origin o: the innovations after o
    previous = np.zeros(origins)
    for j in range(horizon):
        previous = PHI * previous + eps[np.arange(origins) + 1 + j]
        common[:, j] = previous
    target = np.arange(origins)[:, None] + 1 + steps[None, :]  # period forecast at (o, j)
    own_old, own_new = ar1(rng, periods + 1, RHO), ar1(rng, periods + 1, RHO)
    actual = 100 + rng.normal(0, 5, (origins, horizon))  # levels do not matter, errors do
    champion = actual + common + own_old[target]
    challenger = actual + common + scale * own_new[target]
    return actual, champion, challenger


def block_rows(rng: np.random.Generator, n: int, block: int, samples: int) -> np.ndarray:
    """Moving-block bootstrap indices: `samples` x n, blocks of `block` consecutive origins."""
    block = max(1, min(block, n))
    starts = rng.integers(0, n - block + 1, size=(samples, -(-n // block)))
    rows = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(samples, -1)
    return rows[:, :n]


def one_trial(
    rng: np.random.Generator, origins: int, horizon: int, scale: float
) -> dict[str, float]:
    actual, champion, challenger = simulate(rng, origins, horizon, scale)
    old_mse = ((champion - actual) ** 2).mean(axis=1)  # per origin
    new_mse = ((challenger - actual) ** 2).mean(axis=1)
    out = {"dm": diebold_mariano(old_mse, new_mse, horizon).p_value}

    # Every origin has `horizon` errors, so a resample's RMSE is the root of the mean of its
    # origins' MSEs: the same numbers as forecast_metrics on the full matrices, much faster.
    def metrics_of(rows: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        return {"rmse": np.sqrt(old_mse[rows].mean(axis=1))}, {
            "rmse": np.sqrt(new_mse[rows].mean(axis=1))
        }

    seed = int(rng.integers(2**31))
    boot = paired_bootstrap(origins, metrics_of, {"rmse": False}, RESAMPLES, seed)
    out["bootstrap"] = boot.p_better["rmse"]
    old, new = metrics_of(block_rows(rng, origins, horizon, RESAMPLES))
    not_better = int(np.count_nonzero(new["rmse"] - old["rmse"] >= 0))
    out["block"] = (not_better + 1) / (RESAMPLES + 1)
    return out


def table(rows: list[dict], scenario: str) -> str:
    """One Markdown row per number of origins; horizons and tests side by side."""
    columns = [
        (1, "dm"),
        (1, "dm_strict"),
        (1, "bootstrap"),
        (7, "dm"),
        (7, "dm_strict"),
        (7, "bootstrap"),
        (7, "block"),
    ]
    names = {
        "dm": f"DM {ALPHA}",
        "dm_strict": f"DM {STRICT}",
        "bootstrap": "bootstrap",
        "block": "block bootstrap",
    }
    head = "| origins | " + " | ".join(f"h={h}: {names[t]}" for h, t in columns) + " |"
    lines = [head, "|---" * (len(columns) + 1) + "|"]
    for origins in ORIGINS:
        cells = []
        for h, test in columns:
            row = next(
                r
                for r in rows
                if (r["horizon"], r["origins"], r["scenario"]) == (h, origins, scenario)
            )
            cells.append(f"{row[test]:.1%}")
        lines.append(f"| {origins} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "gate_dm.json"
    )
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    rows = []
    for horizon in HORIZONS:
        for origins in ORIGINS:
            for scenario, gain in GAINS.items():
                scale = scale_for(gain, horizon)
                trials = [one_trial(rng, origins, horizon, scale) for _ in range(args.trials)]
                row = {
                    "horizon": horizon,
                    "origins": origins,
                    "golden_periods": origins + horizon - 1,
                    "scenario": scenario,
                    "challenger_scale": scale,
                }
                for test in TESTS:
                    row[test] = float(np.mean([t[test] < ALPHA for t in trials]))
                row["dm_strict"] = float(np.mean([t["dm"] < STRICT for t in trials]))
                rows.append(row)
                print(
                    f"h={horizon} n={origins:>2} {scenario:<20} scale {scale:.3f}  "
                    + "  ".join(f"{t} {row[t]:5.1%}" for t in TESTS)
                    + f"  dm@{STRICT} {row['dm_strict']:5.1%}",
                    flush=True,
                )
    elapsed = time.perf_counter() - started
    print(
        f"\n{args.trials} trials per cell, alpha {ALPHA} one-sided, {RESAMPLES} resamples, "
        f"{elapsed:.0f} s\n"
    )
    for scenario in GAINS:
        print(f"\n{scenario}: share of trials where the challenger passes the test\n")
        print(table(rows, scenario))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "date": date.today().isoformat(),
                "trials": args.trials,
                "alpha": ALPHA,
                "resamples": RESAMPLES,
                "seconds": round(elapsed),
                "rows": rows,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
