"""Prediction-log ingest on a team's backend: two endpoints of one environment (two "hosts",
separate checkouts) log into one PostgreSQL. For each answered request: how long until its
row is in the shared log? Target: every row within 2 s, none lost.

The load is one keep-alive client per endpoint sending one-comment requests back to back for
--seconds (not wrk's peak rate: the point is the loader's delay, not the server's ceiling).

    python benchmarks/team/log_ingest.py --seconds 20
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, team_backends
from team_support import Host


def load(url: str, tag: str, seconds: float, answered: dict[str, float], failures: list[int]) -> None:
    deadline = time.monotonic() + seconds
    i = 0
    with httpx.Client(base_url=url, timeout=30, trust_env=False) as http:
        while time.monotonic() < deadline:
            request_id = f"{tag}-{i}"
            response = http.post("/score", json={"data": [{"CONTENT": f"great song {i}"}]},
                                 headers={"x-request-id": request_id})
            if response.status_code == 200:
                answered[request_id] = time.time()
            else:
                failures.append(response.status_code)
            i += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "team_log_ingest.json")
    args = parser.parse_args()
    with team_backends() as backends:
        database = backends.team["CHAMPION_STATE_URI"].rsplit("/", 1)[1]
        folder = Path(tempfile.mkdtemp(prefix="champion-ingest-bench-"))
        hosts = [Host.create(folder, name, backends.postgres, backends.server, database) for name in ("a", "b")]
        try:
            assert hosts[0].run("build", "spam", "-q").code == 0
            assert hosts[0].run("release", "spam", "-q").code == 0
            assert hosts[1].run("up", "production").code == 0
            urls = [host.json("ps", "production")[0]["url"] for host in hosts]
            answered: dict[str, float] = {}
            failures: list[int] = []
            seen: dict[str, float] = {}
            stop = threading.Event()

            def poll() -> None:
                last = 0
                while not stop.is_set():
                    rows = backends.postgres.sql(database, "SELECT id, request_id FROM champion_youtube_spam.predictions "
                                                           f"WHERE id > {last} ORDER BY id")
                    now = time.time()
                    for line in rows.splitlines():
                        row_id, request_id = line.split("|", 1)
                        last = max(last, int(row_id))
                        seen.setdefault(request_id, now)
                    time.sleep(0.05)

            poller = threading.Thread(target=poll, daemon=True)
            poller.start()
            clients = [threading.Thread(target=load, args=(url, f"h{i}", args.seconds, answered, failures))
                       for i, url in enumerate(urls)]
            for client in clients:
                client.start()
            for client in clients:
                client.join()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not set(answered) <= set(seen):
                time.sleep(0.2)
            stop.set()
            poller.join(timeout=5)
            lags = np.array([seen[r] - t for r, t in answered.items() if r in seen])
            result = {"seconds": args.seconds, "answered": len(answered), "failed": len(failures),
                      "in_log": int(sum(r in seen for r in answered)),
                      "lost": int(sum(r not in seen for r in answered)),
                      "per_endpoint": {f"h{i}": sum(r.startswith(f"h{i}-") for r in answered) for i in range(2)},
                      "lag_seconds": {"p50": float(np.percentile(lags, 50)), "p99": float(np.percentile(lags, 99)),
                                      "max": float(lags.max())},
                      "target_max_lag_seconds": 2.0}
            print(json.dumps(result, indent=2))
            args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        finally:
            for host in hosts:
                host.run("down")


if __name__ == "__main__":
    main()
