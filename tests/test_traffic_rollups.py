"""Traffic per minute (`prediction_minutes`): what a running endpoint's loader rolls up,
with failed requests; percentiles against numpy; writers that share a minute; a load that
fails counts nothing and the next counts once; the migration's backfill; retention. The
store tests run on SQLite and on a real PostgreSQL 15 cluster when one is installed."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import cli
from fixtures.keyword_recipe import KeywordClassifier
from serving_support import free_port, get, new_project, post, set_environments, wait_until
from sqlalchemy import text

from champion.config import ModelSettings
from champion.project import Project
from champion.serving.loaded import InputColumn, LoadedModel
from champion.serving.log_loader import SpoolLoader
from champion.serving.log_spool import FLUSH_SECONDS, SEGMENT_SUFFIX, SpoolWriter
from champion.serving.metrics import ServingMetrics
from champion.state import schema
from champion.state.predictions import LATENCY_BOUNDS_MS, EncodedRow, PredictionLog, minute_of
from champion.state.schema import VERSION_TABLE
from champion.state.store import StateError
from champion.state.traffic import percentile, series, traffic

T0 = 1_800_000_000  # a minute's start (divisible by 60)
COMMENTS = ["Check out my channel and subscribe!!! http://example.com", "I love this song so much",
            "Free gift cards at my website", "2015 and still listening"]


# ---- stores -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def postgres() -> Iterator[Any]:
    from team_servers import Postgres, postgres_bin

    if postgres_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed; .ci/run installs it (apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql); CI runs these tests")
    cluster = Postgres.start()
    cluster.create_database("traffic")
    os.environ["PGPASSWORD"] = cluster.password
    try:
        yield cluster
    finally:
        os.environ.pop("PGPASSWORD", None)
        cluster.stop(remove=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], PredictionLog]:
    """Opens the test's state store (each call: a new `PredictionLog`, as another process would)."""
    if request.param == "sqlite":
        url, store_schema = f"sqlite:///{tmp_path / 'state.db'}", None
    else:
        url, store_schema = request.getfixturevalue("postgres").url("traffic"), f"champion_{uuid.uuid4().hex[:12]}"
    return lambda: PredictionLog(url, store_schema)


def request_rows(request_id: str, at: float, latency: float, rows: int = 1, version: int = 1,
                 environment: str = "production") -> list[EncodedRow]:
    return [("spam", environment, at, request_id, i, version, '{"CONTENT":"x"}', "0", "[0.9,0.1]", latency, None,
             "k" * 64) for i in range(rows)]


# ---- what the store rolls up --------------------------------------------------------------------
def test_percentiles_follow_numpy_and_every_request_counts_once(opener: Callable[[], PredictionLog]) -> None:
    log = opener()
    generator = np.random.default_rng(7)
    latencies = np.concatenate([generator.lognormal(np.log(2.0), 0.5, 4_000),  # one-row requests
                                generator.lognormal(np.log(150.0), 0.4, 1_000)])  # batches
    sizes = [1] * 4_000 + [50] * 1_000
    times = T0 + generator.uniform(0, 600, len(latencies))  # ten minutes
    rows = [row for i, (at, ms, size) in enumerate(zip(times, latencies, sizes, strict=True))
            for row in request_rows(f"r-{i}", float(at), float(ms), size)]
    for start in range(0, len(rows), 5_000):  # batches as the loader writes them
        log.append_rows(rows[start:start + 5_000])

    got = traffic(log, "spam", "production", 600, now=T0 + 600)
    assert (got["requests"], got["scored"], got["rows"], got["errors"], got["rejected"]) == (5_000, 5_000, 54_000, 0, 0)
    assert got["requests_per_second"] == pytest.approx(5_000 / 600) and got["error_rate"] == 0.0
    assert got["mean_ms"] == pytest.approx(float(np.mean(latencies)), rel=1e-9)
    for key, q in (("p50_ms", 50), ("p99_ms", 99)):
        exact = float(np.percentile(latencies, q))
        bucket = int(np.searchsorted(LATENCY_BOUNDS_MS, exact))
        lower = LATENCY_BOUNDS_MS[bucket - 1] if bucket else 0.0
        assert lower <= got[key] <= LATENCY_BOUNDS_MS[bucket], (key, got[key], exact)  # type: ignore[operator]
        assert got[key] == pytest.approx(exact, rel=0.1), (key, got[key], exact)  # buckets ~1.5x apart
    assert got["versions"] == [1] and got["since"] == T0 and got["seconds"] == 600

    # Per minute: the same figures, minute by minute, every minute present.
    points = series(log, "spam", "production", T0, T0 + 599)
    assert [p["at"] for p in points] == [T0 + 60 * i for i in range(10)]
    minute = (times - T0) // 60
    for i, point in enumerate(points):
        mine = latencies[minute == i]
        assert point["scored"] == len(mine) and point["versions"] == [1]
        assert point["p50_ms"] == pytest.approx(float(np.percentile(mine, 50)), rel=0.1)
    five = series(log, "spam", "production", T0, T0 + 599, step=300)
    assert [p["requests"] for p in five] == [int(np.sum(minute < 5)), int(np.sum(minute >= 5))]


def test_percentiles_inside_one_bucket_and_past_the_last_bound() -> None:
    histogram = [0] * (len(LATENCY_BOUNDS_MS) + 1)
    histogram[LATENCY_BOUNDS_MS.index(3)] = 100  # 100 requests in (2, 3] ms
    assert percentile(histogram, 0.5) == pytest.approx(2.5) and percentile(histogram, 0.99) == pytest.approx(2.99)
    histogram[-1] = 300  # 300 more above the last bound: no upper end to interpolate to
    assert percentile(histogram, 0.5) == LATENCY_BOUNDS_MS[-1]
    assert percentile([0] * len(histogram), 0.5) is None


def test_two_writers_on_the_same_minute_add_up(opener: Callable[[], PredictionLog]) -> None:
    """Two loaders (two machines of a team, one store) writing the same minutes at once."""
    writers = [opener(), opener()]
    failures = {("spam", "production", T0, 1): (1, 2)}

    def write(log: PredictionLog, name: str) -> None:
        for batch in range(20):
            rows = [row for i in range(10) for row in request_rows(f"{name}-{batch}-{i}", T0 + i * 7, 4.0, 2)]
            log.append_rows(rows, failures=failures)

    threads = [threading.Thread(target=write, args=(log, f"w{n}")) for n, log in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    got = traffic(writers[0], "spam", "production", 120, now=T0 + 119)
    assert (got["scored"], got["rows"], got["errors"], got["rejected"]) == (400, 800, 40, 80)
    assert got["requests"] == 520 and got["error_rate"] == pytest.approx(40 / 520)
    assert [p["scored"] for p in series(writers[1], "spam", "production", T0, T0 + 119)] == [360, 40]


def test_the_migration_backfills_the_rollup_from_an_existing_log(opener: Callable[[], PredictionLog]) -> None:
    log = opener()
    generator = np.random.default_rng(3)
    now = float(T0 + 3 * 3600)
    rows = [row for i in range(3_000) for row in request_rows(
        f"r-{i}", now - float(generator.uniform(0, 3 * 3600)), float(generator.lognormal(1.0, 1.0)),
        int(generator.integers(1, 4)), version=1 + i % 2, environment=("production", "staging")[i % 3 == 0])]
    log.append_rows(rows)
    written = {env: traffic(log, "spam", env, 4 * 3600, now) for env in ("production", "staging")}
    minutes = {env: series(log, "spam", env, now - 4 * 3600, now) for env in ("production", "staging")}

    # The database as revision 0001 left it: the log, no rollup. A new process opens it.
    with log.engine.begin() as connection:
        connection.execute(text("DROP TABLE prediction_minutes"))
        connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0001'"))
    schema._checked.clear()
    upgraded = opener()
    assert schema.revision_of(upgraded.engine) == schema.head()
    for env in ("production", "staging"):
        backfilled = dict(traffic(upgraded, "spam", env, 4 * 3600, now))
        mean = backfilled.pop("mean_ms")  # summed in another order: the last bits may differ
        assert backfilled == {k: v for k, v in written[env].items() if k != "mean_ms"}
        assert mean == pytest.approx(written[env]["mean_ms"], rel=1e-9)
        assert series(upgraded, "spam", env, now - 4 * 3600, now) == minutes[env]
    assert written["production"]["scored"] + written["staging"]["scored"] == 3_000
    assert written["production"]["versions"] == [1, 2]


def test_retention_deletes_old_minutes_of_its_own_environment(opener: Callable[[], PredictionLog]) -> None:
    log = opener()
    now, day = float(T0), 86400.0
    log.append_rows(request_rows("old", now - 10 * day, 5.0) + request_rows("new", now - day, 5.0)
                    + request_rows("other", now - 10 * day, 5.0, environment="staging"),
                    failures={("spam", "production", minute_of(now - 10 * day), 0): (3, 0)})
    assert traffic(log, "spam", "production", 30 * day, now)["requests"] == 5
    log.purge(now - 5 * day, model="spam", environment="production")
    kept = traffic(log, "spam", "production", 30 * day, now)
    assert (kept["requests"], kept["errors"]) == (1, 0)
    assert traffic(log, "spam", "staging", 30 * day, now)["requests"] == 1


# ---- the spool and the loader -------------------------------------------------------------------
@pytest.fixture(scope="module")
def spam_settings(tmp_path_factory: pytest.TempPathFactory) -> ModelSettings:
    root = tmp_path_factory.mktemp("traffic") / "spam"
    assert cli("init", str(root), "--template", "youtube-spam").code == 0
    return Project.open(root).config.models["spam"]


@pytest.fixture
def model() -> LoadedModel:
    texts = ["buy cheap pills now", "nice song", "cheap pills here", "love it"]
    recipe = KeywordClassifier(top=2).fit(pd.DataFrame({"CONTENT": texts}), pd.Series([1, 0, 1, 0]))
    return LoadedModel("spam", 3, "run", recipe, [InputColumn("CONTENT", "text")], "sha", "keyword")


def spool_requests(spool: SpoolWriter, model: LoadedModel, count: int, at: float) -> None:
    for i in range(count):
        texts = COMMENTS[: 1 + i % 3]
        labels, proba = model.predict_rows({"CONTENT": texts})
        spool.scored(model, f"{at}-{i}", at, time.perf_counter(), {"CONTENT": texts}, None, labels, proba)


def test_failures_are_counted_per_flush_and_a_failed_load_counts_nothing(
        tmp_path: Path, model: LoadedModel, spam_settings: ModelSettings) -> None:
    path = tmp_path / "state.db"
    store = PredictionLog(f"sqlite:///{path}")
    folder = tmp_path / "spool"
    spool = SpoolWriter(folder, 1_000_000, ServingMetrics())
    spool_requests(spool, model, 9, T0 + 5.0)  # 9 requests, 18 rows

    async def failing() -> None:  # as in a worker: counted on the event loop, written by its timer
        for i in range(40):
            spool.failed("spam", 3, T0 + 30.0 + i, 503 if i % 4 == 0 else 400)  # minutes T0 and T0 + 60
        spool.failed("spam", 0, T0 + 1.0, 503)  # before any version was served
        await asyncio.sleep(FLUSH_SECONDS + 0.1)

    asyncio.run(failing())
    [segment] = folder.glob("*" + SEGMENT_SUFFIX)
    counted = [line for line in segment.read_bytes().splitlines() if line.startswith(b'["x"')]
    assert len(counted) == 5  # one line per (version, minute, status), not one per request

    # A load whose transaction fails (the disk, the server) leaves no trace in the rollup.
    def loader() -> SpoolLoader:  # a new one each time: what a restarted loader process has
        return SpoolLoader(folder, store, "production", {"spam": spam_settings}, 30.0, write_rows=4)

    with sqlite3.connect(path) as db:
        db.execute("CREATE TRIGGER refuse BEFORE INSERT ON prediction_log_spool BEGIN SELECT RAISE(ABORT, 'no'); END")
    with pytest.raises(StateError, match="predictions to the log failed"):
        loader().load()
    assert traffic(store, "spam", "production", 300, now=T0 + 120)["requests"] == 0

    # A loader that dies part-way (its transaction past 8 rows fails) leaves what it
    # committed; the next one goes on from there and counts each request once.
    spool_requests(spool, model, 6, T0 + 70.0)
    spool.close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER refuse")
        db.execute("CREATE TRIGGER refuse BEFORE UPDATE ON prediction_log_spool WHEN NEW.loaded_rows > 8 "
                   "BEGIN SELECT RAISE(ABORT, 'no'); END")
    with pytest.raises(StateError):
        loader().load()
    part = traffic(store, "spam", "production", 300, now=T0 + 120)
    assert 0 < part["rows"] <= 8 and part["rows"] == store.counts("spam", "production")["logged"]
    assert (part["errors"], part["rejected"]) == (0, 0)  # spooled after those rows
    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER refuse")
    assert loader().load() == 30 - part["rows"]
    got = traffic(store, "spam", "production", 300, now=T0 + 120)
    assert (got["scored"], got["rows"], got["errors"], got["rejected"]) == (15, 30, 11, 30)
    assert got["versions"] == [3] and store.counts("spam", "production")["logged"] == 30
    points = series(store, "spam", "production", T0, T0 + 119)
    assert [(p["scored"], p["errors"], p["rejected"]) for p in points] == [(9, 9, 22), (6, 2, 8)]


# ---- a running endpoint -------------------------------------------------------------------------
def test_a_running_endpoint_rolls_up_its_requests_and_failures(tmp_path: Path, migrated_mlflow_db: Path) -> None:
    root = new_project(tmp_path / "spam", migrated_mlflow_db)
    port = free_port()
    set_environments(root, {"staging": {"port": free_port()},
                            "production": {"port": port, "workers": 1, "poll_seconds": 0.2}})
    assert cli("build", "-p", str(root), "-q").code == 0
    process = subprocess.Popen([sys.executable, "-m", "champion", "serve", "production", "-p", str(root)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    log = PredictionLog(f"sqlite:///{root / '.champion' / 'state.db'}")
    try:
        wait_until(lambda: get(url, "/health"), timeout=30, every=0.1)
        # No version is served yet: 503s, counted under version 0.
        assert [post(url, "/score", json={"data": ["x"]}).status_code for _ in range(3)] == [503] * 3
        assert cli("deploy", "production", "-p", str(root), "-q").code == 0
        tensor = {"name": "CONTENT", "datatype": "BYTES", "shape": [2], "data": COMMENTS[:2]}
        answered = [post(url, "/score", json={"data": [c]}) for c in COMMENTS]
        answered.append(post(url, "/score", json={"data": COMMENTS[:3]}))
        answered += [post(url, "/v2/models/spam/infer", json={"inputs": [tensor]}) for _ in range(2)]
        assert [r.status_code for r in answered] == [200] * 7
        rejected = [post(url, "/score", content=b"{not json"), post(url, "/score", json={"data": []}),
                    post(url, "/v2/models/spam/infer", json={"inputs": [{"name": "CONTENT"}]})]
        assert [r.status_code for r in rejected] == [400] * 3
        # Not counted: a model the endpoint does not serve, and synthetic traffic.
        assert post(url, "/v2/models/nope/infer", json={"inputs": [tensor]}).status_code == 404
        assert post(url, "/score", content=b"{", headers={"x-champion-synthetic": "1"}).status_code == 400
        assert post(url, "/score", json={"data": ["hi"]}, headers={"x-champion-synthetic": "1"}).status_code == 200

        got = wait_until(lambda: (t := traffic(log, "spam", "production", 300))["requests"] >= 13 and t,
                         timeout=30, every=0.1)
        time.sleep(0.5)  # anything more (wrongly counted) would be loaded by now
        got = traffic(log, "spam", "production", 300)
        assert (got["requests"], got["scored"], got["rows"], got["errors"], got["rejected"]) == (13, 7, 11, 3, 3)
        assert got["error_rate"] == pytest.approx(3 / 13) and got["versions"] == [1]
        window = log.window("spam", "production", seconds=300)
        assert got["rows"] == len(window) and got["scored"] == int(np.sum(window.rows == 0))
        assert got["p50_ms"] is not None and 0 < got["p50_ms"] <= got["p99_ms"] <= 1_000
        points = series(log, "spam", "production", time.time() - 300)
        assert sum(p["errors"] for p in points) == 3 and {v for p in points for v in p["versions"]} == {1}
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0, process.stderr.read().decode() if process.stderr else ""
