"""Run an endpoint: uvicorn embedded in our own process, one or several worker processes.

Every worker binds the port itself with SO_REUSEPORT (the kernel spreads connections), so
no listening socket is inherited across processes. The supervisor owns the signals: on
SIGTERM or SIGINT it stops its workers gracefully (requests in flight finish) and restarts
a worker that dies. A lock file keeps a second supervisor off the same environment, and
`endpoint.json` tells `champion ps`/`down` where it runs. Beside the workers runs the log
loader (`log_loader.py`), which moves their spooled predictions into the state store; it
stops after them, so it loads what they wrote last.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from champion.errors import EndpointError
from champion.locks import try_lock
from champion.project import Project
from champion.serving.heartbeat import start_heartbeat
from champion.serving.log_loader import LoaderProcess
from champion.serving.log_spool import SEGMENT_SUFFIX, spool_dir
from champion.serving.metrics import METRICS_DIR, MULTIPROCESS_ENV
from champion.serving.workers import endpoint_dir
from champion.startup import log_to_stderr, quiet_library_warnings

ENDPOINT_FILE = "endpoint.json"
_RESTART_PAUSE = 1.0


@dataclass(frozen=True)
class Binding:
    """Where one environment's endpoint listens."""

    environment: str
    host: str
    port: int
    workers: int

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else ("[::1]" if self.host == "::" else self.host)
        return f"http://{host}:{self.port}"


def binding(project: Project, environment: str, host: str | None = None, port: int | None = None,
            workers: int | None = None) -> Binding:
    settings = project.environment(environment)
    return Binding(environment, host or settings.host, port or settings.port, workers or settings.workers)


def read_endpoint(project: Project, environment: str) -> dict[str, Any] | None:
    """What `endpoint.json` says about a running endpoint, or None."""
    path = endpoint_dir(project, environment) / ENDPOINT_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def serve(project: Project, where: Binding) -> None:
    """Run the endpoint in this process until SIGTERM/SIGINT."""
    folder = endpoint_dir(project, where.environment)
    folder.mkdir(parents=True, exist_ok=True)
    lock = try_lock(folder / "serve.lock")
    if lock is None:
        running = read_endpoint(project, where.environment) or {}
        raise EndpointError(f"the {where.environment} endpoint already runs (pid {running.get('pid', '?')}, "
                            f"{running.get('url', '')}); stop it with `champion down {where.environment}`") from None
    try:
        _check_port_free(where)
        record = {"environment": where.environment, "pid": os.getpid(), "url": where.url, "host": where.host,
                  "port": where.port, "workers": where.workers, "started_at": time.time(),
                  "log": str(folder / "endpoint.log")}
        (folder / ENDPOINT_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")
        # Also when logging is off now but a spool is left from before (a crash): load it.
        logging_on = project.environment(where.environment).log_predictions
        loader = LoaderProcess(str(project.root), where.environment) \
            if logging_on or any(spool_dir(folder).glob("*" + SEGMENT_SUFFIX)) else None
        if loader is not None:
            loader.start()
        heartbeat = start_heartbeat(project, where.environment, where.url)
        try:
            if where.workers == 1:
                run_worker(str(project.root), where.environment, where.host, where.port)
            else:
                _share_metrics(folder)
                _supervise(project, where)
        finally:
            if heartbeat is not None:
                heartbeat.stop()
            if loader is not None:  # after the workers: it loads what they wrote last
                loader.stop()
    finally:
        (folder / ENDPOINT_FILE).unlink(missing_ok=True)
        lock.release()


def run_worker(root: str, environment: str, host: str, port: int) -> None:
    """One worker process: our app on uvicorn, on its own SO_REUSEPORT socket."""
    import uvicorn

    from champion.serving.app import create_app
    from champion.serving.protocol import with_header_deadline
    from champion.serving.service import ScoringService

    _configure_logging()
    # A version loads in a thread while the event loop keeps answering; a shorter GIL switch
    # interval (default 5 ms) lets the loop back in sooner, so swaps barely show in latency.
    sys.setswitchinterval(0.001)
    project = Project.open(root)
    service = ScoringService(project, environment, project.environment(environment))
    sock = _worker_socket(host, port)
    settings = project.environment(environment)
    config = uvicorn.Config(create_app(service), loop="uvloop", http=with_header_deadline(settings.read_timeout_seconds),
                            lifespan="on",
                            access_log=False, log_level="warning", timeout_graceful_shutdown=10)
    server = uvicorn.Server(config)
    # uvicorn re-raises the stopping signal once it has shut down; with these handlers that
    # ends here instead of killing the process, so `serve` still stops the log loader after
    # the workers (`champion down` kills what is left of the group once this process exits).
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: None)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


def _supervise(project: Project, where: Binding) -> None:
    context = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> Any:
        process = context.Process(target=run_worker, name=f"champion-{where.environment}-worker",
                                  args=(str(project.root), where.environment, where.host, where.port))
        process.start()
        return process

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    workers = [start() for _ in range(where.workers)]
    try:
        while not stopping:
            time.sleep(0.2)
            for i, process in enumerate(workers):
                if not process.is_alive() and not stopping:
                    logging.getLogger("champion.serving").error(
                        "worker %s exited with %s; starting another", process.pid, process.exitcode)
                    _forget_worker_metrics(process.pid)
                    time.sleep(_RESTART_PAUSE)
                    workers[i] = start()
    finally:
        for process in workers:
            if process.is_alive() and process.pid:
                os.kill(process.pid, signal.SIGTERM)  # uvicorn finishes requests in flight
        deadline = time.time() + 15
        for process in workers:
            process.join(max(0.0, deadline - time.time()))
            if process.is_alive():
                process.kill()
                process.join()


def _share_metrics(folder: Path) -> None:
    """Workers of one endpoint count into files in one folder (prometheus-client's
    multiprocess mode), so `/metrics` of any worker shows the whole endpoint. Set before the
    workers start: the client library picks its mode when it is imported."""
    shared = folder / METRICS_DIR
    shutil.rmtree(shared, ignore_errors=True)  # counts of an earlier run
    shared.mkdir(parents=True)
    os.environ[MULTIPROCESS_ENV] = str(shared)


def _forget_worker_metrics(pid: int | None) -> None:
    if pid is not None and os.environ.get(MULTIPROCESS_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def _worker_socket(host: str, port: int) -> socket.socket:
    """Bound, not yet listening: uvicorn listens once the app's start-up (the first model
    load) is done, and only listening sockets get connections from the kernel."""
    try:
        sock = _bound(host, port, reuse_port=True)
    except OSError as exc:
        raise EndpointError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(False)
    return sock


def _check_port_free(where: Binding) -> None:
    """Fail before starting workers if another program holds the port (SO_REUSEPORT would
    not notice another champion endpoint of ours, the lock file does that)."""
    try:
        _bound(where.host, where.port, reuse_port=False).close()
    except OSError as exc:
        raise EndpointError(f"cannot listen on {where.host}:{where.port} for {where.environment}: "
                            f"{exc.strerror} (another program uses the port? change "
                            f"environments.{where.environment}.port)") from None


def _bound(host: str, port: int, reuse_port: bool) -> socket.socket:
    """A TCP socket bound to `host:port` (IPv6 when the host has a colon); `OSError` if not."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _configure_logging() -> None:
    log_to_stderr()
    for name in ("mlflow", "alembic", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)
    quiet_library_warnings()
