"""Endpoint processes: start in the background, stop, list, and wait for a version.

An endpoint runs as `champion serve ENV` in its own session, its output appended to
`.champion/endpoints/ENV/endpoint.log`; the process writes `endpoint.json` (pid, url) when
it starts and removes it when it stops.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from champion.errors import EndpointError
from champion.serving.client import EndpointClient
from champion.serving.heartbeat import machine
from champion.serving.server import binding, read_endpoint
from champion.serving.workers import endpoint_dir, request_reload
from champion.workspace import Workspace
from champion.workspace.processes import pid_alive, process_group, send_signal

HEALTHY = "Healthy"


@dataclass
class EndpointInfo:
    """One environment's endpoint as `champion ps` shows it."""

    environment: str
    url: str
    pid: int | None
    state: str
    """Healthy, Transitioning, Unhealthy, Starting (process up, not answering) or Stopped."""
    model: str | None
    version: int | None
    models: dict[str, Any]
    log: str
    notes: list[str] = field(default_factory=list)
    """What a glance at the state would miss: a model served at another version than its
    alias says (the alias' version was refused), or why the endpoint is Unhealthy."""
    machine: str = field(default_factory=machine)
    """The machine it runs on (another machine's endpoints come from their heartbeats)."""
    seen_at: str | None = None
    """Another machine's endpoint: when it last beat (ISO time)."""
    workers: int = 1
    """Worker processes answering (this machine's endpoints; 1 for another machine's)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def client(ws: Workspace, environment: str, timeout: float = 30.0) -> EndpointClient:
    settings = ws.project.environment(environment)
    return EndpointClient(binding(ws.project, environment).url, settings.api_key_env, settings.admin_key_env,
                          timeout=timeout)


def info(ws: Workspace, environment: str) -> EndpointInfo:
    where = binding(ws.project, environment)
    log = str(endpoint_dir(ws.project, environment) / "endpoint.log")
    running = read_endpoint(ws.project, environment)
    pid = int(running["pid"]) if running and pid_alive(int(running["pid"])) else None
    url = running["url"] if running and pid else where.url
    default = ws.project.default_model()
    if pid is None:
        return EndpointInfo(environment, url, None, "Stopped", default, None, {}, log)
    with EndpointClient(url, timeout=2.0) as http:
        health = http.health()
    if health is None:
        return EndpointInfo(environment, url, pid, "Starting", default, None, {}, log)
    models = health.get("models") or {}
    version = (models.get(default) or {}).get("version") if default else None
    notes = [f"{name}: {entry['note']}" for name, entry in models.items() if entry.get("note")]
    notes += [f"{name}: {entry['reason']}" for name, entry in models.items()
              if entry.get("version") is None and entry.get("reason")]
    return EndpointInfo(environment, url, pid, str(health.get("status")), default, version, models, log, notes,
                        workers=len(health.get("workers") or []) or 1)


def environment_names(ws: Workspace, environment: str | None = None) -> list[str]:
    """`[environment]`, or every environment of the project when it is None."""
    return [environment] if environment else list(ws.project.config.environments)


def endpoints(ws: Workspace, environment: str | None = None) -> list[EndpointInfo]:
    """This machine's endpoint of each environment, then, on a team's shared state, the
    endpoints other machines (or other checkouts) run, from their heartbeats."""
    local = [info(ws, name) for name in environment_names(ws, environment)]
    if ws.project.state_schema is None:
        return local
    mine = {(machine(), e.pid) for e in local if e.pid is not None}
    default = ws.project.default_model()
    others = [EndpointInfo(beat.environment, beat.url, beat.pid, beat.state, default,
                           beat.versions.get(default) if default else None,
                           {name: {"version": v} for name, v in beat.versions.items()}, "", [], beat.machine,
                           beat.seen_at.isoformat(timespec="seconds"))
              for beat in ws.state.heartbeats(environment) if (beat.machine, beat.pid) not in mine]
    return local + others


def start(ws: Workspace, environment: str, timeout: float | None = None) -> EndpointInfo:
    """Start the endpoint in the background unless it runs; return once it answers HTTP.
    Two commands starting one environment at once (two `release` runs) share one endpoint:
    the second waits for the first's."""
    with ws.state.lock(f"start-{environment}"):
        return _start_locked(ws, environment, timeout)


def _start_locked(ws: Workspace, environment: str, timeout: float | None) -> EndpointInfo:
    current = info(ws, environment)
    if current.pid is not None:
        return current
    settings = ws.project.environment(environment)
    folder = endpoint_dir(ws.project, environment)
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / "endpoint.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "champion", "serve", environment, "--project", str(ws.project.root)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            cwd=str(ws.project.root),
        )
    deadline = time.monotonic() + (timeout or settings.startup_seconds)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EndpointError(f"the {environment} endpoint exited with code {process.returncode} while "
                                f"starting: {_tail(log_path)}")
        current = info(ws, environment)
        if current.pid is not None and current.state not in ("Starting", "Transitioning"):
            return current  # Healthy, or Unhealthy because no version has its alias yet
        time.sleep(0.2)
    stop(ws, environment)
    raise EndpointError(f"the {environment} endpoint did not answer within {timeout or settings.startup_seconds:.0f} s; "
                        f"see {log_path}")


def stop(ws: Workspace, environment: str, timeout: float = 20.0) -> EndpointInfo:
    """Stop the endpoint (graceful, then forced) and every worker process it started."""
    running = read_endpoint(ws.project, environment)
    pid = int(running["pid"]) if running else None
    if pid is not None and pid_alive(pid):
        own_group = process_group(pid) == pid
        send_signal(pid, signal.SIGTERM, own_group)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and pid_alive(pid):
            time.sleep(0.1)
        if pid_alive(pid):
            send_signal(pid, signal.SIGKILL, own_group)
        if own_group:  # workers of the group that outlived their supervisor
            send_signal(pid, signal.SIGKILL, True)
    (endpoint_dir(ws.project, environment) / "endpoint.json").unlink(missing_ok=True)
    return info(ws, environment)


def wait_for_version(ws: Workspace, environment: str, model: str, version: int | None,
                     timeout: float) -> dict[str, Any]:
    """Wait until every worker of the endpoint serves `version` of `model` and reports
    Healthy; `EndpointError` when the version is refused or the time runs out."""
    deadline = time.monotonic() + timeout
    last: dict[str, Any] | None = None
    asked = time.time()
    request_reload(ws.project, environment)  # every worker retries a version it refused before
    with client(ws, environment, timeout=5.0) as http:
        http.reload()
        while time.monotonic() < deadline:
            last = http.health()
            if last is not None:
                entry = (last.get("models") or {}).get(model) or {}
                refused = entry.get("refused") or {}
                if version is not None and refused.get("version") == version and refused.get("at", 0) >= asked:
                    raise EndpointError(f"the {environment} endpoint refused {model} version {version}: "
                                        f"{refused.get('reason')}")
                # Only this model counts: another model of the project may have no version in
                # this environment yet (the endpoint as a whole is then Unhealthy).
                workers = last.get("workers") or []
                if entry.get("state") == HEALTHY and entry.get("version") == version and all(
                        ((w.get("models") or {}).get(model) or {}).get("version") == version
                        and ((w.get("models") or {}).get(model) or {}).get("state") == HEALTHY for w in workers):
                    return last
            time.sleep(0.2)
    state = "no answer" if last is None else f"{last.get('status')}, serving {_served(last, model)}"
    raise EndpointError(f"the {environment} endpoint did not serve {model} version {version} within "
                        f"{timeout:.0f} s ({state})")


def _served(health: dict[str, Any], model: str) -> str:
    entry = (health.get("models") or {}).get(model) or {}
    return f"version {entry.get('version')}"


def _tail(path: Any, lines: int = 5) -> str:
    try:
        text = open(path, encoding="utf-8", errors="replace").read().strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) or "(empty log)"
