"""How the tabular recipes' defaults were chosen: candidate settings of the recipes compared by
5-fold cross-validation on the training rows only (the golden rows of `tabular_baseline.py`
are never seen here), on the same data sets. A setting's shortfall on a data set is its
distance to the best candidate there (accuracy for classifiers, R^2 for regressors); the
default is the candidate with the smallest worst shortfall.

    python benchmarks/recipes/tabular_defaults.py      # ~20 min on 2 cores
    python benchmarks/recipes/tabular_defaults.py --regressors   # leaf sizes for regression, ~5 min
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from sklearn.metrics import accuracy_score, log_loss, r2_score  # noqa: E402
from sklearn.model_selection import KFold, StratifiedKFold  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from common import machine  # noqa: E402
from tabular_baseline import golden_rows  # noqa: E402
from tabular_data import CLASSIFICATION, REGRESSION  # noqa: E402

from champion.recipes.tabular import TabularClassifier, TabularRegressor  # noqa: E402

_REGULARIZED = {"max_leaf_nodes": 15, "l2_regularization": 1.0, "max_features": 0.5, "learning_rate": 0.1,
                "max_iter": 500, "early_stopping": "cv", "calibration": "temperature"}
CANDIDATES: dict[str, dict[str, Any]] = {
    "sklearn's defaults, 100 iterations, no calibration": {
        "max_iter": 100, "early_stopping": False, "max_leaf_nodes": 31, "min_samples_leaf": 20,
        "l2_regularization": 0.0, "max_features": 1.0, "calibration": "none"},
    "15 leaves, leaf 20, rate 0.1, 100 iterations": {
        **_REGULARIZED, "min_samples_leaf": 20, "max_iter": 100, "early_stopping": False},
    "15 leaves, leaf 20, rate 0.1, iterations by CV": {**_REGULARIZED, "min_samples_leaf": 20},
    "31 leaves, leaf 20, rate 0.1, iterations by CV": {**_REGULARIZED, "min_samples_leaf": 20, "max_leaf_nodes": 31},
    "15 leaves, leaf 10, rate 0.1, iterations by CV": {**_REGULARIZED, "min_samples_leaf": 10},
    "8 leaves, leaf 10, rate 0.1, iterations by CV": {**_REGULARIZED, "max_leaf_nodes": 8, "min_samples_leaf": 10},
    "8 leaves, leaf 20, rate 0.05, iterations by CV (<= 1000)": {
        **_REGULARIZED, "max_leaf_nodes": 8, "min_samples_leaf": 20, "learning_rate": 0.05, "max_iter": 1000},
    "4 leaves, leaf 20, rate 0.1, iterations by CV (<= 1000)": {
        **_REGULARIZED, "max_leaf_nodes": 4, "min_samples_leaf": 20, "max_iter": 1000},
    "4 leaves, leaf 20, rate 0.1, iterations by CV (<= 1000), no calibration": {
        **_REGULARIZED, "max_leaf_nodes": 4, "min_samples_leaf": 20, "max_iter": 1000, "calibration": "none"},
}
CANDIDATES_FIRST = next(iter(CANDIDATES.values()))
REGRESSOR_CANDIDATES: dict[str, dict[str, Any]] = {
    "15 leaves, leaf 10, rate 0.1, iterations by CV": {**_REGULARIZED, "min_samples_leaf": 10},
    "15 leaves, leaf 5, rate 0.1, iterations by CV": {**_REGULARIZED, "min_samples_leaf": 5},
    "15 leaves, leaf 2, rate 0.1, iterations by CV": {**_REGULARIZED, "min_samples_leaf": 2},
    "8 leaves, leaf 5, rate 0.1, iterations by CV": {**_REGULARIZED, "max_leaf_nodes": 8, "min_samples_leaf": 5},
    "4 leaves, leaf 5, rate 0.05, iterations by CV (<= 1000)": {
        **_REGULARIZED, "max_leaf_nodes": 4, "min_samples_leaf": 5, "learning_rate": 0.05, "max_iter": 1000},
    "15 leaves, leaf 5, features 1.0, rate 0.1, iterations by CV": {
        **_REGULARIZED, "min_samples_leaf": 5, "max_features": 1.0},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--regressors", action="store_true", help="only the regression data sets, more leaf sizes")
    args = parser.parse_args()
    candidates = REGRESSOR_CANDIDATES if args.regressors else CANDIDATES
    print(machine())
    accuracy: dict[str, dict[str, float]] = {name: {} for name in candidates}  # accuracy or R^2
    losses: dict[str, dict[str, float]] = {name: {} for name in candidates}
    for classify, group in ((False, REGRESSION),) if args.regressors else ((True, CLASSIFICATION), (False, REGRESSION)):
        for data, loader in group.items():
            X, y = loader()
            golden = golden_rows(len(X))
            X, y = X[~golden].reset_index(drop=True), y[~golden].reset_index(drop=True)
            cv = StratifiedKFold(5, shuffle=True, random_state=1) if classify else KFold(5, shuffle=True, random_state=1)
            for name, params in candidates.items():
                if not classify and params.get("calibration") == "none" and params is not CANDIDATES_FIRST:
                    continue  # the same regressor as its calibrated twin
                started = time.perf_counter()
                values, loss = [], []
                for train, test in cv.split(X, y):
                    if classify:
                        recipe = TabularClassifier(**params).fit(X.iloc[train], y.iloc[train])
                        proba = recipe.predict_proba(X.iloc[test])
                        index = {c: i for i, c in enumerate(recipe.classes_.tolist())}
                        truth = np.array([index[v] for v in y.iloc[test].tolist()])
                        values.append(accuracy_score(truth, proba.argmax(axis=1)))
                        loss.append(log_loss(truth, proba, labels=range(proba.shape[1])))
                    else:
                        regressor_params = {k: v for k, v in params.items() if k != "calibration"}
                        recipe = TabularRegressor(**regressor_params).fit(X.iloc[train], y.iloc[train])
                        values.append(r2_score(y.iloc[test], recipe.predict(X.iloc[test])))
                accuracy[name][data] = float(np.mean(values))
                if classify:
                    losses[name][data] = float(np.mean(loss))
                extra = f" log loss {losses[name][data]:.4f}" if classify else ""
                print(f"  {data:30s} {name:64s} {accuracy[name][data]:.4f}{extra} "
                      f"({time.perf_counter() - started:.0f} s)", flush=True)
    summary("accuracy (classifiers) and R^2 (regressors), higher is better", accuracy, higher=True)
    if not args.regressors:
        summary("log loss (classifiers), lower is better", losses, higher=False)


def summary(title: str, table: dict[str, dict[str, float]], higher: bool) -> None:
    datasets = [d for d in [*CLASSIFICATION, *REGRESSION] if any(d in row for row in table.values())]
    best = {d: (max if higher else min)(row[d] for row in table.values() if d in row) for d in datasets}

    def shortfalls(row: dict[str, float]) -> list[float]:
        return [abs(best[d] - row[d]) for d in datasets if d in row]

    print(f"\n{title}\n\n| candidate | " + " | ".join(datasets) + " | worst shortfall | mean shortfall |")
    print("|---|" + "---|" * (len(datasets) + 2))
    for name, row in sorted(table.items(), key=lambda item: max(shortfalls(item[1]))):
        print(f"| {name} | " + " | ".join(f"{row[d]:.3f}" if d in row else "" for d in datasets)
              + f" | {max(shortfalls(row)):.3f} | {np.mean(shortfalls(row)):.3f} |")


if __name__ == "__main__":
    main()
