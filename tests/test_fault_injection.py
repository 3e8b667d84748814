"""Fault injection: SIGKILL `build`, `deploy`, `release`, an endpoint worker, the log loader
and the agent at seeded random moments while production takes traffic, and check after each
kill that the promise holds:

- every alias points at a registered version that loads;
- the history agrees with the aliases (once the next command settled a half-done move);
- every request answered 200 is in the prediction log exactly once (a SIGKILLed worker may
  lose what it answered in its last `FLUSH_SECONDS`: the documented spool window);
- the next command works, and the endpoint is Healthy again.

`CHAMPION_FAULT_TRIALS` (default 20) and `CHAMPION_FAULT_SEED` (default 2026) choose how
many kills and where; a failure prints the seed and trial to replay it.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pandas as pd
import pytest
from conftest import cli
from serving_support import free_port, new_project, session_pids, set_environments

from champion.project import Project
from champion.serving.loading import load_version
from champion.serving.log_spool import FLUSH_SECONDS
from champion.state.jobs import JobStore
from champion.state.predictions import PredictionLog
from champion.workspace import Workspace

TRIALS = int(os.environ.get("CHAMPION_FAULT_TRIALS", "20"))
SEED = int(os.environ.get("CHAMPION_FAULT_SEED", "2026"))
TARGETS = ["worker", "build", "loader", "deploy", "release", "worker", "agent", "loader", "build", "deploy"]
COMMENTS = ["Check out my channel and subscribe!!! http://example.com", "I love this song so much",
            "Free gift cards at my website", "2015 and still listening"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path):  # type: ignore[no-untyped-def]
    root = new_project(tmp_path_factory.mktemp("fault-injection") / "spam", migrated_mlflow_db)
    production = free_port()
    set_environments(root, {"staging": {"port": free_port(), "workers": 1, "poll_seconds": 0.2},
                            "production": {"port": production, "workers": 2, "poll_seconds": 0.2,
                                           "retry_refused_seconds": 1.0}})
    assert cli("build", "-p", str(root), "-q").code == 0
    trained = cli("train", "-p", str(root), "-q", "--json", "--param=C=0.5")
    ws = Workspace(Project.open(root))
    ws.registry.register("spam", ws.registry.run(trained.json()["run_id"]), {})
    assert cli("deploy", "production", "--version", "1", "-p", str(root), "-q").code == 0
    yield {"root": root, "url": f"http://127.0.0.1:{production}"}
    ps = cli("ps", "-p", str(root), "--json").json()
    cli("down", "-p", str(root))
    deadline = time.monotonic() + 10
    while any(session_pids(e["pid"]) for e in ps if e["pid"]) and time.monotonic() < deadline:
        time.sleep(0.1)


class Traffic:
    """One-row requests to production until stopped: the ids answered 200, and when."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.answered: list[tuple[str, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        i = 0
        while not self._stop.is_set():
            # A new connection each time: requests spread over both workers.
            try:
                response = httpx.post(self.url + "/score", json={"data": [COMMENTS[i % 4]]}, timeout=10,
                                      trust_env=False)
            except httpx.HTTPError:
                time.sleep(0.02)
                continue
            if response.status_code == 200:
                self.answered.append((response.json()["request_id"], time.monotonic()))
            else:
                time.sleep(0.02)
            i += 1


def champion(root: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "champion", *args, "-p", str(root)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_after(process: subprocess.Popen[bytes], seconds: float) -> float:
    """SIGKILL `process` after `seconds` (or when it ended by itself); when it was killed."""
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
    process.wait()
    return time.monotonic()


def production_pids(url: str) -> list[int]:
    health = httpx.get(url + "/health", timeout=5, trust_env=False).json()
    return [w["pid"] for w in health["workers"]]


def loader_pid(root: Path) -> int | None:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"champion.serving.log_loader" in argv and str(root).encode() in argv and b"production" in argv:
            return int(entry.name)
    return None


def new_incoming_file(root: Path, trial: int) -> None:
    source = sorted((root / "data" / "retraining").glob("*.csv"))[0]
    frame = pd.read_csv(source).head(150)
    frame["COMMENT_ID"] = frame["COMMENT_ID"] + f"-t{trial}"
    folder = root / "data" / "incoming"
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / f"new-{trial}.csv", index=False)


def inject(kind: str, root: Path, url: str, rng: random.Random, trial: int) -> float | None:
    """Kill one process of `kind` at a random moment; the time of a worker's kill (its
    spool window), else None."""
    if kind == "worker":
        time.sleep(rng.uniform(0.3, 1.5))
        os.kill(rng.choice(production_pids(url)), signal.SIGKILL)
        return time.monotonic()
    if kind == "loader":
        time.sleep(rng.uniform(0.3, 1.5))
        pid = loader_pid(root)
        assert pid is not None, "no log loader runs"
        os.kill(pid, signal.SIGKILL)
        return None
    if kind == "build":
        kill_after(champion(root, "build", "-q"), rng.uniform(0.5, 7.0))
    elif kind == "deploy":
        environment = rng.choice(["staging", "production"])
        kill_after(champion(root, "deploy", environment, "--version", str(rng.choice([1, 2])), "-q"),
                   rng.uniform(0.2, 4.0))
    elif kind == "release":
        kill_after(champion(root, "release", "--version", str(rng.choice([1, 2])), "-q"), rng.uniform(0.5, 12.0))
    elif kind == "agent":
        new_incoming_file(root, trial)
        agent = champion(root, "agent", "--poll-seconds", "0.2")
        jobs = JobStore(Workspace(Project.open(root)).state)
        deadline = time.monotonic() + 60
        while not jobs.jobs("running"):  # kill it while its retraining runs
            assert time.monotonic() < deadline and agent.poll() is None, "the agent never started the job"
            time.sleep(0.05)
        kill_after(agent, rng.uniform(0.2, 5.0))
    return None


def check_promise(root: Path, url: str, kind: str, answered: list[tuple[str, float]],
                  worker_killed_at: float | None, where: str) -> None:
    # The next command works (and settles what a killed one left half done).
    if kind == "agent":  # the next agent stops the killed one's job and runs its work again
        again = subprocess.run([sys.executable, "-m", "champion", "agent", "--once", "--poll-seconds", "0.2",
                                "-p", str(root), "--json"], capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, f"{where}: {again.stderr[-2000:]}"
        recent = JobStore(Workspace(Project.open(root)).state).recent(2, "spam")
        assert recent[0].status in ("succeeded", "rejected"), f"{where}: {recent[0].as_dict()}"
        assert recent[1].status == "cancelled" and "the agent stopped" in recent[1].summary["error"], where
    tidied = cli("gc", "-p", str(root), "--json")
    assert tidied.code == 0, f"{where}: {tidied.stderr}"
    status = cli("status", "-p", str(root), "--json")
    assert status.code == 0, f"{where}: {status.stderr}"
    assert not any(j["status"] == "running" for j in status.json()["agent"]["jobs"]), where

    ws = Workspace(Project.open(root))
    aliases = ws.registry.aliases("spam")
    for alias, version in aliases.items():
        load_version(ws, "spam", version)  # registered, and loads as an endpoint loads it
        moves = ws.state.moves("spam", alias)
        assert moves and moves[-1].to_version == version, f"{where}: {alias} -> {version}, history {moves[-1:]}"

    # The endpoint is Healthy again (a killed worker is replaced, a refused version retried).
    deadline = time.monotonic() + 60
    while True:
        try:
            health = httpx.get(url + "/health", timeout=5, trust_env=False).json()
            if health["status"] == "Healthy" and len(health["workers"]) == 2:
                break
        except (httpx.HTTPError, ValueError):
            pass
        assert time.monotonic() < deadline, f"{where}: production did not become Healthy again"
        time.sleep(0.2)

    # Every answered request is logged once; only a killed worker's last moments may be missing.
    log = PredictionLog(Project.open(root).state_uri)
    wanted = {rid for rid, _ in answered}
    deadline = time.monotonic() + 30
    while True:
        logged = Counter(log.window("spam", "production", rows=1_000_000).request_ids)
        missing = wanted - set(logged)
        if worker_killed_at is not None:
            window = FLUSH_SECONDS + 0.3  # its buffer, and the request in flight when it died
            missing = {rid for rid, at in answered if rid in missing and not worker_killed_at - window <= at}
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert not missing, f"{where}: {len(missing)} of {len(wanted)} answered requests never reached the log"
    repeated = [rid for rid, count in logged.items() if count > 1]
    assert not repeated, f"{where}: logged more than once: {repeated[:5]}"


def test_kills_at_random_moments_lose_nothing_and_leave_nothing_stuck(project) -> None:  # type: ignore[no-untyped-def]
    root, url = project["root"], project["url"]
    rng = random.Random(SEED)
    done = Counter[str]()
    for trial in range(TRIALS):
        kind = TARGETS[trial % len(TARGETS)]
        where = f"trial {trial} ({kind}; CHAMPION_FAULT_SEED={SEED})"
        with Traffic(url) as traffic:
            killed_at = inject(kind, root, url, rng, trial)
            time.sleep(0.3)  # a little traffic after the kill too
        check_promise(root, url, kind, traffic.answered, killed_at, where)
        assert traffic.answered, f"{where}: production answered nothing"
        done[kind] += 1
    assert sum(done.values()) == TRIALS
