"""The `forecaster` on series that are not daily, against plain ARIMA baselines.

Series shipped with statsmodels (offline): weekly, monthly, quarterly and yearly (and, for
reference, the daily series of the `transactions` template). Each is
scored as `champion build` scores it: the golden set is the last `--periods` periods (42),
from every rolling origin in it each model forecasts `--horizon` (7) periods from the same
history with the parameters it was fitted with on the periods before the golden set (never
refitted); missing values are interpolated for the histories and never scored.

Compared: the default `forecaster` (with `--param KEY=VALUE` overrides) and the better of
ARIMA(2,0,2) with a constant and ARIMA(2,1,2) with drift (statsmodels `ARIMA`, fitted once,
applied with `.apply`). Target: the forecaster's RMSE no worse than the better baseline on
every series. The last column is the gate's own test (Diebold-Mariano, one-sided) of the
better baseline against the forecaster, as if the baseline were a challenger. Also times one fit of the forecaster per series and, with `--build`, one whole
`champion build` as a real process on a new project (its own MLflow database) holding a
series (by default the longest, weekly co2).

    python benchmarks/forecasting/frequencies.py [--build [SERIES ...]] [--series co2-weekly nile]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "true"

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import statsmodels.datasets as sd  # noqa: E402

from champion.data.golden import split_series  # noqa: E402
from champion.data.series import fill_missing  # noqa: E402
from champion.evaluation.metrics import forecast_metrics, scalar  # noqa: E402
from champion.evaluation.paired_tests import diebold_mariano  # noqa: E402
from champion.pipelines.golden_set import ForecastSplit  # noqa: E402
from champion.pipelines.training import parse_params  # noqa: E402
from champion.recipes.forecaster import ArimaForecaster  # noqa: E402

Forecast = Callable[[pd.Series, int], np.ndarray]


def _regular(values: np.ndarray | pd.Series, start: str, freq: str) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=pd.date_range(start, periods=len(values), freq=freq))


def co2_weekly() -> pd.Series:
    s = sd.co2.load_pandas().data["co2"]  # W-SAT, 1958-2001, 59 missing weeks
    return _regular(s.to_numpy(), str(s.index[0].date()), "W-SAT")


def co2_monthly() -> pd.Series:
    s = sd.co2.load_pandas().data["co2"].resample("MS").mean()
    return _regular(s.to_numpy(), str(s.index[0].date()), "MS")


def elnino() -> pd.Series:
    wide = sd.elnino.load_pandas().data.set_index("YEAR")  # one row a year, one column a month
    return _regular(wide.to_numpy().ravel(), f"{int(wide.index[0])}-01-01", "MS")


def macro(column: str) -> Callable[[], pd.Series]:
    def load() -> pd.Series:
        return _regular(sd.macrodata.load_pandas().data[column].to_numpy(), "1959-01-01", "QS")
    return load


def elec_equip() -> pd.Series:
    from statsmodels.datasets import elec_equip as dataset

    s = dataset.load().data.iloc[:, 0]  # euro area electrical equipment orders, MS, 1995-2016
    return _regular(s.to_numpy(), str(s.index[0].date()), "MS")


def sunspots_until(year: int) -> Callable[[], pd.Series]:
    def load() -> pd.Series:
        return sunspots().loc[: f"{year}-01-01"]
    return load


def co2_weekly_until(year: int) -> Callable[[], pd.Series]:
    def load() -> pd.Series:
        return co2_weekly().loc[: f"{year}-12-31"]
    return load


def inflation() -> pd.Series:
    return _regular(sd.interest_inflation.load_pandas().data["Dp"].to_numpy(), "1972-04-01", "QS")


def sunspots() -> pd.Series:
    return _regular(sd.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(), "1700-01-01", "YS")


def nile() -> pd.Series:
    return _regular(sd.nile.load_pandas().data["volume"].to_numpy(), "1871-01-01", "YS")


def transactions() -> pd.Series:
    """The daily template's series (2013 + 2014), for reference: the daily behaviour is kept."""
    folder = Path(__file__).resolve().parents[2] / "src" / "champion" / "templates" / "transactions" / "data"
    frame = pd.concat([pd.read_csv(f, parse_dates=["TransactionDate"]) for f in sorted(folder.glob("*/*.csv"))])
    frame = frame.sort_values("TransactionDate")
    return _regular(frame["PaidAmount"].to_numpy(), str(frame["TransactionDate"].iloc[0].date()), "D")


SERIES: dict[str, tuple[str, Callable[[], pd.Series]]] = {
    "co2-weekly": ("weekly", co2_weekly),
    "co2-monthly": ("monthly", co2_monthly),
    "elnino": ("monthly", elnino),
    "realgdp": ("quarterly", macro("realgdp")),
    "cpi": ("quarterly", macro("cpi")),
    "unemp": ("quarterly", macro("unemp")),
    "inflation": ("quarterly", inflation),
    "sunspots": ("yearly", sunspots),
    "nile": ("yearly", nile),
    "transactions": ("daily", transactions),
    # Added with the validation-based choice, never used to set its defaults (held out):
    "co2-weekly-1990": ("weekly", co2_weekly_until(1990)),
    "elec-equip": ("monthly", elec_equip),
    "realcons": ("quarterly", macro("realcons")),
    "realinv": ("quarterly", macro("realinv")),
    "tbilrate": ("quarterly", macro("tbilrate")),
    "sunspots-1900": ("yearly", sunspots_until(1900)),
}
HELD_OUT = ["co2-weekly-1990", "elec-equip", "realcons", "realinv", "tbilrate", "sunspots-1900"]


def golden(series: pd.Series, periods: int, horizon: int) -> ForecastSplit:
    filled = fill_missing(series)
    history, _ = split_series(filled.series, periods)
    return ForecastSplit(filled.series, history, horizon, filled.filled)


def predictions(data: ForecastSplit, forecast: Forecast) -> np.ndarray:
    """Origins x horizon forecasts, each from the history up to its origin."""
    return np.array([forecast(data.series.iloc[: o + 1], data.horizon) for o in data.origins])


def rmse(data: ForecastSplit, forecast: Forecast) -> float:
    return scalar(forecast_metrics(data.actual(), predictions(data, forecast)))["rmse"]


def baseline_better_p(data: ForecastSplit, ours: np.ndarray, baseline: np.ndarray) -> float:
    """One-sided Diebold-Mariano p-value that the baseline's squared errors are lower
    (the gate's own test, with the baseline as the challenger)."""
    actual = data.actual()
    loss = lambda p: np.nanmean((p - actual) ** 2, axis=1)  # noqa: E731
    return diebold_mariano(loss(ours), loss(baseline), data.horizon).p_value


def arima_baseline(history: pd.Series, order: tuple[int, int, int]) -> Forecast:
    """statsmodels ARIMA fitted once; a constant without differencing, a drift with."""
    from statsmodels.tsa.arima.model import ARIMA

    trend = "c" if order[1] == 0 else "t"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = ARIMA(history.to_numpy(), order=order, trend=trend).fit()

    def forecast(h: pd.Series, steps: int) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(fitted.apply(h.to_numpy()).forecast(steps))
    return forecast


def compare(name: str, periods: int, horizon: int, params: dict[str, object]) -> dict[str, object]:
    frequency, load = SERIES[name]
    data = golden(load(), periods, horizon)
    start = time.perf_counter()
    model = ArimaForecaster(**params).fit(data.history)  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    actual = data.actual()
    ours_predicted = predictions(data, model.forecast)
    ours = scalar(forecast_metrics(actual, ours_predicted))["rmse"]
    baseline_predicted = {label: predictions(data, arima_baseline(data.history, order))
                          for label, order in (("ARIMA(2,0,2)", (2, 0, 2)), ("ARIMA(2,1,2)+drift", (2, 1, 2)))}
    baselines = {label: scalar(forecast_metrics(actual, p))["rmse"] for label, p in baseline_predicted.items()}
    best_label = min(baselines, key=baselines.__getitem__)
    best = baselines[best_label]
    p_value = baseline_better_p(data, ours_predicted, baseline_predicted[best_label])
    return {"series": name, "frequency": frequency, "periods": len(data.series), "missing": data.filled_count,
            "model": model.summary, "models_tried": model.search_["models"], "fit_seconds": round(seconds, 1),
            "stopped_by_budget": model.search_["stopped_by_budget"], "rmse": ours, **baselines,
            "ratio": ours / best, "met": ours <= best * (1 + 1e-9), "p_baseline_better": p_value}


def build_seconds(name: str, periods: int, horizon: int) -> tuple[float, int, str]:
    """One `champion build` as a real process on a new project holding the series."""
    series = SERIES[name][1]()
    frequency = series.index.freqstr
    root = Path(tempfile.mkdtemp(prefix="champion-frequencies-"))
    try:
        frame = pd.DataFrame({"date": series.index.strftime("%Y-%m-%d"), "value": series.to_numpy()})
        (root / "data").mkdir()
        frame.to_csv(root / "data" / "series.csv", index=False, na_rep="")
        (root / "champion.toml").write_text(
            f'[project]\nname = "{name}"\n\n[models.{name}]\nrecipe = "forecaster"\ndata = ["data/*.csv"]\n'
            f'time = "date"\ntarget = "value"\nfrequency = "{frequency}"\n\n'
            f'[models.{name}.columns]\ndate = "date"\nvalue = {{ type = "number", nullable = true }}\n\n'
            f"[models.{name}.golden]\nperiods = {periods}\nhorizon = {horizon}\n", encoding="utf-8")
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "champion", "build", "-p", str(root), "--json", "-q"],
                              capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        verdict = json.loads(done.stdout)["verdict"] if done.returncode == 0 else done.stderr[-300:]
        return seconds, done.returncode, verdict
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", nargs="*", default=list(SERIES), choices=list(SERIES))
    parser.add_argument("--periods", type=int, default=42)
    parser.add_argument("--horizon", type=int, default=7)
    parser.add_argument("--param", action="append", default=[], help="forecaster parameter KEY=VALUE")
    parser.add_argument("--build", nargs="*", choices=list(SERIES), metavar="SERIES",
                        help="also time one `champion build` per series (default: co2-weekly)")
    parser.add_argument("--json", type=Path, help="write the rows to this file")
    args = parser.parse_args()
    params = parse_params(args.param)
    rows = []
    print("| series | frequency | periods (missing) | forecaster's choice | models | fit s | "
          "forecaster RMSE | ARIMA(2,0,2) | ARIMA(2,1,2)+drift | ratio to better | target | "
          "DM p, better baseline beats it |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.series:
        row = compare(name, args.periods, args.horizon, params)
        rows.append(row)
        budget = " (budget)" if row["stopped_by_budget"] else ""
        print(f"| {name} | {row['frequency']} | {row['periods']} ({row['missing']}) | {row['model']} | "
              f"{row['models_tried']} | {row['fit_seconds']}{budget} | {row['rmse']:.4g} | {row['ARIMA(2,0,2)']:.4g} | "
              f"{row['ARIMA(2,1,2)+drift']:.4g} | {row['ratio']:.3f} | {'met' if row['met'] else 'NOT met'} | "
              f"{row['p_baseline_better']:.2f} |",
              flush=True)
    met = sum(bool(r["met"]) for r in rows)
    print(f"\ntarget met on {met} of {len(rows)} series; params {params or 'default'}")
    for name in (args.build or ["co2-weekly"]) if args.build is not None else []:
        seconds, code, verdict = build_seconds(name, args.periods, args.horizon)
        print(f"champion build ({name}, new project, real process): {seconds:.1f} s, exit {code}, {verdict}",
              flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
