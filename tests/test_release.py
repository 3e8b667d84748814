"""Hot swap, release, rollback and refusals on real endpoint processes.

One spam project with three versions: 1 (the first champion), 2 (trained with another C,
so its probabilities differ), and 3 whose artifact gets corrupted after registration.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import cli
from serving_support import free_port, get, new_project, post, session_pids, set_environments

from champion.project import Project
from champion.serving.loading import load_version
from champion.workspace import Workspace

COMMENTS = ["Check out my channel and subscribe!!! http://example.com", "I love this song so much",
            "Free gift cards at my website", "2015 and still listening"]


def register_run(root: Path, *params: str) -> int:
    """Train with `params` and register the run, whatever the gate would say."""
    trained = cli("train", "-p", str(root), "-q", "--json", *[f"--param={p}" for p in params])
    assert trained.code == 0, trained.stderr
    ws = Workspace(Project.open(root))
    return ws.registry.register("spam", ws.registry.run(trained.json()["run_id"]), {}).version


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path):  # type: ignore[no-untyped-def]
    root = new_project(tmp_path_factory.mktemp("release") / "spam", migrated_mlflow_db)
    ports = {"staging": free_port(), "production": free_port()}
    set_environments(root, {
        "staging": {"port": ports["staging"], "workers": 1, "poll_seconds": 0.2},
        "production": {"port": ports["production"], "workers": 2, "poll_seconds": 0.2},
    })
    assert cli("build", "-p", str(root), "-q").code == 0
    assert register_run(root, "C=0.5") == 2
    yield {"root": root, **{env: f"http://127.0.0.1:{port}" for env, port in ports.items()}}
    cli("down", "-p", str(root))


def answers_of(root: Path, version: int) -> np.ndarray:
    return load_version(Workspace(Project.open(root)), "spam", version).predict_rows({"CONTENT": COMMENTS})[1]


def test_promotions_under_load_fail_no_request(project) -> None:  # type: ignore[no-untyped-def]
    root, url = project["root"], project["production"]
    assert cli("deploy", "production", "--version", "1", "-p", str(root), "-q").code == 0
    expected = {1: answers_of(root, 1), 2: answers_of(root, 2)}
    assert not np.allclose(expected[1], expected[2]), "the two versions must answer differently"
    failures: list[str] = []
    seen: dict[int, int] = {1: 0, 2: 0}
    stop = threading.Event()

    def load() -> None:
        import httpx

        with httpx.Client(base_url=url, timeout=30, trust_env=False) as http:
            while not stop.is_set():
                try:
                    response = http.post("/score", json={"data": COMMENTS})
                except httpx.HTTPError as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                if response.status_code != 200:
                    failures.append(f"{response.status_code}: {response.text}")
                    continue
                body = response.json()
                seen[body["version"]] += 1
                # The answer is exactly what the version it names computes.
                if not np.allclose(body["probabilities"], expected[body["version"]], atol=1e-12):
                    failures.append(f"answer of version {body['version']} differs from that version's model")

    threads = [threading.Thread(target=load) for _ in range(6)]
    for t in threads:
        t.start()
    try:
        for i in range(10):
            target = 2 if i % 2 == 0 else 1
            done = cli("deploy", "production", "--version", str(target), "-p", str(root), "-q", "--json")
            assert done.code == 0, done.stderr
            assert get(url, "/health").json()["models"]["spam"]["version"] == target
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert failures == []
    assert seen[1] > 0 and seen[2] > 0
    moves = cli("history", "-p", str(root), "--alias", "production", "--json").json()
    assert [m["to_version"] for m in moves[-10:]] == [2, 1] * 5


def test_a_corrupted_version_is_refused_and_the_old_one_keeps_serving(project) -> None:  # type: ignore[no-untyped-def]
    root, url = project["root"], project["staging"]
    assert cli("deploy", "staging", "--version", "1", "-p", str(root), "-q").code == 0
    version = register_run(root, "C=2")
    ws = Workspace(Project.open(root))
    run = ws.registry.run(ws.registry.version("spam", version).run_id)
    artifacts = Path(run.tags["champion.model_artifacts"].removeprefix("file://")) / "artifacts" / "recipe"
    weights = artifacts / "weights.npz"
    weights.write_bytes(weights.read_bytes()[:-10] + b"corrupted!")

    refused = cli("deploy", "staging", "--version", str(version), "-p", str(root), "--json")
    assert refused.code == 4
    assert "refused" in refused.json()["error"]["message"]
    assert "changed since training" in refused.json()["error"]["message"]
    health = get(url, "/health").json()
    assert health["models"]["spam"]["version"] == 1
    assert health["models"]["spam"]["refused"]["version"] == version
    answer = post(url, "/score", json={"data": COMMENTS}).json()
    assert answer["version"] == 1
    # The alias went back, and both moves are in the history.
    assert ws.registry.aliases("spam")["staging"] == 1
    moves = cli("history", "-p", str(root), "--alias", "staging", "--json").json()
    assert [(m["from_version"], m["to_version"]) for m in moves[-2:]] == [(1, version), (version, 1)]


def test_a_deploy_that_fails_stops_the_endpoint_it_started(project) -> None:  # type: ignore[no-untyped-def]
    root = project["root"]
    assert cli("down", "production", "-p", str(root)).code == 0
    ws = Workspace(Project.open(root))
    before = ws.registry.aliases("spam").get("production")
    corrupted = max(v.version for v in ws.registry.versions("spam"))
    assert corrupted >= 3 and "refused" in str(cli("deploy", "staging", "--version", str(corrupted), "-p",
                                                    str(root), "--json").stdout)
    failed = cli("deploy", "production", "--version", str(corrupted), "-p", str(root), "--json")
    assert failed.code == 4
    assert "was stopped" in failed.json()["error"]["message"]
    endpoints = {e["environment"]: e for e in cli("ps", "-p", str(root), "--json").json()}
    assert endpoints["production"]["pid"] is None
    assert ws.registry.aliases("spam").get("production") == before


def test_rollback_returns_to_the_previous_version(project) -> None:  # type: ignore[no-untyped-def]
    root, url = project["root"], project["staging"]
    assert cli("deploy", "staging", "--version", "1", "-p", str(root), "-q").code == 0
    assert cli("deploy", "staging", "--version", "2", "-p", str(root), "-q").code == 0
    back = cli("rollback", "staging", "-p", str(root), "--json")
    assert back.code == 0, back.stderr
    assert back.json()["version"] == 1 and back.json()["previous"] == 2
    assert post(url, "/score", json={"data": ["x"]}).json()["version"] == 1


def test_release_puts_production_back_when_its_smoke_test_fails(project) -> None:  # type: ignore[no-untyped-def]
    root = project["root"]
    assert cli("deploy", "production", "--version", "1", "-p", str(root), "-q").code == 0
    text = (root / "champion.toml").read_text()
    # Production's latency budget cannot be met, staging's can.
    (root / "champion.toml").write_text(text + "\n[environments.production.smoke]\np95_ms = 0.001\n")
    try:
        released = cli("release", "--version", "2", "-p", str(root), "--json")
    finally:
        (root / "champion.toml").write_text(text)
    assert released.code == 4
    result = released.json()
    assert [s["step"] for s in result["steps"]] == ["deploy staging", "smoke-test staging", "deploy production",
                                                   "smoke-test production", "restore production"]
    assert result["steps"][1]["ok"] is True and result["steps"][3]["ok"] is False
    assert "back on version 1" in result["message"]
    assert get(project["production"], "/health").json()["models"]["spam"]["version"] == 1
    assert get(project["staging"], "/health").json()["models"]["spam"]["version"] == 2


def test_release_then_smoke_test_pass(project) -> None:  # type: ignore[no-untyped-def]
    root = project["root"]
    released = cli("release", "-p", str(root), "--json", "--out", str(root / "ci-artifacts"))
    assert released.code == 0, released.stdout + released.stderr
    assert released.json()["ok"] is True and released.json()["version"] == 1  # the champion
    smoke = cli("smoke-test", "production", "-p", str(root), "--json")
    assert smoke.code == 0
    checks = {c["name"]: c for c in smoke.json()["checks"]}
    assert {"health", "metadata", "golden answers", "accuracy", "latency"} <= set(checks)
    assert "labels equal" in checks["golden answers"]["detail"]
    assert (root / "ci-artifacts" / "production-smoke-test.json").is_file()


def test_deploy_errors_are_clear(project) -> None:  # type: ignore[no-untyped-def]
    root = project["root"]
    unknown_env = cli("deploy", "qa", "-p", str(root))
    assert unknown_env.code == 2 and "no environment 'qa'" in unknown_env.stderr
    unknown_version = cli("deploy", "staging", "--version", "99", "-p", str(root))
    assert unknown_version.code == 2 and "no version 99" in unknown_version.stderr


def test_down_leaves_no_process_behind(project) -> None:  # type: ignore[no-untyped-def]
    root = project["root"]
    assert cli("up", "-p", str(root)).code == 0
    pids = [e["pid"] for e in cli("ps", "-p", str(root), "--json").json()]
    assert all(pids) and all(session_pids(pid) for pid in pids)
    stopped = cli("down", "-p", str(root), "--json").json()
    assert [e["state"] for e in stopped] == ["Stopped", "Stopped"]
    deadline = time.monotonic() + 10
    while any(session_pids(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [p for pid in pids for p in session_pids(pid)] == []
