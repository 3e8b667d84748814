"""`tabular-classifier` / `tabular-regressor` defaults against a tuned HistGradientBoosting.

On offline data sets (scikit-learn's breast_cancer, wine, digits, diabetes; statsmodels' fair,
anes96, grunfeld, randhie with their categorical columns, see `tabular_data.py`), split as
champion splits: golden = a stable hash of the row id, fraction 0.2
(`champion.data.golden.golden_mask`). On the same golden rows:

- the recipe with its defaults (and with `calibration="none"`, to show the temperature's work);
- a tuned baseline of the same family: HistGradientBoosting on the same encoded columns
  (native categoricals), hyper-parameters from a random search (`--candidates`, 5-fold CV on
  the training rows only; log loss for classifiers, squared error for regressors).

Target: defaults within 0.01 of the baseline (accuracy; R^2). Also log loss, Brier, ECE; RMSE.

    python benchmarks/recipes/tabular_baseline.py                  # ~10-15 min on 2 cores
    python benchmarks/recipes/tabular_baseline.py --candidates 10 --only wine
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.stats import loguniform  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor  # noqa: E402
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error, r2_score  # noqa: E402
from sklearn.model_selection import KFold, RandomizedSearchCV, StratifiedKFold  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from common import expected_calibration_error, machine  # noqa: E402
from tabular_data import CLASSIFICATION, REGRESSION  # noqa: E402

from champion.data.golden import golden_mask  # noqa: E402
from champion.recipes.labels import encode_labels  # noqa: E402
from champion.recipes.tabular import TabularClassifier, TabularRegressor  # noqa: E402
from champion.recipes.tabular_columns import ColumnPlan  # noqa: E402

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "tabular_baseline.json"
SPACE = {
    "learning_rate": loguniform(0.01, 0.3),
    "max_iter": [50, 100, 200, 400, 800],
    "max_leaf_nodes": [4, 8, 15, 31, 63],
    "min_samples_leaf": [2, 5, 10, 20, 40],
    "l2_regularization": [0.0, 0.01, 0.1, 1.0, 10.0],
    "max_features": [0.5, 0.8, 1.0],
}


def golden_rows(n: int) -> np.ndarray:
    return golden_mask(pd.DataFrame({"row": np.arange(n).astype(str)}), ["row"], 0.2)


def brier(proba: np.ndarray, codes: np.ndarray) -> float:
    """Multi-class Brier score: mean over rows of the squared distance to the one-hot truth."""
    truth = np.eye(proba.shape[1])[codes]
    return float(np.mean(np.sum((proba - truth) ** 2, axis=1)))


def classifier_scores(proba: np.ndarray, codes: np.ndarray) -> dict[str, float]:
    return {"accuracy": accuracy_score(codes, proba.argmax(axis=1)),
            "log_loss": log_loss(codes, proba, labels=range(proba.shape[1])),
            "brier": brier(proba, codes), "ece": expected_calibration_error(proba, codes)}


def regressor_scores(predicted: np.ndarray, y: np.ndarray) -> dict[str, float]:
    return {"r2": r2_score(y, predicted), "rmse": float(np.sqrt(mean_squared_error(y, predicted)))}


def folds(classify: bool) -> StratifiedKFold | KFold:
    return StratifiedKFold(5, shuffle=True, random_state=0) if classify else KFold(5, shuffle=True, random_state=0)


def recipe_cv_loss(classify: bool, X: pd.DataFrame, y: pd.Series, codes: np.ndarray | None) -> float:
    """The recipe's defaults on the search's own 5 folds of the training rows: mean log loss
    (classifiers) or mean squared error (regressors), the search's criterion."""
    values = []
    for train, test in folds(classify).split(X, codes if classify else y):
        if classify:
            assert codes is not None
            proba = TabularClassifier().fit(X.iloc[train], y.iloc[train]).predict_proba(X.iloc[test])
            values.append(log_loss(codes[test], proba, labels=range(proba.shape[1])))
        else:
            predicted = TabularRegressor().fit(X.iloc[train], y.iloc[train]).predict(X.iloc[test])
            values.append(mean_squared_error(y.iloc[test], predicted))
    return float(np.mean(values))


def tuned(estimator: Any, matrix: np.ndarray, target: np.ndarray, classify: bool, candidates: int) -> Any:
    cv = folds(classify)
    search = RandomizedSearchCV(estimator, SPACE, n_iter=candidates, random_state=0, cv=cv, n_jobs=1,
                                scoring="neg_log_loss" if classify else "neg_mean_squared_error")
    return search.fit(matrix, target)


def run(name: str, classify: bool, X: pd.DataFrame, y: pd.Series, candidates: int) -> dict[str, Any]:
    golden = golden_rows(len(X))
    X_train, X_test, y_train, y_test = X[~golden], X[golden], y[~golden], y[golden]
    row: dict[str, Any] = {"data": name, "rows": len(X), "golden": int(golden.sum()), "columns": X.shape[1]}
    plan = ColumnPlan.learn(X_train, "benchmark")
    train_m, test_m = plan.transform(X_train, "benchmark"), plan.transform(X_test, "benchmark")
    started = time.perf_counter()
    if classify:
        classes, train_codes = encode_labels(y_train, "benchmark")
        test_codes = np.searchsorted(classes, y_test.to_numpy()) if classes.dtype != object else \
            np.array([list(classes).index(v) for v in y_test])
        ours = TabularClassifier().fit(X_train, y_train)
        row["fit_seconds"] = time.perf_counter() - started
        row["ours"] = classifier_scores(ours.predict_proba(X_test), test_codes)
        row["ours"]["temperature"] = ours.temperature_
        plain = TabularClassifier(calibration="none").fit(X_train, y_train)
        row["ours_uncalibrated"] = classifier_scores(plain.predict_proba(X_test), test_codes)
        base = HistGradientBoostingClassifier(categorical_features=plan.categorical, early_stopping=False,
                                              random_state=0)
        started = time.perf_counter()
        search = tuned(base, train_m, train_codes, True, candidates)
        row["baseline"] = classifier_scores(search.predict_proba(test_m), test_codes)
    else:
        ours = TabularRegressor().fit(X_train, y_train)
        row["fit_seconds"] = time.perf_counter() - started
        row["ours"] = regressor_scores(ours.predict(X_test), y_test.to_numpy())
        base = HistGradientBoostingRegressor(categorical_features=plan.categorical, early_stopping=False,
                                             random_state=0)
        started = time.perf_counter()
        search = tuned(base, train_m, y_train.to_numpy(dtype=float), False, candidates)
        row["baseline"] = regressor_scores(search.predict(test_m), y_test.to_numpy())
    row["search_seconds"] = time.perf_counter() - started
    row["cv_loss"] = {"ours": recipe_cv_loss(classify, X_train, y_train, train_codes if classify else None),
                      "baseline": -float(search.best_score_)}
    row["baseline_params"] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in search.best_params_.items()}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", type=int, default=40, help="random-search candidates per data set")
    parser.add_argument("--only", action="append",
                        help="run only data sets whose name starts with this (their rows replace those in the results)")
    args = parser.parse_args()
    print(machine())
    rows = []
    for classify, group in ((True, CLASSIFICATION), (False, REGRESSION)):
        for name, loader in group.items():
            if args.only and not any(name.startswith(o) for o in args.only):
                continue
            X, y = loader()
            rows.append(run(name, classify, X, y, args.candidates))
            print(f"  {name}: {rows[-1]['ours']} vs {rows[-1]['baseline']} ({rows[-1]['search_seconds']:.0f} s)",
                  flush=True)
    if args.only and RESULTS.exists():  # the rows run replace theirs in the last full results
        earlier = json.loads(RESULTS.read_text())
        fresh = {r["data"]: r for r in rows}
        rows = [fresh.pop(r["data"], r) for r in earlier["rows"]] + list(fresh.values())
        machines = [earlier["machine"]] if isinstance(earlier["machine"], str) else earlier["machine"]
        machines.append(f"{machine()} ({', '.join(args.only)})")
    else:
        machines = [machine()]
    print_tables(rows)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": machines, "candidates": args.candidates, "rows": rows},
                                  indent=2, default=float) + "\n")


def print_tables(rows: list[dict[str, Any]]) -> None:
    print("\n| data (rows, golden) | accuracy: defaults / tuned (diff) | log loss | Brier | "
          "ECE: defaults (no calibration) / tuned | within 0.01 |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        if "accuracy" not in r["ours"]:
            continue
        o, b, u = r["ours"], r["baseline"], r["ours_uncalibrated"]
        diff = o["accuracy"] - b["accuracy"]
        print(f"| {r['data']} ({r['rows']}, {r['golden']}) | {o['accuracy']:.3f} / {b['accuracy']:.3f} ({diff:+.3f}) | "
              f"{o['log_loss']:.3f} / {b['log_loss']:.3f} | {o['brier']:.3f} / {b['brier']:.3f} | "
              f"{o['ece']:.3f} ({u['ece']:.3f}) / {b['ece']:.3f} | {'yes' if diff >= -0.01 else 'no'} |")
    print("\n| data (rows, golden) | R^2: defaults / tuned (diff) | RMSE: defaults / tuned | within 0.01 |")
    print("|---|---|---|---|")
    for r in rows:
        if "r2" not in r["ours"]:
            continue
        o, b = r["ours"], r["baseline"]
        diff = o["r2"] - b["r2"]
        print(f"| {r['data']} ({r['rows']}, {r['golden']}) | {o['r2']:.3f} / {b['r2']:.3f} ({diff:+.3f}) | "
              f"{o['rmse']:.2f} / {b['rmse']:.2f} | {'yes' if diff >= -0.01 else 'no'} |")
    print("\nOn the training rows, the search's own 5 folds (log loss; RMSE): defaults / tuned (the best of"
          " the search's candidates, so optimistic)")
    for r in rows:
        ours, base = r["cv_loss"]["ours"], r["cv_loss"]["baseline"]
        if "r2" in r["ours"]:
            ours, base = np.sqrt(ours), np.sqrt(base)
        print(f"  {r['data']}: {ours:.4f} / {base:.4f}")
    print("\nTuned baseline parameters:")
    for r in rows:
        print(f"  {r['data']}: {r['baseline_params']}")


if __name__ == "__main__":
    main()
