"""The seeds' story, end to end, with real endpoints, a real agent and real processes.

Production serves the model trained on three videos; Eminem and Shakira comments flow
through the production endpoint; the monitor flags the drift and, once their labels come back
as feedback, the drop in performance; the agent retrains on the concatenated data (the
labelled files land in the incoming folder, and the monitor's alert asks for the same
retraining: one job); the gate promotes; production swaps with zero failed requests; the
report shows before and after.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
from conftest import cli, cli_process
from serving_support import free_port, get, new_project, set_environments

from champion.project import Project
from champion.workspace import Workspace

NEW_VIDEOS = ("Youtube04-Eminem.csv", "Youtube05-Shakira.csv")


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path):  # type: ignore[no-untyped-def]
    root = new_project(tmp_path_factory.mktemp("story") / "spam", migrated_mlflow_db)
    ports = {"staging": free_port(), "production": free_port()}
    set_environments(root, {
        "staging": {"port": ports["staging"], "workers": 1, "poll_seconds": 0.2},
        "production": {"port": ports["production"], "workers": 2, "poll_seconds": 0.2},
    })
    # The agent's monitor checks look at the last hour: every comment of the story, however
    # much other traffic production answers meanwhile.
    config = root / "champion.toml"
    config.write_text(config.read_text().replace('window = "1000"', 'window = "1h"'))
    yield root, f"http://127.0.0.1:{ports['production']}"
    cli("down", "-p", str(root))


def send(url: str, frame: pd.DataFrame, batch: int = 25) -> None:
    """Score the comments through production, each row with its comment id (for feedback)."""
    rows = [{"CONTENT": c, "COMMENT_ID": i} for c, i in zip(frame["CONTENT"], frame["COMMENT_ID"], strict=True)]
    with httpx.Client(base_url=url, timeout=30, trust_env=False) as http:
        for start in range(0, len(rows), batch):
            response = http.post("/score", json={"data": rows[start:start + batch]})
            assert response.status_code == 200, response.text


def test_the_seeds_story(story) -> None:  # type: ignore[no-untyped-def]
    root, url = story
    p = ["--project", str(root)]
    assert cli("build", "spam", *p, "-q").code == 0
    released = cli_process("release", "spam", *p, "-q", "--json")
    assert released.code == 0, released.stderr
    assert get(url, "/health").json()["models"]["spam"]["version"] == 1
    time.sleep(1.0)  # the spool is written every 0.2 s and loaded within 0.1 s of that
    log = Workspace(Project.open(root)).predictions
    assert log.counts("spam", "production")["logged"] == 0  # smoke tests are not traffic

    new = pd.concat([pd.read_csv(root / "data" / "retraining" / n) for n in NEW_VIDEOS], ignore_index=True)
    send(url, new)

    # Monitoring flags the drift at once (the predictions are flushed within a second).
    first = _monitor(root, str(len(new)), expected_rows=len(new))
    assert first["drift_detected"] and "data_drift" in _kinds(first)
    assert first["performance"]["realized"] is None

    # The labels come back; the performance drop shows and asks for a retraining.
    for name in NEW_VIDEOS:
        fed = cli("feedback", "spam", str(root / "data" / "retraining" / name), *p, "--json")
        assert fed.code == 0, fed.stdout + fed.stderr
        assert fed.json()["matched"] > 0
    second = _monitor(root, str(len(new)), expected_rows=len(new))
    assert second["performance"]["realized"]["labelled"] == len(new)
    assert [a for a in second["alerts"] if a["kind"] == "performance" and a["retrain"]], second["alerts"]

    # The labelled files land in the incoming folder; the agent runs the due triggers once:
    # the new files and the monitor's alert are one retraining, while production keeps serving.
    incoming = root / "data" / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    for name in NEW_VIDEOS:
        shutil.copyfile(root / "data" / "retraining" / name, incoming / name)
    failures: list[str] = []
    answered = {1: 0, 2: 0}
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=url, timeout=30, trust_env=False) as http:
            while not stop.is_set():
                try:
                    response = http.post("/score", json={"data": ["Check out my channel!!!", "love this song"]})
                except httpx.HTTPError as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                if response.status_code != 200:
                    failures.append(f"{response.status_code}: {response.text}")
                else:
                    answered[response.json()["version"]] += 1
                time.sleep(0.02)

    client = threading.Thread(target=load)
    client.start()
    try:
        agent = cli_process("agent", "--once", "--monitor", *p, timeout=600)
    finally:
        stop.set()
        client.join()
    assert agent.code == 0, agent.stdout + agent.stderr
    assert failures == [], failures[:5]
    assert answered[1] > 0 and answered[2] > 0, answered  # served throughout, then swapped

    status = cli("status", "spam", *p, "--json").json()
    jobs = status["agent"]["jobs"]
    assert len(jobs) == 1 and jobs[0]["status"] == "succeeded", jobs  # two triggers, one run
    assert jobs[0]["triggers"] == ["incoming", "monitor"], jobs[0]
    assert get(url, "/health").json()["models"]["spam"]["version"] == 2
    assert sorted(p.name for p in (incoming / "processed").iterdir()) == sorted(NEW_VIDEOS)
    history = cli("history", "spam", *p, "--json").json()
    assert [m["to_version"] for m in history if m["alias"] == "production"] == [1, 2]

    # After the swap: the same kind of comments drift less against version 2, which learned
    # from them (they still differ from its five-video mix), and the report's history shows
    # version 1 then version 2.
    send(url, new.sample(300, random_state=1))
    after = _monitor(root, "300", expected_rows=300)
    assert after["reference"]["version"] == 2
    before_auc = first["data_drift"]["columns"][0]["statistic"]
    assert after["data_drift"]["columns"][0]["statistic"] < before_auc
    versions = [v for segment in after["performance"]["history"] for v in segment["versions"]]
    assert 1 in versions and 2 in versions and versions.index(2) > versions.index(1)
    html = Path(after["report"]).read_text(encoding="utf-8")
    assert "v2" in html and "v1" in html


def _monitor(root: Path, window: str, expected_rows: int) -> dict:  # type: ignore[type-arg]
    """`monitor --json`, waiting (briefly) until the endpoint's log loader has caught up."""
    deadline = time.monotonic() + 15
    while True:
        result = cli("monitor", "spam", "--project", str(root), "--window", window, "--json", "--no-notify")
        assert result.code == 0, result.stdout + result.stderr
        document = result.json()
        if document["window"].get("rows_of_version", 0) >= expected_rows or time.monotonic() > deadline:
            return document
        time.sleep(0.5)


def _kinds(document: dict) -> set[str]:  # type: ignore[type-arg]
    return {a["kind"] for a in document["alerts"]}
