"""Endpoints of a team on several machines, against real servers (issue 13).

Two hosts of one project (separate folders and HOMEs, one state database, one tracking
server) each run a production endpoint. A promotion under load swaps both with no failed
request, and both machines' prediction rows reach the shared PostgreSQL log exactly once.
Then the tracking server restarts in the middle of a deploy: the endpoint, which cannot fetch
the new version while the server is away, does not hold that against the version; it fetches
it once the server is back, the deploy succeeds, nothing is half done, and the endpoint
serves throughout.

The module starts its own tracking server (the second test restarts it), with a database of
its own on the session's PostgreSQL cluster, which no test here stops.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from serving_support import free_port, set_environments, wait_until
from team_servers import MlflowServer, Postgres
from team_support import Host

MLFLOW_DB = "mlflow_endpoints"
STATE_DB = "state_endpoints"
SCHEMA = "champion_youtube_spam"
REGISTERED = "youtube-spam.spam"
NEW_VIDEOS = ("Youtube04-Eminem.csv", "Youtube05-Shakira.csv")


@dataclass
class Team:
    postgres: Postgres
    server: MlflowServer
    a: Host
    b: Host


@pytest.fixture(scope="module")
def team(team_postgres: Postgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    """Version 1 released from host A (its staging and production endpoints), version 2 built
    on host A as the champion but deployed nowhere."""
    postgres = team_postgres
    folder = tmp_path_factory.mktemp("endpoints")
    server = MlflowServer.start(postgres, MLFLOW_DB, folder / "mlflow-server")
    try:
        postgres.create_database(STATE_DB)
        hosts: list[Host] = []
        try:
            a = Host.create(folder, "a", postgres, server, STATE_DB)
            hosts.append(a)
            b = Host.create(folder, "b", postgres, server, STATE_DB)
            hosts.append(b)
            for host in hosts:  # each machine's own ports; swaps seen within a fraction of a second
                set_environments(host.root, {
                    "staging": {"port": free_port(), "workers": 1, "poll_seconds": 0.25,
                                "smoke": {"min_accuracy": 0.8}},
                    "production": {"port": free_port(), "workers": 2, "poll_seconds": 0.25,
                                   "smoke": {"min_accuracy": 0.8}}})
            # Host A's processes give up on the tracking server at its first silence (no
            # retries), so an outage reaches its endpoints at their next poll.
            a.env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
            assert a.json("build", "spam", "-q")["version"] == 1
            released = a.json("release", "spam", "-q")
            assert released["ok"] and released["version"] == 1, released
            ingested = a.run("ingest", "spam", *[str(a.root / "data" / "retraining" / n) for n in NEW_VIDEOS], "-q")
            assert ingested.code == 0, ingested.stdout + ingested.stderr
            built = a.json("build", "spam", "-q")
            assert built["verdict"] == "PROMOTE" and built["version"] == 2, built
            yield Team(postgres, server, a, b)
        finally:
            for host in hosts:
                host.run("down", timeout=120)
    finally:
        server.stop()


# -- two production endpoints, one per machine, swapped under load ----------------------------


@dataclass
class Load:
    """One client thread sending one-comment requests, each with its own request id."""

    url: str
    tag: str
    answered: dict[str, int] = field(default_factory=dict)
    """Request id -> the version that answered it (200 only)."""
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30, trust_env=False) as http:
            i = 0
            while not self.stop.is_set():
                request_id = f"{self.tag}-{i}"
                i += 1
                try:
                    response = http.post("/score", json={"data": [{"CONTENT": f"comment {i} from {self.tag}"}]},
                                         headers={"x-request-id": request_id})
                except httpx.HTTPError as exc:
                    self.failures.append(f"{request_id}: {type(exc).__name__}: {exc}")
                    continue
                if response.status_code != 200:
                    self.failures.append(f"{request_id}: {response.status_code} {response.text[:200]}")
                    continue
                body = response.json()
                if body.get("request_id") != request_id:
                    self.failures.append(f"{request_id}: answered as {body.get('request_id')}")
                self.answered[request_id] = int(body["version"])
                time.sleep(0.005)


def _loading(url: str) -> int | None:
    """The version the endpoint is fetching and loading now, if any."""
    try:
        health = httpx.get(url + "/health", timeout=2, trust_env=False).json()
    except httpx.HTTPError:
        return None
    return (health["models"].get("spam") or {}).get("loading")


def _served_version(url: str) -> int | None:
    health = httpx.get(url + "/health", timeout=10, trust_env=False).json()
    return (health["models"].get("spam") or {}).get("version")


def _logged(postgres: Postgres, prefix: str) -> dict[str, int]:
    """Request id -> its number of rows in the shared prediction log."""
    out = postgres.sql(STATE_DB, f"SELECT request_id, count(*) FROM {SCHEMA}.predictions "
                                 f"WHERE request_id LIKE '{prefix}-%' GROUP BY request_id")
    return {rid: int(n) for rid, n in (line.split("|") for line in out.split())}


def test_a_promotion_under_load_swaps_both_machines_endpoints_and_logs_every_row_once(team: Team) -> None:
    a, b = team.a, team.b
    # Host B starts its own production endpoint: it serves the alias, version 1.
    up = b.run("up", "production", "--json")
    assert up.code == 0, up.stdout + up.stderr
    mine = {host.name: host.json("ps", "production")[0] for host in (a, b)}
    for name, endpoint in mine.items():
        assert endpoint["state"] == "Healthy" and endpoint["version"] == 1, (name, endpoint)
    assert mine["a"]["url"] != mine["b"]["url"]

    # Either machine's `ps` lists both machines' production endpoints (the other's from its
    # heartbeat, which may take a beat to arrive).
    wanted = {(e["url"], e["pid"]) for e in mine.values()}
    for host in (a, b):
        deadline = time.monotonic() + 20
        while True:
            listed = host.json("ps", "production")
            seen = {(e["url"], e["pid"]) for e in listed if e["state"] == "Healthy" and e["version"] == 1}
            if seen >= wanted or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert seen >= wanted and len(listed) == 2, (host.name, listed)

    loads = [Load(mine["a"]["url"], "ep-a"), Load(mine["b"]["url"], "ep-b")]
    threads = [threading.Thread(target=load.run) for load in loads]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)  # both answering on version 1 before the promotion
        deployed = a.json("deploy", "production", "-q")  # the champion: version 2
        assert deployed["version"] == 2 and deployed["previous"] == 1, deployed
        # Host A's deploy waited for its own endpoint; host B's polls the shared alias.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and {_served_version(e["url"]) for e in mine.values()} != {2}:
            time.sleep(0.2)
        time.sleep(1.5)  # more load on version 2
    finally:
        for load in loads:
            load.stop.set()
        for thread in threads:
            thread.join(60)
    for endpoint in mine.values():
        health = httpx.get(endpoint["url"] + "/health", timeout=10, trust_env=False).json()
        assert health["models"]["spam"]["version"] == 2 and health["status"] == "Healthy", health
        assert all(w["models"]["spam"]["version"] == 2 for w in health["workers"]), health

    for load in loads:
        assert load.failures == [], (load.tag, load.failures[:5])
        versions = list(load.answered.values())
        assert versions.count(1) > 0 and versions.count(2) > 0, (load.tag, len(versions))
        last = max(load.answered, key=lambda rid: int(rid.rsplit("-", 1)[1]))
        assert load.answered[last] == 2, (load.tag, last)  # the last answer came from version 2

    # Each machine's loader writes its spool to the shared PostgreSQL: every answered
    # request there, exactly once, and nothing that was not answered.
    for load in loads:
        deadline = time.monotonic() + 30
        while True:
            logged = _logged(team.postgres, load.tag)
            if set(logged) >= set(load.answered) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert set(logged) == set(load.answered), (load.tag, len(logged), len(load.answered))
        assert {n for n in logged.values()} == {1}, (load.tag, {r: n for r, n in logged.items() if n != 1})
    # The logged version is the one that answered.
    rows = team.postgres.sql(STATE_DB, f"SELECT request_id, version FROM {SCHEMA}.predictions "
                                       "WHERE request_id LIKE 'ep-%'")
    logged_versions = dict(line.split("|") for line in rows.split())
    answered = {rid: v for load in loads for rid, v in load.answered.items()}
    assert {rid: int(v) for rid, v in logged_versions.items()} == answered

    history = b.json("history", "spam", "--alias", "production")
    assert [m["to_version"] for m in history] == [1, 2], history
    assert b.run("down", "production").code == 0


# -- the control room on another machine ------------------------------------------------------


def test_the_control_room_on_another_machine_shows_the_teams_endpoints_runs_and_reports(team: Team) -> None:
    """Host B's `champion ui` shows what host A runs and found: A's endpoints (from their
    heartbeats), production's traffic from the shared log, MLflow run links to the team's
    tracking server, and the report of A's monitor run (from the state store: B has no file)."""
    a, b = team.a, team.b
    monitored = a.json("monitor", "spam", "--window", "1h", "-q")
    stem = monitored["json"].rsplit("/", 1)[-1].removesuffix(".json")
    a_production = a.json("ps", "production")[0]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with b.started("ui", "--port", str(port)) as ui:
        def answered() -> dict[str, object]:
            assert ui.poll() is None, ui.communicate(timeout=5)
            return httpx.get(url + "/api/overview", timeout=30, trust_env=False).json()

        overview = wait_until(answered, timeout=60, every=0.3, what="host B's control room")
        [spam] = overview["models"]
        environments = {e["environment"]: e for e in spam["environments"]}
        production = environments["production"]
        assert [(e["url"], e["state"], e["version"]) for e in production["endpoints"]] == [
            (a_production["url"], "Healthy", a_production["version"])], production["endpoints"]  # B runs none
        assert production["traffic"]["last_24_h"]["scored"] > 0  # both machines' rows, in the shared rollup
        assert production["monitor"] is not None and production["monitor"]["html_name"] == stem + ".html"

        model = httpx.get(url + "/api/models/spam", timeout=30, trust_env=False).json()
        linked = {r["run_id"]: r["mlflow_url"] for r in model["runs"]}
        assert len(linked) >= 2 and all(link and link.startswith(team.server.url + "/#/experiments/")
                                        and link.endswith("/runs/" + run) for run, link in linked.items())
        experiment = next(iter(linked.values())).split("/experiments/")[1].split("/")[0]
        assert httpx.get(team.server.url + "/api/2.0/mlflow/experiments/get", params={"experiment_id": experiment},
                         timeout=10, trust_env=False).json()["experiment"]["name"]

        monitoring = httpx.get(url + "/api/models/spam/monitoring", timeout=30, trust_env=False).json()
        reports = {e["environment"]: e["reports"] for e in monitoring["environments"]}
        assert [r["generated_at"] for r in reports["production"]] == [monitored["generated_at"]]
        assert not (b.root / ".champion" / "reports").exists()  # nothing of A's on B's disk
        page = httpx.get(url + f"/reports/spam/{stem}.html", timeout=30, trust_env=False)
        assert page.status_code == 200 and "<svg" in page.text and "script" not in page.headers["content-security-policy"]
        assert httpx.get(url + "/reports/spam/production-20000101T000000Z.html", timeout=30,
                         trust_env=False).status_code == 404


# -- the tracking server restarted in the middle of a deploy ----------------------------------


def _alias(server: MlflowServer, alias: str) -> int | None:
    """The alias' version read straight from the server's REST API (None: unset or no answer)."""
    try:
        response = httpx.get(server.url + "/api/2.0/mlflow/registered-models/alias",
                             params={"name": REGISTERED, "alias": alias}, timeout=2, trust_env=False)
    except httpx.HTTPError:
        return None
    return int(response.json()["model_version"]["version"]) if response.status_code == 200 else None


def test_the_tracking_server_restarted_during_a_deploy(team: Team) -> None:
    from mlflow import MlflowClient

    a, server = team.a, team.server
    staging = a.json("ps", "staging")[0]
    assert staging["state"] == "Healthy" and staging["version"] == 1, staging
    load = Load(staging["url"], "restart")
    thread = threading.Thread(target=load.run)
    thread.start()
    try:
        with a.started("deploy", "staging", "--version", "2", "--json", "-q") as deploy:
            # The middle of the deploy: its alias has moved and the endpoint is fetching the
            # version through the server (its /health says `loading`) when the server stops.
            deadline = time.monotonic() + 60
            while _loading(staging["url"]) != 2 and deploy.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            assert deploy.poll() is None, "the deploy ended before the endpoint began to fetch version 2"
            assert _alias(server, "staging") == 2, "the deploy did not move the alias"
            server.stop()
            time.sleep(2)
            server.restart()
            out, err = deploy.communicate(timeout=300)
        time.sleep(1)  # still serving after the restart
    finally:
        load.stop.set()
        thread.join(60)
    assert "Traceback" not in out + err, out + err
    # The deploy rides over the restart: the endpoint could not fetch version 2 while the
    # server was away, which is the server's fault, not the version's, so it did not refuse
    # it and fetched it at a later poll, within the deploy's wait.
    assert deploy.returncode == 0, (deploy.returncode, out, err)
    history = a.json("history", "spam", "--alias", "staging")
    assert json.loads(out)["version"] == 2, out
    assert _alias(server, "staging") == 2 and history[-1]["to_version"] == 2, history
    assert _served_version(staging["url"]) == 2

    # The endpoint answered every request, from a version it had loaded.
    assert load.failures == [], load.failures[:5]
    assert load.answered and set(load.answered.values()) <= {1, 2}, set(load.answered.values())

    # Nothing half done: MLflow's aliases and champion's history agree; no move left pending.
    def agree() -> None:
        aliases = MlflowClient(tracking_uri=server.url, registry_uri=server.url).get_registered_model(
            REGISTERED).aliases
        history = a.json("history", "spam")
        for alias, version in aliases.items():
            moves = [m for m in history if m["alias"] == alias]
            assert moves and moves[-1]["to_version"] == int(version), (alias, version, history)
        leftovers = a.json("status", "spam")["models"][0]["leftovers"]
        assert leftovers["interrupted_moves"] == [], leftovers

    agree()
    assert _served_version(staging["url"]) == _alias(server, "staging")  # it serves what the alias says

    # The deploy run again, with the server back: it succeeds and the endpoint is on v2.
    again = a.run("deploy", "staging", "--version", "2", "--json", "-q")
    assert again.code == 0, again.stdout + again.stderr
    assert json.loads(again.stdout)["version"] == 2
    assert _served_version(staging["url"]) == 2
    agree()
