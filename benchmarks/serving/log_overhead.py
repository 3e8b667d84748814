"""Prediction log overhead: the same endpoint with `log_predictions` true and false, one run.

Setup (in a temporary folder): `champion init --template youtube-spam`, `champion build`
(version 1), two environments that differ only in `log_predictions`: staging logs every
scored row, production logs nothing. Both serve version 1 (`champion deploy staging`,
`champion deploy production`), same worker count, same machine.

Measured with wrk (loopback, on the same 2-core machine, as in `run.py`), each run after a
warm-up, the two endpoints alternating in ABBA order:

- one comment per request at concurrency 8 and 32;
- 1,000 comments per request at concurrency 4 (1,000 log rows per request).

Reported: requests/s of each and their ratio (logging / not logging; the target is >= 0.95,
i.e. logging costs at most 5% of throughput), server CPU per request, and a check that the
log holds a row for every row answered (with the count of rows it dropped, if any).

    .venv/bin/python benchmarks/serving/log_overhead.py              # ~5 min on 2 cores
    .venv/bin/python benchmarks/serving/log_overhead.py --repeat 3   # medians of 3 runs, ~13 min
    .venv/bin/python benchmarks/serving/log_overhead.py --quick      # 3 s runs, nothing written

Results: a table on stdout, JSON in benchmarks/results/log_overhead.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
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


def log_counts(project: Path) -> dict[str, Any]:
    from champion.state.predictions import PredictionLog

    return PredictionLog(f"sqlite:///{project / '.champion' / 'state.db'}").counts("spam", "staging")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1, help="worker processes of each endpoint (default 1)")
    parser.add_argument("--duration", type=float, default=None, help="seconds per measured run (default 15)")
    parser.add_argument("--warmup", type=float, default=None, help="seconds of warm-up before each (default 3)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per side and scenario; medians reported")
    parser.add_argument("--quick", action="store_true", help="3 s runs, 1 s warm-ups; writes nothing unless --out")
    parser.add_argument("--out", type=Path, default=None,
                        help="results JSON (default benchmarks/results/log_overhead.json; none with --quick)")
    args = parser.parse_args()
    args.duration = args.duration or (3.0 if args.quick else 15.0)
    args.warmup = args.warmup or (1.0 if args.quick else 3.0)
    out = args.out or (None if args.quick else REPO / "benchmarks" / "results" / "log_overhead.json")
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed")
    signal.signal(signal.SIGTERM, serving._interrupted)

    tmp = Path(tempfile.mkdtemp(prefix="champion-log-overhead-"))
    started = time.time()
    made: dict[str, Any] = {}
    try:
        print(f"setting up a spam project in {tmp} ...", flush=True)
        made = setup(tmp, args.workers)
        comments = serving.comments_of(made["project"])
        one = next(c for c in comments if 40 <= len(c) <= 120)
        bodies = {"one": tmp / "one.json", "batch": tmp / "batch.json"}
        bodies["one"].write_bytes(serving.champion_body([one]))
        bodies["batch"].write_bytes(serving.champion_body(comments[:1000]))
        for side in SIDES:  # the same answers from both
            status, document = serving.post(made["urls"][side], bodies["one"].read_bytes())
            if status != 200:
                raise RuntimeError(f"{side} answered {status}: {document}")
        print(f"measuring: {args.duration:g} s per run after {args.warmup:g} s of warm-up, "
              f"{args.workers} worker(s) each; logging on {made['urls']['logging']}, "
              f"not logging on {made['urls']['no_logging']}", flush=True)
        runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
        answered_rows = 1  # the probe above, on the logging side
        step = 0
        for _ in range(args.repeat):
            for key, label, kind, connections, threads, length in SCENARIOS:
                order = SIDES if step % 2 == 0 else SIDES[::-1]  # ABBA
                step += 1
                for side in order:
                    url, sid = made["urls"][side], made["sessions"][side]
                    warm = serving.load(url, bodies[kind], connections, threads, args.warmup, sid)
                    result = serving.load(url, bodies[kind], connections, threads, args.duration * length, sid)
                    if side == "logging":
                        answered_rows += ROWS[kind] * (warm["requests"] - warm["non_2xx"]
                                                       + result["requests"] - result["non_2xx"])
                    runs.setdefault((side, key), []).append(result)
                    print(f"  {label:32} {side:11} {result['requests_per_s']:9.1f} req/s  "
                          f"p50 {result['p50_ms']:7.2f} ms  p99 {result['p99_ms']:7.2f} ms  "
                          f"CPU {result['server_cpu_ms_per_request']:.3f} ms/req  errors {result['errors']}  "
                          f"(load {result['loadavg_1min_before']:.2f}, other jobs {result['other_cpu_s']:.1f} CPU s)",
                          flush=True)
        time.sleep(1.0)  # the writer flushes every 0.3 s
        counts = log_counts(made["project"])
    finally:
        if made.get("project"):
            serving.champion("down", "--project", str(made["project"]), check=False)
        for sid in made.get("sessions", {}).values():
            serving.kill_session(sid)
        shutil.rmtree(tmp, ignore_errors=True)

    results = {side: {key: serving.median_of(runs[side, key]) for key, *_ in SCENARIOS} for side in SIDES}
    ratios = {key: results["logging"][key]["requests_per_s"] / results["no_logging"][key]["requests_per_s"]
              for key, *_ in SCENARIOS}
    print(f"\n{'scenario':32} {'logging':>12} {'no logging':>12} {'ratio':>7}   CPU ms/req (log / no log)")
    for key, label, *_ in SCENARIOS:
        a, b = results["logging"][key], results["no_logging"][key]
        print(f"{label:32} {a['requests_per_s']:8.1f} r/s {b['requests_per_s']:8.1f} r/s {ratios[key]:7.3f}"
              f"   {a['server_cpu_ms_per_request']:.3f} / {b['server_cpu_ms_per_request']:.3f}")
    worst = min(ratios.values())
    print(f"\ntarget: logging keeps >= 95% of throughput: worst ratio {worst:.3f} -> "
          f"{'PASS' if worst >= 0.95 else 'FAIL'}")
    print(f"log: {counts['logged']} rows logged, {counts['dropped']} dropped; wrk saw {answered_rows} rows answered "
          f"(it does not count requests still in flight when a run ends, which the server completes and logs)")
    document = {
        "benchmark": "prediction log overhead: the same endpoint with log_predictions true vs false",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "command": " ".join([".venv/bin/python", "benchmarks/serving/log_overhead.py", *sys.argv[1:]]),
        "machine": {"cores": os.cpu_count(), "cpu": serving.cpu_model(), "loadavg_at_end": os.getloadavg(),
                    "note": "wrk runs on the same machine as the servers (loopback)"},
        "versions": {"champion": metadata.version("champion"), "wrk": (serving.run("wrk", "-v", check=False).stdout.splitlines() or [""])[0]},
        "settings": {"workers": args.workers, "duration_s": args.duration, "warmup_s": args.warmup, "repeat": args.repeat,
                     "one_comment": one, "scenarios": [{"key": k, "label": lab, "payload": p, "connections": n,
                                                        "wrk_threads": t, "duration_s": args.duration * d}
                                                       for k, lab, p, n, t, d in SCENARIOS]},
        "results": results,
        "ratios": ratios,
        "target": {"goal": "ratio >= 0.95 in every scenario", "worst": worst, "pass": worst >= 0.95},
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
