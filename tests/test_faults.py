"""Faults and hostile input against real endpoints and real processes: nothing lost, nothing
stuck, no worker starved. Each test reproduces a finding first, then checks the fix."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import cli, cli_process
from serving_support import free_port, get, new_project, post, session_pids, set_environments

from champion.project import Project
from champion.state.predictions import PredictionLog

COMMENTS = ["Check out my channel and subscribe!!! http://example.com", "I love this song so much",
            "Free gift cards at my website", "2015 and still listening"]


@pytest.fixture(scope="module")
def spam(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path):  # type: ignore[no-untyped-def]
    """A built spam project whose production endpoint each test starts as it needs."""
    root = new_project(tmp_path_factory.mktemp("faults") / "spam", migrated_mlflow_db)
    port = free_port()
    set_environments(root, {"staging": {"port": free_port()},
                            "production": {"port": port, "workers": 2, "poll_seconds": 0.2,
                                           "max_body_bytes": 16 << 20}})
    assert cli("build", "-p", str(root), "-q").code == 0
    assert cli("deploy", "production", "-p", str(root), "-q").code == 0
    down(root)
    yield {"root": root, "url": f"http://127.0.0.1:{port}"}
    down(root)


def down(root: Path) -> None:
    ps = cli("ps", "-p", str(root), "--json").json()
    assert cli("down", "-p", str(root)).code == 0
    deadline = time.monotonic() + 10
    while any(session_pids(e["pid"]) for e in ps) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [p for e in ps for p in session_pids(e["pid"])] == [], "an endpoint process outlived `down`"


def prediction_log(root: Path) -> PredictionLog:
    return PredictionLog(Project.open(root).state_uri)


def test_one_huge_request_loses_nothing_of_the_log(spam) -> None:  # type: ignore[no-untyped-def]
    """Found: after one 5 MB text, half of the following requests never reached the log and
    no drop was counted (the loader could not read a line longer than 4 MiB)."""
    root, url = spam["root"], spam["url"]
    assert cli("up", "production", "-p", str(root)).code == 0
    try:
        before = prediction_log(root).counts("spam", "production")["logged"]
        huge = post(url, "/score", json={"data": ["subscribe " * 520_000]})  # 5.2 MB
        assert huge.status_code == 200, huge.text
        ids = [huge.json()["request_id"]]
        for i in range(100):
            response = post(url, "/score", json={"data": [COMMENTS[i % 4]]})
            assert response.status_code == 200
            ids.append(response.json()["request_id"])
    finally:
        down(root)
    log = prediction_log(root)
    counts = log.counts("spam", "production")
    assert counts["logged"] - before == 101 and counts["dropped"] == 0
    window = log.window("spam", "production", rows=101)
    assert sorted(window.request_ids) == sorted(ids)
    spool = root / ".champion" / "endpoints" / "production" / "spool"
    assert list(spool.glob("*.jsonl")) == []  # everything loaded, nothing left behind


def test_drops_are_shown_by_status_monitor_and_metrics(spam) -> None:  # type: ignore[no-untyped-def]
    root, url = spam["root"], spam["url"]
    # Rows never logged, as a full queue or a dead worker's unfinished line leaves them counted.
    prediction_log(root).append_rows([], {}, {("spam", "production"): 7})
    status = cli("status", "-p", str(root), "--json")
    assert status.json()["models"][0]["log_dropped"] == {"production": 7}
    shown = cli("status", "-p", str(root))
    assert "prediction log of production: 7 rows dropped" in " ".join(shown.stdout.split())
    monitored = cli("monitor", "-p", str(root), "--no-notify")
    assert monitored.code == 0, monitored.stderr
    assert "7 scored rows never reached the prediction log" in " ".join(monitored.stdout.split())
    assert cli("up", "production", "-p", str(root)).code == 0
    try:
        metrics = get(url, "/metrics").text
        assert 'champion_prediction_log_lost_rows{model="spam"} 7.0' in metrics
    finally:
        down(root)


def start_build(root: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "champion", "build", "-p", str(root), "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.parametrize("delay", [0.15, 0.45, 0.7, 0.95, 1.3])
def test_a_build_killed_during_the_first_migrations_leaves_a_usable_project(
        tmp_path: Path, delay: float) -> None:
    """Found: SIGKILL 0.45-1.3 s after `.champion/mlflow.db` appeared left a half-migrated
    database on which every later command exited 1 ("table _alembic_tmp_experiments already
    exists"). The new database now appears whole or not at all."""
    root = tmp_path / "spam"
    assert cli("init", str(root), "--template", "youtube-spam").code == 0
    state = root / ".champion"
    build = start_build(root)
    try:
        deadline = time.monotonic() + 60
        while not (state.exists() and any(p.name.startswith("mlflow.db") for p in state.iterdir())):
            assert time.monotonic() < deadline and build.poll() is None, "the build never opened its registry"
            time.sleep(0.01)
        time.sleep(delay)
    finally:
        build.kill()
        build.wait()
    status = cli_process("status", "-p", str(root), "--json")
    assert status.code == 0, status.stderr
    assert status.json()["models"][0]["model"] == "spam"
    if delay == 0.45:  # and a build after it works
        rebuilt = cli_process("build", "-p", str(root), "-q", "--json")
        assert rebuilt.code == 0, rebuilt.stderr
        assert rebuilt.json()["verdict"] == "FIRST_MODEL"
