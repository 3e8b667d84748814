"""Soak: mixed traffic on a two-worker endpoint for ten minutes, with a promotion every 30 s.

Setup (in a temporary folder): `champion init --template youtube-spam`, `champion build`
(version 1), a second version trained with another C and registered, production with two
workers serving version 1.

Traffic, all at once, from this process (httpx, keep-alive clients):
- 3 clients sending one comment per request, back to back;
- 1 client sending 1,000 comments per request;
- 1 client sending bad requests (broken JSON, unknown fields, wrong types, 413s: too many
  rows, a row over `max_row_chars`), which must be answered 4xx, never 5xx;
- `champion deploy production --version 1|2` every 30 s (hot swaps under load).

Checked: no good request failed (every one answered 200), no bad request got a 5xx, the
prediction log holds every answered row exactly once after `champion down`, and memory
stays flat (the endpoint's RSS, every worker and the loader, at start and end, and each
minute).

    .venv/bin/python benchmarks/serving/soak.py               # 10 minutes
    .venv/bin/python benchmarks/serving/soak.py --minutes 2   # a shorter run

Results: a summary on stdout, JSON in benchmarks/results/soak.json.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as serving  # noqa: E402  (the serving benchmark's helpers)

REPO = serving.REPO
RESULTS = REPO / "benchmarks" / "results" / "soak.json"
CHAMPION = [sys.executable, "-m", "champion"]


@dataclass
class Tally:
    good: int = 0
    failed: list[str] = field(default_factory=list)
    rows: int = 0
    bad: int = 0
    bad_5xx: list[str] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)
    promotions: list[tuple[int, int, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def champion(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CHAMPION, *args, "-p", str(root)], capture_output=True, text=True, check=False)


def setup(tmp: Path) -> tuple[Path, str]:
    root = tmp / "spam"
    subprocess.run([*CHAMPION, "init", str(root), "--template", "youtube-spam"], check=True, capture_output=True)
    [port] = serving.free_ports(1)
    toml = root / "champion.toml"
    text = toml.read_text()
    head = text[: text.index("[environments.")]
    [staging] = serving.free_ports(1)
    toml.write_text(head + f"[environments.staging]\nport = {staging}\n\n"
                    f"[environments.production]\nport = {port}\nworkers = 2\npoll_seconds = 0.5\n")
    done = champion(root, "build", "-q")
    assert done.returncode == 0, done.stderr
    trained = json.loads(champion(root, "train", "-q", "--json", "--param=C=0.5").stdout)
    sys.path.insert(0, str(REPO / "src"))
    from champion.workspace import Workspace
    from champion.project import Project

    ws = Workspace(Project.open(root))
    ws.registry.register("spam", ws.registry.run(trained["run_id"]), {})
    deployed = champion(root, "deploy", "production", "--version", "1", "-q")
    assert deployed.returncode == 0, deployed.stderr
    return root, f"http://127.0.0.1:{port}"


def good_client(url: str, tally: Tally, stop: threading.Event, rows: int, comments: list[str]) -> None:
    with httpx.Client(base_url=url, timeout=60, trust_env=False) as http:
        i = 0
        while not stop.is_set():
            data = [comments[(i + k) % len(comments)] for k in range(rows)]
            i += rows
            try:
                response = http.post("/score", json={"data": data})
            except httpx.HTTPError as exc:
                with tally.lock:
                    tally.failed.append(f"{type(exc).__name__}: {exc}")
                continue
            with tally.lock:
                if response.status_code == 200:
                    tally.good += 1
                    tally.rows += rows
                    tally.ids[response.json()["request_id"]] = rows
                else:
                    tally.failed.append(f"{response.status_code}: {response.text[:200]}")


BAD = [
    (b"not json", {}),
    (b'{"data": []}', {}),
    (b'{"data": [1]}', {}),
    (b'{"data": ["x"], "extra": 1}', {}),
    (json.dumps({"data": ["x"] * 10_001}).encode(), {}),
    (json.dumps({"data": ["y" * 100_001]}).encode(), {}),
    (b'{"data": [null]}', {"x-request-id": "r" * 5000}),
]


def bad_client(url: str, tally: Tally, stop: threading.Event) -> None:
    with httpx.Client(base_url=url, timeout=60, trust_env=False) as http:
        i = 0
        while not stop.is_set():
            body, headers = BAD[i % len(BAD)]
            i += 1
            try:
                response = http.post("/score", content=body, headers={"content-type": "application/json", **headers})
            except httpx.HTTPError:
                continue
            with tally.lock:
                if response.status_code >= 500:
                    tally.bad_5xx.append(f"{response.status_code}: {response.text[:200]}")
                else:
                    tally.bad += 1
            time.sleep(0.05)


def promoter(root: Path, tally: Tally, stop: threading.Event, every: float) -> None:
    version = 1
    while not stop.wait(every):
        version = 2 if version == 1 else 1
        started = time.monotonic()
        done = champion(root, "deploy", "production", "--version", str(version), "-q")
        tally.promotions.append((version, done.returncode, round(time.monotonic() - started, 2)))


def endpoint_session(root: Path) -> int:
    [endpoint] = json.loads(champion(root, "ps", "production", "--json").stdout)
    return int(endpoint["pid"])


def log_check(root: Path, tally: Tally) -> dict[str, Any]:
    with sqlite3.connect(root / ".champion" / "state.db") as db:
        logged, distinct = db.execute(
            "SELECT count(*), count(DISTINCT request_id || ':' || row) FROM predictions WHERE environment = "
            "'production'").fetchone()
        ids = {r for (r,) in db.execute("SELECT DISTINCT request_id FROM predictions WHERE environment = 'production'")}
        dropped = db.execute("SELECT coalesce(sum(rows), 0) FROM prediction_log_drops").fetchone()[0]
    missing = [rid for rid in tally.ids if rid not in ids]
    return {"logged_rows": logged, "distinct_rows": distinct, "answered_rows": tally.rows,
            "missing_requests": len(missing), "dropped_rows": dropped}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--promote-every", type=float, default=30.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="champion-soak-") as folder:
        root, url = setup(Path(folder))
        comments = serving.comments_of(root)
        sid = endpoint_session(root)
        tally, stop = Tally(), threading.Event()
        threads = [threading.Thread(target=good_client, args=(url, tally, stop, 1, comments)) for _ in range(3)]
        threads.append(threading.Thread(target=good_client, args=(url, tally, stop, 1000, comments)))
        threads.append(threading.Thread(target=bad_client, args=(url, tally, stop)))
        threads.append(threading.Thread(target=promoter, args=(root, tally, stop, args.promote_every)))
        for thread in threads:
            thread.start()
        time.sleep(20)  # warm: both versions loaded, caches filled
        rss = [(0, serving.session_rss_mb(sid))]
        started = time.monotonic()
        deadline = started + args.minutes * 60
        while time.monotonic() < deadline:
            time.sleep(min(60.0, max(0.0, deadline - time.monotonic())))
            rss.append((round((time.monotonic() - started) / 60), serving.session_rss_mb(sid)))
            print(f"  {rss[-1][0]} min: RSS {rss[-1][1]:.0f} MB, {tally.good:,} good requests, "
                  f"{len(tally.failed)} failed, {len(tally.bad_5xx)} bad ones answered 5xx", flush=True)
        stop.set()
        for thread in threads:
            thread.join(120)
        down = champion(root, "down")
        assert down.returncode == 0, down.stderr
        log = log_check(root, tally)
    result = {
        "machine": serving.cpu_model(), "minutes": args.minutes, "good_requests": tally.good,
        "good_rows": tally.rows, "failed_good": len(tally.failed), "failures": tally.failed[:10],
        "bad_requests_4xx": tally.bad, "bad_requests_5xx": len(tally.bad_5xx), "bad_5xx": tally.bad_5xx[:10],
        "promotions": tally.promotions, "promotions_failed": sum(1 for _, code, _ in tally.promotions if code),
        "rss_mb": rss, "log": log,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k not in ("promotions", "failures", "bad_5xx")}, indent=2))
    ok = (not tally.failed and not tally.bad_5xx and log["missing_requests"] == 0
          and log["logged_rows"] == log["distinct_rows"] == tally.rows and result["promotions_failed"] == 0)
    print("verdict:", "PASS" if ok else "FAIL")


if __name__ == "__main__":
    main()
