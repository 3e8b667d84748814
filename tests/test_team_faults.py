"""A team's servers restart under load: PostgreSQL and the MLflow tracking server go away in
the middle of logging, a build and a deploy. Commands fail with a clear message or finish,
nothing is left half-done, endpoints keep serving, and the prediction log catches up.
These tests own their servers (they stop and start them)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from team_servers import MlflowServer, Postgres, postgres_bin, running_team_servers
from team_support import Host


@pytest.fixture(scope="module")
def own_servers() -> Iterator[tuple[Postgres, MlflowServer]]:
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed; CI runs these tests")
    with running_team_servers() as servers:
        yield servers


@pytest.fixture(scope="module")
def released(own_servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Host, dict]]:  # type: ignore[type-arg]
    postgres, server = own_servers
    postgres.create_database("state")
    host = Host.create(tmp_path_factory.mktemp("faults"), "a", postgres, server, "state")
    assert host.json("build", "spam", "-q")["version"] == 1
    assert host.json("release", "spam", "-q")["ok"]
    yield host, host.json("ps", "production")[0]
    host.run("down")


def _score(url: str, n: int, tag: str) -> list[int]:
    codes = []
    with httpx.Client(base_url=url, timeout=30, trust_env=False) as http:
        for i in range(n):
            response = http.post("/score", json={"data": [{"COMMENT_ID": f"{tag}-{i}", "CONTENT": f"comment {tag} {i}"}]},
                                 headers={"x-request-id": f"{tag}-{i}"})
            codes.append(response.status_code)
    return codes


def _logged(postgres: Postgres, tag: str) -> int:
    return int(postgres.sql("state", "SELECT count(*) FROM champion_youtube_spam.predictions "
                                     f"WHERE request_id LIKE '{tag}-%'"))


def test_postgres_down_during_a_logging_burst_the_endpoint_serves_and_the_log_catches_up(
        own_servers, released) -> None:  # type: ignore[no-untyped-def]
    postgres, _ = own_servers
    host, production = released
    postgres.stop()
    try:
        codes = _score(production["url"], 150, "outage")
        assert codes == [200] * 150  # served from the loaded version, logged to the local spool
        health = httpx.get(production["url"] + "/health", timeout=10, trust_env=False).json()
        assert health["models"]["spam"]["version"] == 1
    finally:
        postgres.restart()
    deadline = time.monotonic() + 60
    while _logged(postgres, "outage") < 150 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _logged(postgres, "outage") == 150  # every row, exactly once
    assert int(postgres.sql("state", "SELECT count(DISTINCT request_id) FROM champion_youtube_spam.predictions "
                                     "WHERE request_id LIKE 'outage-%'")) == 150


def test_the_tracking_server_down_a_build_fails_clearly_and_leaves_nothing_half_done(
        own_servers, released) -> None:  # type: ignore[no-untyped-def]
    postgres, server = own_servers
    host, production = released
    server.stop()
    try:
        started = time.monotonic()
        failed = host.run("build", "spam", "--json")
        assert time.monotonic() - started < 90  # retried over a restart's length, then gave up
        assert failed.code == 1, failed.stdout + failed.stderr
        error = json.loads(failed.stdout)["error"]
        assert f"the tracking server at {server.url} could not be reached (connection refused)" in error["message"], error
        assert "HTTPConnectionPool" not in error["message"]  # said in words, not urllib3's
        assert "Traceback" not in failed.stderr
        # Production keeps serving its loaded version meanwhile.
        assert _score(production["url"], 20, "no-tracking") == [200] * 20
    finally:
        server.restart()
    status = host.json("status")["models"][0]
    assert status["aliases"]["production"]["version"] == 1 and status["leftovers"]["dead_runs"] == []


def test_postgres_down_a_deploy_fails_clearly_and_the_alias_stays(own_servers, released) -> None:  # type: ignore[no-untyped-def]
    postgres, server = own_servers
    host, _ = released
    postgres.stop()
    # Without its database the tracking server holds each request ~100 s before it answers
    # 500, so the deploy's MLflow client waits out its per-request timeout on every retry
    # (5 x 30 s by default). A user may choose the timeout; 5 s here: the same failure, in
    # well under a minute instead of nearly three.
    host.env["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "5"
    try:
        failed = host.run("deploy", "staging", "--version", "1", "--json")
        assert failed.code in (1, 4), failed.stdout + failed.stderr
        assert "Traceback" not in failed.stderr and json.loads(failed.stdout)["error"]["message"]
        assert postgres.password not in failed.stdout + failed.stderr
    finally:
        del host.env["MLFLOW_HTTP_REQUEST_TIMEOUT"]
        postgres.restart()
    history = host.json("history", "spam")
    from mlflow import MlflowClient

    aliases = MlflowClient(tracking_uri=server.url, registry_uri=server.url).get_registered_model(
        "youtube-spam.spam").aliases
    for alias, version in aliases.items():  # history and aliases agree
        moves = [m for m in history if m["alias"] == alias]
        assert moves and moves[-1]["to_version"] == int(version), (alias, history)


def test_postgres_restarted_in_the_middle_of_a_build_leaves_nothing_half_done(own_servers, released) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL (champion's state and the tracking server's store) goes away while a build
    trains, and comes back: the build ends clearly either way, and registry, history and
    runs agree after."""
    from mlflow import MlflowClient

    postgres, server = own_servers
    host, production = released
    client = MlflowClient(tracking_uri=server.url, registry_uri=server.url)
    before = {int(v.version) for v in client.search_model_versions("name = 'youtube-spam.spam'")}
    experiment = client.get_experiment_by_name("youtube-spam.spam")
    with host.started("build", "spam", "--json", "-q") as build:
        deadline = time.monotonic() + 120
        while build.poll() is None and time.monotonic() < deadline and not client.search_runs(
                [experiment.experiment_id], "attributes.status = 'RUNNING'"):
            time.sleep(0.05)
        assert build.poll() is None, "the build ended before its run started"
        postgres.stop()
        try:
            assert _score(production["url"], 20, "pg-build") == [200] * 20  # serving goes on
            time.sleep(2)
        finally:
            postgres.restart()
        out, err = build.communicate(timeout=300)
    assert build.returncode in (0, 1, 3, 4), (build.returncode, out, err)
    assert "Traceback" not in err and postgres.password not in out + err
    after = {int(v.version) for v in client.search_model_versions("name = 'youtube-spam.spam'")}
    if build.returncode in (0, 3):  # it rode over the outage: promoted or rejected, registered either way
        assert len(after - before) <= 1
    else:
        assert json.loads(out)["error"]["message"]
        assert after == before, (before, after)  # no version without its verdict
    status = host.json("status")["models"][0]
    assert status["leftovers"]["interrupted_moves"] == [], status["leftovers"]
    assert status["leftovers"]["dead_runs"] == [], status["leftovers"]  # the run was closed, not left RUNNING
    assert status["leftovers"]["orphan_versions"] == [], status["leftovers"]
