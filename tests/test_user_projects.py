"""Projects a user brings, end to end with real endpoints: build -> ingest -> build -> release
-> /score and v2 -> feedback -> monitor.

Two projects hold the scenarios of `user_projects.py`: one with every model that reads rows
(string labels in TSV files, integer labels in Parquet files, five classes, a recipe of the
user's own, tabular classification and regression; column names with spaces and non-ASCII
letters throughout), one with series (weekly, monthly, daily with missing values). Each
project's staging and production endpoints serve all of its models, as a user's would.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import cli, cli_process
from serving_support import get, post
from user_projects import (
    Scenario,
    integer_labels_parquet,
    series,
    string_labels_tsv,
    tabular_classifier,
    tabular_regressor,
    user_recipe,
    video_multiclass,
    write_project,
)

ROW_SCENARIOS = ["moderation", "comments", "video", "custom", "churn", "rent"]
SERIES_SCENARIOS = ["weekly", "monthly", "gappy"]


@pytest.fixture(scope="module")
def rows_project(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("user-rows")
    scenarios = [string_labels_tsv(root), integer_labels_parquet(root), video_multiclass(root), user_recipe(root),
                 tabular_classifier(root), tabular_regressor(root)]
    write_project(root, migrated_mlflow_db, scenarios)
    yield root, {s.model: s for s in scenarios}
    cli("down", "-p", str(root))


@pytest.fixture(scope="module")
def series_project(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("user-series")
    scenarios = [series(root, "weekly", "W-SUN", 260, 52, seed=5, golden=26, horizon=4),
                 series(root, "monthly", "MS", 144, 12, seed=6, golden=24, horizon=6),
                 series(root, "gappy", "D", 300, 7, seed=7, golden=42, horizon=7, missing=0.03)]
    write_project(root, migrated_mlflow_db, scenarios)
    yield root, {s.model: s for s in scenarios}
    cli("down", "-p", str(root))


def _url(root: Path, environment: str) -> str:
    endpoints = {e["environment"]: e for e in cli("ps", "-p", str(root), "--json").json()}
    return str(endpoints[environment]["url"])


def _loop_until_release(root: Path, scenario: Scenario) -> int:
    """build -> ingest -> build -> release; the version in production."""
    model = scenario.model
    first = cli("build", model, "-p", str(root), "--json", "-q")
    assert first.code == 0, first.stdout + first.stderr
    assert first.json()["verdict"] == "FIRST_MODEL"
    added = cli("ingest", model, *map(str, scenario.later), "-p", str(root), "--json", "-q")
    assert added.code == 0, added.stdout + added.stderr
    assert added.json()["rows_after"] > added.json()["rows_before"]
    second = cli("build", model, "-p", str(root), "--json", "-q")
    assert second.code in (0, 3), second.stdout + second.stderr  # PROMOTE or REJECT: both are answers
    # The release runs as its own process from another folder, with nothing of the project on
    # the Python path: whatever the models need must come from the registry.
    env_path = os.environ.get("PYTHONPATH", "")
    assert str(root) not in env_path.split(os.pathsep)
    released = cli_process("release", model, "-p", str(root), "--json", cwd=Path(sys.prefix))
    assert released.code == 0, released.stdout + released.stderr
    return int(released.json()["version"])


def _feedback_and_monitor(root: Path, scenario: Scenario, keys: list[str], tmp: Path,
                          expected: int | None = None) -> dict[str, Any]:
    assert scenario.write_feedback is not None
    file = scenario.write_feedback(tmp, keys)
    given = cli("feedback", scenario.model, str(file), "-p", str(root), "--json")
    assert given.code == 0, given.stdout + given.stderr
    expected = len(scenario.actual) if expected is None else expected
    assert given.json()["received"] == expected and given.json()["matched"] == expected, given.json()
    monitored = cli("monitor", scenario.model, "-p", str(root), "--json", "--no-notify")
    assert monitored.code == 0, monitored.stdout + monitored.stderr
    report = monitored.json()
    assert Path(report["report"]).is_file()
    return report


@pytest.mark.parametrize("model", ROW_SCENARIOS)
def test_a_model_that_reads_rows_goes_around_the_loop(rows_project, model: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root, scenarios = rows_project
    scenario = scenarios[model]
    version = _loop_until_release(root, scenario)
    url = _url(root, "production")

    scored = post(url, f"/v2/models/{model}/infer", json=_v2_body(scenario))
    assert scored.status_code == 200, scored.text
    outputs = {o["name"]: o for o in scored.json()["outputs"]}
    if scenario.task == "regression":
        assert outputs["prediction"]["datatype"] == "FP64"
        assert len(outputs["prediction"]["data"]) == len(scenario.score_rows)
    else:
        label = outputs["label"]
        strings = any(isinstance(x, str) for x in scenario.labels)
        assert label["datatype"] == ("BYTES" if strings else "INT64")
        assert set(label["data"]) <= set(scenario.labels)
        assert outputs["probabilities"]["shape"] == [len(scenario.score_rows), len(scenario.labels)]

    # /score of a project with several models: the seeds' contract on the model's own path.
    answer = post(url, f"/score/{model}", json={"data": scenario.score_rows})
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert document["version"] == version and len(document["result"]) == len(scenario.score_rows)
    if scenario.task == "classification":
        assert document["classes"] == scenario.labels  # the labels' own types, in order
        assert set(document["result"]) <= set(scenario.labels)
        right = sum(a == b for a, b in zip(document["result"], scenario.actual, strict=True))
        assert right / len(scenario.actual) > 1 / len(scenario.labels)  # better than a coin
    else:
        assert all(isinstance(v, float) for v in document["result"])

    request_ids = [document["request_id"]] * len(scenario.score_rows)
    _wait_logged(root, model, len(scenario.score_rows) * 2)
    report = _feedback_and_monitor(root, scenario, request_ids, tmp_path)
    assert report["task"] == scenario.task
    realized = (report["performance"] or {}).get("realized")
    assert realized is not None and realized["labelled"] >= len(scenario.actual), report["performance"]


@pytest.mark.parametrize("model", SERIES_SCENARIOS)
def test_a_series_goes_around_the_loop(series_project, model: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root, scenarios = series_project
    scenario = scenarios[model]
    version = _loop_until_release(root, scenario)
    url = _url(root, "production")
    answer = post(url, f"/score/{model}", json={"data": [scenario.horizon]})
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert document["version"] == version
    dates = pd.DatetimeIndex(document["time"])
    # What comes after the latest data, whichever version serves (a champion kept by the gate too).
    assert [d.strftime("%Y-%m-%d") for d in dates] == scenario.forecast_dates
    infer = post(url, f"/v2/models/{model}/infer",
                 json={"inputs": [{"name": "steps", "datatype": "INT64", "shape": [1], "data": [scenario.horizon]}]})
    assert infer.status_code == 200, infer.text
    outputs = {o["name"]: o for o in infer.json()["outputs"]}
    assert outputs["forecast"]["data"] == pytest.approx(document["result"])
    _wait_logged(root, model, 2 * scenario.horizon)
    report = _feedback_and_monitor(root, scenario, [d.strftime("%Y-%m-%d") for d in dates], tmp_path,
                                   expected=scenario.horizon)
    assert report["task"] == "forecasting"


def _v2_body(scenario: Scenario) -> dict[str, Any]:
    names = [k for k in scenario.score_rows[0] if not _is_identity(scenario, k)]
    inputs = []
    for name in names:
        values = [row[name] for row in scenario.score_rows]
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        datatype = ("INT64" if all(isinstance(v, int) for v in values) else "FP64") if numbers else "BYTES"
        inputs.append({"name": name, "datatype": datatype, "shape": [len(values)], "data": values})
    return {"inputs": inputs}


def _is_identity(scenario: Scenario, column: str) -> bool:
    return f'id = ["{column}"]' in scenario.toml


def _wait_logged(root: Path, model: str, rows: int, timeout: float = 30.0) -> None:
    """The log loader moves spooled rows into the store within about a second."""
    import time

    from champion.project import Project
    from champion.workspace import Workspace

    log = Workspace(Project.open(root)).predictions
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.counts(model, "production")["logged"] >= rows:
            return
        time.sleep(0.2)
    raise AssertionError(f"{model}: fewer than {rows} rows logged after {timeout} s")


def test_the_endpoints_of_a_many_model_project_are_healthy(rows_project) -> None:  # type: ignore[no-untyped-def]
    root, _ = rows_project
    health = get(_url(root, "production"), "/health").json()
    assert health["status"] == "Healthy", health
    assert set(health["models"]) == set(ROW_SCENARIOS)
