"""Faults and hostile input against real endpoints and real processes: nothing lost, nothing
stuck, no worker starved. Each test reproduces a finding first, then checks the fix."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import cli, cli_process
from serving_support import free_port, get, new_project, post, session_pids, set_environments

from champion.project import Project
from champion.state.predictions import PredictionLog
from champion.state.store import AliasMove, now
from champion.workspace import Workspace

COMMENTS = ["Check out my channel and subscribe!!! http://example.com", "I love this song so much",
            "Free gift cards at my website", "2015 and still listening"]


@pytest.fixture(scope="module")
def spam(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path):  # type: ignore[no-untyped-def]
    """A built spam project whose production endpoint each test starts as it needs."""
    root = new_project(tmp_path_factory.mktemp("faults") / "spam", migrated_mlflow_db)
    port = free_port()
    set_environments(root, {"staging": {"port": free_port()},
                            "production": {"port": port, "workers": 2, "poll_seconds": 0.2,
                                           "max_body_bytes": 16 << 20, "max_row_chars": 10_000_000,
                                           "max_request_chars": 10_000_000}})
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


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path):  # type: ignore[no-untyped-def]
    """A spam project with versions 1 (the champion) and 2 (registered by hand), whose
    production endpoint retries a refused version after one second."""
    root = new_project(tmp_path_factory.mktemp("faults") / "spam", migrated_mlflow_db)
    port = free_port()
    set_environments(root, {"staging": {"port": free_port()},
                            "production": {"port": port, "workers": 2, "poll_seconds": 0.2,
                                           "retry_refused_seconds": 1.0}})
    assert cli("build", "-p", str(root), "-q").code == 0
    trained = cli("train", "-p", str(root), "-q", "--json", "--param=C=0.5")
    assert trained.code == 0, trained.stderr
    ws = Workspace(Project.open(root))
    assert ws.registry.register("spam", ws.registry.run(trained.json()["run_id"]), {}).version == 2
    yield {"root": root, "url": f"http://127.0.0.1:{port}"}
    down(root)


def recipe_file(root: Path, version: int) -> Path:
    """A file of the stored model of `version` (its artifact hash covers it)."""
    ws = Workspace(Project.open(root))
    run = ws.registry.run(ws.registry.version("spam", version).run_id)
    folder = Path(run.tags["champion.model_artifacts"].removeprefix("file://")) / "artifacts" / "recipe"
    return next(p for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix == ".json")


@contextlib.contextmanager
def tampered(root: Path, version: int) -> Iterator[None]:
    """Version `version`'s stored model changed (its hash no longer matches) for the block."""
    stored = recipe_file(root, version)
    original = stored.read_bytes()
    stored.write_bytes(original + b" ")
    try:
        yield
    finally:
        stored.write_bytes(original)


def alias(root: Path, name: str) -> int | None:
    return Workspace(Project.open(root)).registry.aliases("spam").get(name)


def history(root: Path) -> list[tuple[int | None, int | None]]:
    moves = cli("history", "-p", str(root), "--alias", "production", "--json").json()
    return [(m["from_version"], m["to_version"]) for m in moves]


def test_a_deploy_killed_when_the_alias_moved_is_settled_shown_and_rolled_back(two) -> None:  # type: ignore[no-untyped-def]
    """Found: version 2's artifact tampered, `deploy production --version 2` SIGKILLed once
    the alias read 2: the alias said 2, version 1 was served, /health said Healthy, the
    history ended at 1 and `rollback` refused ("moved outside champion")."""
    root, url = two["root"], two["url"]
    assert cli("deploy", "production", "--version", "1", "-p", str(root), "-q").code == 0
    with tampered(root, 2):
        deploying = subprocess.Popen([sys.executable, "-m", "champion", "deploy", "production", "--version", "2",
                                      "-p", str(root), "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while alias(root, "production") != 2:
            assert time.monotonic() < deadline and deploying.poll() is None, "the deploy never moved the alias"
            time.sleep(0.005)
        deploying.kill()
        deploying.wait()
        # The endpoint refuses 2 and keeps serving 1, and says so.
        deadline = time.monotonic() + 30
        while "refused" not in (get(url, "/health").json()["models"]["spam"].get("note") or ""):
            assert time.monotonic() < deadline, get(url, "/health").json()
            time.sleep(0.2)
        assert post(url, "/score", json={"data": COMMENTS[:1]}).json()["version"] == 1
        # Each of the two workers refuses 2 on its own poll, and each `ps` asks one of them:
        # wait until both the JSON and the table have shown the refusal (one may come from the
        # worker still fetching 2, which has not refused it yet).
        deadline = time.monotonic() + 30
        while True:
            [endpoint] = cli("ps", "production", "-p", str(root), "--json").json()
            table = " ".join(cli("ps", "production", "-p", str(root)).stdout.split())
            if (endpoint["state"] == "Healthy" and "which was refused" in " ".join(endpoint["notes"])
                    and "alias points at 2" in table):
                break
            assert time.monotonic() < deadline, (endpoint, table)
            time.sleep(0.2)
        assert endpoint["version"] == 1 and "the production alias points at 2, which was refused" in endpoint["notes"][0]
        # The next command settles the history (2 is recorded) and rollback returns to 1.
        back = cli("rollback", "production", "-p", str(root), "--json")
        assert back.code == 0, back.stderr
        assert back.json()["version"] == 1 and alias(root, "production") == 1
        assert history(root)[-2:] == [(1, 2), (2, 1)]


def test_a_move_interrupted_between_alias_and_history_is_recorded_by_the_next_command(two) -> None:  # type: ignore[no-untyped-def]
    root = two["root"]
    ws = Workspace(Project.open(root))
    before = alias(root, "staging")
    # What a process killed right after moving the alias leaves: the intent, the moved alias.
    ws.state.begin_move(AliasMove("spam", "staging", before, 2, now(), "someone", "deploy to staging", None))
    ws.registry.set_alias("spam", "staging", 2)
    status = cli("status", "-p", str(root), "--json").json()["models"][0]
    assert [m["to_version"] for m in status["leftovers"]["interrupted_moves"]] == [2]
    tidied = cli("gc", "-p", str(root), "--json")
    assert tidied.code == 0, tidied.stderr
    [settled] = tidied.json()[0]["settled_moves"]
    assert (settled["from_version"], settled["to_version"]) == (before, 2) and "interrupted" in settled["reason"]
    moves = cli("history", "-p", str(root), "--alias", "staging", "--json").json()
    assert (moves[-1]["from_version"], moves[-1]["to_version"]) == (before, 2)
    # An intent whose alias never moved is forgotten, not recorded.
    ws.state.begin_move(AliasMove("spam", "staging", 2, 1, now(), "someone", "deploy to staging", None))
    assert cli("gc", "-p", str(root), "--json").json()[0]["settled_moves"] == []
    assert len(cli("history", "-p", str(root), "--alias", "staging", "--json").json()) == len(moves)


def test_a_refused_version_is_retried_once_its_artifact_is_repaired(two) -> None:  # type: ignore[no-untyped-def]
    """Found: after the artifact was restored, the endpoints kept refusing version 2 until
    `down`/`up`."""
    root, url = two["root"], two["url"]
    assert cli("deploy", "production", "--version", "1", "-p", str(root), "-q").code == 0
    with tampered(root, 2):
        refused = cli("deploy", "production", "--version", "2", "-p", str(root))
        assert refused.code != 0 and "refused" in refused.stderr and alias(root, "production") == 1
        # Moved by hand (as a script might), the alias points at the broken version.
        Workspace(Project.open(root)).registry.set_alias("spam", "production", 2)
        deadline = time.monotonic() + 30
        while "refused" not in (get(url, "/health").json()["models"]["spam"].get("note") or ""):
            assert time.monotonic() < deadline
            time.sleep(0.2)
    deadline = time.monotonic() + 30  # retried after 1, 2, 4 ... s: no restart, no deploy
    while post(url, "/score", json={"data": COMMENTS[:1]}).json()["version"] != 2:
        assert time.monotonic() < deadline, get(url, "/health").json()
        time.sleep(0.2)
    Workspace(Project.open(root)).registry.set_alias("spam", "production", 1)


def test_up_exits_4_for_an_endpoint_that_serves_nothing(two) -> None:  # type: ignore[no-untyped-def]
    """Found: `champion up` exited 0 for an endpoint that answered 503 to everything."""
    root = two["root"]
    down(root)
    ws = Workspace(Project.open(root))
    ws.registry.set_alias("spam", "production", 2)
    try:
        with tampered(root, 2):
            started = cli("up", "production", "-p", str(root))
        assert started.code == 4
        said = " ".join(started.stderr.split())
        assert "production is Unhealthy" in said and "version 2 was refused" in said
    finally:
        ws.registry.set_alias("spam", "production", 1)
        down(root)


def test_runs_and_versions_a_killed_build_left_are_shown_and_tidied(two) -> None:  # type: ignore[no-untyped-def]
    """Found: killed builds left MLflow runs RUNNING and versions registered but never
    aliased, shown nowhere."""
    root = two["root"]
    ws = Workspace(Project.open(root))
    # A process that dies in the middle of its run (as a killed build does).
    died = subprocess.run([sys.executable, "-c", f"""
import os, socket
from pathlib import Path
from champion.workspace import Workspace
from champion.project import Project
import mlflow
ws = Workspace(Project.open({str(root)!r}))
mlflow.start_run(experiment_id=ws.registry.experiment_id("spam"),
                 tags={{"champion.host": socket.gethostname(), "champion.pid": str(os.getpid())}})
print(mlflow.active_run().info.run_id, flush=True)
os._exit(0)
"""], capture_output=True, text=True, timeout=120)
    dead_run = died.stdout.strip()
    assert ws.registry.run(dead_run).status == "RUNNING", died.stderr
    # What a build killed between registering and moving the champion alias leaves.
    orphan = ws.registry.register("spam", ws.registry.run(ws.registry.version("spam", 1).run_id),
                                  {"champion.verdict": "PROMOTE"}).version
    found = cli("status", "-p", str(root), "--json").json()["models"][0]["leftovers"]
    assert found["dead_runs"] == [dead_run] and found["orphan_versions"] == [orphan]
    assert "registered by a build that stopped" in " ".join(cli("status", "-p", str(root)).stdout.split())
    # The next build tidies: the run is marked KILLED, the version tagged as an orphan.
    assert cli("build", "-p", str(root), "-q").code in (0, 3)
    assert ws.registry.run(dead_run).status == "KILLED"
    assert "champion.orphan" in ws.registry.version("spam", orphan).tags
    tidied = cli("gc", "-p", str(root), "--delete-orphans", "--json").json()[0]
    assert tidied["deleted_versions"] == [orphan]
    assert orphan not in [v.version for v in ws.registry.versions("spam")]
    after = cli("status", "-p", str(root), "--json").json()["models"][0]["leftovers"]
    assert after["dead_runs"] == [] and after["orphan_versions"] == []



@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path):  # type: ignore[no-untyped-def]
    """A spam project served by one worker with default limits and a 1 s body timeout."""
    root = new_project(tmp_path_factory.mktemp("faults") / "spam", migrated_mlflow_db)
    port = free_port()
    set_environments(root, {"staging": {"port": free_port()},
                            "production": {"port": port, "workers": 1, "read_timeout_seconds": 1.0}})
    assert cli("build", "-p", str(root), "-q").code == 0
    assert cli("deploy", "production", "-p", str(root), "-q").code == 0
    yield {"root": root, "url": f"http://127.0.0.1:{port}", "port": port}
    down(root)


def test_the_text_of_one_request_is_bounded_with_a_413_naming_the_limit(one_worker) -> None:  # type: ignore[no-untyped-def]
    """Found: one 9 MB string took 29-31 s and blocked its worker."""
    url = one_worker["url"]
    started = time.monotonic()
    huge = post(url, "/score", json={"data": ["subscribe " * 900_000]})
    assert huge.status_code == 413 and "max_row_chars" in huge.json()["error"]
    assert "100,000" in huge.json()["error"]
    many = post(url, "/score", json={"data": ["x" * 90_000] * 30})  # 2.7 M characters in rows under the limit
    assert many.status_code == 413 and "max_request_chars" in many.json()["error"]
    tensor = {"name": "CONTENT", "datatype": "BYTES", "shape": [1], "data": ["y" * 200_000]}
    v2 = post(url, "/v2/models/spam/infer", json={"inputs": [tensor]})
    assert v2.status_code == 413 and "max_row_chars" in v2.json()["error"]
    assert time.monotonic() - started < 20  # refused before any model work
    assert post(url, "/score", json={"data": COMMENTS}).status_code == 200


def test_one_row_requests_are_answered_while_a_large_request_is_predicted(one_worker) -> None:  # type: ignore[no-untyped-def]
    """Found: a 1,000-row request held every one-row request of its worker until it was done."""
    url = one_worker["url"]
    big_rows = [f"{COMMENTS[i % 4]} {i} " * 6 for i in range(5_000)]  # ~1.9 M characters, one worker
    finished: dict[str, float] = {}

    def big() -> None:
        response = httpx.post(url + "/score", json={"data": big_rows}, timeout=120, trust_env=False)
        assert response.status_code == 200 and len(response.json()["result"]) == 5_000
        finished["big"] = time.monotonic()

    thread = threading.Thread(target=big)
    thread.start()
    time.sleep(0.3)  # the large request is being predicted
    small = []
    with httpx.Client(base_url=url, timeout=60, trust_env=False) as http:
        for _ in range(5):
            assert http.post("/score", json={"data": COMMENTS[:1]}).status_code == 200
            small.append(time.monotonic())
    thread.join()
    assert "big" in finished and all(t < finished["big"] for t in small), (small, finished)


def test_a_body_that_never_completes_is_answered_408_and_closed(one_worker) -> None:  # type: ignore[no-untyped-def]
    """Found: a Content-Length larger than the body, or a body sent slowly, held a
    connection for ever."""
    with socket.create_connection(("127.0.0.1", one_worker["port"]), timeout=10) as sock:
        sock.sendall(b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"data\": [")
        started = time.monotonic()
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        assert time.monotonic() - started < 8
    assert answer.startswith(b"HTTP/1.1 408") and b"did not arrive within 1 s" in answer
    assert post(one_worker["url"], "/score", json={"data": COMMENTS[:1]}).status_code == 200



@pytest.mark.parametrize("sent", [b"", b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Le"])
def test_headers_that_never_complete_are_cut_off(one_worker, sent: bytes) -> None:  # type: ignore[no-untyped-def]
    """Found (uvicorn has no deadline for headers): a connection that sends nothing, or its
    headers slowly, was held for ever."""
    with socket.create_connection(("127.0.0.1", one_worker["port"]), timeout=10) as sock:
        sock.sendall(sent)
        started = time.monotonic()
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        assert time.monotonic() - started < 8
    if sent:
        assert answer.startswith(b"HTTP/1.1 408") and b"headers did not arrive within 1 s" in answer
    else:
        assert answer == b""
    assert post(one_worker["url"], "/score", json={"data": COMMENTS[:1]}).status_code == 200


def test_two_commands_starting_one_endpoint_at_once_both_succeed(one_worker) -> None:  # type: ignore[no-untyped-def]
    """Found: of two concurrent `release` runs, one exited 4 ("already runs") although the
    release succeeded: both had started the endpoint."""
    root = one_worker["root"]
    down(root)
    starting = [subprocess.Popen([sys.executable, "-m", "champion", "up", "production", "-p", str(root)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in starting]
    assert [code for code, _ in results] == [0, 0], results
    [endpoint] = cli("ps", "production", "-p", str(root), "--json").json()
    assert endpoint["state"] == "Healthy"


def test_a_long_request_id_is_cut_and_a_v2_id_object_named_not_echoed(one_worker) -> None:  # type: ignore[no-untyped-def]
    """Found: a 60 KB X-Request-Id was logged verbatim; a v2 `id` object was echoed as a
    Python repr."""
    url = one_worker["url"]
    response = post(url, "/score", json={"data": COMMENTS[:1]}, headers={"x-request-id": "r" * 60_000})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "r" * 128 and response.json()["request_id"] == "r" * 128
    odd = post(url, "/v2/models/spam/infer", json={"id": {"__class__": 1}, "inputs": [
        {"name": "CONTENT", "datatype": "BYTES", "shape": [1], "data": ["x"]}]})
    assert odd.status_code == 400 and odd.json()["error"] == "'id' must be a string, got an object"


def test_files_handed_in_must_be_files_holding_no_nul(make_project, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Found: `ingest` of a symbolic link to a system file echoed its first line; `feedback`
    accepted a file with NUL bytes that `ingest` refused."""
    root = make_project()
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:the first line of a system file\n")
    link = tmp_path / "comments.csv"
    link.symlink_to(secret)
    refused = cli("ingest", "spam", str(link), "-p", str(root))
    assert refused.code == 2 and "is a symbolic link" in refused.stderr and "root:x" not in refused.stderr
    linked = cli("feedback", "spam", str(link), "--env", "production", "-p", str(root))
    assert linked.code == 2 and "is a symbolic link" in linked.stderr and "root:x" not in linked.stderr
    nul = tmp_path / "feedback.csv"
    nul.write_bytes(b"COMMENT_ID,CLASS,NOTE\nabc,1,x\x00y\n")
    before = Workspace(Project.open(root)).predictions.counts("spam", "production")
    refused = cli("feedback", "spam", str(nul), "--env", "production", "-p", str(root))
    assert refused.code == 2 and "NUL character" in refused.stderr and "line 2" in refused.stderr
    assert Workspace(Project.open(root)).predictions.counts("spam", "production") == before
    data = tmp_path / "more.csv"
    data.write_bytes(b"COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS,NOTE\nabc,bob,2013-11-07T06:20:48,hello,1,x\x00y\n")
    refused = cli("ingest", "spam", str(data), "-p", str(root))
    assert refused.code == 2 and "NUL character" in refused.stderr


def test_a_build_against_a_tampered_champion_exits_2_naming_the_way_out(make_project) -> None:  # type: ignore[no-untyped-def]
    root = make_project()
    assert cli("build", "-p", str(root), "-q").code == 0
    with tampered(root, 1):
        refused = cli("build", "-p", str(root), "-q")
    assert refused.code == 2 and "changed since training" in refused.stderr
    assert "--replace-broken-champion" in refused.stderr


def scored(metrics: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith('champion_requests_total{') and 'route="score"' in line and 'status="200"' in line)


def test_metrics_of_a_two_worker_endpoint_count_every_worker(spam) -> None:  # type: ignore[no-untyped-def]
    """Found: with `workers > 1`, each scrape of /metrics showed one random worker."""
    root, url = spam["root"], spam["url"]
    assert cli("up", "production", "-p", str(root)).code == 0
    try:
        for i in range(40):  # a new connection each: both workers take some
            assert httpx.post(url + "/score", json={"data": [COMMENTS[i % 4]]}, trust_env=False).status_code == 200
        scrapes = [httpx.get(url + "/metrics", trust_env=False).text for _ in range(8)]
        assert [scored(m) for m in scrapes] == [40.0] * 8
        assert scrapes[0].count("champion_model_version{") == 2  # one per live worker
    finally:
        down(root)
