"""Drift detection: champion vs Evidently 0.7, side by side in one run, on the same bytes.

    ./benchmarks/monitoring/setup_evidently.sh            # once: Evidently's own venv
    .venv/bin/python benchmarks/monitoring/drift_vs_evidently.py

1. Writes deterministic data to a temporary folder as parquet: 1,000,000 rows x 20 columns
   (15 numeric, 5 categorical) per side, and 100,000 comments per side (drift_data.py).
2. Runs Evidently in .venv-evidently as a subprocess (evidently_side.py) with the same test
   set explicitly on every column, timing each report apart from loading.
3. Runs champion's detectors in this process (`champion.monitoring.drift.detector_for`):
   fit on the reference + test the current, and test only against detectors already fitted
   (champion fits on the reference profile at training time).
4. Compares each column's statistic to 1e-6, prints the tables and the speed ratios, writes
   benchmarks/monitoring/results/drift.json and the "Drift detection vs Evidently" section of
   docs/benchmarks.md. Exits 1 when a statistic of the same test differs beyond tolerance.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "src"))

import drift_data
from drift_report import render_markdown, update_docs

EVIDENTLY_PYTHON = HERE / ".venv-evidently" / "bin" / "python"
RESULTS = HERE / "results" / "drift.json"
DOCS = ROOT / "docs" / "benchmarks.md"
TEXT_DATA = ROOT / "src" / "champion" / "templates" / "youtube-spam" / "data"

ABS_TOL = 1e-6
"""Absolute tolerance for p-values and bounded distances (K-S D, normalized Wasserstein, PSI,
Jensen-Shannon)."""
REL_TOL = 1e-6
"""Relative tolerance for chi-square statistics, which grow with the row count."""
TARGET_RATIO = 20.0
OUR_NAME = {"chisquare": "chi2", "abs_text_content_drift": "domain_classifier"}
"""Evidently's test names where ours differ."""


# ---- loading ------------------------------------------------------------------------------------
def load(case: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], float]:
    """Columns as numpy arrays (numbers as float/int arrays with NaN, categories as object arrays
    with None, text as lists of str): what a caller holds after reading a window."""
    start = time.perf_counter()
    sides = []
    for side in ("reference", "current"):
        table = pq.read_table(case[side])
        columns: dict[str, Any] = {}
        for name, spec in case["columns"].items():
            chunked = table.column(name)
            if spec["kind"] == "text":
                columns[name] = chunked.to_pylist()
            else:
                columns[name] = chunked.to_numpy()
        sides.append(columns)
        del table
    return sides[0], sides[1], time.perf_counter() - start


# ---- ours ---------------------------------------------------------------------------------------
def run_ours(case: dict[str, Any], repeat: int) -> dict[str, Any]:
    """Three timings per repetition: `check_columns` (the public many-columns call: fit + test,
    in threads on every core), the same fit + test one column after another in one thread (with
    per-column times), and test only against the detectors already fitted."""
    import scipy.spatial.distance  # noqa: F401  (the detectors import these on first use; not timed,
    import scipy.stats  # noqa: F401  as Evidently's imports are not)
    from champion.monitoring.drift import check_columns, detector_for

    reference, current, load_s = load(case)
    columns = case["columns"]
    parallel, fit_test, test_only = [], [], []
    fit_cols: dict[str, list[float]] = {c: [] for c in columns}
    test_cols: dict[str, list[float]] = {c: [] for c in columns}
    results: dict[str, Any] = {}
    for rep in range(repeat):
        start = time.perf_counter()
        tasks = [(_detector(detector_for, spec, reference[name], current[name]), reference[name], current[name])
                 for name, spec in columns.items()]
        together = dict(zip(columns, check_columns(tasks), strict=True))
        parallel.append(time.perf_counter() - start)

        detectors = {}
        start = time.perf_counter()
        for name, spec in columns.items():
            t0 = time.perf_counter()
            detector = _detector(detector_for, spec, reference[name], current[name])
            detector.fit(reference[name])
            t1 = time.perf_counter()
            result = detector.test(current[name])
            fit_cols[name].append(t1 - t0)
            test_cols[name].append(time.perf_counter() - t1)
            detectors[name] = detector
            if rep == 0:
                results[name] = result
        fit_test.append(time.perf_counter() - start)

        start = time.perf_counter()
        again = {name: detectors[name].test(current[name]) for name in columns}
        test_only.append(time.perf_counter() - start)
        for name in columns:
            for other in (again[name], together[name]):
                if not _same_result(other, results[name]):
                    raise RuntimeError(f"{name}: {other} differs from the first result {results[name]}")
        print(f"  ours {case['name']}: rep {rep + 1}/{repeat} check_columns {parallel[-1]:.2f} s, "
              f"fit+test one thread {fit_test[-1]:.2f} s, test only {test_only[-1]:.2f} s",
              file=sys.stderr, flush=True)
    drifted = sum(r.drifted for r in results.values())
    return {"load_seconds": load_s, "repeat": repeat, "threads": os.cpu_count(),
            "check_columns_seconds": parallel, "fit_test_seconds": fit_test, "test_only_seconds": test_only,
            "check_columns_median": statistics.median(parallel),
            "fit_test_median": statistics.median(fit_test), "test_only_median": statistics.median(test_only),
            "column_fit_median": {c: statistics.median(v) for c, v in fit_cols.items()},
            "column_test_median": {c: statistics.median(v) for c, v in test_cols.items()},
            "results": {c: r.as_dict() for c, r in results.items()},
            "dataset": {"count": drifted, "share": drifted / len(results)}}


def _detector(detector_for: Any, spec: dict[str, Any], reference: Any, current: Any) -> Any:
    if spec["method"] != "auto":
        return detector_for(spec["kind"], spec["method"], threshold=spec["threshold"])
    # Evidently's auto counts rows of the cleaned reference and distinct values of both sides.
    from champion.monitoring.drift import distinct_count

    if spec["kind"] == "numeric":
        rows = int(np.count_nonzero(~np.isnan(np.asarray(reference, dtype=float))))
        distinct = distinct_count(_chain(reference, current))
    else:
        rows = int(len(reference) - np.count_nonzero(pd.isna(reference)))
        distinct = None
    return detector_for(spec["kind"], "auto", reference_rows=rows, distinct_values=distinct)


def _chain(*arrays: Any) -> Any:
    for array in arrays:
        yield from array


def _same_result(a: Any, b: Any) -> bool:
    return a.method == b.method and a.drifted == b.drifted and (a.statistic == b.statistic or (
        np.isnan(a.statistic) and np.isnan(b.statistic)))


# ---- Evidently ------------------------------------------------------------------------------------
def run_evidently(plan_path: Path, out_path: Path) -> dict[str, Any]:
    if not EVIDENTLY_PYTHON.exists():
        sys.exit(f"{EVIDENTLY_PYTHON} is missing: run benchmarks/monitoring/setup_evidently.sh first")
    start = time.perf_counter()
    subprocess.run([str(EVIDENTLY_PYTHON), str(HERE / "evidently_side.py"), str(plan_path), str(out_path)],
                   check=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    wall = time.perf_counter() - start
    with open(out_path) as f:
        data = json.load(f)
    data["process_seconds"] = wall
    return data


# ---- comparison ---------------------------------------------------------------------------------
def compare_tabular(case: dict[str, Any], ours: dict[str, Any], ev: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    headline = ev["modes"]["preset"] if "preset" in ev["modes"] else next(iter(ev["modes"].values()))
    resolved = ev["modes"].get("stattests", {}).get("methods", {})
    for name, spec in case["columns"].items():
        mine = ours["results"][name]
        method = mine["method"]
        their_method = OUR_NAME.get(resolved.get(name) or spec["evidently_method"],
                                     resolved.get(name) or spec["evidently_method"])
        their_score = headline["scores"][name]
        their_drift = headline["drifted"][name]
        hidden = ev["hidden_statistics"].get(name)
        row: dict[str, Any] = {"column": name, "kind": spec["kind"], "method": method,
                               "evidently_method": their_method, "shift": spec["shift"],
                               "ours_statistic": mine["statistic"], "ours_p_value": mine["p_value"],
                               "ours_drifted": mine["drifted"], "evidently_score": their_score,
                               "evidently_hidden_statistic": hidden, "evidently_drifted": their_drift}
        if method != their_method:
            row.update(compared="methods differ", score_diff=None, match=False)
        elif method == "chi2":
            # Ours is the two-sample chi-square of homogeneity (chi2_contingency); Evidently's is a
            # goodness-of-fit test of current counts against reference shares taken as exact.
            row.update(compared="different test", score_diff=_diff(mine["p_value"], their_score),
                       statistic_rel_diff=_rel(mine["statistic"], hidden), match=None)
        elif method == "ks":
            p_diff = _diff(mine["p_value"], their_score)
            d_diff = _diff(mine["statistic"], hidden)
            ok = p_diff is not None and p_diff <= ABS_TOL and d_diff is not None and d_diff <= ABS_TOL
            row.update(compared="p-value and D (abs)", score_diff=p_diff, statistic_diff=d_diff,
                       match=ok and mine["drifted"] == their_drift)
        else:
            diff = _diff(mine["statistic"], their_score)
            row.update(compared="statistic (abs)", score_diff=diff,
                       match=diff is not None and diff <= ABS_TOL and mine["drifted"] == their_drift)
        rows.append(row)
    return rows


def mode_consistency(ev: dict[str, Any]) -> dict[str, float]:
    """Largest difference between Evidently's own modes per column (should be 0)."""
    modes = list(ev["modes"].values())
    worst: dict[str, float] = {}
    for column in modes[0]["scores"]:
        values = [m["scores"][column] for m in modes]
        worst[column] = max(abs(a - b) for a in values for b in values)
    return worst


def _diff(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    return abs(float(a) - float(b))


def _rel(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    return abs(float(a) - float(b)) / max(1.0, abs(float(b)))


def machine() -> dict[str, Any]:
    import scipy
    import sklearn

    load1, load5, load15 = os.getloadavg()
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "numpy": np.__version__, "scipy": scipy.__version__, "scikit-learn": sklearn.__version__,
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "load_at_start": [load1, load5, load15]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=drift_data.ROWS)
    parser.add_argument("--text-rows", type=int, default=drift_data.TEXT_ROWS)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of our side (median reported)")
    parser.add_argument("--modes", default="preset,value_drift,stattests",
                        help="Evidently runs: preset, value_drift, stattests (first one is the headline)")
    parser.add_argument("--data-dir", help="keep the data here instead of a temporary folder")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    parser.add_argument("--results", default=str(RESULTS))
    parser.add_argument("--render-only", action="store_true",
                        help="only rewrite the docs section from the results JSON of the last run")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    if args.render_only:
        saved = json.loads(Path(args.results).read_text())
        update_docs(DOCS, render_markdown(saved))
        return 0

    info = machine()
    folder = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="champion-drift-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        tabular = drift_data.write_tabular(folder, args.rows)
        cases = [tabular, drift_data.auto_case(tabular), drift_data.write_text(folder, TEXT_DATA, args.text_rows)]
        generate_s = time.perf_counter() - start
        print(f"data written to {folder} in {generate_s:.1f} s", file=sys.stderr)
        modes = args.modes.split(",")
        plan_path = folder / "plan.json"
        plan_path.write_text(json.dumps({"modes": modes, "cases": cases}, indent=1))

        ours = {case["name"]: run_ours(case, args.repeat) for case in cases}
        info["load_after_ours"] = list(os.getloadavg())
        ev = run_evidently(plan_path, folder / "evidently.json")
        info["load_after_evidently"] = list(os.getloadavg())
    finally:
        if not args.data_dir:
            shutil.rmtree(folder, ignore_errors=True)

    tab_case, auto_case, text_case = cases
    table = compare_tabular(tab_case, ours["tabular"], ev["cases"]["tabular"])
    auto_table = compare_tabular(auto_case, ours["tabular_auto"], ev["cases"]["tabular_auto"])
    text = {"ours": ours["text"]["results"]["text"],
            "evidently": {m: {"auc": r["scores"]["text"], "drifted": r["drifted"]["text"]}
                          for m, r in ev["cases"]["text"]["modes"].items()},
            "distinct_rows": text_case["distinct"]}
    timings = {}
    for name in (c["name"] for c in cases):
        e, o = ev["cases"][name], ours[name]
        timings[name] = {"evidently_load_seconds": e["load_seconds"], "ours_load_seconds": o["load_seconds"],
                         "evidently": {m: r["seconds"] for m, r in e["modes"].items()},
                         "ours_check_columns": o["check_columns_median"],
                         "ours_fit_test": o["fit_test_median"], "ours_test_only": o["test_only_median"],
                         "ours_check_columns_all": o["check_columns_seconds"],
                         "ours_fit_test_all": o["fit_test_seconds"], "ours_test_only_all": o["test_only_seconds"]}
        for key, ours_s in (("check_columns", o["check_columns_median"]), ("fit_test", o["fit_test_median"]),
                            ("test_only", o["test_only_median"])):
            timings[name][f"ratio_{key}"] = {m: s / ours_s for m, s in timings[name]["evidently"].items()}
    failures = [r for r in table + auto_table if r["match"] is False]
    headline = modes[0]
    result = {
        "command": ".venv/bin/python benchmarks/monitoring/drift_vs_evidently.py",
        "when": time.strftime("%Y-%m-%d %H:%M:%S %z"), "machine": info,
        "evidently_versions": ev["versions"], "evidently_import_seconds": ev["import_seconds"],
        "data": {"rows": args.rows, "text_rows": args.text_rows, "seed": drift_data.SEED,
                 "generate_seconds": generate_s, "word_drop": drift_data.WORD_DROP},
        "tolerance": {"absolute": ABS_TOL, "relative_chi_square": REL_TOL},
        "timings": timings, "headline_mode": headline, "target_ratio": TARGET_RATIO,
        "columns": table, "auto_columns": auto_table,
        "evidently_mode_spread": {**mode_consistency(ev["cases"]["tabular"]),
                                  **{f"auto:{k}": v for k, v in mode_consistency(ev["cases"]["tabular_auto"]).items()}},
        "dataset_drift": {case: {"ours": ours[case]["dataset"],
                                 "evidently": ev["cases"][case]["modes"].get("preset", {}).get("dataset")}
                          for case in ("tabular", "tabular_auto")},
        "ours_column_seconds": {"fit": ours["tabular"]["column_fit_median"],
                                "test": ours["tabular"]["column_test_median"]},
        "evidently_stattest_column_seconds": ev["cases"]["tabular"]["modes"].get("stattests", {}).get(
            "column_seconds"),
        "text": text, "failures": [f"{r['column']} ({r['method']})" for r in failures],
        "passed": not failures and min(timings[c]["ratio_check_columns"][headline]
                                       for c in ("tabular", "tabular_auto")) >= TARGET_RATIO,
    }
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    Path(args.results).write_text(json.dumps(result, indent=1, default=float) + "\n")
    markdown = render_markdown(result)
    print(markdown)
    if not args.no_docs:
        update_docs(DOCS, markdown)
        print(f"wrote {args.results} and the section in {DOCS}", file=sys.stderr)
    if failures:
        print(f"FAIL: statistics differ beyond tolerance in {', '.join(result['failures'])}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
