"""`champion serve` in the foreground as a real process: workers, a worker that dies, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from conftest import cli
from serving_support import free_port, new_project, session_pids, set_environments, wait_until


def test_serve_restarts_a_dead_worker_and_stops_cleanly_on_sigterm(tmp_path: Path, migrated_mlflow_db: Path) -> None:
    root = new_project(tmp_path / "spam", migrated_mlflow_db)
    port = free_port()
    set_environments(root, {"staging": {"port": free_port()}, "production": {"port": port, "poll_seconds": 0.2}})
    assert cli("build", "-p", str(root), "-q").code == 0
    process = subprocess.Popen([sys.executable, "-m", "champion", "serve", "production", "-p", str(root),
                                "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        # No version has the production alias yet: the endpoint is up but not ready.
        health = wait_until(lambda: httpx.get(url + "/health", timeout=5, trust_env=False))
        assert health.status_code == 503 and "no version of spam has the alias 'production'" in \
            health.json()["models"]["spam"]["reason"]
        assert httpx.get(url + "/v2/health/ready", trust_env=False).status_code == 503
        assert httpx.post(url + "/score", json={"data": ["x"]}, trust_env=False).status_code == 503

        assert cli("deploy", "production", "-p", str(root), "-q").code == 0  # the running endpoint picks it up
        workers = httpx.get(url + "/health", trust_env=False).json()["workers"]
        assert len(workers) == 2
        victim = workers[0]["pid"]
        os.kill(victim, signal.SIGKILL)

        def replaced() -> bool:
            health = httpx.get(url + "/health", trust_env=False).json()
            pids = {w["pid"] for w in health["workers"]}
            return len(pids) == 2 and victim not in pids and health["status"] == "Healthy"

        wait_until(replaced)
        assert httpx.post(url + "/score", json={"data": ["x"]}, trust_env=False).json()["version"] == 1
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0, process.stderr.read().decode() if process.stderr else ""
    assert not (root / ".champion" / "endpoints" / "production" / "endpoint.json").exists()
    # multiprocessing's resource tracker leaves a moment after the supervisor (it reads EOF).
    wait_until(lambda: session_pids(process.pid) == [], timeout=10)
