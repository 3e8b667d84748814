"""`champion agent` as a real process over a real project: files dropped in the incoming
folder are validated, ingested and retrained on (real `champion retrain` processes, MLflow on
SQLite); a bad file fails its job and the agent goes on; triggers merge; SIGTERM is graceful;
one agent per project. Release is off (`triggers.release = false`): no endpoints needed."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import cli, cli_process
from test_triggers import set_triggers

from champion.project import Project
from champion.state.jobs import JobStore, Timer
from champion.state.store import StateStore, now
from champion.triggers.schedule import schedule_of

TEMPLATE_DATA = Path(__file__).resolve().parents[1] / "src" / "champion" / "templates" / "youtube-spam" / "data"
BAD_CSV = "COMMENT_ID,AUTHOR,CONTENT\nx1,someone,no date and no class column\n"


class AgentProcess:
    """`champion agent --json` in the background; its events read on a thread."""

    def __init__(self, root: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "champion", "agent", "--project", str(root), "--json", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.events: list[dict[str, Any]] = []
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.strip():
                self._lines.put(json.loads(line))
        self._lines.put(None)

    def wait_for(self, match: Callable[[dict[str, Any]], bool], timeout: float = 90) -> dict[str, Any]:
        """The first event (from now on) that matches; fails on timeout or agent exit."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no matching event within {timeout} s; saw {self.events}") from None
            if event is None:
                raise AssertionError(f"the agent exited ({self.process.wait()}): {self.stderr()} events {self.events}")
            self.events.append(event)
            if match(event):
                return event

    def stop(self, timeout: float = 120) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        while (event := self._lines.get(timeout=10)) is not None:
            self.events.append(event)
        return code

    def stderr(self) -> str:
        return self.process.stderr.read() if self.process.stderr and self.process.poll() is not None else ""


@pytest.fixture
def agents() -> Iterator[Callable[..., AgentProcess]]:
    """Start agents; whatever still runs at the end is killed."""
    started: list[AgentProcess] = []

    def start(root: Path, *args: str) -> AgentProcess:
        agent = AgentProcess(root, *args)
        started.append(agent)
        return agent

    yield start
    for agent in started:
        if agent.process.poll() is None:
            agent.process.kill()
            agent.process.wait()


@pytest.fixture
def project(make_project) -> Path:  # type: ignore[no-untyped-def]
    """A youtube-spam project with no model yet; the agent registers without releasing."""
    root: Path = make_project()
    set_triggers(root, release="false", watch_incoming="true")
    return root


def drop(root: Path, name: str, text: str | None = None) -> Path:
    """Put a file into the incoming folder the way a careful writer does (partial, rename)."""
    incoming = root / "data" / "incoming"
    partial = incoming / f"{name}.partial"
    if text is None:
        shutil.copyfile(TEMPLATE_DATA / "retraining" / name, partial)
    else:
        partial.write_text(text)
    return partial.rename(incoming / name)


def job_event(kind: str, status: str | None = None) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["event"] == kind and (status is None or e["job"]["status"] == status)


def gone(pid: int, timeout: float = 5.0) -> bool:
    """No live process is left in the process group `pid` (zombies do not count: a child that
    outlived its parent, a `git` MLflow ran, waits for an init that may never reap it)."""
    deadline = time.monotonic() + timeout
    while True:
        live = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if fields[0] != "Z" and int(fields[2]) == pid:
                    live.append(entry.name)
        if not live:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def job_priority(pid: int, expected: int, timeout: float = 5.0) -> int:
    """The job process's niceness, once `nice(1)` has set it: the job is `nice -n 10 champion
    ...` under one pid, which for a few microseconds after the start is `nice` itself at the
    agent's priority (seen once in a full run)."""
    deadline = time.monotonic() + timeout
    value = os.getpriority(os.PRIO_PROCESS, pid)
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.01)
        value = os.getpriority(os.PRIO_PROCESS, pid)
    return value


def test_bad_file_fails_its_job_the_next_file_retrains_and_sigterm_lets_it_finish(
        project: Path, agents: Callable[..., AgentProcess]) -> None:
    agent = agents(project, "--poll-seconds", "0.3", "--grace-seconds", "120")
    agent.wait_for(lambda e: e["event"] == "started")

    drop(project, "bad.csv", BAD_CSV)
    failed = agent.wait_for(job_event("job_finished"))["job"]
    assert failed["status"] == "failed" and failed["exit_code"] == 2 and failed["trigger"] == "incoming"
    rejected = project / "data" / "incoming" / "rejected"
    assert (rejected / "bad.csv").exists() and not (project / "data" / "incoming" / "bad.csv").exists()
    reason = (rejected / "bad.csv.reason.txt").read_text()
    assert "CLASS" in reason and failed["id"] in reason  # the validation error, naming the missing column

    drop(project, "Youtube04-Eminem.csv")
    started = agent.wait_for(job_event("job_started"))["job"]
    assert started["files"] == [str((project / "data" / "incoming" / "Youtube04-Eminem.csv").resolve())]
    assert agent.process.poll() is None  # the failed job did not stop the agent
    # The pipeline runs at a lower CPU priority than the agent (endpoints keep serving).
    agent_nice = os.getpriority(os.PRIO_PROCESS, agent.process.pid)
    assert job_priority(started["pid"], min(19, agent_nice + 10)) == min(19, agent_nice + 10)
    board = cli("status", "--project", str(project), "--json").json()["agent"]
    assert board["running"] is True and board["jobs"][0]["id"] == started["id"]
    assert board["jobs"][0]["status"] == "running" and board["jobs"][0]["started_at"] is not None
    assert agent.stop() == 0  # SIGTERM while the job runs: it finishes within the grace period
    finished = next(e["job"] for e in agent.events if e["event"] == "job_finished" and e["job"]["id"] == started["id"])
    assert finished["status"] == "succeeded" and finished["summary"]["verdict"] == "FIRST_MODEL"
    assert agent.events[-1]["event"] == "stopped" and gone(started["pid"])
    assert (project / "data" / "incoming" / "processed" / "Youtube04-Eminem.csv").exists()
    assert Path(finished["log_path"]).read_text().count("FIRST_MODEL") >= 1

    status = cli("status", "--project", str(project), "--json")
    assert status.code == 0
    document = status.json()
    assert document["models"][0]["aliases"]["champion"]["version"] == 1  # existing fields unchanged
    assert [f["rows"] for f in document["models"][0]["ingested_files"]] == [448]
    board = document["agent"]
    assert board["running"] is False and board["pid"] is None
    assert [(j["status"], j["trigger"]) for j in board["jobs"]] == [("succeeded", "incoming"), ("failed", "incoming")]
    assert board["jobs"][0]["summary"]["version"] == 1 and "CLASS" in board["jobs"][1]["summary"]["error"]
    human = cli("status", "--project", str(project))
    assert "agent: not running" in human.stdout and "FIRST_MODEL v1" in human.stdout


def test_due_schedule_and_new_files_run_once_with_agent_once(project: Path) -> None:
    # Yearly, so that no new slot falls between the two runs below.
    set_triggers(project, release="false", schedule='"0 0 1 1 *"')
    project_state = Project.open(project)
    store = JobStore(StateStore(project_state.state_uri, project_state.lock_dir))
    # The schedule was armed 400 days ago: a slot passed while no agent ran.
    store.set_timer(Timer("spam", "schedule", "0 0 1 1 *", now() - timedelta(days=400), None))
    drop(project, "Youtube04-Eminem.csv")
    drop(project, "Youtube05-Shakira.csv")

    result = cli_process("agent", "--once", "--json", "--poll-seconds", "0.5", "--project", str(project))
    assert result.code == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["event"] for e in events].count("job_started") == 1
    (job,) = store.jobs()
    assert job.status == "succeeded" and job.triggers == ["incoming", "schedule"]
    assert [Path(f).name for f in job.files] == ["Youtube04-Eminem.csv", "Youtube05-Shakira.csv"]
    assert job.summary["verdict"] == "FIRST_MODEL"
    timer = store.timer("spam", "schedule")
    assert timer is not None and timer.fired_at == schedule_of("spam", "0 0 1 1 *").last_at_or_before(now())
    assert sorted(p.name for p in (project / "data" / "incoming" / "processed").iterdir()) == [
        "Youtube04-Eminem.csv", "Youtube05-Shakira.csv"]
    assert cli("status", "--project", str(project), "--json").json()["models"][0]["versions"] == 1

    again = cli_process("agent", "--once", "--json", "--poll-seconds", "0.2", "--project", str(project))
    assert again.code == 0 and "job_started" not in again.stdout  # nothing due: the slot fired once


def test_sigterm_past_the_grace_period_cancels_and_the_work_runs_at_the_next_start(
        project: Path, agents: Callable[..., AgentProcess]) -> None:
    agent = agents(project, "--poll-seconds", "0.3", "--grace-seconds", "0")
    agent.wait_for(lambda e: e["event"] == "started")
    drop(project, "Youtube04-Eminem.csv")
    running = agent.wait_for(job_event("job_started"))["job"]
    drop(project, "Youtube05-Shakira.csv")
    agent.wait_for(lambda e: e["event"] == "queued")  # the model is busy: it waits in the queue
    assert agent.stop() == 0
    cancelled = next(e["job"] for e in agent.events if e["event"] == "job_finished")
    assert cancelled["id"] == running["id"] and cancelled["status"] == "cancelled"
    assert gone(running["pid"])  # the job's process group is gone, nothing left behind

    board = cli("status", "--project", str(project), "--json").json()["agent"]
    assert [j["status"] for j in board["jobs"]] == ["queued", "cancelled"]
    assert sorted(Path(f).name for f in board["jobs"][0]["files"]) == ["Youtube04-Eminem.csv", "Youtube05-Shakira.csv"]

    result = cli_process("agent", "--once", "--json", "--poll-seconds", "0.2", "--project", str(project))
    assert result.code == 0, result.stderr
    board = cli("status", "--project", str(project), "--json").json()["agent"]
    assert [j["status"] for j in board["jobs"]] == ["succeeded", "cancelled"]  # queued work ran, once
    assert board["jobs"][0]["summary"]["verdict"] == "FIRST_MODEL"
    assert len(list((project / "data" / "incoming" / "processed").iterdir())) == 2


def test_a_second_agent_is_refused(project: Path, agents: Callable[..., AgentProcess]) -> None:
    first = agents(project, "--poll-seconds", "0.3")
    first.wait_for(lambda e: e["event"] == "started")
    second = cli_process("agent", "--once", "--project", str(project))
    assert second.code == 2
    assert "another champion agent is running" in second.stderr and str(first.process.pid) in second.stderr
    board = cli("status", "--project", str(project), "--json").json()["agent"]
    assert board["running"] is True and board["pid"] == first.process.pid
    assert first.stop() == 0
    assert cli("status", "--project", str(project), "--json").json()["agent"]["running"] is False
