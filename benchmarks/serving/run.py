"""Serving: champion's scoring endpoint against `mlflow models serve`, side by side, one run.

Both serve the same registered model (version 1 of `spam` from the youtube-spam template,
alias `champion`), from the same MLflow registry, on the same machine, with the same number
of worker processes, loaded by the same generator (wrk, on the same machine, loopback only).

Setup (in a temporary folder): `champion init --template youtube-spam`, `champion build`
(version 1), a second version (`champion train --param C=3`, registered through the Python
API: the gate rightly rejects it, but promotions need two versions). Then
`champion deploy staging` and `mlflow models serve -m models:/spam@champion --env-manager
local`, and a check that both give the same labels and probabilities for the same comments.

Measured, each after a warm-up run, champion and MLflow interleaved (ABBA order):

- one comment per request at concurrency 1, 8 and 32;
- 1,000 real comments (the template's data) per request at concurrency 4;
- champion only: one-comment requests at concurrency 8 while `champion deploy staging
  --version V` switches versions 10 times (2, 1, 2, ...), against a steady-state run just
  before it; then the control: the same load while the same command deploys the version
  already served 10 times (the same CLI processes competing for the CPU, no swap).

    .venv/bin/python benchmarks/serving/run.py              # ~6 min on 2 cores
    .venv/bin/python benchmarks/serving/run.py --repeat 3   # medians of 3 runs, ~12 min
    .venv/bin/python benchmarks/serving/run.py --quick      # 3 s runs, nothing written
    .venv/bin/python benchmarks/serving/run.py --workers 2

Results: a table and the targets on stdout, JSON in benchmarks/results/serving.json.
"""

from __future__ import annotations

import argparse
import functools
import csv
import glob
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LUA = HERE / "post.lua"
BIN = Path(sys.executable).parent
TIMEOUT = "30s"  # wrk's per-request timeout: MLflow's p99 under load must be measured, not cut off

ENV = dict(os.environ)
ENV.update({
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    # `mlflow models serve` execs `uvicorn` from PATH: the venv's bin must be on it.
    "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
})
# Nothing from the caller's shell may redirect the registry or put a key on the endpoint.
for _var in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "CHAMPION_PROJECT", "CHAMPION_API_KEY", "CHAMPION_ADMIN_KEY"):
    ENV.pop(_var, None)
os.environ.update({k: ENV[k] for k in ("MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK")})

# (key, label, payload, connections, wrk threads, length of the run in --duration units): the
# 1,000-comment runs last twice as long, as each request takes about a second and wrk counts
# only the requests completed within the run.
SCENARIOS = [
    ("one_c1", "1 comment, concurrency 1", "one", 1, 1, 1),
    ("one_c8", "1 comment, concurrency 8", "one", 8, 2, 1),
    ("one_c32", "1 comment, concurrency 32", "one", 32, 2, 1),
    ("batch_c4", "1,000 comments, concurrency 4", "batch", 4, 2, 2),
]


# ---- processes ------------------------------------------------------------------------------
def tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        sys.exit(f"{path} not found: run this with the project's venv python")
    return str(path)


def run(*args: str, check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(args), capture_output=True, text=True, env=ENV, check=False, **kwargs)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited with {done.returncode}:\n{done.stdout[-2000:]}"
                           f"\n{done.stderr[-2000:]}")
    return done


def champion(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run(tool("champion"), *args, check=check)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def session_pids(sid: int) -> list[int]:
    pids = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # fields after the name: state ppid pgrp session ...
            pids.append(int(stat.split("/")[2]))
    return pids


def process_cpu(pids: list[int], main_thread_only: bool = False) -> float:
    """CPU seconds (user + system) used so far by the processes `pids`: all their threads,
    or only each one's main thread."""
    total = 0
    for pid in pids:
        stat = f"/proc/{pid}/task/{pid}/stat" if main_thread_only else f"/proc/{pid}/stat"
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def session_cpu(sid: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of a session."""
    return process_cpu(session_pids(sid))


def session_rss_mb(sid: int) -> float:
    """Resident memory of the live processes of a session, in MB."""
    total = 0
    for pid in session_pids(sid):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        total += int(match.group(1)) if match else 0
    return round(total / 1024, 1)


def kill_session(sid: int, grace: float = 10.0) -> None:
    """SIGTERM the process group `sid` (a session leader's group), then SIGKILL what is left
    of the session."""
    try:
        os.killpg(sid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and session_pids(sid):
        time.sleep(0.1)
    for pid in session_pids(sid):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def free_ports(count: int) -> list[int]:
    sockets, ports = [], []
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
        ports.append(sock.getsockname()[1])
    for sock in sockets:
        sock.close()
    return ports


# ---- HTTP -----------------------------------------------------------------------------------
def post(url: str, body: bytes, timeout: float = 60.0) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def champion_body(comments: list[str]) -> bytes:
    return json.dumps({"data": comments}).encode()


def mlflow_body(comments: list[str]) -> bytes:
    return json.dumps({"dataframe_split": {"columns": ["CONTENT"], "data": [[c] for c in comments]}}).encode()


def answers(server: str, url: str, comments: list[str]) -> tuple[list[int], list[float]]:
    """Labels and spam probabilities of `comments` from one server."""
    body = champion_body(comments) if server == "champion" else mlflow_body(comments)
    status, document = post(url, body)
    if status != 200:
        raise RuntimeError(f"{server} answered {status}: {str(document)[:500]}")
    if server == "champion":
        return [int(v) for v in document["result"]], [float(p[1]) for p in document["probabilities"]]
    rows = document["predictions"]
    return [int(r["label"]) for r in rows], [float(r["proba_1"]) for r in rows]


def wait_ready(url: str, probe: bytes, seconds: float, process: subprocess.Popen[Any]) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} while starting")
        try:
            status, _ = post(url, probe, timeout=2.0)
            if status == 200:
                return time.monotonic() - started
        except (OSError, ValueError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


# ---- wrk ------------------------------------------------------------------------------------
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def to_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> dict[str, Any]:
    """Throughput, latency percentiles (ms, from the --latency distribution) and errors."""
    result: dict[str, Any] = {}
    distribution = re.search(r"Latency Distribution\s*\n((?:\s+\d+%\s+\S+\s*\n)+)", output)
    if not distribution:
        raise ValueError(f"no latency distribution in wrk's output:\n{output}")
    for pct, value in re.findall(r"(\d+)%\s+(\S+)", distribution.group(1)):
        result[f"p{pct}_ms"] = round(to_ms(value), 3)
    result["requests_per_s"] = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    done = re.search(r"(\d+) requests in ([\d.]+\w+),", output)
    result["requests"] = int(done.group(1))
    result["duration_s"] = round(to_ms(done.group(2)) / 1e3, 3)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    result["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"),
                                       map(int, sockets.groups()) if sockets else (0, 0, 0, 0), strict=False))
    result["errors"] = result["non_2xx"] + sum(result["socket_errors"].values())
    exact = re.search(r"^RESULT (\{.*\})$", output, re.MULTILINE)  # from post.lua's done()
    if exact:
        lua = json.loads(exact.group(1))
        result["p99_9_ms"] = round(lua["p999_us"] / 1e3, 3)
        result["max_ms"] = round(lua["max_us"] / 1e3, 3)
        result["mean_ms"] = round(lua["mean_us"] / 1e3, 3)
    return result


def wrk_command(url: str, body: Path, connections: int, threads: int, seconds: float) -> list[str]:
    return ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", TIMEOUT,
            "-s", str(LUA), url, "--", str(body)]


def machine_cpu() -> float:
    """CPU seconds all cores of the machine spent busy so far (from /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def load(url: str, body: Path, connections: int, threads: int, seconds: float, sid: int) -> dict[str, Any]:
    """One wrk run, with the CPU the server's processes, wrk, and everything else on the
    machine (other jobs: the machine is shared) used during it."""
    loadavg = os.getloadavg()[0]
    server_before, wrk_before, machine_before = session_cpu(sid), children_cpu(), machine_cpu()
    done = run(*wrk_command(url, body, connections, threads, seconds), timeout=seconds + 120)
    result = parse_wrk(done.stdout)
    result["server_cpu_s"] = round(session_cpu(sid) - server_before, 2)
    result["wrk_cpu_s"] = round(children_cpu() - wrk_before, 2)
    result["other_cpu_s"] = round(machine_cpu() - machine_before - result["server_cpu_s"] - result["wrk_cpu_s"], 2)
    result["server_cpu_ms_per_request"] = round(1e3 * result["server_cpu_s"] / max(result["requests"], 1), 3)
    result["loadavg_1min_before"] = loadavg
    return result


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else ""


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each number over repeated runs (errors: the sum); the runs themselves
    are kept under "runs"."""
    if len(runs) == 1:
        return dict(runs[0])
    summary: dict[str, Any] = {}
    for key, value in runs[0].items():
        if isinstance(value, int | float):
            values = [r[key] for r in runs]
            summary[key] = sum(values) if key in ("errors", "non_2xx", "requests") else statistics.median(values)
    summary["runs"] = runs
    return summary


# ---- the project ----------------------------------------------------------------------------
def set_ports(toml: Path, ports: dict[str, int], workers: dict[str, int]) -> None:
    """Rewrite `port = ...` (and `workers = ...`) in the [environments.X] tables."""
    lines, section, out = toml.read_text().splitlines(), None, []
    for line in lines:
        header = re.match(r"\s*\[([^\]]+)\]", line)
        if header:
            section = header.group(1).strip()
        env = section.removeprefix("environments.") if section and section.startswith("environments.") else None
        if env in ports and re.match(r"\s*port\s*=", line):
            line = f"port = {ports[env]}"
        elif env in workers and re.match(r"\s*workers\s*=", line):
            line = f"workers = {workers[env]}"
        out.append(line)
    toml.write_text("\n".join(out) + "\n")
    text = toml.read_text()
    for env, port in ports.items():
        if not re.search(rf"\[environments\.{env}\][^\[]*port = {port}\n", text):
            raise RuntimeError(f"could not set the port of {env} in {toml}")
    for env, count in workers.items():
        if not re.search(rf"\[environments\.{env}\][^\[]*workers = {count}\n", text):
            raise RuntimeError(f"could not set the workers of {env} in {toml} (no workers key?)")


REGISTER = """
import sys
from champion.workspace import Workspace
from champion.project import Project
ws = Workspace(Project.open(sys.argv[1]))
print(ws.registry.register("spam", ws.registry.run(sys.argv[2]), {}).version)
"""


def setup_project(root: Path) -> dict[str, Any]:
    project = root / "spam"
    champion("init", str(project), "--template", "youtube-spam")
    started = time.monotonic()
    champion("build", "--project", str(project), "-q")  # version 1, alias champion
    build_s = time.monotonic() - started
    trained = json.loads(champion("train", "--project", str(project), "--param", "C=3", "-q", "--json").stdout)
    version = int(run(sys.executable, "-c", REGISTER, str(project), trained["run_id"]).stdout.split()[-1])
    if version != 2:
        raise RuntimeError(f"the second version is {version}, expected 2")
    return {"project": project, "build_s": round(build_s, 1)}


def comments_of(project: Path) -> list[str]:
    rows: list[str] = []
    for path in sorted((project / "data" / "initial").glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            rows += [row["CONTENT"] for row in csv.DictReader(handle)]
    return rows


# ---- the benchmark --------------------------------------------------------------------------
class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="champion-serving-"))
        self.project: Path | None = None
        self.mlflow: subprocess.Popen[Any] | None = None
        self.wrk: subprocess.Popen[Any] | None = None
        self.champion_sid: int | None = None
        self.log: dict[str, Any] = {}

    # -- start and stop --
    def start(self) -> None:
        print(f"setting up a spam project in {self.tmp} ...", flush=True)
        made = setup_project(self.tmp)
        self.project = made["project"]
        self.log["first_build_s"] = made["build_s"]
        staging, production, mlflow_port = free_ports(3)
        set_ports(self.project / "champion.toml", {"staging": staging, "production": production},
                  {"staging": self.args.workers})
        self.urls = {"champion": f"http://127.0.0.1:{staging}/score",
                     "mlflow": f"http://127.0.0.1:{mlflow_port}/invocations"}

        started = time.monotonic()
        champion("deploy", "staging", "--project", str(self.project), "-q")
        self.log["champion_start_s"] = round(time.monotonic() - started, 1)
        endpoint = json.loads((self.project / ".champion" / "endpoints" / "staging" / "endpoint.json").read_text())
        self.champion_sid = int(endpoint["pid"])  # started in its own session by `champion deploy`

        env = dict(ENV, MLFLOW_TRACKING_URI=f"sqlite:///{self.project / '.champion' / 'mlflow.db'}")
        started = time.monotonic()
        with open(self.tmp / "mlflow.log", "ab") as log:
            self.mlflow = subprocess.Popen(
                [tool("mlflow"), "models", "serve", "-m", "models:/spam@champion", "--env-manager", "local",
                 "-h", "127.0.0.1", "-p", str(mlflow_port), "--workers", str(self.args.workers)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                start_new_session=True, cwd=self.tmp)
        wait_ready(self.urls["mlflow"], mlflow_body(["hello"]), 180, self.mlflow)
        self.log["mlflow_start_s"] = round(time.monotonic() - started, 1)
        self.memory("after start")
        print(f"champion on {self.urls['champion']} ({self.log['champion_start_s']} s to deploy), "
              f"mlflow on {self.urls['mlflow']} ({self.log['mlflow_start_s']} s to answer)", flush=True)

    def stop(self) -> None:
        if self.wrk is not None and self.wrk.poll() is None:
            self.wrk.kill()
            self.wrk.wait()
        if self.project is not None:
            try:
                champion("down", "--project", str(self.project), check=False)
            except Exception as exc:  # noqa: BLE001 - kill it below either way
                print(f"champion down failed: {exc}", file=sys.stderr)
        if self.champion_sid is not None:
            kill_session(self.champion_sid)
        if self.mlflow is not None:
            kill_session(self.mlflow.pid)
            self.mlflow.wait()
        if self.args.keep:
            print(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- checks --
    def verify(self) -> dict[str, Any]:
        comments = comments_of(self.project)
        self.one = next(c for c in comments if 40 <= len(c) <= 120)
        self.batch = comments[:1000]
        if len(self.batch) != 1000:
            raise RuntimeError(f"only {len(self.batch)} comments in the template's data")
        probes = [self.one, "I love this song", "check out my channel for free gift cards http://example.com",
                  *comments[::50]]
        check: dict[str, Any] = {}
        for name, rows in (("probes", probes), ("batch", self.batch)):
            c_labels, c_proba = answers("champion", self.urls["champion"], rows)
            m_labels, m_proba = answers("mlflow", self.urls["mlflow"], rows)
            if len(c_labels) != len(rows) or c_labels != m_labels:
                differ = sum(a != b for a, b in zip(c_labels, m_labels, strict=False))
                raise RuntimeError(f"champion and MLflow disagree on {differ} of {len(rows)} {name} labels")
            gap = max(abs(a - b) for a, b in zip(c_proba, m_proba, strict=False))
            if gap > 1e-9:
                raise RuntimeError(f"probabilities differ by up to {gap} on the {name}")
            check[name] = {"rows": len(rows), "same_labels": True, "max_probability_gap": gap,
                           "spam_labels": sum(c_labels)}
        self.bodies = {}
        for server in ("champion", "mlflow"):
            make = champion_body if server == "champion" else mlflow_body
            for kind, rows in (("one", [self.one]), ("batch", self.batch)):
                path = self.tmp / f"{server}-{kind}.json"
                path.write_bytes(make(rows))
                self.bodies[server, kind] = path
        print(f"answers agree: {check['probes']['rows']} probe comments and the 1,000-comment batch "
              f"(same labels, probabilities within {max(v['max_probability_gap'] for v in check.values()):.1e})",
              flush=True)
        return check

    def memory(self, when: str) -> None:
        """Resident memory of each server's processes (MB), kept in the results."""
        self.log.setdefault("rss_mb", {})[when] = {s: session_rss_mb(self.sid(s)) for s in ("champion", "mlflow")}

    def sid(self, server: str) -> int:
        return self.champion_sid if server == "champion" else self.mlflow.pid

    # -- measurements --
    def compare(self) -> dict[str, dict[str, Any]]:
        runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
        step = 0
        for _ in range(self.args.repeat):
            for key, label, kind, connections, threads, length in SCENARIOS:
                order = ("champion", "mlflow") if step % 2 == 0 else ("mlflow", "champion")  # ABBA
                step += 1
                for server in order:
                    url, body, sid = self.urls[server], self.bodies[server, kind], self.sid(server)
                    load(url, body, connections, threads, self.args.warmup, sid)
                    result = load(url, body, connections, threads, self.args.duration * length, sid)
                    runs.setdefault((server, key), []).append(result)
                    print(f"  {label:32} {server:9} {result['requests_per_s']:9.1f} req/s  "
                          f"p50 {result['p50_ms']:8.2f} ms  p99 {result['p99_ms']:8.2f} ms  "
                          f"errors {result['errors']}  (other jobs: {result['other_cpu_s']:.1f} CPU s)",
                          flush=True)
        return {server: {key: median_of(runs[server, key]) for key, *_ in SCENARIOS}
                for server in ("champion", "mlflow")}

    def promotions(self) -> dict[str, Any]:
        """One-comment load at concurrency 8 on champion: steady state, then while
        `champion deploy` switches versions, then (the control) while the same command
        deploys the version already served: the same CLI processes, no swap."""
        url, body, sid = self.urls["champion"], self.bodies["champion", "one"], self.champion_sid
        load(url, body, 8, 2, self.args.warmup, sid)
        steady = load(url, body, 8, 2, self.args.duration, sid)
        print(f"  steady state before promotions  {steady['requests_per_s']:9.1f} req/s  "
              f"p99 {steady['p99_ms']:.2f} ms  (other jobs: {steady['other_cpu_s']:.1f} CPU s)", flush=True)
        count = self.args.promotions
        result: dict[str, Any] = {"steady": steady}
        result["promotions"] = self.deploys_under_load([2 if i % 2 == 0 else 1 for i in range(count)])
        if self.args.control:
            print(f"  control: {count} deploys of the version already served (no swap)", flush=True)
            result["control"] = self.deploys_under_load([1] * count)  # the promotions end on version 1
        return result

    def deploy(self, version: int) -> subprocess.CompletedProcess[str]:
        """One promotion: `champion deploy` as a new process (--promote-with cli), or the same
        service function called from this long-lived process, as the agent calls it (api)."""
        if self.args.promote_with == "cli":
            return champion("deploy", "staging", "--version", str(version), "--project", str(self.project),
                            "-q", "--json", check=False)
        from champion.errors import ChampionError
        from champion.pipelines.release import deploy

        try:
            result = deploy(self.workspace, "staging", "spam", version)
        except ChampionError as exc:
            return subprocess.CompletedProcess([], 1, "", str(exc))
        return subprocess.CompletedProcess([], 0, json.dumps(result.as_dict()), "")

    @functools.cached_property
    def workspace(self) -> Any:
        from champion.workspace import Workspace
        from champion.project import Project

        workspace = Workspace(Project.open(self.project))
        workspace.registry  # noqa: B018 - import MLflow and open the store now, not while measuring
        return workspace

    def deploys_under_load(self, versions: list[int]) -> dict[str, Any]:
        if self.args.promote_with == "api":
            self.workspace  # noqa: B018 - warm before the load starts
        url, body, sid = self.urls["champion"], self.bodies["champion", "one"], self.champion_sid
        loadavg = os.getloadavg()[0]
        server_before, children_before, machine_before = session_cpu(sid), children_cpu(), machine_cpu()
        self.wrk = subprocess.Popen(wrk_command(url, body, 8, 2, 3600), stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, env=ENV)
        deploys = []
        try:
            time.sleep(2.0)
            for i, version in enumerate(versions):
                cpu, started = children_cpu() + own_cpu(), time.monotonic()
                done = self.deploy(version)
                seconds = time.monotonic() - started
                served = json.loads(done.stdout) if done.returncode == 0 else {}
                deploys.append({"version": version, "previous": served.get("previous"), "exit_code": done.returncode,
                                "seconds": round(seconds, 2), "cli_cpu_s": round(children_cpu() + own_cpu() - cpu, 2),
                                "state": served.get("state"), "served": served.get("version")})
                print(f"  deploy {i + 1:2}: version {version} in {seconds:.1f} s -> exit {done.returncode}"
                      f"{'' if done.returncode == 0 else ': ' + done.stderr.strip()[-300:]}", flush=True)
            time.sleep(2.0)
        finally:
            self.wrk.send_signal(signal.SIGINT)  # wrk stops and prints its report
            out, _ = self.wrk.communicate(timeout=60)
            self.wrk = None
        under = parse_wrk(out)
        under["server_cpu_s"] = round(session_cpu(sid) - server_before, 2)
        under["wrk_and_cli_cpu_s"] = round(children_cpu() - children_before, 2)
        under["other_cpu_s"] = round(machine_cpu() - machine_before - under["server_cpu_s"]
                                     - under["wrk_and_cli_cpu_s"], 2)
        under["loadavg_1min_before"] = loadavg
        failed = [d for d in deploys if d["exit_code"] != 0 or d["served"] != d["version"]]
        return {"load": under, "deploys": deploys, "failed_deploys": len(failed),
                "deploy_seconds": sorted(d["seconds"] for d in deploys),
                "deploy_cli_cpu_s": sorted(d["cli_cpu_s"] for d in deploys)}

    def champion_log(self) -> dict[str, Any]:
        path = self.project / ".champion" / "endpoints" / "staging" / "endpoint.log"
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        bad = [line for line in lines if re.search(r"\b(ERROR|WARNING|CRITICAL|Traceback)\b", line)]
        return {"lines": len(lines), "errors_and_warnings": len(bad), "first": bad[:10]}


# ---- report ---------------------------------------------------------------------------------
def targets(results: dict[str, Any], promo: dict[str, Any] | None) -> list[dict[str, Any]]:
    c, m = results["champion"], results["mlflow"]
    rows = []

    def add(name: str, value: float, target: str, ok: bool, detail: str) -> None:
        rows.append({"target": name, "value": round(value, 3), "goal": target, "pass": bool(ok), "detail": detail})

    for key, n in (("one_c8", 8), ("one_c32", 32)):
        ratio = c[key]["requests_per_s"] / m[key]["requests_per_s"]
        add(f"throughput, 1 comment, c{n}: champion / mlflow", ratio, ">= 5x", ratio >= 5,
            f"{c[key]['requests_per_s']:.0f} vs {m[key]['requests_per_s']:.0f} req/s")
        ratio = c[key]["p99_ms"] / m[key]["p99_ms"]
        add(f"p99, 1 comment, c{n}: champion / mlflow", ratio, "<= 1/3", ratio <= 1 / 3,
            f"{c[key]['p99_ms']:.1f} vs {m[key]['p99_ms']:.1f} ms")
    ratio = c["batch_c4"]["requests_per_s"] / m["batch_c4"]["requests_per_s"]
    add("throughput, 1,000 comments, c4: champion / mlflow", ratio, ">= 1.1x", ratio >= 1.1,
        f"{c['batch_c4']['requests_per_s']:.2f} vs {m['batch_c4']['requests_per_s']:.2f} req/s")
    p50 = c["one_c1"]["p50_ms"]
    add("p50, 1 comment, c1: champion (ms)", p50, "< 5 ms", p50 < 5, f"mlflow {m['one_c1']['p50_ms']:.2f} ms")
    errors = sum(r["errors"] for server in results.values() for r in server.values())
    add("errors in the comparison runs (both servers)", errors, "0 (not an issue target)", errors == 0, "")
    if promo:
        phase, steady = promo["promotions"], promo["steady"]
        under = phase["load"]
        add(f"errors during {len(phase['deploys'])} promotions (non-2xx + socket)", under["errors"], "0",
            under["errors"] == 0 and phase["failed_deploys"] == 0,
            f"{under['requests']} requests, {phase['failed_deploys']} failed deploys")
        ratio = under["p99_ms"] / steady["p99_ms"]
        add("p99 during promotions / steady state", ratio, "<= 2x", ratio <= 2,
            f"{under['p99_ms']:.1f} vs {steady['p99_ms']:.1f} ms")
        if "control" in promo:
            control = promo["control"]["load"]
            ratio = under["p99_ms"] / control["p99_ms"]
            add("p99 during promotions / during no-op deploys (control)", ratio, "<= 2x (not an issue target)",
                ratio <= 2, f"{under['p99_ms']:.1f} vs {control['p99_ms']:.1f} ms; control errors {control['errors']}")
    return rows


def print_report(results: dict[str, Any], promo: dict[str, Any] | None, rows: list[dict[str, Any]]) -> None:
    c, m = results["champion"], results["mlflow"]
    print()
    print(f"{'scenario':32} {'metric':8} {'champion':>10} {'mlflow':>10} {'ratio':>8}")
    for key, label, *_ in SCENARIOS:
        for metric, name in (("requests_per_s", "req/s"), ("p50_ms", "p50 ms"), ("p99_ms", "p99 ms"),
                             ("server_cpu_ms_per_request", "CPU ms/r")):
            a, b = c[key][metric], m[key][metric]
            print(f"{label if metric == 'requests_per_s' else '':32} {name:8} {a:10.2f} {b:10.2f} "
                  f"{a / b if b else float('nan'):7.2f}x")
    if promo:
        phase = promo["promotions"]
        print(f"\nchampion, 1 comment, c8, {len(phase['deploys'])} promotions "
              f"(deploys took {min(phase['deploy_seconds']):.1f}-{max(phase['deploy_seconds']):.1f} s, "
              f"{min(phase['deploy_cli_cpu_s']):.1f}-{max(phase['deploy_cli_cpu_s']):.1f} CPU s each):")
        print(f"  {'':22} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'max ms':>8} {'errors':>7}")
        phases = [("steady state", promo["steady"]), ("under promotions", phase["load"])]
        if "control" in promo:
            phases.append(("no-op deploys (control)", promo["control"]["load"]))
        for name, r in phases:
            print(f"  {name:22} {r['requests_per_s']:9.1f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} "
                  f"{r.get('p99_9_ms', float('nan')):9.2f} {r.get('max_ms', float('nan')):8.2f} {r['errors']:7}")
    print("\ntargets:")
    for row in rows:
        print(f"  [{'PASS' if row['pass'] else 'FAIL'}] {row['target']}: {row['value']:.3g} "
              f"(goal {row['goal']}){'; ' + row['detail'] if row['detail'] else ''}")


def _interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM: stop the servers and wrk on the way out, like Ctrl-C


def own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1, help="worker processes of each server (default 1)")
    parser.add_argument("--duration", type=float, default=None, help="seconds per measured run (default 15)")
    parser.add_argument("--warmup", type=float, default=None, help="seconds of warm-up before each (default 3)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="measured runs per server and scenario; the median is reported (default 1)")
    parser.add_argument("--promotions", type=int, default=10, help="deploys under load (0: skip the phase)")
    parser.add_argument("--promote-with", choices=["api", "cli"], default="api",
                        help="api: promotions call champion's deploy() from this long-lived process, as the "
                             "agent does (default); cli: each is a new `champion deploy` process (3-5 CPU s "
                             "of imports each, competing with the server on a 2-core machine)")
    parser.add_argument("--no-control", dest="control", action="store_false",
                        help="skip the control phase (deploys of the version already served)")
    parser.add_argument("--quick", action="store_true", help="3 s runs, 1 s warm-ups; writes nothing unless --out")
    parser.add_argument("--out", type=Path, default=None,
                        help="results JSON (default benchmarks/results/serving.json; none with --quick)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary project (and logs)")
    args = parser.parse_args()
    args.duration = args.duration or (3.0 if args.quick else 15.0)
    args.warmup = args.warmup or (1.0 if args.quick else 3.0)
    out = args.out or (None if args.quick else REPO / "benchmarks" / "results" / "serving.json")
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed")
    signal.signal(signal.SIGTERM, _interrupted)

    bench = Bench(args)
    started = time.time()
    promo = None
    try:
        bench.start()
        check = bench.verify()
        print(f"\nmeasuring: {args.duration:g} s per run after {args.warmup:g} s of warm-up, "
              f"{args.workers} worker(s) each", flush=True)
        results = bench.compare()
        bench.memory("after the comparison")
        if args.promotions:
            print(f"\n{args.promotions} promotions under load (champion only):", flush=True)
            promo = bench.promotions()
            bench.memory("after the promotions")
        endpoint_log = bench.champion_log()
    finally:
        bench.stop()

    rows = targets(results, promo)
    print_report(results, promo, rows)
    print("\nresident memory (MB):  " + ";  ".join(
        f"{when}: champion {rss['champion']:.0f}, mlflow {rss['mlflow']:.0f}" for when, rss in bench.log["rss_mb"].items()))
    if endpoint_log["errors_and_warnings"]:
        print(f"\nchampion's endpoint log has {endpoint_log['errors_and_warnings']} error/warning lines, e.g.:")
        for line in endpoint_log["first"][:5]:
            print(f"  {line[:200]}")
    document = {
        "benchmark": "serving: champion /score vs mlflow models serve",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "command": " ".join([".venv/bin/python", "benchmarks/serving/run.py", *sys.argv[1:]]),
        "machine": {"cores": os.cpu_count(), "cpu": cpu_model(), "loadavg_at_end": os.getloadavg(),
                    "note": "wrk runs on the same machine as the servers (loopback)"},
        "versions": {"champion": metadata.version("champion"), "mlflow": metadata.version("mlflow"),
                     "uvicorn": metadata.version("uvicorn"),
                     "wrk": (run("wrk", "-v", check=False).stdout.splitlines() or [""])[0]},
        "settings": {"workers": args.workers, "duration_s": args.duration, "warmup_s": args.warmup,
                     "repeat": args.repeat, "promote_with": args.promote_with,
                     "wrk_timeout": TIMEOUT, "one_comment": bench.one, "batch_comments": len(bench.batch),
                     "scenarios": [{"key": k, "label": lab, "payload": p, "connections": n, "wrk_threads": t,
                                    "duration_s": args.duration * d} for k, lab, p, n, t, d in SCENARIOS]},
        "startup": bench.log,
        "verification": check,
        "results": results,
        "promotions": promo,
        "champion_endpoint_log": endpoint_log,
        "targets": rows,
    }
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(document, indent=2) + "\n")
        print(f"\nwrote {out}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; the servers were stopped")
