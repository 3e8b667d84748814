"""Concurrent `champion build` processes: no errors, one champion, the best, full history."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import cli

# One good challenger and three that barely learn (heavily regularized); whatever the order,
# the policy must end with the good one as champion.
PARAMS = [["--param", "C=10"], ["--param", "C=0.0005"], ["--param", "C=0.0007"], ["--param", "C=0.0009"]]


def test_four_concurrent_builds_leave_one_best_champion(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project(registry=False)  # a brand-new project: they also race to create the stores
    env = {**os.environ, "COLUMNS": "200"}
    processes = [
        subprocess.Popen([sys.executable, "-m", "champion", "build", "spam", "--project", str(project),
                          "--json", "-q", *params], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
        for params in PARAMS
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=600)
        results.append((process.returncode, out, err))

    for code, out, err in results:
        assert code in (0, 3), f"exit {code}: {err}"
        assert "Traceback" not in err
        assert json.loads(out)["verdict"] in ("FIRST_MODEL", "PROMOTE", "REJECT")

    documents = [json.loads(out) for _, out, _ in results]
    good_run = documents[0]["run_id"]
    status = cli("status", "--project", str(project), "--json").json()["models"][0]
    champion = status["aliases"]["champion"]
    assert champion["run_id"] == good_run, "the best challenger must end as champion"

    registered = [d for d in documents if d["version"] is not None]
    assert status["versions"] == len(registered)
    assert sum(d["verdict"] == "FIRST_MODEL" for d in documents) == 1

    history = cli("history", "spam", "--project", str(project), "--json").json()
    assert len(history) == len(registered)
    previous = None
    for move in history:  # an unbroken chain: every move starts where the last one ended
        assert move["from_version"] == previous
        previous = move["to_version"]
    assert previous == champion["version"]
    assert sorted(m["to_version"] for m in history) == sorted(d["version"] for d in registered)


