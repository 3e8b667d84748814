"""The Build pipeline on a real MLflow registry: FIRST_MODEL, PROMOTE, REJECT."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import cli

WEAK = ["--param", "C=0.0005"]  # a logistic model this regularized barely learns anything


def champion_version(project: Path) -> int | None:
    status = cli("status", "--project", str(project), "--json").json()
    alias = status["models"][0]["aliases"].get("champion")
    return alias["version"] if alias else None


def test_first_model_then_better_then_worse(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project()
    p = str(project)

    first = cli("build", "spam", "--project", p, "--json", *WEAK)
    assert first.code == 0, first.stderr
    doc = first.json()
    assert doc["verdict"] == "FIRST_MODEL"
    assert doc["version"] == 1 and doc["champion"] is None
    assert set(doc["challenger"]["metrics"]) >= {"accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"}
    assert champion_version(project) == 1

    better = cli("build", "spam", "--project", p, "--json")
    assert better.code == 0, better.stderr
    doc = better.json()
    assert doc["verdict"] == "PROMOTE", doc["reasons"]
    assert doc["version"] == 2
    assert doc["champion"]["version"] == 1
    assert doc["challenger"]["metrics"]["accuracy"] > doc["champion"]["metrics"]["accuracy"]
    primary = doc["policy"]["primary"]
    assert doc["p_values"][primary] < doc["policy"]["alpha"]
    decision = doc["decision"]  # the deciding test, and the interval shown next to the verdict
    assert decision["test"] == doc["policy"]["test"] and decision["significant"] is True
    assert doc["intervals"][primary] == decision["interval"]
    assert doc["interval_level"][primary] == decision["level"] == 1 - 2 * doc["policy"]["alpha"]
    assert decision["interval"][1] < 0  # brier: lower is better, and the interval lies below 0
    assert doc["interval_level"]["f1"] == 0.95 and "paired bootstrap" in doc["interval_method"]["f1"]
    assert champion_version(project) == 2

    worse = cli("build", "spam", "--project", p, "--json", *WEAK)
    assert worse.code == 3
    doc = worse.json()
    assert doc["verdict"] == "REJECT" and doc["version"] is None
    assert any("did not improve" in reason for reason in doc["reasons"])
    assert doc["decision"]["significant"] is False
    assert any("does not lie entirely below 0" in reason for reason in doc["reasons"])
    assert champion_version(project) == 2  # untouched

    # the rejected run was not registered: still two versions
    status = cli("status", "--project", p, "--json").json()
    assert status["models"][0]["versions"] == 2
    shown = set(status["models"][0]["aliases"]["champion"]["metrics"])
    assert shown == set(doc["champion"]["metrics"])  # quality metrics only, no row counts

    history = cli("history", "spam", "--project", p, "--json").json()
    assert [(m["from_version"], m["to_version"]) for m in history] == [(None, 1), (1, 2)]
    assert history[1]["reason"].startswith("PROMOTE")
    assert all(m["actor"] == "pytest" for m in history)


def test_equal_challenger_is_rejected_and_files_are_written(make_project, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = make_project()
    p = str(project)
    assert cli("build", "--project", p, "-q").code == 0

    out = tmp_path / "ci-artifacts"
    trained = cli("train", "--project", p, "--json", "--out", str(out))
    assert trained.code == 0, trained.stderr
    run_id = trained.json()["run_id"]
    metric = json.loads((out / "metric.json").read_text())
    assert metric["run_id"] == run_id and metric["model"] == "spam"
    assert metric["metrics"]["accuracy"] > 0.9

    evaluated = cli("evaluate", "--run", run_id, "--project", p, "--json", "--out", str(out))
    assert evaluated.code == 3  # same data, same recipe: identical model, no improvement
    evaluation = json.loads((out / "evaluation.json").read_text())
    assert evaluation["verdict"] == "REJECT"
    assert evaluation["champion"]["metrics"] == evaluation["challenger"]["metrics"]

    registered = cli("register", "--run", run_id, "--project", p, "--json")
    assert registered.code == 3
    assert champion_version(project) == 1


def test_register_after_evaluate_and_reregistering_is_refused(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project()
    p = str(project)
    run_id = cli("train", "--project", p, "--json", "-q").json()["run_id"]
    assert cli("evaluate", "--run", run_id, "--project", p, "--json").json()["verdict"] == "FIRST_MODEL"
    registered = cli("register", "--run", run_id, "--project", p, "--json")
    assert registered.code == 0 and registered.json()["version"] == 1
    again = cli("register", "--run", run_id, "--project", p, "--json")
    assert again.code == 3
    assert "already the champion" in again.json()["reasons"][0]
    assert champion_version(project) == 1
