"""Evidently's half of drift_vs_evidently.py. Runs in benchmarks/monitoring/.venv-evidently
(Evidently 0.7 needs pandas < 3), never in champion's venv.

    .venv-evidently/bin/python evidently_side.py PLAN.json OUT.json

PLAN.json (written by drift_vs_evidently.py) names the parquet files and, per column, its type
and the Evidently stattest to use. Each case is run three ways, each timed apart from loading:

- `preset`: `Report([DataDriftPreset(per_column_method=...)])`, what a user writes (the
  preset runs every column's test in `DriftedColumnsCount` and again in one `ValueDrift` each);
- `value_drift`: `Report([ValueDrift(column, method) for each column])`, the leanest report;
- `stattests`: Evidently's stattest functions called directly on the cleaned columns (the
  floor: what is left without the report machinery).

Plus, untimed, the statistics Evidently computes but does not expose (the K-S D and the
chi-square goodness-of-fit statistic), with Evidently's own preprocessing, for the comparison.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")


def _clean(series: pd.Series) -> pd.Series:
    """What get_one_column_drift does before a test: drop NaN and +-inf."""
    return series.replace([-np.inf, np.inf], np.nan).dropna()


def _definition(columns: dict[str, dict[str, Any]]) -> Any:
    from evidently import DataDefinition

    by_kind = {kind: [c for c, spec in columns.items() if spec["kind"] == kind]
               for kind in ("numeric", "categorical", "text")}
    return DataDefinition(numerical_columns=by_kind["numeric"] or None,
                          categorical_columns=by_kind["categorical"] or None,
                          text_columns=by_kind["text"] or None)


def _values(snapshot: Any) -> tuple[dict[str, float], dict[str, bool], dict[str, Any]]:
    """Per-column drift score and verdict, and the dataset-level count/share, from a snapshot."""
    data = snapshot.dict()
    scores: dict[str, float] = {}
    dataset: dict[str, Any] = {}
    for metric in data["metrics"]:
        config = metric["config"]
        if config["type"].endswith("ValueDrift"):
            scores[config["column"]] = float(metric["value"])
        elif config["type"].endswith("DriftedColumnsCount"):
            dataset = {"count": metric["value"]["count"], "share": metric["value"]["share"]}
    verdicts = {}
    for test in data["tests"]:
        params = test["metric_config"]["params"]
        if params["type"].endswith("ValueDrift"):
            verdicts[params["column"]] = test["status"] == "FAIL"
    return scores, verdicts, dataset


def run_report(mode: str, reference: pd.DataFrame, current: pd.DataFrame,
               columns: dict[str, dict[str, Any]]) -> dict[str, Any]:
    from evidently import Dataset, Report
    from evidently.metrics import ValueDrift
    from evidently.presets import DataDriftPreset

    # None (auto) is left out, so Evidently picks its default test and threshold.
    methods = {c: spec["evidently_method"] for c, spec in columns.items() if spec["evidently_method"]}
    thresholds = {c: spec["threshold"] for c, spec in columns.items() if spec["threshold"] is not None}
    if mode == "preset":
        metrics: list[Any] = [DataDriftPreset(columns=list(columns), per_column_method=methods or None,
                                              per_column_threshold=thresholds or None)]
    else:
        metrics = [ValueDrift(column=c, method=methods.get(c), threshold=thresholds.get(c)) for c in columns]
    definition = _definition(columns)
    start = time.perf_counter()
    ref_ds = Dataset.from_pandas(reference, data_definition=definition)
    cur_ds = Dataset.from_pandas(current, data_definition=definition)
    datasets_s = time.perf_counter() - start
    snapshot = Report(metrics, include_tests=True).run(current_data=cur_ds, reference_data=ref_ds)
    total_s = time.perf_counter() - start
    scores, verdicts, dataset = _values(snapshot)
    return {"seconds": total_s, "datasets_seconds": datasets_s, "run_seconds": total_s - datasets_s,
            "scores": scores, "drifted": verdicts, "dataset": dataset}


def run_stattests(reference: pd.DataFrame, current: pd.DataFrame,
                  columns: dict[str, dict[str, Any]]) -> dict[str, Any]:
    from evidently.legacy.calculations.stattests import get_stattest
    from evidently.legacy.core import ColumnType

    types = {"numeric": ColumnType.Numerical, "categorical": ColumnType.Categorical, "text": ColumnType.Text}
    scores, verdicts, per_column, names = {}, {}, {}, {}
    start = time.perf_counter()
    for column, spec in columns.items():
        began = time.perf_counter()
        ref, cur = _clean(reference[column]), _clean(current[column])
        test = get_stattest(ref, cur, types[spec["kind"]], spec["evidently_method"])
        result = test(ref, cur, types[spec["kind"]], spec["threshold"])
        scores[column], verdicts[column] = float(result.drift_score), bool(result.drifted)
        per_column[column] = time.perf_counter() - began
        names[column] = test.name
    return {"seconds": time.perf_counter() - start, "scores": scores, "drifted": verdicts,
            "column_seconds": per_column, "methods": names}


def hidden_statistics(reference: pd.DataFrame, current: pd.DataFrame,
                      columns: dict[str, dict[str, Any]]) -> dict[str, float]:
    """The K-S D and the chi-square statistic that Evidently's tests compute and drop, on the
    same cleaned data and with the same code (ks_stattest.py, chisquare_stattest.py)."""
    from evidently.legacy.calculations.stattests.utils import (
        get_unique_not_nan_values_list_from_series,
    )
    from scipy.stats import chisquare, ks_2samp

    out: dict[str, float] = {}
    for column, spec in columns.items():
        ref, cur = _clean(reference[column]), _clean(current[column])
        if spec["evidently_method"] == "ks":
            out[column] = float(ks_2samp(ref, cur)[0])
        elif spec["evidently_method"] == "chisquare":
            keys = get_unique_not_nan_values_list_from_series(current_data=cur, reference_data=ref)
            ref_feature_dict = {**dict.fromkeys(keys, 0), **dict(ref.value_counts())}
            current_feature_dict = {**dict.fromkeys(keys, 0), **dict(cur.value_counts())}
            k_norm = cur.shape[0] / ref.shape[0]
            f_exp = [ref_feature_dict[key] * k_norm for key in keys]
            f_obs = [current_feature_dict[key] for key in keys]
            out[column] = float(chisquare(f_obs, f_exp)[0])
    return out


def run_case(case: dict[str, Any], modes: list[str]) -> dict[str, Any]:
    start = time.perf_counter()
    reference = pd.read_parquet(case["reference"])
    current = pd.read_parquet(case["current"])
    load_s = time.perf_counter() - start
    columns = case["columns"]
    out: dict[str, Any] = {"rows": [len(reference), len(current)], "load_seconds": load_s, "modes": {}}
    for mode in modes:
        print(f"  evidently {case['name']}: {mode} ...", file=sys.stderr, flush=True)
        result = run_stattests(reference, current, columns) if mode == "stattests" else \
            run_report(mode, reference, current, columns)
        print(f"  evidently {case['name']}: {mode} {result['seconds']:.2f} s", file=sys.stderr, flush=True)
        out["modes"][mode] = result
    out["hidden_statistics"] = hidden_statistics(reference, current, columns)
    return out


def main() -> None:
    plan_path, out_path = sys.argv[1], sys.argv[2]
    with open(plan_path) as f:
        plan = json.load(f)
    start = time.perf_counter()
    import evidently
    from evidently import Report  # noqa: F401
    from evidently.presets import DataDriftPreset  # noqa: F401

    import_s = time.perf_counter() - start
    import scipy
    import sklearn

    result = {"versions": {"evidently": evidently.__version__, "pandas": pd.__version__, "numpy": np.__version__,
                           "scipy": scipy.__version__, "scikit-learn": sklearn.__version__,
                           "python": sys.version.split()[0]},
              "import_seconds": import_s,
              "cases": {case["name"]: run_case(case, plan["modes"]) for case in plan["cases"]}}
    with open(out_path, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
