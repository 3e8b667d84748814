"""Prediction log overhead: the same endpoint with `log_predictions` true and false, one run.

Setup (in a temporary folder): `champion init --template youtube-spam`, `champion build`
(version 1), two environments that differ only in `log_predictions`: staging logs every
scored row, production logs nothing. Both serve version 1 (`champion deploy staging`,
`champion deploy production`), same worker count, same machine.

Measured with wrk (loopback, on the same 2-core machine, as in `run.py`), each run after a
warm-up:

- one comment per request at concurrency 8 and 32;
- 1,000 comments per request at concurrency 4 (1,000 log rows per request).

Each endpoint's event-loop thread is pinned to core 1 and wrk to core 0; the endpoints'
other threads and the logging endpoint's log loader process (nice 19) run where the
scheduler puts them. On these machines the two
cores differ in speed (one ran a fixed loop 30-40% slower than the other, measured), so an
unpinned server's throughput depended on where its loop landed: consecutive 15 s runs of one
endpoint moved by 15-20%, more than the effect measured. Two ways, in one run:

- paired (the verdict): both endpoints under the same load *at the same time*, each from its
  own wrk, their loops time-sharing core 1, so machine drift hits both alike; the ratio of
  their throughputs is what logging costs the event loop.
- sequential: one endpoint at a time, ABBA order, as `run.py` measures.

Reported: requests/s of each and their ratio (logging / not logging; the target is >= 0.95,
i.e. logging costs at most 5% of throughput), server CPU per request (event loops, other
threads, and the log loader, counted until it has loaded every spooled line after the run),
the CPU ratio (not logging / logging CPU per request, loader included: what logging costs
where CPU is all that limits and the loader finds no idle time), and a check that the log
holds a row for every row answered (with the count of rows it dropped, if any).

    .venv/bin/python benchmarks/serving/log_overhead.py              # ~9 min on 2 cores
    .venv/bin/python benchmarks/serving/log_overhead.py --repeat 5   # medians of 5 runs, ~15 min
    .venv/bin/python benchmarks/serving/log_overhead.py --quick      # 3 s runs, nothing written
    .venv/bin/python benchmarks/serving/log_overhead.py --postgres   # the log on PostgreSQL (a team's)

With --postgres, a PostgreSQL 15 cluster is started in a temporary folder (as the team tests
start it) and the project's state (prediction log included) lives there
(CHAMPION_STATE_URI, password in PGPASSWORD); results go to log_overhead_postgres.json.

Results: a table on stdout, JSON in benchmarks/results/log_overhead.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as serving  # noqa: E402  (the serving benchmark's helpers: wrk, processes, CPU accounting)

REPO = serving.REPO
SCENARIOS = [  # (key, label, payload, connections, wrk threads, length in --duration units)
    ("one_c8", "1 comment, concurrency 8", "one", 8, 2, 1),
    ("one_c32", "1 comment, concurrency 32", "one", 32, 2, 1),
    ("batch_c4", "1,000 comments, concurrency 4", "batch", 4, 2, 2),
]
ROWS = {"one": 1, "batch": 1000}
SIDES = ("logging", "no_logging")
ENVIRONMENT = {"logging": "staging", "no_logging": "production"}


def setup(tmp: Path, workers: int) -> dict[str, Any]:
    project = tmp / "spam"
    serving.champion("init", str(project), "--template", "youtube-spam")
    staging, production = serving.free_ports(2)
    toml = project / "champion.toml"
    serving.set_ports(toml, {"staging": staging, "production": production},
                      {"staging": workers, "production": workers})
    # [environments.production] is the template's last table: the only difference.
    toml.write_text(toml.read_text() + "log_predictions = false\n")
    environments = tomllib.loads(toml.read_text())["environments"]
    if environments["production"].get("log_predictions") is not False or "log_predictions" in environments["staging"]:
        raise RuntimeError(f"could not switch the log off for production only in {toml}")
    serving.champion("build", "--project", str(project), "-q")
    for environment in ("staging", "production"):
        serving.champion("deploy", environment, "--project", str(project), "-q")
    sessions = {}
    for side, environment in ENVIRONMENT.items():
        record = json.loads((project / ".champion" / "endpoints" / environment / "endpoint.json").read_text())
        sessions[side] = int(record["pid"])  # each endpoint leads its own session
    return {"project": project, "sessions": sessions,
            "urls": {"logging": f"http://127.0.0.1:{staging}/score", "no_logging": f"http://127.0.0.1:{production}/score"}}


def is_loader(pid: int) -> bool:
    """Whether `pid` is an endpoint's log loader process (`champion.serving.log_loader`)."""
    try:
        return b"champion.serving.log_loader" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def endpoint_pids(sid: int) -> list[int]:
    """The session's serving processes (supervisor, workers), not its log loader."""
    return [pid for pid in serving.session_pids(sid) if not is_loader(pid)]


def loader_cpu(sid: int) -> float:
    """CPU seconds of the session's log loader (0 where the log is off)."""
    return serving.process_cpu([pid for pid in serving.session_pids(sid) if is_loader(pid)])


def prediction_log(project: Path) -> Any:
    """The project's prediction log, where the project keeps it (SQLite, or PostgreSQL)."""
    from champion.project import Project
    from champion.workspace import Workspace

    return Workspace(Project.open(project)).predictions


def caught_up(project: Path, timeout: float = 120.0) -> float:
    """Wait until the log loader has loaded every spooled byte; the seconds it took."""
    spool = project / ".champion" / "endpoints" / ENVIRONMENT["logging"] / "spool"
    store = prediction_log(project)
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        sizes = {p.name: p.stat().st_size for p in spool.glob("*.jsonl")}
        if not sizes:
            return time.monotonic() - start
        loaded = store.spool_progress()
        if all((loaded[name].offset if name in loaded else 0) >= size for name, size in sizes.items()):
            return time.monotonic() - start
        time.sleep(0.05)
    raise RuntimeError(f"the log loader did not catch up within {timeout:.0f} s")


def pin(sid: int, cpus: set[int]) -> int:
    """Pin the main thread (the event loop) of each of the session's serving processes to
    `cpus`; their other threads and the log loader run where the scheduler puts them. How
    many were pinned."""
    pinned = 0
    for pid in endpoint_pids(sid):
        try:
            os.sched_setaffinity(pid, cpus)  # on Linux: the thread whose id is `pid` only
            pinned += 1
        except OSError:
            pass
    return pinned


def loop_cpu(sid: int) -> float:
    """CPU seconds of the event-loop (main) threads of the session's serving processes."""
    return serving.process_cpu(endpoint_pids(sid), main_thread_only=True)


def per_request(result: dict[str, Any], server: float, loop: float, loader: float = 0.0) -> None:
    """CPU per request: the serving processes' event loops, their other threads, and the log
    loader (`server` holds all three)."""
    requests = max(result["requests"], 1)
    result["server_cpu_s"] = round(server, 2)
    result["server_cpu_ms_per_request"] = round(1e3 * server / requests, 3)
    result["loop_cpu_ms_per_request"] = round(1e3 * loop / requests, 3)
    result["other_threads_cpu_ms_per_request"] = round(1e3 * (server - loop - loader) / requests, 3)
    result["loader_cpu_ms_per_request"] = round(1e3 * loader / requests, 3)


def wrk(url: str, body: Path, connections: int, threads: int, seconds: float, cpus: str) -> list[str]:
    return ["taskset", "-c", cpus, *serving.wrk_command(url, body, connections, threads, seconds)]


def load(url: str, body: Path, connections: int, threads: int, seconds: float, sid: int, cpus: str) -> dict[str, Any]:
    """`run.py`'s `load`, with wrk pinned to `cpus`."""
    loadavg = os.getloadavg()[0]
    server_before, loop_before, loader_before = serving.session_cpu(sid), loop_cpu(sid), loader_cpu(sid)
    wrk_before, machine_before = serving.children_cpu(), serving.machine_cpu()
    done = serving.run(*wrk(url, body, connections, threads, seconds, cpus), timeout=seconds + 120)
    result = serving.parse_wrk(done.stdout)
    per_request(result, serving.session_cpu(sid) - server_before, loop_cpu(sid) - loop_before,
                loader_cpu(sid) - loader_before)
    result["wrk_cpu_s"] = round(serving.children_cpu() - wrk_before, 2)
    result["other_cpu_s"] = round(serving.machine_cpu() - machine_before - result["server_cpu_s"]
                                  - result["wrk_cpu_s"], 2)
    result["loadavg_1min_before"] = loadavg
    return result


def paired(made: dict[str, Any], body: Path, connections: int, threads: int, seconds: float,
           cpus: str) -> dict[str, Any]:
    """Both endpoints loaded at once, each by its own wrk: requests/s and server CPU of each.
    The log loader's CPU is counted until it has caught up after the run (`catch_up_s`)."""
    caught_up(made["project"])
    before = {side: serving.session_cpu(made["sessions"][side]) for side in SIDES}
    loops = {side: loop_cpu(made["sessions"][side]) for side in SIDES}
    loaders = {side: loader_cpu(made["sessions"][side]) for side in SIDES}
    loadavg = os.getloadavg()[0]
    runs = {side: subprocess.Popen(wrk(made["urls"][side], body, connections, threads, seconds, cpus),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=serving.ENV)
            for side in SIDES}
    outputs = {}
    for side, process in runs.items():
        outputs[side] = process.communicate(timeout=seconds + 120)
        if process.returncode != 0:
            raise RuntimeError(f"wrk failed: {outputs[side][1][-500:]}")
    loops_after = {side: loop_cpu(made["sessions"][side]) for side in SIDES}  # before the loader catches up
    catch_up = caught_up(made["project"])
    results: dict[str, Any] = {}
    for side in SIDES:
        result = serving.parse_wrk(outputs[side][0])
        sid = made["sessions"][side]
        per_request(result, serving.session_cpu(sid) - before[side], loops_after[side] - loops[side],
                    loader_cpu(sid) - loaders[side])
        result["loadavg_1min_before"] = loadavg
        results[side] = result
    results["logging"]["catch_up_s"] = round(catch_up, 2)
    base = results["no_logging"]["requests_per_s"]
    results["ratio"] = results["logging"]["requests_per_s"] / base if base else float("nan")  # nan: a short warm-up
    # What logging costs in CPU, the loader's catch-up included: the throughput ratio when
    # CPU is all that limits and the loader cannot wait for idle time.
    cost = results["logging"]["server_cpu_ms_per_request"]
    results["cpu_ratio"] = results["no_logging"]["server_cpu_ms_per_request"] / cost if cost else float("nan")
    return results


def log_counts(project: Path) -> dict[str, Any]:
    return dict(prediction_log(project).counts("spam", "staging"))


def start_postgres() -> Any:
    """A PostgreSQL cluster for the run, its state database in this process's environment
    (inherited by every champion command and endpoint started after)."""
    sys.path.insert(0, str(REPO / "tests"))
    from team_servers import Postgres

    postgres = Postgres.start()
    team = {**postgres.env, "CHAMPION_STATE_URI": postgres.create_database("state")}
    os.environ.update(team)  # for this process's own reads of the log
    serving.ENV.update(team)  # for the champion commands, the endpoints and their loaders
    return postgres


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1, help="worker processes of each endpoint (default 1)")
    parser.add_argument("--duration", type=float, default=None, help="seconds per measured run (default 15)")
    parser.add_argument("--warmup", type=float, default=None, help="seconds of warm-up before each (default 3)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per side and scenario; medians reported")
    parser.add_argument("--server-cpus", default="1", help="cores the endpoints' event loops are pinned to (default 1)")
    parser.add_argument("--wrk-cpus", default="0", help="cores wrk is pinned to (default 0)")
    parser.add_argument("--quick", action="store_true", help="3 s runs, 1 s warm-ups; writes nothing unless --out")
    parser.add_argument("--paired-only", action="store_true",
                        help="skip the sequential runs (more paired repeats in the same time)")
    parser.add_argument("--postgres", action="store_true",
                        help="keep the project's state and prediction log on a PostgreSQL cluster started for the run")
    parser.add_argument("--out", type=Path, default=None,
                        help="results JSON (default benchmarks/results/log_overhead.json, or "
                             "log_overhead_postgres.json with --postgres; none with --quick)")
    args = parser.parse_args()
    args.duration = args.duration or (3.0 if args.quick else 15.0)
    args.warmup = args.warmup or (1.0 if args.quick else 3.0)
    name = "log_overhead_postgres.json" if args.postgres else "log_overhead.json"
    out = args.out or (None if args.quick else REPO / "benchmarks" / "results" / name)
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        sys.exit("wrk and taskset are needed")
    server_cpus = {int(c) for c in args.server_cpus.split(",")}
    signal.signal(signal.SIGTERM, serving._interrupted)

    tmp = Path(tempfile.mkdtemp(prefix="champion-log-overhead-"))
    started = time.time()
    made: dict[str, Any] = {}
    postgres = start_postgres() if args.postgres else None
    try:
        print(f"setting up a spam project in {tmp} ...", flush=True)
        made = setup(tmp, args.workers)
        comments = serving.comments_of(made["project"])
        one = next(c for c in comments if 40 <= len(c) <= 120)
        bodies = {"one": tmp / "one.json", "batch": tmp / "batch.json"}
        bodies["one"].write_bytes(serving.champion_body([one]))
        bodies["batch"].write_bytes(serving.champion_body(comments[:1000]))
        for side in SIDES:
            print(f"pinned the event loop of {pin(made['sessions'][side], server_cpus)} {side} process(es) to "
                  f"core(s) {args.server_cpus}; wrk runs on core(s) {args.wrk_cpus}", flush=True)
        for side in SIDES:  # the same answers from both
            status, document = serving.post(made["urls"][side], bodies["one"].read_bytes())
            if status != 200:
                raise RuntimeError(f"{side} answered {status}: {document}")
        print(f"measuring: {args.duration:g} s per run after {args.warmup:g} s of warm-up, "
              f"{args.workers} worker(s) each; logging on {made['urls']['logging']}, "
              f"not logging on {made['urls']['no_logging']}", flush=True)
        runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
        pairs: dict[str, list[dict[str, Any]]] = {}
        answered_rows = 1  # the probe above, on the logging side
        step = 0
        for _ in range(args.repeat):
            for key, label, kind, connections, threads, length in SCENARIOS:
                seconds = args.duration * length
                warm_pair = paired(made, bodies[kind], connections, threads, args.warmup, args.wrk_cpus)
                pair = paired(made, bodies[kind], connections, threads, seconds, args.wrk_cpus)
                pairs.setdefault(key, []).append(pair)
                for done in (warm_pair, pair):
                    answered_rows += ROWS[kind] * (done["logging"]["requests"] - done["logging"]["non_2xx"])
                a, b = pair["logging"], pair["no_logging"]
                print(f"  {label:32} paired      {a['requests_per_s']:9.1f} vs {b['requests_per_s']:9.1f} req/s  "
                      f"ratio {pair['ratio']:.3f}  CPU ms/req: loop {a['loop_cpu_ms_per_request']:.3f} + other "
                      f"{a['other_threads_cpu_ms_per_request']:.3f} + loader {a['loader_cpu_ms_per_request']:.3f} "
                      f"vs loop {b['loop_cpu_ms_per_request']:.3f} + other {b['other_threads_cpu_ms_per_request']:.3f}"
                      f"  CPU ratio {pair['cpu_ratio']:.3f}  loader caught up {a['catch_up_s']:.2f} s after  "
                      f"errors {a['errors'] + b['errors']}  (load {a['loadavg_1min_before']:.2f})", flush=True)
                order = SIDES if step % 2 == 0 else SIDES[::-1]  # ABBA
                step += 1
                for side in order if not args.paired_only else ():
                    url, sid = made["urls"][side], made["sessions"][side]
                    warm = load(url, bodies[kind], connections, threads, args.warmup, sid, args.wrk_cpus)
                    result = load(url, bodies[kind], connections, threads, seconds, sid, args.wrk_cpus)
                    if side == "logging":
                        answered_rows += ROWS[kind] * (warm["requests"] - warm["non_2xx"]
                                                       + result["requests"] - result["non_2xx"])
                    runs.setdefault((side, key), []).append(result)
                    print(f"  {label:32} {side:11} {result['requests_per_s']:9.1f} req/s  "
                          f"p50 {result['p50_ms']:7.2f} ms  p99 {result['p99_ms']:7.2f} ms  "
                          f"CPU ms/req: loop {result['loop_cpu_ms_per_request']:.3f} + other threads "
                          f"{result['other_threads_cpu_ms_per_request']:.3f}  errors {result['errors']}  "
                          f"(load {result['loadavg_1min_before']:.2f}, other jobs {result['other_cpu_s']:.1f} CPU s)",
                          flush=True)
        time.sleep(0.5)  # the workers write their spool every 0.2 s
        caught_up(made["project"])
        counts = log_counts(made["project"])
    finally:
        if made.get("project"):
            serving.champion("down", "--project", str(made["project"]), check=False)
        for sid in made.get("sessions", {}).values():
            serving.kill_session(sid)
        shutil.rmtree(tmp, ignore_errors=True)
        if postgres is not None:
            postgres.stop(remove=True)

    if args.paired_only:  # the paired runs stand in for the sequential ones in the summary
        runs = {(side, key): [p[side] for p in pairs[key]] for side in SIDES for key, *_ in SCENARIOS}
    results = {side: {key: serving.median_of(runs[side, key]) for key, *_ in SCENARIOS} for side in SIDES}
    sequential = {key: results["logging"][key]["requests_per_s"] / results["no_logging"][key]["requests_per_s"]
                  for key, *_ in SCENARIOS}
    ratios = {key: statistics.median(p["ratio"] for p in pairs[key]) for key, *_ in SCENARIOS}
    cpu_ratios = {key: statistics.median(p["cpu_ratio"] for p in pairs[key]) for key, *_ in SCENARIOS}
    print(f"\n{'scenario':32} {'paired: ratio (runs)':>34}  {'CPU ratio, loader included':>28}   "
          f"{'sequential: logging / no logging':>40}")
    for key, label, *_ in SCENARIOS:
        a, b = results["logging"][key], results["no_logging"][key]
        each = ", ".join(f"{p['ratio']:.3f}" for p in pairs[key])
        cpu_each = ", ".join(f"{p['cpu_ratio']:.3f}" for p in pairs[key])
        print(f"{label:32} {ratios[key]:7.3f} ({each})  {cpu_ratios[key]:7.3f} ({cpu_each})   "
              f"{a['requests_per_s']:8.1f} / {b['requests_per_s']:8.1f} req/s = {sequential[key]:.3f}")
    worst = min(ratios.values())
    worst_cpu = min(cpu_ratios.values())
    print(f"\ntarget: logging keeps >= 95% of throughput (paired medians): worst ratio {worst:.3f} -> "
          f"{'PASS' if worst >= 0.95 else 'FAIL'}; in CPU, the loader's catch-up included: worst {worst_cpu:.3f} -> "
          f"{'PASS' if worst_cpu >= 0.95 else 'FAIL'}")
    print(f"log: {counts['logged']} rows logged, {counts['dropped']} dropped; wrk saw {answered_rows} rows answered "
          f"(it does not count requests still in flight when a run ends, which the server completes and logs)")
    document = {
        "benchmark": "prediction log overhead: the same endpoint with log_predictions true vs false",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "command": " ".join([".venv/bin/python", "benchmarks/serving/log_overhead.py", *sys.argv[1:]]),
        "machine": {"cores": os.cpu_count(), "cpu": serving.cpu_model(), "loadavg_at_end": os.getloadavg(),
                    "note": "wrk runs on the same machine as the servers (loopback)"},
        "versions": {"champion": metadata.version("champion"), "wrk": (serving.run("wrk", "-v", check=False).stdout.splitlines() or [""])[0]},
        "settings": {"state": "postgresql" if args.postgres else "sqlite", "workers": args.workers, "server_cpus": args.server_cpus, "wrk_cpus": args.wrk_cpus, "duration_s": args.duration, "warmup_s": args.warmup, "repeat": args.repeat,
                     "one_comment": one, "scenarios": [{"key": k, "label": lab, "payload": p, "connections": n,
                                                        "wrk_threads": t, "duration_s": args.duration * d}
                                                       for k, lab, p, n, t, d in SCENARIOS]},
        "paired": pairs,
        "paired_ratios": ratios,
        "paired_cpu_ratios": cpu_ratios,
        "sequential": results,
        "sequential_ratios": sequential,
        "target": {"goal": "paired median ratio >= 0.95 in every scenario", "worst": worst, "pass": worst >= 0.95,
                   "worst_cpu_ratio": worst_cpu, "cpu_pass": worst_cpu >= 0.95},
        "log": {**counts, "rows_answered": answered_rows},
    }
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(document, indent=2) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; the servers were stopped")
