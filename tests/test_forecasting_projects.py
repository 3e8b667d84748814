"""`champion build` on a user's own series that are not daily: weekly with missing values,
monthly written with an older frequency alias, and missing values it must refuse."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from conftest import cli

from champion.project import Project
from champion.serving.loading import load_version
from champion.workspace import Workspace


def project(tmp_path: Path, db: Path, series: pd.Series, frequency: str, extra: str = "") -> Path:
    """A project folder holding one nullable series, its registry ready."""
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    (root / ".champion").mkdir()
    shutil.copyfile(db, root / ".champion" / "mlflow.db")
    frame = pd.DataFrame({"week of": series.index.strftime("%Y-%m-%d"), "sales": series.to_numpy()})
    frame.to_csv(root / "data" / "sales.csv", index=False, na_rep="")
    (root / "champion.toml").write_text(f"""[project]
name = "shop"

[models.sales]
recipe = "forecaster"
data = ["data/*.csv"]
time = "week of"
target = "sales"
frequency = "{frequency}"

[models.sales.columns]
"week of" = "date"
sales = {{ type = "number", nullable = true }}
{extra}""", encoding="utf-8")
    return root


def seasonal(periods: int, season: float, freq: str, start: str, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(periods)
    values = 200 + 0.2 * t + 25 * np.sin(2 * np.pi * t / season) + rng.normal(0, 3, periods)
    return pd.Series(values.round(2), index=pd.date_range(start, periods=periods, freq=freq))


def test_weekly_series_with_missing_values_builds_a_fourier_model(tmp_path: Path, migrated_mlflow_db: Path) -> None:
    series = seasonal(170, 365.25 / 7, "W-SUN", "2019-01-06", seed=5)
    series.iloc[[20, 21, 90, 160]] = np.nan  # 160 lies in the golden set (the last 42 weeks)
    root = project(tmp_path, migrated_mlflow_db, series, "W", extra="""
[models.sales.params]
time_budget = 10
max_fourier_pairs = 3
""")
    built = cli("build", "-p", str(root), "--json")
    assert built.code == 0, built.stderr
    doc = built.json()
    assert doc["verdict"] == "FIRST_MODEL"
    split = doc["golden_set"]
    assert (split["filled_values"], split["golden_filled_values"], split["golden_periods"]) == (4, 1, 42)
    assert np.isfinite(doc["challenger"]["metrics"]["rmse"])
    assert "128 periods (3 missing values interpolated)" in built.stderr  # the fitting step's line
    assert "chose ARIMA" in built.stderr and "Fourier pair" in built.stderr  # the search's last note
    loaded = load_version(Workspace(Project.open(root)), "sales", 1)
    assert loaded.recipe.spec_["fourier"]["pairs"] >= 1  # type: ignore[attr-defined]
    times, values = loaded.forecast(4)
    assert times[0].startswith(str((series.index[-1] + pd.Timedelta(weeks=1)).date())) and np.isfinite(values).all()


def test_monthly_series_with_an_older_alias_builds_a_seasonal_model(tmp_path: Path, migrated_mlflow_db: Path) -> None:
    series = seasonal(90, 12, "ME", "2015-01-31", seed=6)
    root = project(tmp_path, migrated_mlflow_db, series, "M", extra="""
[models.sales.golden]
periods = 24
horizon = 6
""")
    built = cli("build", "-p", str(root), "--json", "-q")
    assert built.code == 0, built.stderr
    doc = built.json()
    assert doc["verdict"] == "FIRST_MODEL"
    assert (doc["golden_set"]["golden_periods"], doc["golden_set"]["origins"]) == (24, 19)
    loaded = load_version(Workspace(Project.open(root)), "sales", 1)
    assert loaded.recipe.spec_["seasonal_order"][3] == 12  # type: ignore[attr-defined]
    assert loaded.forecast(2)[0][0].startswith(str((series.index[-1] + pd.offsets.MonthEnd()).date()))


def test_missing_values_at_the_start_are_refused_by_date(tmp_path: Path, migrated_mlflow_db: Path) -> None:
    series = seasonal(80, 12, "MS", "2015-01-01", seed=7)
    series.iloc[:2] = np.nan
    root = project(tmp_path, migrated_mlflow_db, series, "MS")
    built = cli("build", "-p", str(root))
    assert built.code == 2
    assert "starts with 2 missing values (2015-01-01, 2015-02-01)" in built.stderr
    assert "'sales'" in built.stderr and "Traceback" not in built.stderr


def test_weekly_dates_off_the_frequencys_grid_name_the_right_one(tmp_path: Path, migrated_mlflow_db: Path) -> None:
    series = seasonal(120, 365.25 / 7, "W-SAT", "2019-01-05", seed=8)  # Saturdays; "W" means Sundays
    root = project(tmp_path, migrated_mlflow_db, series, "W")
    built = cli("build", "-p", str(root))
    assert built.code == 2
    assert 'a Saturday); they follow \'W-SAT\': set frequency = "W-SAT"' in built.stderr
