"""`champion ui`: real `champion ui` processes on loopback (one with the admin key, one
read-only) over a project with two versions, both environments running, production traffic
and a monitor report; driven over HTTP and in Debian's Chromium (Playwright)."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import cli
from serving_support import free_port, new_project, set_environments, wait_until

from champion.project import Project
from champion.workspace import Workspace

ADMIN_KEY = "correct horse battery staple"
SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
PAGES = ("/", "/models/spam", "/models/spam/monitoring", "/agent")


def _start_ui(root: Path, key: str | None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    env.pop("CHAMPION_ADMIN_KEY", None)
    if key:
        env["CHAMPION_ADMIN_KEY"] = key
    process = subprocess.Popen([sys.executable, "-m", "champion", "ui", "--port", str(port), "--project", str(root)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(url + "/static/ui.css", timeout=5, trust_env=False)
            return process, url
        except httpx.HTTPError:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            assert time.monotonic() < deadline, "champion ui did not answer within 60 s"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def control_room(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path) -> Iterator[dict[str, Any]]:
    """Versions 1 (champion, in both environments) and 2 (registered, deployed nowhere);
    production has scored the Eminem comments and been monitored (its drift alerts are open)."""
    root = new_project(tmp_path_factory.mktemp("ui") / "spam", migrated_mlflow_db)
    set_environments(root, {"staging": {"port": free_port(), "workers": 1, "poll_seconds": 0.2},
                            "production": {"port": free_port(), "workers": 2, "poll_seconds": 0.2}})
    assert cli("build", "-p", str(root), "-q").code == 0
    trained = cli("train", "-p", str(root), "-q", "--json", "--param=C=0.5")
    assert trained.code == 0, trained.stderr
    ws = Workspace(Project.open(root))
    assert ws.registry.register("spam", ws.registry.run(trained.json()["run_id"]), {}).version == 2
    assert cli("deploy", "staging", "-p", str(root), "-q").code == 0
    assert cli("deploy", "production", "-p", str(root), "-q").code == 0
    production = cli("ps", "production", "-p", str(root), "--json").json()[0]["url"]
    subprocess.run([sys.executable, str(SCRIPTS / "send_comments.py"), production,
                    str(root / "data" / "retraining" / "Youtube04-Eminem.csv")], check=True, capture_output=True)
    bad = httpx.post(production + "/score", json={"data": [{"no such column": 1}]}, timeout=30, trust_env=False)
    assert bad.status_code == 400, bad.text  # a rejected request, counted in the traffic
    deadline = time.monotonic() + 30
    while ws.predictions.counts("spam", "production")["logged"] < 448:
        assert time.monotonic() < deadline, "the prediction log did not catch up"
        time.sleep(0.2)
    assert cli("monitor", "spam", "--window", "1h", "-p", str(root), "-q").code == 0
    admin, admin_url = _start_ui(root, ADMIN_KEY)
    reader, reader_url = _start_ui(root, None)
    try:
        yield {"root": root, "url": admin_url, "read_only_url": reader_url, "production": production}
    finally:
        for process in (admin, reader):
            process.terminate()
            process.wait(20)
        assert cli("down", "-p", str(root)).code == 0


def get(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(url, timeout=30, trust_env=False, **kwargs)


@contextlib.contextmanager
def signed_in(url: str, name: str = "bob") -> Iterator[httpx.Client]:
    """An HTTP client signed in through the sign-in form (its session cookie and CSRF token)."""
    with httpx.Client(base_url=url, timeout=60, trust_env=False) as client:
        token = csrf_of(client.get("/signin").text)
        answer = client.post("/signin", data={"csrf": token, "name": name, "key": ADMIN_KEY},
                             headers={"origin": url})
        assert answer.status_code == 303, answer.text
        yield client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def staging_moves(root: Path) -> list[dict[str, Any]]:
    moves = cli("history", "-p", str(root), "--alias", "staging", "--json")
    assert moves.code == 0, moves.stderr
    return list(moves.json())


# ---- what the pages show ----------------------------------------------------------------------
def test_the_overview_shows_each_environment_with_versions_traffic_and_monitoring(control_room) -> None:  # type: ignore[no-untyped-def]
    document = get(control_room["url"] + "/api/overview").json()
    assert document["project"] == "youtube-spam"
    spam = document["models"][0]
    assert spam["model"] == "spam" and spam["versions"] == 2 and spam["champion"] == 1
    assert spam["version_numbers"] == [1, 2]
    staging, production = spam["environments"]
    assert [(e["state"], e["version"], e["workers"]) for e in staging["endpoints"]] == [("Healthy", 1, 1)]
    assert [(e["state"], e["version"], e["workers"]) for e in production["endpoints"]] == [("Healthy", 1, 2)]
    deadline = time.monotonic() + 30  # the rejected request reaches the rollup at the loader's next pass
    while not production["traffic"]["last_5_min"]["rejected"]:
        assert time.monotonic() < deadline, production["traffic"]
        time.sleep(0.5)
        production = get(control_room["url"] + "/api/overview").json()["models"][0]["environments"][1]
    recent, day = production["traffic"]["last_5_min"], production["traffic"]["last_24_h"]
    assert (recent["scored"], recent["rows"], recent["rejected"], recent["errors"]) == (18, 448, 1, 0)  # 25 a request
    assert 0 < recent["p50_ms"] <= recent["p99_ms"] and recent["requests_per_second"] > 0 and recent["versions"] == [1]
    assert day["requests"] == recent["requests"] and staging["traffic"]["last_24_h"]["requests"] == 0
    assert production["monitor"]["drift_detected"] is True and production["monitor"]["alerts"] >= 1
    assert {a["kind"] for a in spam["alerts"]} >= {"data_drift"} and all(a["environment"] == "production"
                                                                         for a in spam["alerts"])
    html = get(control_room["url"] + "/").text
    assert html.count('<span class="state healthy">Healthy</span>') == 2 and "v1 on" in html and "(2 workers)" in html
    assert "open alert(s)" in html and "data_drift" in html and "req/s" in html and "% rejected" in html
    fragment = get(control_room["url"] + "/fragments/overview").text
    assert '<span class="state healthy">Healthy</span>' in fragment and "<html" not in fragment


def test_the_model_page_shows_the_gate_evidence_and_the_alias_timeline(control_room) -> None:  # type: ignore[no-untyped-def]
    document = get(control_room["url"] + "/api/models/spam").json()
    first = next(r for r in document["runs"] if r["version"] == 1)
    assert first["verdict"] == "FIRST_MODEL" and first["evidence"]["primary"] == "brier"
    assert first["evidence"]["reasons"] and "brier" in first["evidence"]["challenger"]
    assert first["params"]["C"] and first["mlflow_url"] is None  # an embedded store has no MLflow UI to link
    [production] = [t for t in document["timeline"] if t["environment"] == "production"]
    assert [(m["from_version"], m["to_version"]) for m in production["moves"]] == [(None, 1)]
    assert [g["version"] for g in document["golden"]] == [1, 2]
    assert sum(p["scored"] for p in document["production"]["traffic"]) == 18
    html = get(control_room["url"] + "/models/spam").text
    assert "FIRST_MODEL" in html and "brier (primary)" in html and "Alias timeline" in html
    assert '<svg class="chart' in html and "version" in html  # the golden-set chart, with its axis
    assert "requests per 5 minutes (last 24 h)" in html and "milliseconds" in html  # production's, with units
    assert get(control_room["url"] + "/models/nothing").status_code == 404
    monitoring = get(control_room["url"] + "/models/spam/monitoring").text
    assert "data drift at each monitor run" in monitoring and "CONTENT" in monitoring
    report = re.search(r'href="(/reports/spam/production-[^"]+\.html)"', monitoring)
    assert report, "no link to the HTML report"
    opened = get(control_room["url"] + report.group(1))
    assert opened.status_code == 200 and "unsafe-inline" in opened.headers["content-security-policy"]
    assert "script" not in opened.headers["content-security-policy"]
    assert get(control_room["url"] + "/reports/spam/..%2F..%2Fchampion.toml").status_code == 404
    agent = get(control_room["url"] + "/api/agent").json()
    assert agent["running"] is False and agent["jobs_running"] == []


def test_the_model_page_shows_a_runs_new_evaluation_not_the_one_it_read_before(control_room) -> None:  # type: ignore[no-untyped-def]
    """The page keeps each run's evaluation.json between requests (MLflow costs ~10 ms a read):
    judging a run again must still show at once."""
    def second() -> dict[str, Any]:
        return next(r for r in get(control_room["url"] + "/api/models/spam").json()["runs"] if r["version"] == 2)

    before = second()
    assert before["verdict"] is None and before["evidence"]["reasons"] == []  # registered without the gate
    judged = cli("evaluate", "spam", "--run", before["run_id"], "-p", str(control_room["root"]), "--json", "-q")
    assert judged.code in (0, 3), judged.stderr
    after = second()
    assert after["verdict"] == judged.json()["verdict"] and after["evidence"]["reasons"] == judged.json()["reasons"]
    assert after["evidence"]["champion_version"] == 1 and after["evidence"]["p_values"]
    # Judged again, with the same verdict: the page shows the new document, not the one it keeps.
    time.sleep(1.1)  # evaluated_at is by the second
    again = cli("evaluate", "spam", "--run", before["run_id"], "-p", str(control_room["root"]), "--json", "-q")
    assert again.json()["verdict"] == judged.json()["verdict"]
    assert again.json()["evaluated_at"] != judged.json()["evaluated_at"]
    assert second()["evidence"]["evaluated_at"] == again.json()["evaluated_at"]


def test_no_page_loads_anything_from_anywhere_else(control_room) -> None:  # type: ignore[no-untyped-def]
    url = control_room["url"]
    for path in PAGES:
        page = get(url + path)
        assert page.status_code == 200, path
        policy = page.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert page.headers["x-content-type-options"] == "nosniff"
        assert not re.search(r"(src|href)=\"(https?:)?//", page.text), path  # no absolute or protocol-relative URL
        assert "<script>" not in page.text and " on" + "click=" not in page.text and "style=" not in page.text
    page = get(url + "/")
    assets = re.findall(r"(?:src|href)=\"(/static/[^\"]+)\"", page.text)
    for asset in assets:
        answer = get(url + asset)
        assert answer.status_code == 200 and "http://" not in answer.text and "https://" not in answer.text
    weight = len(page.content) + sum(len(get(url + a).content) for a in assets)
    assert weight < 200_000  # issue 14's budget for the overview (HTML + CSS + JS)


# ---- who may act ------------------------------------------------------------------------------
def test_read_only_has_no_actions_and_its_action_routes_refuse(control_room) -> None:  # type: ignore[no-untyped-def]
    url, root = control_room["read_only_url"], control_room["root"]
    for path in PAGES:
        html = get(url + path).text
        assert "/actions/" not in html and "data-confirm" not in html and "sign in" not in html and "read-only" in html
    before = staging_moves(root)
    form = {"model": "spam", "environment": "staging", "version": "2", "reason": "try"}
    assert get(url + "/actions/deploy", params=form).status_code == 403
    assert httpx.post(url + "/actions/deploy", data=form, timeout=30, trust_env=False).status_code == 403
    assert httpx.post(url + "/signin", data={"name": "eve", "key": ADMIN_KEY}, timeout=30,
                      trust_env=False).status_code == 403
    # With the key but not signed in: the actions are there to sign in for, and answer 401.
    admin = control_room["url"]
    assert "sign in to act" in get(admin + "/").text and "/actions/" not in get(admin + "/").text
    assert get(admin + "/actions/deploy", params=form).status_code == 401
    assert httpx.post(admin + "/actions/deploy", data=form, timeout=30, trust_env=False).status_code == 401
    for path in ("/", "/api/overview", "/fragments/overview", "/models/spam"):
        assert httpx.post(url + path, timeout=30, trust_env=False).status_code == 405
    assert staging_moves(root) == before


def test_sign_in_refuses_a_wrong_key_and_a_post_without_the_csrf_token(control_room) -> None:  # type: ignore[no-untyped-def]
    url, root = control_room["url"], control_room["root"]
    with httpx.Client(base_url=url, timeout=30, trust_env=False) as client:
        token = csrf_of(client.get("/signin").text)
        cookie = client.cookies.get("champion_session")
        set_cookie = client.get("/signin").headers.get("set-cookie")  # a known session gets no new cookie
        assert cookie and set_cookie is None
        wrong = client.post("/signin", data={"csrf": token, "name": "eve", "key": "guess"})
        assert wrong.status_code == 401 and "wrong admin key" in wrong.text
        assert client.post("/signin", data={"name": "eve", "key": ADMIN_KEY}).status_code == 403  # no token
    before = staging_moves(root)
    with signed_in(url) as client:
        session_cookie = client.cookies.get("champion_session")
        assert session_cookie and session_cookie != cookie  # a new session id once signed in
        form = {"model": "spam", "environment": "staging", "version": "2", "reason": "no token"}
        refused = client.post("/actions/deploy", data=form)
        assert refused.status_code == 403 and "CSRF" in refused.text
        token = csrf_of(client.get("/").text)
        assert client.post("/actions/deploy", data={**form, "csrf": "forged"}).status_code == 403
        cross = client.post("/actions/deploy", data={**form, "csrf": token}, headers={"origin": "http://evil.example"})
        assert cross.status_code == 403 and "evil.example" in cross.text
        # Bad fields are named, and change nothing.
        for field, value, said in (("version", "99", "no version 99"), ("environment", "qa", "'qa' is not an environment"),
                                   ("model", "ham", "'ham' is not a model"), ("reason", " ", "reason: say why")):
            bad = client.post("/actions/deploy", data={**form, "csrf": token, field: value},
                              headers={"accept": "application/json"})
            assert bad.status_code == 400 and said in bad.json()["error"], (field, bad.text)
    assert staging_moves(root) == before


def test_the_session_cookie_is_httponly_strict_and_secure_over_tls(control_room) -> None:  # type: ignore[no-untyped-def]
    from starlette.testclient import TestClient

    from champion.ui.app import create_app

    app = create_app(Workspace(Project.open(control_room["root"])), ADMIN_KEY)
    for base, secure in (("http://127.0.0.1", False), ("https://127.0.0.1", True)):
        with TestClient(app, base_url=base) as client:
            header = client.get("/signin").headers["set-cookie"]
            assert "HttpOnly" in header and "SameSite=Strict" in header and ("Secure" in header) is secure
            token = csrf_of(client.get("/signin").text)
            answer = client.post("/signin", data={"csrf": token, "name": "carol", "key": ADMIN_KEY},
                                 follow_redirects=False)
            assert answer.status_code == 303 and ("Secure" in answer.headers["set-cookie"]) is secure
    with TestClient(app) as client:  # guessing the key: a few tries, then a minute's wait
        token = csrf_of(client.get("/signin").text)
        codes = [client.post("/signin", data={"csrf": token, "name": "eve", "key": f"guess {i}"}).status_code
                 for i in range(6)]
        assert codes == [401] * 5 + [429]


def test_retrain_rollback_and_acknowledge_land_in_the_state_with_the_actor(control_room) -> None:  # type: ignore[no-untyped-def]
    url, root = control_room["url"], control_room["root"]
    with signed_in(url, "dora") as client:
        token = csrf_of(client.get("/").text)
        json_answer = {"accept": "application/json"}
        preview = client.get("/actions/retrain", params={"model": "spam"})
        assert preview.status_code == 200 and "agent is not running" in preview.text
        queued = client.post("/actions/retrain", data={"csrf": token, "model": "spam", "reason": "new labels"},
                             headers=json_answer)
        assert queued.status_code == 200, queued.text
        assert queued.json()["job"]["status"] == "queued" and "ui:dora: new labels" in queued.json()["job"]["reason"]
        assert [j["reason"] for j in client.get("/api/agent").json()["queued"]] == ["ui:dora: new labels"]
        # Acknowledge the open data-drift alert: it stays in the report, no longer open.
        preview = client.get("/actions/acknowledge", params={"model": "spam", "environment": "production",
                                                             "kind": "data_drift"})
        assert preview.status_code == 200 and "stops showing as open" in preview.text
        acked = client.post("/actions/acknowledge", data={"csrf": token, "model": "spam", "environment": "production",
                                                          "kind": "data_drift", "reason": "new singers, expected"},
                            headers=json_answer)
        assert acked.status_code == 200 and acked.json()["acknowledgement"]["actor"] == "ui:dora", acked.text
        alerts = {a["kind"]: a for a in client.get("/api/overview").json()["models"][0]["alerts"]}
        assert alerts["data_drift"]["acknowledged"]["reason"] == "new singers, expected"
        assert "acknowledged by ui:dora" in client.get("/models/spam/monitoring").text
        # Rollback with nothing to return to is said, not done; after a deploy it returns.
        nothing = client.get("/actions/rollback", params={"model": "spam", "environment": "staging"})
        assert "Nothing to roll back" in nothing.text and "data-action" not in nothing.text
        deployed = client.post("/actions/deploy", data={"csrf": token, "model": "spam", "environment": "staging",
                                                        "version": "2", "reason": "try C=0.5"}, headers=json_answer)
        assert deployed.status_code == 200 and deployed.json()["version"] == 2, deployed.text
        back = client.post("/actions/rollback", data={"csrf": token, "model": "spam", "environment": "staging",
                                                      "reason": "not yet"}, headers=json_answer)
        assert back.status_code == 200 and back.json()["version"] == 1, back.text
    last_two = staging_moves(root)[-2:]
    assert [(m["from_version"], m["to_version"], m["actor"]) for m in last_two] == [(1, 2, "ui:dora"),
                                                                                   (2, 1, "ui:dora")]
    assert "try C=0.5" in last_two[0]["reason"] and "not yet" in last_two[1]["reason"]


def test_the_agent_page_follows_a_running_jobs_log(control_room, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from champion.state.jobs import JobStore

    store = JobStore(Workspace(Project.open(control_room["root"])).state)
    job, _ = store.enqueue("spam", "schedule", "nightly", [])
    log = tmp_path / "job.log"
    log.write_text("".join(f"line {i}\n" for i in range(5000)) + "fitting <the> model\n", encoding="utf-8")
    store.mark_running(job.id, os.getpid(), str(log))
    try:
        [running] = get(control_room["url"] + "/api/agent").json()["jobs_running"]
        assert running["id"] == job.id and running["log_tail"].endswith("fitting <the> model\n")
        assert running["log_tail"].startswith("line ") and len(running["log_tail"]) <= 8_000  # the end, whole lines
        with log.open("a", encoding="utf-8") as more:
            more.write("gate: PROMOTE\n")
        fragment = get(control_room["url"] + "/fragments/agent").text
        assert "gate: PROMOTE" in fragment and "fitting &lt;the&gt; model" in fragment  # live, and escaped
    finally:
        store.finish(job.id, "cancelled", None, {})
    assert get(control_room["url"] + "/api/agent").json()["jobs_running"] == []


def test_bad_options_are_named(control_room) -> None:  # type: ignore[no-untyped-def]
    root = str(control_room["root"])
    refused = cli("ui", "--port", "70000", "-p", root)
    assert refused.code == 2 and "--port: 70000 is not a port" in refused.stdout + refused.stderr
    taken = cli("ui", "--port", control_room["url"].rsplit(":", 1)[1], "-p", root)
    assert taken.code == 2 and "cannot listen on 127.0.0.1:" in taken.stdout + taken.stderr
    half = cli("ui", "--tls-cert", root + "/champion.toml", "-p", root)
    assert half.code == 2 and "--tls-cert and --tls-key go together" in half.stdout + half.stderr
    assert "Traceback" not in taken.stdout + taken.stderr + half.stdout + half.stderr


# ---- in a real browser (Debian's Chromium, driven by Playwright) ------------------------------
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(os.environ.get("CHAMPION_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts"))
AXE = Path(__file__).with_name("vendor") / "axe-core" / "axe.min.js"


# ---- a new project: every page says what to do next ---------------------------------------------
def test_a_new_project_says_what_to_do_next_at_each_step(make_project) -> None:  # type: ignore[no-untyped-def]
    root = make_project()
    set_environments(root, {"staging": {"port": free_port(), "workers": 1, "poll_seconds": 0.2},
                            "production": {"port": free_port(), "workers": 1, "poll_seconds": 0.2}})
    process, url = _start_ui(root, None)

    def steps() -> tuple[str | None, list[str | None]]:
        [spam] = get(url + "/api/overview").json()["models"]
        return spam["next"], [e["next"] for e in spam["environments"]]

    try:
        for path in PAGES:
            assert get(url + path).status_code == 200, path
        assert steps() == ("no version yet: `champion build spam`", ["nothing to serve yet"] * 2)
        assert "champion build spam" in get(url + "/models/spam").text
        assert cli("build", "spam", "-p", str(root), "-q").code == 0
        assert steps() == (None, ["nothing deployed: `champion deploy staging --model spam`",
                                  "nothing deployed: `champion deploy production --model spam`"])
        assert cli("deploy", "staging", "-p", str(root), "-q").code == 0
        assert steps()[1] == [None, "nothing deployed: `champion deploy production --model spam`"]
        assert cli("down", "staging", "-p", str(root)).code == 0
        assert steps()[1][0] == "no endpoint running: `champion up staging`"
        assert "champion up staging" in get(url + "/").text
    finally:
        process.terminate()
        process.wait(20)
        cli("down", "-p", str(root))


# ---- a user's project: two models, other labels, other columns ---------------------------------
def test_a_two_model_project_shows_each_models_own_health_traffic_and_evidence(tmp_path: Path,
                                                                                migrated_mlflow_db: Path) -> None:
    """churn (string labels, tabular) released; rent (a regressor) not built yet: churn's rows
    are Healthy on the endpoints rent makes Unhealthy, rent's say why and what to do; rent
    deployed from the UI to staging becomes Healthy there and nowhere else."""
    from user_projects import tabular_classifier, tabular_regressor, write_project

    root = tmp_path / "two"
    root.mkdir()
    churn, rent = tabular_classifier(root), tabular_regressor(root)
    write_project(root, migrated_mlflow_db, [churn, rent])
    process = None
    try:
        assert cli("build", "churn", "-p", str(root), "-q").code == 0
        released = cli("release", "churn", "-p", str(root), "-q", "--json")
        assert released.code == 0, released.stdout + released.stderr
        production = next(e["url"] for e in cli("ps", "production", "-p", str(root), "--json").json())
        scored = httpx.post(production + "/score/churn", json={"data": churn.score_rows[:10]}, timeout=30,
                            trust_env=False)
        assert scored.status_code == 200, scored.text
        process, url = _start_ui(root, ADMIN_KEY)

        def rows() -> dict[tuple[str, str], dict[str, Any]]:
            models = get(url + "/api/overview").json()["models"]
            return {(m["model"], e["environment"]): {**e, "model_next": m["next"]} for m in models
                    for e in m["environments"]}

        wait_until(lambda: rows()[("churn", "production")]["traffic"]["last_5_min"]["scored"], timeout=30,
                   every=0.3, what="churn's request in the rollup")
        seen = rows()
        for environment in ("staging", "production"):
            [mine], [theirs] = seen[("churn", environment)]["endpoints"], seen[("rent", environment)]["endpoints"]
            assert (mine["state"], mine["version"], mine["notes"]) == ("Healthy", 1, [])
            assert theirs["state"] == "Unhealthy" and theirs["version"] is None
            assert theirs["notes"] and all(n.startswith("rent: ") for n in theirs["notes"])
        assert seen[("rent", "staging")]["model_next"] == "no version yet: `champion build rent`"
        assert seen[("churn", "production")]["traffic"]["last_5_min"]["rows"] == 10
        assert seen[("rent", "production")]["traffic"]["last_24_h"]["requests"] == 0
        html = get(url + "/").text
        assert "champion build rent" in html and "no version of rent has the alias" in html

        assert cli("build", "rent", "-p", str(root), "-q").code == 0
        with signed_in(url, "erin") as client:
            token = csrf_of(client.get("/models/rent").text)
            deployed = client.post("/actions/deploy", data={"csrf": token, "model": "rent", "environment": "staging",
                                                            "version": "1", "reason": "first rent model"},
                                   headers={"accept": "application/json"})
            assert deployed.status_code == 200 and deployed.json()["version"] == 1, deployed.text
        wait_until(lambda: rows()[("rent", "staging")]["endpoints"][0]["state"] == "Healthy", timeout=30,
                   every=0.3, what="rent Healthy in staging")
        after = rows()
        assert after[("rent", "production")]["endpoints"][0]["state"] == "Unhealthy"
        assert after[("churn", "staging")]["endpoints"][0]["state"] == "Healthy"
        page = get(url + "/api/models/rent").json()
        [run] = page["runs"]
        assert run["version"] == 1 and run["verdict"] == "FIRST_MODEL" and run["evidence"]["primary"]
        assert run["evidence"]["primary"] in run["evidence"]["challenger"]  # a regressor's own metric
        assert [m["actor"] for t in page["timeline"] if t["environment"] == "staging" for m in t["moves"]] == ["ui:erin"]
        assert "no traffic or monitor run in production yet" in get(url + "/models/rent").text

        # A third model added to champion.toml while the endpoints run: they do not serve it.
        toml = root / "champion.toml"
        text = toml.read_text(encoding="utf-8")
        toml.write_text(text.replace("[environments.", tabular_classifier(root, "churn2").toml + "\n[environments.", 1),
                        encoding="utf-8")
        reader, reader_url = _start_ui(root, None)
        try:
            models = get(reader_url + "/api/overview").json()["models"]
        finally:
            reader.terminate()
            reader.wait(20)
        [added] = [m for m in models if m["model"] == "churn2"]
        for row in added["environments"]:
            [endpoint] = row["endpoints"]
            assert endpoint["state"] == "Unhealthy" and "not served by this endpoint" in endpoint["notes"][0], row
        assert [e["state"] for m in models if m["model"] == "churn" for r in m["environments"]
                for e in r["endpoints"]] == ["Healthy", "Healthy"]
    finally:
        if process is not None:
            process.terminate()
            process.wait(20)
        cli("down", "-p", str(root))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium kept off the network. Without it the browser tests are skipped,
    except in CI (`CI` set), where .ci/run installs it and a missing browser is a failure."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed; .ci/run installs it (apt-get install chromium)")
        pytest.skip("Chromium is not installed (apt-get install chromium); CI runs these tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


def _row(page: Any, environment: str) -> str:
    return str(page.locator("tr", has=page.locator("th", has_text=environment)).first.inner_text())


def _sign_in(page: Any, url: str, name: str) -> None:
    page.goto(url + "/signin")
    page.fill("#name", name)
    page.fill("#key", ADMIN_KEY)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(url + "/")


def test_in_a_browser_a_deploy_from_the_ui_swaps_staging_without_reloading(control_room, browser) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url, root = control_room["url"], control_room["root"]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    blocked: list[str] = []
    context.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda route: (blocked.append(route.request.url),
                                                                           route.abort()))
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        _sign_in(page, url, "alice")
        assert "signed in as alice" in page.inner_text("header")
        assert "Healthy" in _row(page, "staging") and "v1 on" in _row(page, "staging")
        assert "Healthy" in _row(page, "production")
        page.evaluate("window.sameDocument = true")  # gone if the page reloads
        staging = page.locator("tr", has=page.locator("th", has_text="staging")).first
        staging.locator("select[name=version]").select_option("2")
        staging.locator("button", has_text="deploy").click()
        dialog = page.locator("dialog[open]")
        dialog.wait_for()
        assert "moves from version 1 to version 2" in dialog.inner_text()  # the effect, before confirming
        dialog.locator("#reason").fill("canary of C=0.5")
        page.screenshot(path=str(ARTIFACTS / "ui-confirm-1280.png"))
        dialog.locator("button[type=submit]").click()
        page.wait_for_function("() => document.getElementById('said').textContent.includes('staging serves spam "
                               "version 2')", timeout=60_000)
        page.wait_for_function("() => [...document.querySelectorAll('tr')].some(r => r.innerText.startsWith('staging')"
                               " && r.innerText.includes('v2 on') && r.innerText.includes('Healthy'))", timeout=30_000)
        assert page.evaluate("window.sameDocument") is True
        staging_url = cli("ps", "staging", "-p", str(root), "--json").json()[0]["url"]
        assert httpx.post(staging_url + "/score", json={"data": ["hello"]}, timeout=30,
                          trust_env=False).json()["version"] == 2
        move = staging_moves(root)[-1]
        assert (move["from_version"], move["to_version"], move["actor"]) == (1, 2, "ui:alice")
        assert "canary of C=0.5" in move["reason"]
        page.screenshot(path=str(ARTIFACTS / "ui-overview-1280.png"), full_page=True)
        page.goto(url + "/models/spam")
        page.screenshot(path=str(ARTIFACTS / "ui-model-1280.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        for path, name in (("/", "overview"), ("/models/spam", "model"), ("/models/spam/monitoring", "monitoring")):
            page.goto(url + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, path  # nothing runs off a phone
            page.screenshot(path=str(ARTIFACTS / f"ui-{name}-390.png"), full_page=True)
        assert all((ARTIFACTS / f"ui-{n}.png").stat().st_size > 0 for n in ("overview-1280", "model-1280",
                                                                             "overview-390"))
        assert blocked == [] and errors == [], (blocked, errors)  # nothing asked of anywhere else
    finally:
        context.close()


def test_in_a_browser_the_keyboard_reaches_every_action(control_room, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        _sign_in(page, control_room["url"], "kai")
        reached = set()
        for _ in range(60):
            page.keyboard.press("Tab")
            reached.add(page.evaluate("document.activeElement.name || document.activeElement.textContent.trim()"))
        assert {"retrain now…", "deploy…", "rollback…", "sign out", "version"} <= reached, reached
        # Enter on "retrain now…" opens its confirmation; Escape closes it.
        page.locator("a.action", has_text="retrain now").focus()
        page.keyboard.press("Enter")
        page.locator("dialog[open]").wait_for()
        assert page.evaluate("document.activeElement.id") == "reason"  # focus moves into the dialog
        page.keyboard.press("Escape")
        page.wait_for_function("() => !document.querySelector('dialog[open]')")
    finally:
        context.close()


def test_times_are_shown_in_the_viewers_zone(control_room, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(timezone_id="Asia/Tokyo", locale="en-GB")
    page = context.new_page()
    try:
        page.goto(control_room["url"] + "/")
        stamp = page.locator("time").first
        instant = stamp.get_attribute("datetime")  # UTC, from the server
        assert instant and instant.endswith("+00:00")
        shown = page.evaluate("new Date(document.querySelector('time').dateTime)"
                              ".toLocaleString(undefined, {dateStyle: 'medium', timeStyle: 'medium'})")
        assert stamp.inner_text() == shown and stamp.inner_text() != instant
        tokyo_hour = (int(instant[11:13]) + 9) % 24
        assert f"{tokyo_hour:02d}:{instant[14:16]}" in shown  # UTC+9, not the server's UTC
    finally:
        context.close()


def test_axe_finds_no_serious_accessibility_violations(control_room, browser) -> None:  # type: ignore[no-untyped-def]
    # axe is injected by the test (the page's CSP would refuse it: bypass_csp for this context only).
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        _sign_in(page, control_room["url"], "axel")
        checked = []
        for path in (*PAGES, "/signin"):
            page.goto(control_room["url"] + path)
            checked.append((path, _axe(page)))
        page.goto(control_room["url"] + "/")
        page.locator("a.action", has_text="retrain now").click()  # the confirmation dialog, open
        page.locator("dialog[open]").wait_for()
        checked.append(("dialog", _axe(page)))
        serious = [(path, v) for path, found in checked for v in found]
        assert serious == [], serious
    finally:
        context.close()


def _axe(page: Any) -> list[Any]:
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    assert results["passes"] is not None
    return [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
            for v in results["violations"] if v["impact"] in ("serious", "critical")]
