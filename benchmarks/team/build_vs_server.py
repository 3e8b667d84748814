"""Build overhead on a team's backend: `champion build spam` against a real MLflow tracking
server (PostgreSQL backend, proxied artifacts) with champion's state on PostgreSQL, against
the same build on the embedded SQLite stores, in the same run. Target: <= 1.5x.

Both projects are warm (one build done, a champion registered); each round runs one build
of each, alternating, as real processes.

    python benchmarks/team/build_vs_server.py --repeat 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, new_project, team_backends


def build(project: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "champion", "build", "spam", "-q", "--project", str(project)],
                          capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 3):
        raise SystemExit(f"build failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "team_build.json")
    args = parser.parse_args()
    with team_backends() as backends:
        folder = Path(tempfile.mkdtemp(prefix="champion-team-bench-"))
        local, team = folder / "local", folder / "team"
        new_project(local, backends.alone)  # warm: migrations done, a champion registered
        new_project(team, backends.team)
        times: dict[str, list[float]] = {"local": [], "team": []}
        for round_ in range(args.repeat):
            times["local"].append(build(local, backends.alone))
            times["team"].append(build(team, backends.team))
            print(f"round {round_ + 1}: local {times['local'][-1]:.2f} s, team {times['team'][-1]:.2f} s", flush=True)
        local_median, team_median = statistics.median(times["local"]), statistics.median(times["team"])
        result = {"repeat": args.repeat, "local_seconds": times["local"], "team_seconds": times["team"],
                  "local_median": local_median, "team_median": team_median, "ratio": team_median / local_median,
                  "target": 1.5}
        print(json.dumps({k: v for k, v in result.items() if not k.endswith("_seconds")}, indent=2))
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

if __name__ == "__main__":
    main()
