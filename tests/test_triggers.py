"""Triggers without training: schedules on a clock the test moves, the incoming watcher, the
job queue in the state DB, monitor checks as real processes, and the agent queueing what
they say. The retrainings themselves run in tests/test_agent.py."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import cli

from champion.errors import ConfigError
from champion.project import Project
from champion.state.jobs import JobStore, Timer
from champion.state.store import StateStore
from champion.triggers.agent import Agent, AgentEvent, AgentOptions
from champion.triggers.incoming import IncomingWatcher, move_rejected
from champion.triggers.monitor import parse_monitor_output, run_monitor
from champion.triggers.schedule import CronTimer, IntervalTimer, schedule_of

UTC_ZONE = ZoneInfo("UTC")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    return JobStore(StateStore(f"sqlite:///{tmp_path / 'state.db'}", tmp_path / "locks"))


# ---- schedules ------------------------------------------------------------------------------
def test_schedule_fires_at_its_slot_once_and_survives_restarts(store: JobStore) -> None:
    clock = Clock(datetime(2025, 1, 6, 12, 0, tzinfo=UTC))  # a Monday, noon
    daily = schedule_of("spam", "0 3 * * *", UTC_ZONE)
    timer = CronTimer("spam", daily, store, clock)
    assert timer.due() is None  # first sight: armed, fires at the next 03:00
    clock.advance(hours=14, minutes=59)
    assert timer.due() is None
    clock.advance(minutes=1)
    slot = timer.due()
    assert slot == datetime(2025, 1, 7, 3, 0, tzinfo=UTC)
    timer.fired(slot)
    assert timer.due() is None
    clock.advance(minutes=30)
    assert CronTimer("spam", daily, store, clock).due() is None  # a restart does not fire it again

    clock.advance(days=3)  # the agent was down through three slots: one firing, the latest slot
    restarted = CronTimer("spam", daily, store, clock)
    slot = restarted.due()
    assert slot == datetime(2025, 1, 10, 3, 0, tzinfo=UTC)
    restarted.fired(slot)
    assert restarted.due() is None
    timer_row = store.timer("spam", "schedule")
    assert timer_row is not None and timer_row.fired_at == slot

    weekly = CronTimer("spam", schedule_of("spam", "0 3 * * 1", UTC_ZONE), store, clock)
    assert weekly.due() is None  # a changed expression is armed again, not fired at once
    clock.advance(days=3)  # Monday 2025-01-13 03:30
    assert weekly.due() == datetime(2025, 1, 13, 3, 0, tzinfo=UTC)


def test_schedule_follows_local_time_across_daylight_saving() -> None:
    berlin = schedule_of("spam", "30 2 * * *", ZoneInfo("Europe/Berlin"))
    # 02:30 does not exist on 2025-03-30 in Berlin: like Debian cron, it runs at 03:00 CEST.
    assert berlin.next_after(datetime(2025, 3, 29, 12, 0, tzinfo=UTC)) == datetime(2025, 3, 30, 1, 0, tzinfo=UTC)
    assert berlin.next_after(datetime(2025, 1, 1, 12, 0, tzinfo=UTC)) == datetime(2025, 1, 2, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize("expression", ["61 * * * *", "0 3 * *", "every day", "0 3 * * 8"])
def test_bad_cron_expression_is_a_config_error_naming_the_setting(expression: str) -> None:
    with pytest.raises(ConfigError, match=r"models\.spam\.triggers\.schedule"):
        schedule_of("spam", expression)


def test_bad_cron_expression_stops_the_agent_with_exit_2(tmp_path: Path) -> None:
    root = new_project(tmp_path)
    set_triggers(root, schedule='"0 25 * * *"')
    result = cli("agent", "--once", "--project", str(root))
    assert result.code == 2
    assert "models.spam.triggers.schedule" in result.stderr and "Traceback" not in result.stderr


def test_interval_timer(store: JobStore) -> None:
    clock = Clock(datetime(2025, 1, 1, tzinfo=UTC))
    timer = IntervalTimer("spam", "monitor", 60, store, clock)
    assert timer.due() is None
    clock.advance(minutes=59)
    assert timer.due() is None
    clock.advance(minutes=1)
    moment = timer.due()
    assert moment is not None
    timer.fired(moment)
    assert IntervalTimer("spam", "monitor", 60, store, clock).due() is None


# ---- incoming folder ------------------------------------------------------------------------
def test_incoming_takes_only_stable_files_once(tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    watcher = IncomingWatcher(folder)
    growing = folder / "growing.csv"
    growing.write_text("a,b\n")
    (folder / ".hidden.csv").write_text("x\n")
    (folder / "copying.csv.partial").write_text("x\n")
    (folder / "processed").mkdir()
    (folder / "processed" / "old.csv").write_text("x\n")
    move_rejected(_write(folder / "bad.csv"), "no")  # -> rejected/bad.csv + bad.csv.reason.txt

    assert watcher.poll() == []  # seen once: not yet known to be complete
    with open(growing, "a") as file:
        file.write("1,2\n")  # still being written
    assert watcher.poll() == []
    assert watcher.poll() == [growing.resolve()]
    assert watcher.poll() == []  # handed out once
    watcher.release(growing.resolve())
    assert watcher.poll() == [growing.resolve()]  # a job left it in place: taken again
    growing.unlink()
    assert watcher.poll() == []
    _write(growing)  # a new file under an old name is new
    assert watcher.poll() == []
    assert watcher.poll() == [growing.resolve()]
    assert (folder / "rejected" / "bad.csv.reason.txt").read_text() == "no\n"


def test_incoming_folder_missing_is_empty(tmp_path: Path) -> None:
    assert IncomingWatcher(tmp_path / "nope").poll() == []


# ---- the queue ------------------------------------------------------------------------------
def test_triggers_for_a_queued_model_merge_into_one_job(store: JobStore) -> None:
    first, merged = store.enqueue("spam", "incoming", "incoming: a.csv", ["/in/a.csv"])
    assert not merged
    second, merged = store.enqueue("spam", "schedule", "schedule: due", [])
    third, merged_again = store.enqueue("spam", "incoming", "incoming: b.csv", ["/in/b.csv", "/in/a.csv"])
    other, other_merged = store.enqueue("forecast", "manual", "by hand")
    assert merged and merged_again and not other_merged
    assert first.id == second.id == third.id != other.id
    (job,) = store.jobs("queued", model="spam")
    assert job.files == ["/in/a.csv", "/in/b.csv"]
    assert job.trigger == "incoming" and job.triggers == ["incoming", "schedule"]
    assert job.reason == "incoming: a.csv; schedule: due; incoming: b.csv"
    assert store.active_files() == {"/in/a.csv", "/in/b.csv"}

    store.mark_running(job.id, 12345, "/logs/x.log")
    after, merged = store.enqueue("spam", "schedule", "schedule: due again")
    assert not merged and after.id != job.id  # a running job takes nothing more: the next one waits
    finished = store.finish(job.id, "rejected", 3, {"verdict": "REJECT"})
    assert (finished.status, finished.exit_code, finished.summary) == ("rejected", 3, {"verdict": "REJECT"})
    assert [j.id for j in store.recent(10)] == [after.id, other.id, job.id]
    newest_first = store.recent(10, model="spam")
    assert [j.id for j in newest_first] == [after.id, job.id]


def test_timers_are_rows_in_the_state_db(store: JobStore) -> None:
    at = datetime(2025, 1, 1, tzinfo=UTC)
    store.set_timer(Timer("spam", "schedule", "0 3 * * *", at, None))
    store.set_timer(Timer("spam", "schedule", "0 3 * * *", at + timedelta(days=1), at + timedelta(days=1)))
    timer = store.timer("spam", "schedule")
    assert timer is not None and timer.anchor_at == at + timedelta(days=1) and timer.fired_at == timer.anchor_at
    assert store.timer("spam", "monitor") is None


# ---- monitor checks -------------------------------------------------------------------------
ALERTS = {"drift_detected": True, "report": "r.html", "alerts": [
    {"kind": "performance", "message": "accuracy fell by 0.12", "retrain": True},
    {"kind": "data_drift", "message": "CONTENT drifted", "retrain": False}]}


def _script(tmp_path: Path, name: str, body: str) -> list[str]:
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(body))
    return [sys.executable, str(path)]


def test_run_monitor_reads_alerts_that_ask_for_retraining(tmp_path: Path) -> None:
    command = _script(tmp_path, "ok", f"import json; print(json.dumps({ALERTS!r}))")
    outcome = run_monitor(tmp_path, "spam", tmp_path / "logs", command)
    assert outcome.ok and outcome.drift_detected and outcome.exit_code == 0
    assert outcome.retrain_reasons == ["performance: accuracy fell by 0.12"]


def test_run_monitor_failures_are_outcomes_not_exceptions(tmp_path: Path) -> None:
    garbage = run_monitor(tmp_path, "spam", tmp_path / "logs", _script(tmp_path, "garbage", "print('hello')"))
    assert not garbage.ok and "JSON" in (garbage.error or "")
    missing = run_monitor(tmp_path, "spam", tmp_path / "logs",
                          _script(tmp_path, "fields", "print('{\"alerts\": []}')"))
    assert not missing.ok and "drift_detected" in (missing.error or "")
    failing = run_monitor(tmp_path, "spam", tmp_path / "logs", _script(tmp_path, "fails", """
        import json, sys
        print(json.dumps({"error": {"type": "NotFoundError", "message": "no production version", "exit_code": 2}}))
        sys.exit(2)
    """))
    assert not failing.ok and failing.exit_code == 2 and "no production version" in (failing.error or "")
    started = time.monotonic()
    hung = run_monitor(tmp_path, "spam", tmp_path / "logs", _script(tmp_path, "hangs", """
        import os, time
        open(os.path.join(os.path.dirname(__file__), "hung.pid"), "w").write(str(os.getpid()))
        time.sleep(60)
    """), timeout=1.0)
    assert not hung.ok and "longer than" in (hung.error or "") and time.monotonic() - started < 15
    with pytest.raises(ProcessLookupError):
        os.kill(int((tmp_path / "hung.pid").read_text()), 0)


def test_parse_monitor_output_contract() -> None:
    assert parse_monitor_output("spam", 0, json.dumps(ALERTS)).retrain_reasons
    assert not parse_monitor_output("spam", 0, "[1, 2]").ok
    assert not parse_monitor_output("spam", 0, '{"drift_detected": "yes", "alerts": []}').ok
    assert not parse_monitor_output("spam", 0, '{"drift_detected": false, "alerts": ["x"]}').ok
    calm = parse_monitor_output("spam", 0, '{"drift_detected": false, "alerts": []}')
    assert calm.ok and calm.retrain_reasons == []


# ---- the agent queueing what its triggers say (no job runs: the agent is stopping) ----------
def test_agent_merges_schedule_file_and_monitor_alert_into_one_job(tmp_path: Path) -> None:
    root = new_project(tmp_path)
    set_triggers(root, schedule='"0 3 * * *"', monitor_minutes="10")
    calls = tmp_path / "monitor-calls"
    alerting = _script(tmp_path, "alerting", f"""
        import json
        with open({str(calls)!r}, "a") as f:
            f.write("call\\n")
        print(json.dumps({ALERTS!r}))
    """)
    clock = Clock(datetime(2025, 1, 6, 12, 0, tzinfo=UTC))
    events: list[AgentEvent] = []
    agent = Agent(Project.open(root), AgentOptions(poll_seconds=0.1), events.append, clock,
                  monitor_command=lambda model: alerting)
    agent.start()
    try:
        agent.request_stop()  # take triggers by hand below, start no job
        agent.poll_triggers()  # arms the schedule and the monitor interval
        new_file = _write(root / "data" / "incoming" / "new.csv")
        agent.poll_triggers()  # the file is seen once
        agent.poll_triggers()  # ... and again, unchanged: taken
        clock.advance(hours=15, minutes=10)  # past 03:00 and past the monitor's 10 minutes
        agent.poll_triggers()
        deadline = time.monotonic() + 30
        while agent.monitors and time.monotonic() < deadline:
            agent.step()
            time.sleep(0.05)
        agent.poll_triggers()  # nothing more is due: no second monitor check, no second job
    finally:
        agent.shutdown()
    (job,) = agent.store.jobs()
    assert job.status == "queued" and job.files == [str(new_file.resolve())]
    assert job.triggers == ["incoming", "schedule", "monitor"]
    assert "performance: accuracy fell by 0.12" in job.reason and "CONTENT drifted" not in job.reason
    assert calls.read_text() == "call\n"
    kinds = [e.event for e in events]
    assert kinds.count("queued") == 1 and kinds.count("merged") == 2 and kinds[-1] == "stopped"


def test_agent_records_a_failed_monitor_check_and_goes_on(tmp_path: Path) -> None:
    root = new_project(tmp_path)
    set_triggers(root, monitor_minutes="1")
    clock = Clock(datetime(2025, 1, 6, 12, 0, tzinfo=UTC))
    broken = _script(tmp_path, "broken", "import sys; print('Traceback: boom', file=sys.stderr); sys.exit(1)")
    agent = Agent(Project.open(root), AgentOptions(), lambda e: None, clock, monitor_command=lambda m: broken)
    agent.start()
    try:
        agent.request_stop()
        for _ in range(2):
            agent.poll_triggers()
            clock.advance(minutes=1)
            deadline = time.monotonic() + 30
            while True:
                agent.poll_triggers()
                agent.step()
                if not agent.monitors or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
    finally:
        agent.shutdown()
    failed = agent.store.jobs("failed")
    assert len(failed) == 2 and all(j.trigger == "monitor" for j in failed)
    assert "exited with code 1" in failed[0].summary["error"] and "boom" in failed[0].summary["error"]
    assert agent.store.jobs("queued") == []


def test_shared_incoming_folder_is_refused(tmp_path: Path) -> None:
    root = new_project(tmp_path)
    text = (root / "champion.toml").read_text()
    start = text.index("[models.spam]")
    end = text.index("[environments.staging]")
    copy = text[start:end].replace("models.spam", "models.spam2")
    (root / "champion.toml").write_text(text[:end] + copy + text[end:])
    with pytest.raises(ConfigError, match="same folder"):
        Agent(Project.open(root), AgentOptions(), lambda e: None)


# ---- helpers --------------------------------------------------------------------------------
def new_project(tmp_path: Path) -> Path:
    """A youtube-spam project; no registry (nothing here trains)."""
    root = tmp_path / "project"
    assert cli("init", str(root)).code == 0
    return root


def _write(path: Path, text: str = "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def set_triggers(root: Path, **values: str) -> None:
    """Set keys of `[models.spam.triggers]` (TOML literals) in the project's settings, adding
    the table when the template has none."""
    path = root / "champion.toml"
    lines = path.read_text().splitlines()
    header = "[models.spam.triggers]"
    if header not in lines:
        lines[lines.index("[models.spam.columns]"):0] = [header, ""]
    start = lines.index(header) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
    kept = [line for line in lines[start:end] if line.split("=")[0].strip() not in values]
    lines[start:end] = [f"{key} = {value}" for key, value in values.items()] + kept
    path.write_text("\n".join(lines) + "\n")


def test_a_trigger_without_files_joins_the_running_job(store: JobStore) -> None:
    job, _ = store.enqueue("spam", "incoming", "incoming: a.csv", ["/in/a.csv"])
    store.mark_running(job.id, 12345, "/logs/x.log")
    joined, merged = store.enqueue("spam", "monitor", "monitor: performance", join_running=True)
    assert merged and joined.id == job.id and joined.triggers == ["incoming", "monitor"]
    files, merged_files = store.enqueue("spam", "incoming", "incoming: b.csv", ["/in/b.csv"], join_running=True)
    assert not merged_files and files.id != job.id  # new files need a run of their own


def test_monitor_alerts_do_not_retrain_when_no_data_arrived_since_the_last_retraining(tmp_path: Path) -> None:
    root = new_project(tmp_path)
    set_triggers(root, monitor_minutes="10")
    alerting = _script(tmp_path, "alerting", f"import json; print(json.dumps({ALERTS!r}))")
    clock = Clock(datetime(2025, 1, 6, 12, 0, tzinfo=UTC))
    events: list[AgentEvent] = []
    agent = Agent(Project.open(root), AgentOptions(poll_seconds=0.1), events.append, clock,
                  monitor_command=lambda model: alerting)
    agent.start()
    try:
        agent.request_stop()
        earlier, _ = agent.store.enqueue("spam", "schedule", "schedule: due")
        agent.store.mark_running(earlier.id, 1, "/logs/x.log")
        agent.store.finish(earlier.id, "rejected", 3, {"verdict": "REJECT"})
        agent.poll_triggers()
        clock.advance(minutes=11)
        agent.poll_triggers()
        deadline = time.monotonic() + 30
        while agent.monitors and time.monotonic() < deadline:
            agent.step()
            time.sleep(0.05)
    finally:
        agent.shutdown()
    assert agent.store.jobs("queued") == []
    assert "monitor_skipped" in [e.event for e in events]
