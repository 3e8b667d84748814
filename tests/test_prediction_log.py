"""The prediction log over real endpoints: what is logged, nothing lost across a restart,
back-pressure drops counted, retention. One spam project per module: production and `tiny`
(same alias, a 3-row queue, 5 days of retention). One worker each: `champion down` signals
every process of an endpoint, so a worker of a supervised endpoint stops the same way."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from conftest import cli
from serving_support import free_port, get, new_project, post, session_pids, set_environments

from champion.state.predictions import FeedbackRecord, LogRecord, PredictionLog, row_key

COMMENTS = ["Check out my channel and subscribe!!! http://example.com", "I love this song so much",
            "Free gift cards at my website", "2015 and still listening"]


@pytest.fixture(scope="module")
def spam(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path):  # type: ignore[no-untyped-def]
    root = new_project(tmp_path_factory.mktemp("prediction-log") / "spam", migrated_mlflow_db)
    ports = {"staging": free_port(), "production": free_port(), "tiny": free_port()}
    set_environments(root, {
        "staging": {"port": ports["staging"]},
        "production": {"port": ports["production"], "workers": 1, "poll_seconds": 0.2},
        # Serves the production alias with a 3-row queue and 5 days of retention (started by a test).
        "tiny": {"port": ports["tiny"], "workers": 1, "poll_seconds": 0.2, "alias": "production",
                 "log_queue_rows": 3, "log_retention_days": 5},
    })
    assert cli("build", "-p", str(root), "-q").code == 0
    assert cli("deploy", "production", "-p", str(root), "-q").code == 0
    yield {"root": root, "log": PredictionLog(f"sqlite:///{root / '.champion' / 'state.db'}"),
           **{env: f"http://127.0.0.1:{port}" for env, port in ports.items()}}
    sessions = [e["pid"] for e in cli("ps", "-p", str(root), "--json").json() if e["pid"]]
    assert cli("down", "-p", str(root)).code == 0
    deadline = time.monotonic() + 10
    while any(session_pids(s) for s in sessions) and time.monotonic() < deadline:
        time.sleep(0.1)


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def logged(log: PredictionLog, environment: str) -> int:
    return int(log.counts("spam", environment)["logged"])


def test_every_request_is_logged_with_its_version_inputs_outputs_and_probabilities(spam) -> None:  # type: ignore[no-untyped-def]
    url, log = spam["production"], spam["log"]
    before = logged(log, "production")
    plain = post(url, "/score", json={"data": COMMENTS}).json()
    with_ids = post(url, "/score", headers={"x-request-id": "mine-1"},
                    json={"data": [{"CONTENT": "hello there", "COMMENT_ID": "c-1"}, {"CONTENT": "buy now cheap"}]})
    assert with_ids.status_code == 200 and with_ids.json()["request_id"] == "mine-1"
    tensor = {"name": "CONTENT", "datatype": "BYTES", "shape": [2], "data": COMMENTS[:2]}
    infer = post(url, "/v2/models/spam/infer", json={"id": "v2-1", "inputs": [tensor]})
    anonymous = post(url, "/v2/models/spam/infer", json={"inputs": [tensor]})
    assert infer.status_code == anonymous.status_code == 200 and infer.headers["x-request-id"] == "v2-1"
    anonymous_id = anonymous.headers["x-request-id"]
    assert wait_for(lambda: logged(log, "production") == before + 10), log.counts("spam", "production")

    # Ids the endpoint makes are UUIDv7: time-ordered, so feedback finds them in the time index.
    assert uuid.UUID(plain["request_id"]).version == 7 and uuid.UUID(anonymous_id).version == 7
    window = log.window("spam", "production", rows=10)
    assert window.request_ids == [plain["request_id"]] * 4 + ["mine-1"] * 2 + ["v2-1"] * 2 + [anonymous_id] * 2
    assert window.rows.tolist() == [0, 1, 2, 3, 0, 1, 0, 1, 0, 1]
    assert window.versions.tolist() == [1] * 10 and window.classes == [0, 1]
    assert np.all(np.diff(window.times) >= 0) and np.all(window.latency_ms > 0)
    # The identity column travels with the row but is neither model input nor logged input.
    assert window.inputs == {"CONTENT": COMMENTS + ["hello there", "buy now cheap"] + COMMENTS[:2] * 2}
    answers = with_ids.json()
    v2_labels = next(o for o in infer.json()["outputs"] if o["name"] == "label")["data"]
    v2_proba = next(o for o in infer.json()["outputs"] if o["name"] == "probabilities")["data"]
    assert window.outputs == plain["result"] + answers["result"] + v2_labels * 2
    expected = np.array(plain["probabilities"] + answers["probabilities"] + [v2_proba[:2], v2_proba[2:]] * 2)
    assert np.allclose(window.proba, expected, atol=1e-12)
    assert window.actual == [None] * 10

    # The identity key was logged for the row that carried COMMENT_ID, and only for it.
    matched = log.add_feedback([FeedbackRecord("spam", "production", 1, identity_key=row_key(["c-1"], ["string"]))])
    assert (matched.matched, matched.pending) == (1, 0)
    assert log.window("spam", "production", rows=10).actual == [None] * 4 + [1] + [None] * 5


@pytest.mark.parametrize(("row", "fragment"), [
    ({"CONTENT": "x", "AUTHOR": "someone"}, "unknown field(s) ['AUTHOR']"),
    ({"CONTENT": "x", "COMMENT_ID": 5}, "data[0].COMMENT_ID: expected a string"),
    ({"COMMENT_ID": "c-9"}, "missing field 'CONTENT'"),
])
def test_only_the_models_id_columns_may_come_along(spam, row: dict, fragment: str) -> None:  # type: ignore[no-untyped-def,type-arg]
    response = post(spam["production"], "/score", json={"data": [row]})
    assert response.status_code == 400 and fragment in response.json()["error"]


def test_the_log_loses_nothing_across_a_graceful_restart(spam) -> None:  # type: ignore[no-untyped-def]
    root, url, log = spam["root"], spam["production"], spam["log"]
    before = logged(log, "production")
    answered: list[str] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(trust_env=False, timeout=30) as client:
            while not stop.is_set():
                request_id = uuid.uuid4().hex
                try:
                    response = client.post(url + "/score", json={"data": [COMMENTS[len(answered) % 4]]},
                                           headers={"x-request-id": request_id})
                except httpx.HTTPError:
                    continue  # the endpoint is going away: refused, not answered
                if response.status_code == 200:
                    answered.append(request_id)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        # Stopped under load: requests in flight finish, and every answered one is written
        # before the workers exit (no waiting for a flush here).
        assert cli("down", "production", "-p", str(root)).code == 0
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    first = list(answered)
    assert len(first) > 50
    assert logged(log, "production") == before + len(first)

    assert cli("up", "production", "-p", str(root)).code == 0
    second = [post(url, "/score", json={"data": COMMENTS[:2]}).json()["request_id"] for _ in range(20)]
    assert wait_for(lambda: logged(log, "production") == before + len(first) + 40)
    window = log.window("spam", "production", rows=len(first) + 40)
    pairs = Counter(zip(window.request_ids, window.rows.tolist(), strict=True))
    assert set(pairs.values()) == {1}  # each row exactly once
    assert Counter(window.request_ids) == Counter({**{r: 1 for r in first}, **{r: 2 for r in second}})


def loader_pids(root: Path, environment: str) -> list[int]:
    """The endpoint's log loader process(es), found through the endpoint's session."""
    record = cli("ps", "-p", str(root), "--json").json()
    session = next(e["pid"] for e in record if e["environment"] == environment)
    return [pid for pid in session_pids(session)
            if b"champion.serving.log_loader" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def test_a_killed_loader_is_replaced_and_a_killed_endpoint_loses_no_spooled_row(spam) -> None:  # type: ignore[no-untyped-def]
    root, url, log = spam["root"], spam["production"], spam["log"]
    if get(url, "/health").status_code != 200:
        assert cli("up", "production", "-p", str(root)).code == 0
    [loader] = loader_pids(root, "production")
    os.kill(loader, signal.SIGKILL)
    before = logged(log, "production")
    ids = [post(url, "/score", json={"data": COMMENTS[:2]}).json()["request_id"] for _ in range(10)]
    # The endpoint starts another loader within a second or two; it loads what was spooled.
    assert wait_for(lambda: logged(log, "production") == before + 20, timeout=15), log.counts("spam", "production")
    assert loader_pids(root, "production") not in ([], [loader])

    # Killed outright (no graceful stop): what the worker had written to its spool (every
    # 0.2 s) is loaded by the next endpoint's loader, each row once.
    more = [post(url, "/score", json={"data": COMMENTS[:1]}).json()["request_id"] for _ in range(5)]
    time.sleep(0.5)
    session = next(e["pid"] for e in cli("ps", "-p", str(root), "--json").json() if e["environment"] == "production")
    os.killpg(session, signal.SIGKILL)
    assert wait_for(lambda: not session_pids(session))
    assert cli("up", "production", "-p", str(root)).code == 0
    assert wait_for(lambda: logged(log, "production") == before + 25), log.counts("spam", "production")
    window = log.window("spam", "production", rows=25)
    assert Counter(window.request_ids) == Counter({**{r: 2 for r in ids}, **{r: 1 for r in more}})


def test_retention_and_back_pressure(spam) -> None:  # type: ignore[no-untyped-def]
    root, url, log = spam["root"], spam["tiny"], spam["log"]
    now, day = time.time(), 86400.0

    def rows(environment: str, at: float, count: int) -> list[LogRecord]:
        return [LogRecord(f"old-{environment}-{at}", i, at, environment, "spam", 1, {"CONTENT": "old"}, 0,
                          [0.9, 0.1], 1.0, row_key(["old"], ["text"]), None, [0, 1]) for i in range(count)]

    log.append(rows("tiny", now - 10 * day, 3) + rows("tiny", now - 1 * day, 2) + rows("production", now - 10 * day, 4))
    production_before = logged(log, "production")
    assert cli("up", "tiny", "-p", str(root)).code == 0
    # tiny keeps 5 days: its 10-day-old rows go at start, its 1-day-old ones stay, and other
    # environments keep theirs (each purges with its own retention).
    assert wait_for(lambda: logged(log, "tiny") == 2), log.counts("spam", "tiny")
    assert log.window("spam", "tiny", rows=10).times.tolist() == [now - day] * 2
    assert logged(log, "production") == production_before

    # Back-pressure: the queue holds 3 rows. Five-row requests never fit; one-row requests fit
    # when the writer has caught up. Every request is answered, every row logged or counted.
    with httpx.Client(trust_env=False, timeout=30) as client:
        big = [client.post(url + "/score", json={"data": COMMENTS + ["one more"]}) for _ in range(10)]
        small = [client.post(url + "/score", json={"data": [COMMENTS[i % 4]]}) for i in range(20)]
    assert [r.status_code for r in big + small] == [200] * 30
    counts = wait_for(lambda: (c := log.counts("spam", "tiny"))["logged"] + c["dropped"] == 2 + 70 and c)
    assert counts and counts["dropped"] >= 50, log.counts("spam", "tiny")
    window = log.window("spam", "tiny", since=now - 60)
    assert set(window.request_ids) <= {r.json()["request_id"] for r in small}
    exposed = get(url, "/metrics").text
    dropped = next(line for line in exposed.splitlines() if line.startswith("champion_prediction_log_dropped_total{"))
    assert float(dropped.rsplit(" ", 1)[1]) == counts["dropped"]


@pytest.mark.parametrize(("rows", "seconds"), [(7, None), (None, 4.5), (5, 3.0), (100, None)])
def test_the_tail_of_a_window_is_the_window_read_again(tmp_path: Path, rows: int | None,
                                                        seconds: float | None) -> None:
    """The monitor reads its history once and takes the current window as its tail: the same
    rows, versions, inputs, outputs, probabilities and feedback as reading it again."""
    log = PredictionLog(f"sqlite:///{tmp_path / 'state.db'}")
    start = 1_800_000_000.0
    log.append([LogRecord(request_id=f"r{i}", row=0, at=start + i, environment="production", model="spam",
                          version=1 if i < 12 else 2, inputs={"CONTENT": f"text {i}", **({"X": i} if i % 3 else {})},
                          output=i % 2, proba=[0.3, 0.7] if i % 2 else [0.8, 0.2], latency_ms=1.0,
                          feature_key=row_key([f"text {i}"], ["text"]), identity_key=row_key([f"id{i}"], ["string"]),
                          classes=[0, 1]) for i in range(20)])
    log.add_feedback([FeedbackRecord(model="spam", environment="production", at=start + 30, actual=1,
                                     request_id="r17", row=0)])
    until = start + 19
    history = log.window("spam", "production", rows=200, until=until)
    again = log.window("spam", "production", rows=rows, seconds=seconds, until=until)
    tail = history.tail(rows=rows, seconds=seconds, until=until)
    assert len(again) > 0 and tail.request_ids == again.request_ids
    assert tail.inputs == again.inputs and tail.outputs == again.outputs and tail.actual == again.actual
    assert np.array_equal(tail.versions, again.versions) and np.array_equal(tail.times, again.times)
    assert tail.proba is not None and again.proba is not None and np.array_equal(tail.proba, again.proba)


def test_a_window_cut_inside_one_instant_labels_only_its_own_rows(tmp_path: Path) -> None:
    """Feedback is joined over the window's time span; rows of the same instant that fell
    outside the window's row limit must not lend it their labels."""
    log = PredictionLog(f"sqlite:///{tmp_path / 'state.db'}")
    at = 1_800_000_000.0
    log.append([LogRecord(request_id=f"r{i}", row=0, at=at, environment="production", model="spam", version=1,
                          inputs={"CONTENT": f"text {i}"}, output=0, proba=[0.9, 0.1], latency_ms=1.0,
                          feature_key=row_key([f"text {i}"], ["text"]), classes=[0, 1]) for i in range(5)])
    log.add_feedback([FeedbackRecord(model="spam", environment="production", at=at + 1, actual=i, request_id=f"r{i}",
                                     row=0) for i in (0, 1, 2, 4)])
    window = log.window("spam", "production", rows=2, until=at + 5)
    assert window.request_ids == ["r3", "r4"]
    assert window.actual == [None, 4]
    assert log.window("spam", "production", until=at + 5).actual == [0, 1, 2, None, 4]
