"""`champion monitor` over a 1,000,000-row window with the prediction log on PostgreSQL
(a team's backend), beside the same window on the embedded SQLite log, in the same run.
Target: <= 10 s on PostgreSQL.

A spam project is built on each backend; 1,000,000 logged predictions (comments of the
training data, scored by the model, with their probabilities) are written to each log the
way the loader writes them; then `champion monitor spam --window 1000000` runs as a process.

    python benchmarks/team/monitor_postgres.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, new_project, team_backends


def fill(project: Path, env: dict[str, str], rows: int) -> float:
    """Write `rows` logged predictions through champion's own PredictionLog; seconds taken."""
    code = f"""
import os, sys, time
import numpy as np, pandas as pd
from pathlib import Path
from champion.project import Project
from champion.workspace import Workspace
from champion.state.predictions import LogRecord, row_key
root = Path({str(project)!r})
ws = Workspace(Project.open(root))
recipe = ws.registry.load_recipe(ws.registry.run(ws.registry.version("spam", 1).run_id))
frame = pd.concat([pd.read_csv(f) for f in sorted((root / "data").rglob("*.csv"))], ignore_index=True)
proba = np.asarray(recipe.predict_proba(frame[["CONTENT"]]), dtype=float)
texts, ids = frame["CONTENT"].tolist(), frame["COMMENT_ID"].tolist()
n, start, chunk = len(texts), time.time() - {rows} * 0.001 - 60, 50_000
began = time.perf_counter()
for low in range(0, {rows}, chunk):
    records = []
    for i in range(low, min(low + chunk, {rows})):
        j = i % n
        records.append(LogRecord(request_id=f"bench-{{i}}", row=0, at=start + i * 0.001, environment="production",
                                 model="spam", version=1, inputs={{"CONTENT": texts[j]}},
                                 output=int(proba[j].argmax()), proba=proba[j].tolist(), latency_ms=1.0,
                                 feature_key=row_key([texts[j]], ["text"]),
                                 identity_key=row_key([f"{{ids[j]}}-{{i}}"], ["string"]), classes=[0, 1]))
    ws.predictions.append(records)
print(time.perf_counter() - began)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return float(done.stdout.strip().splitlines()[-1])


def monitor(project: Path, env: dict[str, str], rows: int) -> tuple[float, dict]:  # type: ignore[type-arg]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "champion", "monitor", "spam", "--window", str(rows), "--json",
                           "--no-notify", "--project", str(project)], capture_output=True, text=True, env=env,
                          check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 4):
        raise SystemExit(done.stderr[-3000:])
    return elapsed, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "team_monitor.json")
    args = parser.parse_args()
    with team_backends() as backends:
        folder = Path(tempfile.mkdtemp(prefix="champion-monitor-bench-"))
        result: dict[str, object] = {"rows": args.rows, "target_seconds": 10}
        for name, env in (("sqlite", backends.alone), ("postgresql", backends.team)):
            project = folder / name
            new_project(project, env)
            filled = fill(project, env, args.rows)
            seconds, report = monitor(project, env, args.rows)
            again, _ = monitor(project, env, args.rows)
            result[name] = {"fill_seconds": filled, "monitor_seconds": [seconds, again],
                            "rows_judged": report["window"]["rows"], "status": report["status"]}
            print(name, json.dumps(result[name]), flush=True)
        pg, lite = result["postgresql"], result["sqlite"]
        result["ratio_postgresql_to_sqlite"] = min(pg["monitor_seconds"]) / min(lite["monitor_seconds"])  # type: ignore[index]
        print(json.dumps(result, indent=2))
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

if __name__ == "__main__":
    main()
