"""How often the confidence-based estimate's 95% interval holds the realized value.

Windows of calibrated probabilities (labels drawn from the very probabilities the model
gives, so the estimate's assumption holds): for each case, `--windows` windows, the realized
accuracy and F1 (F1 of the positive class for two classes, scikit-learn's macro F1 for
more) against `champion.monitoring.performance.estimate_classifier`. Prints a markdown table.

    .venv/bin/python benchmarks/monitoring/estimate_coverage.py            # ~1 min
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import UTC, datetime

import numpy as np
from sklearn.metrics import f1_score

from champion.monitoring.performance import estimate_classifier

# (classes, rows per window, spread of the logits, a rare class never predicted)
CASES = [(2, 300, 2.0, False), (3, 300, 2.0, False), (5, 200, 2.0, False), (4, 60, 2.0, False),
         (8, 500, 2.0, False), (10, 1000, 1.0, False), (4, 200, 2.0, True)]


def window(rng: np.random.Generator, n: int, k: int, spread: float, rare: bool) -> tuple[np.ndarray, np.ndarray]:
    classes = k - 1 if rare else k
    logits = rng.normal(0, spread, (n, classes)) + np.log(rng.dirichlet(np.ones(classes)))[None, :]
    proba = np.exp(logits)
    proba /= proba.sum(axis=1, keepdims=True)
    if rare:  # 0.5% everywhere: never the top class, yet it turns up in the truth now and then
        proba = np.c_[proba * 0.995, np.full(n, 0.005)]
    labels = np.minimum((rng.random(n)[:, None] > np.cumsum(proba, axis=1)).sum(axis=1), k - 1)
    return proba, labels


def run(windows: int, seed: int) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    rows = []
    for k, n, spread, rare in CASES:
        inside = {"accuracy": 0, "f1": 0}
        error = {"accuracy": [], "f1": []}  # type: dict[str, list[float]]
        width = {"accuracy": [], "f1": []}  # type: dict[str, list[float]]
        for _ in range(windows):
            proba, labels = window(rng, n, k, spread, rare)
            estimate = estimate_classifier(proba, list(range(k)), k - 1, seed=int(rng.integers(1 << 30)))
            predicted = proba.argmax(axis=1)
            realized = {"accuracy": float((predicted == labels).mean()),
                        "f1": float(f1_score(labels, predicted, average="macro") if k > 2
                                    else f1_score(labels, predicted, pos_label=1, zero_division=0.0))}
            for name in inside:
                inside[name] += estimate[name]["low"] <= realized[name] <= estimate[name]["high"]
                error[name].append(estimate[name]["value"] - realized[name])
                width[name].append(estimate[name]["high"] - estimate[name]["low"])
        rows.append({"k": k, "n": n, "spread": spread, "rare": rare,
                     **{f"{m}_coverage": inside[m] / windows for m in inside},
                     **{f"{m}_bias": float(np.mean(error[m])) for m in inside},
                     **{f"{m}_width": float(np.mean(width[m])) for m in inside}})
    return rows


def table(rows: list[dict[str, object]], windows: int) -> str:
    lines = ["| classes | rows per window | case | accuracy: inside the 95% interval | bias | mean width "
             "| F1: inside the 95% interval | bias | mean width |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        case = "one class never predicted (0.5% everywhere)" if r["rare"] else f"logit spread {r['spread']}"
        f1 = "F1 of the positive class" if r["k"] == 2 else "macro F1"
        lines.append(f"| {r['k']} | {r['n']} | {case}; {f1} | {r['accuracy_coverage']:.1%} | "
                     f"{r['accuracy_bias']:+.4f} | {r['accuracy_width']:.3f} | {r['f1_coverage']:.1%} | "
                     f"{r['f1_bias']:+.4f} | {r['f1_width']:.3f} |")
    lines.append(f"\n{windows} windows per row; bias: mean of estimate minus realized.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261203)
    args = parser.parse_args()
    started = time.perf_counter()
    rows = run(args.windows, args.seed)
    print(f"Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
          f"seed {args.seed}, {time.perf_counter() - started:.0f} s\n")
    print(table(rows, args.windows))


if __name__ == "__main__":
    main()
