"""How long the gate's paired bootstrap takes on a golden set of --rows rows.

Times, best of --repeat: the metrics of one model on --resamples resamples at once (all
metrics, and the three the default classification policy watches: brier, f1, roc_auc), and
a whole comparison (`compare_classifiers` / `compare_regressors` with the default policy:
both models, the bootstrap and the test), for two and five classes and for regression.

    python benchmarks/gate_speed.py
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from functools import partial

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from champion.config import PolicySettings  # noqa: E402
from champion.evaluation.compare import compare_classifiers, compare_regressors  # noqa: E402
from champion.evaluation.metrics import (  # noqa: E402
    ClassifierScores,
    RegressorScores,
    classification_metrics,
    regression_metrics,
)
from champion.evaluation.policy import resolve_policy  # noqa: E402

WATCHED = ["brier", "f1", "roc_auc"]  # what the default classification policy bootstraps


def best(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def classifier(
    rng: np.random.Generator, truth: np.ndarray, k: int, skill: float
) -> ClassifierScores:
    classes = np.array([f"class {i}" for i in range(k)], dtype=object)
    logits = rng.normal(size=(len(truth), k))
    logits[np.arange(len(truth)), truth] += skill
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return ClassifierScores(classes[truth], proba, classes, classes[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n, b = args.rows, args.resamples
    rows = rng.integers(0, n, size=(b, n))
    policy = resolve_policy(PolicySettings(bootstrap_samples=b), "classification")
    print(f"{n} golden rows, {b} resamples, best of {args.repeat}\n")
    print(
        "| task | metrics of one model, all | metrics of one model, brier + f1 + roc_auc | "
        "whole comparison (default policy) |"
    )
    print("|---|---|---|---|")
    for k in (2, 5):
        truth = rng.integers(0, k, n)
        old, new = classifier(rng, truth, k, 1.0), classifier(rng, truth, k, 1.3)
        times = [
            best(args.repeat, partial(classification_metrics, new, rows)),
            best(args.repeat, partial(classification_metrics, new, rows, WATCHED)),
            best(args.repeat, partial(compare_classifiers, policy, new, old)),
        ]
        print(f"| classification, {k} classes | " + " | ".join(f"{t:.3f} s" for t in times) + " |")
    y = rng.lognormal(3, 0.5, n)
    old_r, new_r = (
        RegressorScores(y, y + rng.normal(0, 5, n)),
        RegressorScores(y, y + rng.normal(0, 4, n)),
    )
    regression_policy = resolve_policy(PolicySettings(bootstrap_samples=b), "regression")
    all_metrics = best(args.repeat, lambda: regression_metrics(new_r, rows))
    whole = best(args.repeat, lambda: compare_regressors(regression_policy, new_r, old_r))
    print(f"| regression | {all_metrics:.3f} s | - | {whole:.3f} s |")


if __name__ == "__main__":
    main()
