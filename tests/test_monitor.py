"""`champion monitor` on a real project: reference profiles, drift, feedback, performance,
alerts and their sinks. Predictions are written into the real prediction log the way the
endpoint writes them (the endpoint itself is covered by test_prediction_log.py and the
end-to-end story in test_story.py)."""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import cli
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from champion.monitoring.documents import MonitorReport, ReferenceProfile
from champion.monitoring.performance import estimate_classifier, realized_classifier
from champion.project import Project
from champion.state.predictions import LogRecord, row_key
from champion.workspace import Workspace


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path) -> Path:
    """A spam project whose version 1 (three videos) is built; shared by this module."""
    import shutil

    root = tmp_path_factory.mktemp("monitor") / "spam"
    assert cli("init", str(root), "--template", "youtube-spam").code == 0
    (root / ".champion").mkdir()
    shutil.copyfile(migrated_mlflow_db, root / ".champion" / "mlflow.db")
    assert cli("build", "spam", "--project", str(root), "--quiet").code == 0
    return root


def _frame(root: Path, folder: str) -> pd.DataFrame:
    return pd.concat([pd.read_csv(f) for f in sorted((root / "data" / folder).glob("*.csv"))], ignore_index=True)


def log_traffic(root: Path, frame: pd.DataFrame, environment: str = "production", version: int = 1,
                start: float | None = None, classes: list[Any] | None = [0, 1]) -> None:  # noqa: B006
    """Score `frame` with `version` and log it as the endpoint does (id column included)."""
    ws = Workspace(Project.open(root))
    recipe = ws.registry.load_recipe(ws.registry.run(ws.registry.version("spam", version).run_id))
    proba = np.asarray(recipe.predict_proba(frame[["CONTENT"]]), dtype=float)
    start = time.time() - 60 if start is None else start
    records = [
        LogRecord(request_id=f"req-{start}-{i}", row=0, at=start + i * 0.001, environment=environment,
                  model="spam", version=version, inputs={"CONTENT": text}, output=int(np.argmax(proba[i])),
                  proba=proba[i].tolist(), latency_ms=1.0, feature_key=row_key([text], ["text"]),
                  identity_key=row_key([cid], ["string"]), classes=classes)
        for i, (cid, text) in enumerate(zip(frame["COMMENT_ID"], frame["CONTENT"], strict=True))]
    ws.predictions.append(records)


def monitor(root: Path, *args: str) -> dict[str, Any]:
    result = cli("monitor", "spam", "--project", str(root), "--json", *args)
    assert result.code == 0, result.stdout + result.stderr
    document = result.json()
    assert MonitorReport.model_validate(document) == MonitorReport.model_validate_json(
        Path(document["json"]).read_text(encoding="utf-8"))  # printed and written: one document, one contract
    return document


def test_the_profile_is_stored_with_the_run(built: Path) -> None:
    ws = Workspace(Project.open(built))
    run_id = ws.registry.version("spam", 1).run_id
    profile = ws.registry.read_document(run_id, "profile.json")
    ReferenceProfile.model_validate(profile)
    content = profile["columns"]["CONTENT"]
    assert content["type"] == "text" and content["rows"] == len(_frame(built, "initial"))
    assert len(content["sample"]) == content["rows"] and content["vocabulary"]
    assert profile["predictions"]["classes"] == [0, 1] and len(profile["predictions"]["scores"]) > 100
    assert profile["golden"]["metrics"]["accuracy"] > 0.9


def test_monitor_story_drift_then_feedback_then_performance(built: Path, tmp_path: Path) -> None:
    empty = monitor(built)
    assert empty["status"] == "insufficient_data" and empty["alerts"] == [] and not empty["drift_detected"]
    assert Path(empty["report"]).is_file()

    # Traffic like the training data: no drift.
    log_traffic(built, _frame(built, "initial").sample(600, random_state=3), start=time.time() - 300)
    calm = monitor(built, "--window", "600")
    assert calm["status"] == "ok" and calm["reference"]["version"] == 1
    assert not calm["data_drift"]["detected"], calm["data_drift"]
    assert [a["kind"] for a in calm["alerts"] if a["kind"] == "data_drift"] == []

    # The two new videos arrive: the text drifts.
    new = _frame(built, "retraining")
    log_traffic(built, new, start=time.time() - 100)
    drifted = monitor(built, "--window", str(len(new)))
    assert drifted["drift_detected"] and drifted["data_drift"]["columns"][0]["statistic"] > 0.55
    assert "data_drift" in [a["kind"] for a in drifted["alerts"]]
    assert drifted["performance"]["realized"] is None  # no labels yet
    estimate = drifted["performance"]["estimated"]["metrics"]["accuracy"]
    assert estimate["low"] <= estimate["value"] <= estimate["high"]

    # Their labels come back: the realized drop shows and asks for a retraining.
    for name in ("Youtube04-Eminem.csv", "Youtube05-Shakira.csv"):
        fed = cli("feedback", "spam", str(built / "data" / "retraining" / name), "--project", str(built), "--json")
        assert fed.code == 0, fed.stdout
    labelled = monitor(built, "--window", str(len(new)))
    realized = labelled["performance"]["realized"]
    assert realized["labelled"] == len(new)
    assert realized["metrics"]["accuracy"] < labelled["performance"]["golden"]["accuracy"]
    performance = [a for a in labelled["alerts"] if a["kind"] == "performance"]
    assert performance and performance[0]["retrain"], labelled["alerts"]
    # The estimate from probabilities agrees with what the labels say.
    assert estimate["low"] <= realized["metrics"]["accuracy"] <= estimate["high"]
    assert labelled["performance"]["calibration"]["holds"]
    failing = cli("monitor", "spam", "--project", str(built), "--window", str(len(new)), "--fail-on-alert",
                  "--no-notify")
    assert failing.code == 4
    html = Path(labelled["report"]).read_text()
    assert "CONTENT" in html and "http://" not in html and "https://" not in html
    logged = [json.loads(line) for line in (built / ".champion" / "alerts.log").read_text().splitlines()]
    assert {"data_drift", "performance"} <= {a["kind"] for a in logged}


def test_bad_window_and_unknown_environment_are_clear_errors(built: Path) -> None:
    bad = cli("monitor", "spam", "--project", str(built), "--window", "soon")
    assert bad.code == 2 and "--window" in bad.stderr + bad.stdout
    nowhere = cli("monitor", "spam", "--project", str(built), "--env", "moon")
    assert nowhere.code == 2 and "moon" in nowhere.stderr + nowhere.stdout


class _Hook(BaseHTTPRequestHandler):
    received: list[tuple[bytes, dict[str, str]]] = []
    answers: list[int] = []
    """Statuses to answer, in order (then 204)."""

    def do_POST(self) -> None:  # noqa: N802 - the standard library's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((body, {k.lower(): v for k, v in self.headers.items()}))
        self.send_response(self.answers.pop(0) if self.answers else 204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    _Hook.received, _Hook.answers = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_alerts_reach_a_signed_webhook_and_a_command(built: Path, webhook: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    log_traffic(built, _frame(built, "retraining"), start=time.time() - 30)
    captured = tmp_path / "alert.json"
    script = f"import sys, pathlib; pathlib.Path({str(captured)!r}).write_bytes(sys.stdin.buffer.read())"
    config = built / "champion.toml"
    original = config.read_text()
    config.write_text(original.replace(
        "[models.spam.monitoring.alerts]\nlog = true",
        f"[models.spam.monitoring.alerts]\nlog = true\nwebhook_url = {json.dumps(webhook)}\n"
        f"command = {json.dumps([sys.executable, '-c', script])}"))
    secret = "whsec_" + base64.b64encode(b"a key of thirty-two bytes, random").decode()
    monkeypatch.setenv("CHAMPION_WEBHOOK_SECRET", secret)
    _Hook.answers = [503, 503]  # the first alert gets through on its third try
    try:
        document = monitor(built, "--window", "500")
    finally:
        config.write_text(original)
    assert document["alerts"]
    assert all(d["ok"] for d in document["deliveries"]), document["deliveries"]
    first = next(d for d in document["deliveries"] if d["sink"] == "webhook")
    assert first["attempts"] == 3 and first["status"] == 204
    tries = [headers for _, headers in _Hook.received[:3]]
    assert {h["webhook-id"] for h in tries} == {first["message_id"]}  # one id across retries
    # The reference implementation of Standard Webhooks accepts what champion sent.
    body, headers = _Hook.received[2]
    assert Webhook(secret).verify(body, headers) == json.loads(body)
    with pytest.raises(WebhookVerificationError):  # altered, or replayed long after: refused
        Webhook(secret).verify(body.replace(b"spam", b"eggs"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) - 3600)})
    recorded = cli("alerts", "spam", "-p", str(built), "--json").json()
    assert any(r["message_id"] == first["message_id"] and r["attempts"] == 3 and r["ok"] for r in recorded)
    sent = json.loads(body)
    assert sent["model"] == "spam" and sent["kind"] == document["alerts"][0]["kind"] and sent["report"]
    assert json.loads(captured.read_bytes())["kind"] in {a["kind"] for a in document["alerts"]}


def test_a_failing_sink_is_reported_not_fatal(built: Path) -> None:
    log_traffic(built, _frame(built, "retraining"), start=time.time() - 20)
    config = built / "champion.toml"
    original = config.read_text()
    config.write_text(original.replace("[models.spam.monitoring.alerts]\nlog = true",
                                       "[models.spam.monitoring.alerts]\nlog = true\n"
                                       "webhook_url = \"http://127.0.0.1:9/nothing-listens\"\n"
                                       "webhook_attempts = 3\nwebhook_backoff_seconds = 0.01"))
    try:
        document = monitor(built, "--window", "500")
    finally:
        config.write_text(original)
    failed = [d for d in document["deliveries"] if d["sink"] == "webhook"]
    assert failed and not failed[0]["ok"] and failed[0]["error"] and failed[0]["attempts"] == 3
    assert any(d["ok"] for d in document["deliveries"] if d["sink"] == "log")


def test_a_webhook_that_refuses_an_alert_is_not_asked_again(built: Path, webhook: str) -> None:
    log_traffic(built, _frame(built, "retraining"), start=time.time() - 20)
    config = built / "champion.toml"
    original = config.read_text()
    config.write_text(original.replace("[models.spam.monitoring.alerts]\nlog = true",
                                       f"[models.spam.monitoring.alerts]\nlog = false\nwebhook_url = {json.dumps(webhook)}"))
    _Hook.answers = [400] * 20
    try:
        document = monitor(built, "--window", "500")
    finally:
        config.write_text(original)
    deliveries = document["deliveries"]
    assert deliveries and all(not d["ok"] and d["attempts"] == 1 and d["status"] == 400 for d in deliveries)
    assert len(_Hook.received) == len(deliveries)
    assert "answered 400" in " ".join(cli("alerts", "spam", "-p", str(built)).stdout.split())


def test_the_estimate_holds_its_interval_on_calibrated_probabilities() -> None:
    rng = np.random.default_rng(5)
    inside = {"accuracy": 0, "f1": 0}
    trials = 200
    for _ in range(trials):
        p = rng.beta(0.6, 0.6, 300)  # confident, calibrated by construction
        labels = (rng.random(300) < p).astype(int)
        proba = np.c_[1 - p, p]
        estimate = estimate_classifier(proba, [0, 1], 1, seed=int(rng.integers(1 << 30)))
        realized = realized_classifier(labels, proba, [0, 1], 1)
        for name in inside:
            inside[name] += estimate[name]["low"] <= realized[name] <= estimate[name]["high"]
    for name, count in inside.items():
        assert count / trials >= 0.9, (name, count)  # a 95% interval, with sampling noise


def test_the_estimate_holds_on_the_models_held_out_rows(built: Path) -> None:
    """Windows of new, labelled comments: the realized accuracy lies in the estimated interval."""
    ws = Workspace(Project.open(built))
    recipe = ws.registry.load_recipe(ws.registry.run(ws.registry.version("spam", 1).run_id))
    frame = _frame(built, "retraining").sample(frac=1.0, random_state=0)
    proba = np.asarray(recipe.predict_proba(frame[["CONTENT"]]), dtype=float)
    labels = frame["CLASS"].to_numpy()
    windows = [slice(i, i + 200) for i in range(0, len(frame) - 199, 200)]
    hits = 0
    for w in windows:
        estimate = estimate_classifier(proba[w], [0, 1], 1)["accuracy"]
        hits += estimate["low"] <= realized_classifier(labels[w], proba[w], [0, 1], 1)["accuracy"] <= estimate["high"]
    assert hits >= len(windows) - 1, (hits, len(windows))


def test_a_forecaster_is_monitored_on_its_forecasts_and_the_actual_values(tmp_path: Path,
                                                                          migrated_mlflow_db: Path) -> None:
    import shutil

    root = tmp_path / "transactions"
    assert cli("init", str(root), "--template", "transactions").code == 0
    (root / ".champion").mkdir()
    shutil.copyfile(migrated_mlflow_db, root / ".champion" / "mlflow.db")
    assert cli("build", "transactions", "--project", str(root), "--quiet").code == 0
    ws = Workspace(Project.open(root))
    recipe = ws.registry.load_recipe(ws.registry.run(ws.registry.version("transactions", 1).run_id))
    actual = pd.read_csv(root / "data" / "retraining" / "transactions-2014.csv").head(60)
    dates = [d.isoformat() for d in recipe.future_dates(60)]
    assert dates[0][:10] == actual["TransactionDate"].iloc[0]  # forecasts start after the 2013 days
    values = np.asarray(recipe.forecast(recipe.history_, 60), dtype=float)
    now = time.time() - 30
    # As the endpoint logs a forecast request: one row per step, keyed by its date.
    ws.predictions.append([
        LogRecord(request_id="forecast-1", row=i, at=now, environment="production", model="transactions",
                  version=1, inputs={"time": t}, output=float(v), proba=None, latency_ms=2.0,
                  feature_key=row_key([t], ["datetime"]), identity_key=row_key([t], ["datetime"]))
        for i, (t, v) in enumerate(zip(dates, values, strict=True))])
    feedback_file = tmp_path / "actuals.csv"
    actual.to_csv(feedback_file, index=False)
    fed = cli("feedback", "transactions", str(feedback_file), "--project", str(root), "--json")
    assert fed.code == 0, fed.stdout + fed.stderr
    result = cli("monitor", "transactions", "--project", str(root), "--json", "--no-notify")
    assert result.code == 0, result.stdout + result.stderr
    document = result.json()
    assert document["task"] == "forecasting" and document["status"] == "ok"
    realized = document["performance"]["realized"]
    errors = values - actual["PaidAmount"].to_numpy()
    assert realized["labelled"] == 60
    assert realized["metrics"]["rmse"] == pytest.approx(float(np.sqrt(np.mean(errors ** 2))), rel=1e-9)
    assert document["prediction_drift"]["method"] in ("ks", "wasserstein")
    drifted_columns = {c["column"] for c in document["data_drift"]["columns"]}
    assert drifted_columns == {"PaidAmount"}  # the actual values against the training series


def test_a_thin_window_shows_its_findings_as_low_evidence_warnings(built: Path, tmp_path: Path) -> None:
    """48 labelled rows (min_rows is 50), every label the opposite of the prediction: the
    terminal says what was found instead of a bare "no alerts", and nothing retrains."""
    rows = _frame(built, "retraining").sample(48, random_state=9)
    log_traffic(built, rows, start=time.time() - 5)
    ws = Workspace(Project.open(built))
    logged = ws.predictions.window("spam", "production", rows=48)
    flipped = pd.DataFrame({"COMMENT_ID": rows["COMMENT_ID"].to_numpy(),
                            "CLASS": [1 - int(p) for p in logged.outputs]})
    flipped.to_csv(tmp_path / "flipped.csv", index=False)
    fed = cli("feedback", "spam", str(tmp_path / "flipped.csv"), "--project", str(built), "--json")
    assert fed.code == 0, fed.stdout + fed.stderr
    shown = cli("monitor", "spam", "--project", str(built), "--window", "48", "--no-notify", "--fail-on-alert")
    assert shown.code == 0, shown.stdout  # warnings are not alerts
    out = " ".join(shown.stdout.split())
    assert "WARNING performance (low evidence, 48 rows): on 48 labelled rows: accuracy 0.000" in out
    assert "no alerts, but" in out and "low-evidence warning" in out and "no retraining" in out
    assert "realized on 48 labelled rows (low evidence)" in out
    document = monitor(built, "--window", "48", "--no-notify")
    assert document["alerts"] == [] and document["performance"]["realized"]["degraded"]
    assert any(w["kind"] == "performance" and w["evidence"] == "low" and w["rows"] == 48 for w in document["warnings"])


def test_rows_logged_without_their_classes_are_monitored_on_inputs_and_outputs(make_project) -> None:  # type: ignore[no-untyped-def]
    """A program that appends rows itself may leave out the classes of `proba` (classes are
    recorded per version, so this needs a version that never logged them): the monitor cannot
    place those probabilities, so it judges the inputs and says nothing of them."""
    root = make_project()
    assert cli("build", "spam", "--project", str(root), "--quiet").code == 0
    log_traffic(root, _frame(root, "retraining").head(120), classes=None)
    result = cli("monitor", "spam", "--project", str(root), "--json", "--no-notify")
    assert result.code == 0, result.stdout + result.stderr
    document = result.json()
    assert document["window"]["rows"] == 120 and document["data_drift"]["columns"]
    assert document["prediction_drift"] is None and document["performance"]["estimated"] is None


def test_the_first_report_kept_in_the_state_brings_the_earlier_report_files(make_project) -> None:  # type: ignore[no-untyped-def]
    """A project monitored before the state store kept reports has them as files only: the next
    monitor run adds them to the store, so the control room's history does not restart."""
    import sqlite3

    root = make_project()
    assert cli("build", "spam", "--project", str(root), "--quiet").code == 0
    log_traffic(root, _frame(root, "retraining").head(60))
    first = monitor(root, "--no-notify")
    with sqlite3.connect(root / ".champion" / "state.db") as db:  # as a champion before migration 0004 left it
        db.execute("DELETE FROM monitor_reports")
    time.sleep(1.1)  # report names are by the second
    second = monitor(root, "--no-notify")
    ws = Workspace(Project.open(root))
    kept = ws.state.reports("spam", "production", 10)
    assert [r["name"] for r in kept] == [Path(first["json"]).stem, Path(second["json"]).stem]
    assert [r["generated_at"] for r in kept] == [first["generated_at"], second["generated_at"]]


def test_the_state_store_keeps_the_newest_reports_of_each_environment(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from champion.state import store

    monkeypatch.setattr(store, "REPORTS_KEPT", 3)
    state = store.StateStore(f"sqlite:///{tmp_path / 'state.db'}", tmp_path / "locks")
    for i in range(5):
        for environment in ("staging", "production"):
            state.record_report("spam", environment, f"{environment}-{i}",
                                {"generated_at": f"2026-12-04T10:0{i}:00+00:00", "n": i, "ratio": np.float64(0.5)})
    kept = state.reports("spam", "production", 10)
    assert [(r["name"], r["n"]) for r in kept] == [("production-2", 2), ("production-3", 3), ("production-4", 4)]
    assert [r["name"] for r in state.reports("spam", "staging", 2)] == ["staging-3", "staging-4"]
    assert state.report("spam", "production-4") == {"generated_at": "2026-12-04T10:04:00+00:00", "n": 4,
                                                    "ratio": 0.5}
    assert state.report("spam", "production-0") is None and state.reports("rent", "production", 5) == []
