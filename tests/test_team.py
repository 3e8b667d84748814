"""A team's champion: two hosts (separate folders and HOMEs) sharing only a real MLflow
server (PostgreSQL backend, proxied artifacts) and a real PostgreSQL for champion's state."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
from mlflow_support import without_champion
from serving_support import post
from team_support import Host

from champion.locks import LockTimeout
from champion.state.store import StateStore


@pytest.fixture(scope="module")
def hosts(team_servers, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    postgres, server = team_servers
    state_db = "state_story"
    postgres.create_database(state_db)
    folder = tmp_path_factory.mktemp("team")
    a = Host.create(folder, "a", postgres, server, state_db)
    b = Host.create(folder, "b", postgres, server, state_db)
    yield a, b
    for host in (a, b):
        host.run("down")


def test_build_on_one_host_release_and_serve_on_another_monitor_sees_both(hosts, team_servers, tmp_path: Path
                                                                         ) -> None:  # type: ignore[no-untyped-def]
    a, b = hosts
    postgres, server = team_servers
    built = a.json("build", "spam", "-q")
    assert built["verdict"] == "FIRST_MODEL" and built["version"] == 1

    # Host B never sees host A's folder: the model comes through the tracking server.
    hidden = tmp_path / "a-away"
    shutil.move(a.root, hidden)
    try:
        released = b.json("release", "spam", "-q")
    finally:
        shutil.move(hidden, a.root)
    assert released["ok"] and released["version"] == 1, released
    production = b.json("ps", "production")[0]
    assert production["state"] == "Healthy", production
    # Host A has no endpoint of its own and lists host B's, from its heartbeat.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # its first beat may precede its first health answer
        seen = [e for e in a.json("ps") if e["pid"] == production["pid"] and e["state"] == "Healthy"]
        if seen:
            break
        time.sleep(1)
    assert seen and seen[0]["url"] == production["url"] and seen[0]["version"] == 1 and seen[0]["seen_at"], seen

    rows = pd.read_csv(next((a.root / "data" / "retraining").glob("*Eminem*.csv")))
    batch = rows.head(60)
    scored = post(production["url"], "/score", json={"data": batch[["COMMENT_ID", "CONTENT"]].to_dict("records")})
    assert scored.status_code == 200, scored.text

    # Plain MLflow, where champion is not installed, loads what production serves, by name
    # through the server, and predicts what the endpoint answered.
    comments = batch["CONTENT"].head(10).tolist()
    plain = without_champion(
        "import mlflow, pandas as pd\n"
        f"mlflow.set_tracking_uri({server.url!r})\n"
        "model = mlflow.pyfunc.load_model('models:/youtube-spam.spam@production')\n"
        f"print(json.dumps(model.predict(pd.DataFrame({{'CONTENT': {comments!r}}}))['label'].tolist()))\n")
    served = post(production["url"], "/score", json={"data": [{"CONTENT": c} for c in comments]},
                  headers={"x-champion-synthetic": "1"}).json()
    assert plain == served["result"], served

    # The endpoint's loader writes to the shared PostgreSQL: host B's monitor sees the rows.
    deadline = time.monotonic() + 30
    while True:
        report = b.json("monitor", "spam", "--window", "1h", "--no-notify")
        if report["log"]["logged"] >= len(batch) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert report["log"]["logged"] == len(batch) and report["log"]["dropped"] == 0, report["log"]

    # Feedback from host A joins the rows host B's endpoint logged.
    labels = tmp_path / "labels.csv"
    batch.to_csv(labels, index=False)
    fed = a.json("feedback", "spam", str(labels))
    assert fed["matched"] == len(batch), fed
    report = b.json("monitor", "spam", "--window", "1h", "--no-notify")
    assert report["log"]["labelled"] == len(batch)

    # One history, seen the same from both hosts.
    history_a, history_b = a.json("history", "spam"), b.json("history", "spam")
    assert history_a == history_b and {m["alias"] for m in history_a} >= {"champion", "staging", "production"}

    # In MLflow: the project's name on the model, artifacts through the server, no local path.
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=server.url, registry_uri=server.url)
    registered = client.get_registered_model("youtube-spam.spam")
    assert registered.aliases == {"champion": "1", "staging": "1", "production": "1"}
    experiment = client.get_experiment_by_name("youtube-spam.spam")
    assert experiment.artifact_location.startswith("mlflow-artifacts:"), experiment.artifact_location
    for version in client.search_model_versions("name='youtube-spam.spam'"):
        run = client.get_run(version.run_id)
        assert str(a.root) not in run.info.artifact_uri and str(b.root) not in run.info.artifact_uri

    # Stopped: its heartbeat goes with it.
    assert b.run("down").code == 0
    assert not [e for e in a.json("ps") if e["pid"] == production["pid"]]

    # The password was never printed and is in no file of either host.
    for host in (a, b):
        assert not [o for o in host.outputs if postgres.password in o], host.name
        assert host.files_containing(postgres.password) == [], host.name


def test_two_projects_with_one_model_name_stay_apart(team_servers, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    postgres, server = team_servers
    postgres.create_database("state_apart")
    first = Host.create(tmp_path, "first", postgres, server, "state_apart", project_name="shop-a")
    second = Host.create(tmp_path, "second", postgres, server, "state_apart", project_name="shop-b")
    assert first.json("build", "spam", "-q")["version"] == 1
    assert second.json("build", "spam", "-q")["version"] == 1
    rejected = first.run("build", "spam", "-q", "--param=C=0.001")
    assert rejected.code == 3, rejected.stdout + rejected.stderr
    mine, theirs = first.json("status")["models"][0], second.json("status")["models"][0]
    assert mine["versions"] == 1 and theirs["versions"] == 1  # a rejected challenger is not registered
    assert mine["aliases"]["champion"]["run_id"] != theirs["aliases"]["champion"]["run_id"]
    assert len(first.json("history", "spam")) == 1 and len(second.json("history", "spam")) == 1
    assert set(postgres.sql("state_apart", "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'champion_%'"
                            ).split()) == {"champion_shop_a", "champion_shop_b"}


def test_a_postgres_lock_honours_its_timeout(team_servers, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    postgres, _ = team_servers
    url = postgres.create_database("state_locks")
    import os

    os.environ["PGPASSWORD"] = postgres.password
    try:
        one = StateStore(url, tmp_path / "one", "champion_locks")
        other = StateStore(url, tmp_path / "other", "champion_locks")
        with one.lock("model-spam"):
            started = time.monotonic()
            with pytest.raises(LockTimeout, match="model-spam"), other.lock("model-spam", timeout=0.5):
                pass
            assert 0.5 <= time.monotonic() - started < 5
            with other.lock("model-other", timeout=1):  # another name is free
                pass
        with other.lock("model-spam", timeout=1):  # released: free again
            pass
    finally:
        os.environ.pop("PGPASSWORD", None)


def test_concurrent_builds_and_alias_moves_from_two_hosts(team_servers, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """8 builds at once from two hosts on one model: exactly one champion and a complete
    history; then 16 alias moves at once: each applied or refused, none lost."""
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    from champion.errors import ConflictError
    from champion.pipelines.aliases import move_alias
    from champion.project import Project
    from champion.workspace import Workspace

    postgres, server = team_servers
    postgres.create_database("state_race")
    a = Host.create(tmp_path, "a", postgres, server, "state_race", project_name="race")
    b = Host.create(tmp_path, "b", postgres, server, "state_race", project_name="race")
    processes = [subprocess.Popen([sys.executable, "-m", "champion", "build", "spam", "--json", "-q", "--project",
                                   str(host.root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=host.env, cwd=str(host.home)) for host in (a, b) * 4]
    import json

    verdicts = []
    for process in processes:
        out, err = process.communicate(timeout=600)
        assert process.returncode in (0, 3), err
        verdicts.append(json.loads(out)["verdict"])
    promoted = [v for v in verdicts if v in ("FIRST_MODEL", "PROMOTE")]
    assert verdicts.count("FIRST_MODEL") == 1, verdicts
    status = a.json("status")["models"][0]
    history = b.json("history", "spam")
    champion_moves = [m for m in history if m["alias"] == "champion"]
    assert len(champion_moves) == len(promoted) == status["versions"], (verdicts, history)
    assert champion_moves[-1]["to_version"] == status["aliases"]["champion"]["version"]

    # 16 compare-and-set moves of one alias at once, half through each host's settings.
    for name, value in a.env.items():
        if name.startswith(("CHAMPION_", "PG")):
            monkeypatch.setenv(name, value)
    spaces = [Workspace(Project.open(host.root)) for host in (a, b)]
    current = spaces[0].registry.aliases("spam")["champion"]

    def attempt(i: int) -> bool:
        try:
            move_alias(spaces[i % 2], "spam", "canary", current, None if i % 4 < 2 else current, f"try {i}")
            return True
        except ConflictError:
            return False

    with ThreadPoolExecutor(8) as pool:
        applied = list(pool.map(attempt, range(16)))
    moves = spaces[1].state.moves("spam", "canary")
    assert sum(applied) == len(moves) >= 1, (applied, moves)
    assert spaces[0].registry.aliases("spam")["canary"] == current
    assert moves[0].from_version is None and all(m.from_version == current for m in moves[1:])


def test_one_agent_per_project_across_machines(team_servers, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json
    import signal
    import subprocess
    import sys

    postgres, server = team_servers
    postgres.create_database("state_agents")
    a = Host.create(tmp_path, "a", postgres, server, "state_agents", project_name="agents")
    b = Host.create(tmp_path, "b", postgres, server, "state_agents", project_name="agents")
    agent = subprocess.Popen([sys.executable, "-m", "champion", "agent", "--poll-seconds", "0.5", "--json",
                              "--project", str(a.root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=a.env, cwd=str(a.home))
    try:
        assert agent.stdout is not None
        first = json.loads(agent.stdout.readline())
        assert first["event"] == "started", first
        second = b.run("agent", "--once")  # another checkout, another HOME: only the database is shared
        assert second.code == 2, second.stdout + second.stderr
        assert "another champion agent is running" in second.stderr and str(agent.pid) in second.stderr
        seen = b.json("status")["agent"]
        assert seen["running"] is True and seen["pid"] == agent.pid
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=60)
    assert b.json("status")["agent"]["running"] is False
    assert b.run("agent", "--once").code == 0  # the lock went with the agent's session


def test_data_ingested_on_one_host_is_trained_on_by_another(team_servers, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Ingested files live in the ingesting checkout; the registry keeps a copy, so another
    host's build trains on them, after checking the hash recorded at ingest."""
    from mlflow import MlflowClient

    postgres, server = team_servers
    postgres.create_database("state_data")
    a = Host.create(tmp_path, "a", postgres, server, "state_data", project_name="shared-data")
    b = Host.create(tmp_path, "b", postgres, server, "state_data", project_name="shared-data")
    new_file = next((a.root / "data" / "retraining").glob("*Eminem*.csv"))
    added = a.json("ingest", "spam", str(new_file))
    assert added["rows_after"] > added["rows_before"]
    stored = a.root / added["files"][0]["stored_as"]

    built = b.json("build", "spam", "-q")
    assert built["data"]["rows"] == added["rows_after"] and built["data"]["files"] == 4, built["data"]
    fetched = b.root / added["files"][0]["stored_as"]
    assert fetched.read_bytes() == stored.read_bytes()

    # A copy that does not match the recorded hash is refused, and nothing is left behind.
    fetched.unlink()
    client = MlflowClient(server.url)
    experiment = client.get_experiment_by_name("shared-data.spam")
    data_run = client.search_runs([experiment.experiment_id], "tags.`champion.kind` = 'data'")[0]
    tampered = tmp_path / stored.name
    tampered.write_bytes(stored.read_bytes() + b"spam,spam,spam,spam,1\n")
    client.log_artifact(data_run.info.run_id, str(tampered), "ingested")
    refused = b.run("build", "spam", "-q")
    assert refused.code == 2 and "does not match the sha256" in refused.stderr, refused
    assert "Traceback" not in refused.stderr
    assert not fetched.exists() and not list(fetched.parent.glob("*.partial"))
