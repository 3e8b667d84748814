"""Ground truth for logged predictions: `champion feedback` and `POST /feedback` on real
endpoints, by request id, by id column, by features, by date (forecaster); bad input stores
nothing. One spam project and one transactions project per module."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import cli
from serving_support import free_port, new_project, post, set_environments
from sqlalchemy import func, select

from champion.state.predictions import PredictionLog, feedback

KEY_ENV, KEY = "CHAMPION_FEEDBACK_TEST_KEY", "feedback-test-key-0123"
AUTH = {"x-api-key": KEY}


def started(root: Path, environment: str, port_env: dict[str, Any]) -> None:
    set_environments(root, port_env)
    assert cli("build", "-p", str(root), "-q").code == 0
    done = cli("deploy", environment, "-p", str(root), "-q")
    assert done.code == 0, done.stderr


@pytest.fixture(scope="module")
def spam(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path):  # type: ignore[no-untyped-def]
    root = new_project(tmp_path_factory.mktemp("feedback") / "spam", migrated_mlflow_db)
    port = free_port()
    os.environ[KEY_ENV] = KEY  # the endpoint inherits it from `deploy`
    try:
        started(root, "staging", {"staging": {"port": port, "poll_seconds": 0.2, "api_key_env": KEY_ENV},
                                  "production": {"port": free_port()}})
    finally:
        del os.environ[KEY_ENV]
    yield {"root": root, "url": f"http://127.0.0.1:{port}",
           "log": PredictionLog(f"sqlite:///{root / '.champion' / 'state.db'}")}
    cli("down", "-p", str(root))


@pytest.fixture(scope="module")
def transactions(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path):  # type: ignore[no-untyped-def]
    root = new_project(tmp_path_factory.mktemp("feedback") / "transactions", migrated_mlflow_db, "transactions")
    port = free_port()
    started(root, "staging", {"staging": {"port": port, "poll_seconds": 0.2}, "production": {"port": free_port()}})
    yield {"root": root, "url": f"http://127.0.0.1:{port}",
           "log": PredictionLog(f"sqlite:///{root / '.champion' / 'state.db'}")}
    cli("down", "-p", str(root))


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def score(spam: dict[str, Any], rows: list[Any], request_id: str | None = None) -> dict[str, Any]:
    headers = {**AUTH, **({"x-request-id": request_id} if request_id else {})}
    response = post(spam["url"], "/score", json={"data": rows}, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def logged_until(log: PredictionLog, model: str, count: int) -> None:
    assert wait_for(lambda: log.counts(model, "staging")["logged"] >= count), log.counts(model, "staging")


def actual_of(log: PredictionLog, request_id: str) -> list[Any]:
    window = log.window("spam", "staging")
    return [a for r, a in zip(window.request_ids, window.actual, strict=True) if r == request_id]


def stored_feedback(log: PredictionLog) -> int:
    with log.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(feedback)).scalar_one())


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_feedback_by_request_id_over_http_and_the_cli(spam, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log = spam["log"]
    before = log.counts("spam", "staging")["logged"]
    one = score(spam, ["I love this song"])["request_id"]
    two = score(spam, ["Check out my channel http://spam.example", "nice"])["request_id"]
    three = score(spam, ["subscribe to me", "great video", "free gift cards"])["request_id"]
    logged_until(log, "spam", before + 6)

    body = {"feedback": [{"request_id": one, "row": 0, "actual": 0}, {"request_id": two, "actual": 1},
                         {"request_id": "never-scored", "actual": 1}]}
    answer = post(spam["url"], "/feedback", json=body, headers=AUTH)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"model": "spam", "environment": "staging", "source": "http", "matched_by": ["request_id"],
                             "received": 3, "matched": 2, "pending": 1}
    assert actual_of(log, one) == [0] and actual_of(log, two) == [1, 1]  # no row: every row of the request

    csv = write(tmp_path, "labels.csv", f"request_id,row,CLASS\n{three},0,1\n{three},2,1\n{one},0,1\n")
    done = cli("feedback", "spam", str(csv), "--env", "staging", "-p", str(spam["root"]), "--json")
    assert done.code == 0, done.stderr
    assert done.json() == {"model": "spam", "environment": "staging", "source": str(csv), "matched_by": ["request_id"],
                           "received": 3, "matched": 3, "pending": 0}
    assert actual_of(log, three) == [1, None, 1]
    assert actual_of(log, one) == [1]  # the latest feedback wins

    assert post(spam["url"], "/feedback", json=body).status_code == 401  # the scoring key is required
    human = cli("feedback", "spam", str(csv), "--env", "staging", "-p", str(spam["root"]))
    assert human.code == 0 and "3 matched a logged prediction, 0 pending" in human.stdout


def test_feedback_that_arrives_first_matches_when_the_prediction_is_logged(spam) -> None:  # type: ignore[no-untyped-def]
    log = spam["log"]
    answer = post(spam["url"], "/feedback/spam", json={"feedback": [{"request_id": "early-1", "actual": 1}]},
                  headers=AUTH).json()
    assert (answer["matched"], answer["pending"]) == (0, 1)
    score(spam, ["a comment scored after its label came back"], request_id="early-1")
    assert wait_for(lambda: actual_of(log, "early-1") == [1])


def test_feedback_by_id_column_and_by_features(spam, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log = spam["log"]
    before = log.counts("spam", "staging")["logged"]
    rows = [{"CONTENT": "win a free phone now", "COMMENT_ID": "id-1"},
            {"CONTENT": "this is my favourite song", "COMMENT_ID": "id-2"},
            {"CONTENT": "first time hearing this one"}]
    request_id = score(spam, rows)["request_id"]
    logged_until(log, "spam", before + 3)

    # Id columns (extra columns of the file are ignored), then features for the row without an id.
    by_id = write(tmp_path, "by-id.csv", "COMMENT_ID,AUTHOR,CLASS\nid-1,someone,1\nid-2,other,0\nid-404,x,1\n")
    done = cli("feedback", "spam", str(by_id), "-e", "staging", "-p", str(spam["root"]), "--json").json()
    assert (done["matched_by"], done["matched"], done["pending"]) == (["id"], 2, 1)
    by_features = write(tmp_path, "by-text.csv", 'CONTENT,CLASS\n"first time hearing this one",0\n')
    done = cli("feedback", "spam", str(by_features), "-e", "staging", "-p", str(spam["root"]), "--json").json()
    assert (done["matched_by"], done["matched"], done["pending"]) == (["features"], 1, 0)
    assert actual_of(log, request_id) == [1, 0, 0]

    # The same keys over HTTP: the latest feedback wins.
    answer = post(spam["url"], "/feedback", headers=AUTH, json={"feedback": [
        {"id": {"COMMENT_ID": "id-2"}, "actual": 1}, {"features": {"CONTENT": "first time hearing this one"}, "actual": 1}]})
    assert answer.json()["matched"] == 2 and answer.json()["matched_by"] == ["features", "id"]
    assert actual_of(log, request_id) == [1, 1, 1]


@pytest.mark.parametrize(("name", "content", "row", "column", "fragment"), [
    ("missing.csv", None, None, None, "file not found"),
    ("empty.csv", "", None, None, "the file is empty"),
    ("header-only.csv", "request_id,CLASS\n", None, None, "header but no data rows"),
    ("latin1.csv", "COMMENT_ID,CLASS\nd\xe9j\xe0,1\n".encode("latin-1"), None, None, "not valid UTF-8"),
    ("no-keys.csv", "AUTHOR,CLASS\nsomeone,1\n", None, "COMMENT_ID", "cannot tell which predictions"),
    ("no-target.csv", "request_id,row\nabc,0\n", None, "CLASS", "required column missing: CLASS"),
    ("bad-label.csv", "request_id,CLASS\nabc,1\ndef,7\n", 2, "CLASS", "label '7' is not one of [0, 1]"),
    ("bad-row.csv", "request_id,row,CLASS\nabc,0,1\nabc,first,1\n", 2, "row", "'first' is not an integer"),
    ("negative-row.csv", "request_id,row,CLASS\nabc,-1,1\n", 1, "row", "counts from 0"),
    ("empty-id.csv", "COMMENT_ID,CLASS\nabc,1\n,0\n", 2, "COMMENT_ID", "empty value"),
    ("empty-actual.csv", "CONTENT,CLASS\nsome text,\n", 1, "CLASS", "empty value"),
])
def test_bad_feedback_files_exit_2_naming_file_row_and_column_and_store_nothing(  # type: ignore[no-untyped-def]
        spam, tmp_path: Path, name: str, content: str | bytes | None, row: int | None, column: str | None,
        fragment: str) -> None:
    path = tmp_path / name if content is None else write(tmp_path, name, content)
    before = stored_feedback(spam["log"])
    done = cli("feedback", "spam", str(path), "--env", "staging", "-p", str(spam["root"]), "--json")
    assert done.code == 2, done.stdout + done.stderr
    error = done.json()["error"]
    assert error["file"] == str(path) and error["row"] == row and error["column"] == column
    assert fragment in error["message"]
    assert stored_feedback(spam["log"]) == before


def test_unknown_environment_or_model_exits_2(spam, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, "ok.csv", "request_id,CLASS\nabc,1\n")
    assert cli("feedback", "spam", str(path), "--env", "qa", "-p", str(spam["root"])).code == 2
    assert cli("feedback", "ham", str(path), "-p", str(spam["root"])).code == 2


@pytest.mark.parametrize(("body", "fragment"), [
    ({"data": []}, "the body must be a JSON object like"),
    ({"feedback": []}, "the list is empty"),
    ({"feedback": [{"request_id": "a", "actual": 1}, {"request_id": "b", "actual": 3}]},
     "feedback[1].actual: label 3 is not one of [0, 1]"),
    ({"feedback": [{"request_id": "a", "actual": 1}, {"actual": 1}]}, "feedback[1]: give exactly one of"),
    ({"feedback": [{"request_id": "a", "row": -1, "actual": 1}]}, "feedback[0].row: expected a whole number >= 0"),
    ({"feedback": [{"id": {"AUTHOR": "x"}, "actual": 1}]}, "feedback[0].id: expected an object with exactly"),
    ({"feedback": [{"id": {"COMMENT_ID": 5}, "actual": 1}]}, "feedback[0].id.COMMENT_ID: expected a string"),
    ({"feedback": [{"request_id": "a"}]}, "missing field 'actual'"),
    ({"feedback": [{"time": "2014-01-01", "actual": 1}]}, "unknown field(s) ['time']"),
])
def test_bad_feedback_bodies_answer_400_and_store_nothing(spam, body: dict, fragment: str) -> None:  # type: ignore[no-untyped-def,type-arg]
    before = stored_feedback(spam["log"])
    answer = post(spam["url"], "/feedback", json=body, headers=AUTH)
    assert answer.status_code == 400 and fragment in answer.json()["error"], answer.text
    assert stored_feedback(spam["log"]) == before


def test_forecasts_are_logged_per_step_and_matched_by_date(transactions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, log = transactions["url"], transactions["log"]
    scored = post(url, "/score", json={"data": [3]}).json()
    inferred = post(url, "/v2/models/transactions/infer",
                    json={"id": "f-1", "inputs": [{"name": "steps", "datatype": "INT64", "shape": [1], "data": [2]}]})
    assert inferred.status_code == 200
    assert wait_for(lambda: log.counts("transactions", "staging")["logged"] == 5)
    window = log.window("transactions", "staging")
    assert window.request_ids == [scored["request_id"]] * 3 + ["f-1"] * 2
    assert window.rows.tolist() == [0, 1, 2, 0, 1]
    assert window.inputs == {"time": scored["time"] + scored["time"][:2]}
    assert window.outputs == scored["result"] + scored["result"][:2]
    assert window.proba is None and window.classes == []

    day = scored["time"][0][:10]  # the first forecast date, as a plain date
    path = write(tmp_path, "actuals.csv", f"TransactionDate,PaidAmount\n{day},1234.5\n2000-01-01,1.0\n")
    done = cli("feedback", "transactions", str(path), "-e", "staging", "-p", str(transactions["root"]), "--json")
    assert done.code == 0, done.stderr
    assert (done.json()["matched"], done.json()["pending"]) == (1, 1)
    assert log.window("transactions", "staging").actual == [1234.5, None, None, 1234.5, None]
    answer = post(url, "/feedback", json={"feedback": [{"time": scored["time"][1], "actual": 99.0},
                                                        {"request_id": "f-1", "row": 1, "actual": 98.5}]})
    assert answer.json()["matched"] == 2
    assert log.window("transactions", "staging").actual == [1234.5, 99.0, None, 1234.5, 98.5]
    bad = post(url, "/feedback", json={"feedback": [{"time": "tomorrow", "actual": 1.0}]})
    assert bad.status_code == 400 and "feedback[0].time: expected an ISO date" in bad.json()["error"]
