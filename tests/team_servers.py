"""Real team servers for the tests: a PostgreSQL 15 cluster in a temporary folder on a free
loopback port (password authentication, like a team's), and real `mlflow server` processes
on it with proxied artifacts. Nothing is faked; every process started here is stopped here.

PostgreSQL refuses to run as root: as root, the cluster runs as the `postgres` user.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

USER = "champion"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_bin() -> Path | None:
    """The folder of PostgreSQL's server programs (`initdb`, `pg_ctl`), if installed."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if found:
        return found[0].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass
class Postgres:
    """A running cluster; `url(db)` has no password (it comes from PGPASSWORD)."""

    folder: Path
    port: int
    password: str
    bin: Path
    _as_postgres: list[str] = field(default_factory=list)

    @classmethod
    def start(cls) -> Postgres:
        """A new cluster in a folder of its own under the system's temporary folder (pytest's
        are private to root, and the cluster may run as `postgres`); `stop` removes it."""
        binaries = postgres_bin()
        if binaries is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql); .ci/run installs it")
        folder = Path(tempfile.mkdtemp(prefix="champion-pg-"))
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if as_postgres:
            shutil.chown(folder, "postgres")
        password = secrets.token_hex(12)
        pwfile = folder / "pw"
        pwfile.write_text(password + "\n", encoding="utf-8")
        if as_postgres:
            shutil.chown(pwfile, "postgres")
        data = folder / "data"
        subprocess.run([*as_postgres, str(binaries / "initdb"), "-D", str(data), "-U", USER, "--pwfile", str(pwfile),
                        "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8", "--locale=C"],
                       check=True, capture_output=True, timeout=120)
        pwfile.unlink()
        port = free_port()
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"
        subprocess.run([*as_postgres, str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                        str(folder / "postgres.log"), "-w", "-t", "60", "start"],
                       check=True, capture_output=True, timeout=90)
        return cls(folder, port, password, binaries, as_postgres)

    @property
    def env(self) -> dict[str, str]:
        """What a team member's shell holds: the password in libpq's variable."""
        return {"PGPASSWORD": self.password}

    def url(self, database: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        self.sql("postgres", f'CREATE DATABASE "{name}"')
        return self.url(name)

    def sql(self, database: str, statement: str) -> str:
        done = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, "-d", database,
                               "-v", "ON_ERROR_STOP=1", "-At", "-c", statement],
                              capture_output=True, text=True, timeout=60, env={**os.environ, **self.env})
        if done.returncode:
            raise RuntimeError(done.stderr)
        return done.stdout

    def stop(self, mode: str = "fast", remove: bool = False) -> None:
        subprocess.run([*self._as_postgres, str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", mode,
                        "-w", "stop"], capture_output=True, timeout=60)
        if remove:
            shutil.rmtree(self.folder, ignore_errors=True)

    def restart(self) -> None:
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c max_connections=300")
        subprocess.run([*self._as_postgres, str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-o", options,
                        "-l", str(self.folder / "postgres.log"), "-w", "-t", "60", "start"],
                       check=True, capture_output=True, timeout=90)


@dataclass
class MlflowServer:
    """`mlflow server` on a PostgreSQL database, proxying artifacts to a folder of its own."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path
    command: list[str]
    env: dict[str, str]

    @classmethod
    def start(cls, postgres: Postgres, database: str, folder: Path, timeout: float = 180) -> MlflowServer:
        backend = postgres.create_database(database)
        folder.mkdir(parents=True, exist_ok=True)
        port = free_port()
        command = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", backend,
                   "--artifacts-destination", str(folder / "artifacts"), "--host", "127.0.0.1",
                   "--port", str(port), "--workers", "2"]
        # Job execution (huey workers per gunicorn worker) costs ~16 s of CPU per start and no
        # test uses it.
        env = {**os.environ, **postgres.env, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true",
               "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        server = cls(_spawn(command, env, folder / "mlflow-server.log"), f"http://127.0.0.1:{port}",
                     folder / "mlflow-server.log", command, env)
        server.wait_ready(timeout)
        return server

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=2, trust_env=False).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"mlflow server did not answer: {self.log.read_text(errors='replace')[-2000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.process = _spawn(self.command, self.env, self.log)
        self.wait_ready()


def _spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)


@contextmanager
def running_team_servers() -> Iterator[tuple[Postgres, MlflowServer]]:
    """A new PostgreSQL cluster and an `mlflow server` on its database `mlflow`; both are
    stopped, and the cluster's folder removed, when the block ends."""
    postgres = Postgres.start()
    server = None
    try:
        server = MlflowServer.start(postgres, "mlflow", postgres.folder / "mlflow-server")
        yield postgres, server
    finally:
        if server is not None:
            server.stop()
        postgres.stop(remove=True)
