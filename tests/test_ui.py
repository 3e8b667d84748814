"""`champion ui`, read-only overview: a real `champion ui` process on loopback over a project
with a version deployed to staging and nothing in production. (The browser tests of issue 14
come with its actions; these check what a page and its API answer.)"""

from __future__ import annotations

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
from serving_support import free_port, new_project, set_environments


@pytest.fixture(scope="module")
def control_room(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path) -> Iterator[dict[str, Any]]:
    root = new_project(tmp_path_factory.mktemp("ui") / "spam", migrated_mlflow_db)
    set_environments(root, {"staging": {"port": free_port(), "workers": 1},
                            "production": {"port": free_port(), "workers": 1}})
    assert cli("build", "-p", str(root), "-q").code == 0
    assert cli("deploy", "staging", "-p", str(root), "-q").code == 0
    port = free_port()
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    process = subprocess.Popen([sys.executable, "-m", "champion", "ui", "--port", str(port), "--project", str(root)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/api/overview", timeout=5, trust_env=False)
                break
            except httpx.HTTPError:
                assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
                assert time.monotonic() < deadline, "champion ui did not answer within 60 s"
                time.sleep(0.2)
        yield {"root": root, "url": url, "process": process}
    finally:
        process.terminate()
        process.wait(20)
        assert cli("down", "-p", str(root)).code == 0


def test_the_overview_shows_each_environment_with_what_it_serves_and_what_to_do_next(control_room) -> None:  # type: ignore[no-untyped-def]
    url = control_room["url"]
    document = httpx.get(url + "/api/overview", timeout=30, trust_env=False).json()
    assert document["project"] == "youtube-spam"
    spam = document["models"][0]
    assert spam["model"] == "spam" and spam["versions"] == 1 and spam["champion"] == 1
    assert spam["last_verdict"]["verdict"] == "FIRST_MODEL"
    staging, production = spam["environments"]
    assert staging["environment"] == "staging" and staging["alias_version"] == 1 and staging["next"] is None
    assert [(e["state"], e["version"]) for e in staging["endpoints"]] == [("Healthy", 1)]
    assert production["endpoints"] == [] and production["next"] == "no endpoint running: `champion up production`"

    page = httpx.get(url + "/", timeout=30, trust_env=False)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<span class="state healthy">Healthy</span>' in html and "v1 on" in html
    assert "no endpoint running: <code>champion up production</code>" in html
    assert "FIRST_MODEL" in html and "not running: <code>champion agent</code>" in html
    # The fragment the page's script swaps in is the same overview.
    fragment = httpx.get(url + "/fragments/overview", timeout=30, trust_env=False).text
    assert '<span class="state healthy">Healthy</span>' in fragment and "<html" not in fragment


def test_the_page_loads_nothing_from_anywhere_else(control_room) -> None:  # type: ignore[no-untyped-def]
    url = control_room["url"]
    page = httpx.get(url + "/", timeout=30, trust_env=False)
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text)  # no absolute or protocol-relative URL
    assert "<script>" not in page.text and " on" + "click=" not in page.text  # no inline script
    for asset in re.findall(r"(?:src|href)=\"(/static/[^\"]+)\"", page.text):
        answer = httpx.get(url + asset, timeout=30, trust_env=False)
        assert answer.status_code == 200 and answer.headers["content-security-policy"] == policy
        assert "http://" not in answer.text and "https://" not in answer.text
    weight = len(page.content) + sum(len(httpx.get(url + a, timeout=30, trust_env=False).content)
                                     for a in re.findall(r"(?:src|href)=\"(/static/[^\"]+)\"", page.text))
    assert weight < 200_000  # issue 14's budget for the overview (HTML + CSS + JS)


def test_it_is_read_only_and_names_bad_options(control_room) -> None:  # type: ignore[no-untyped-def]
    url = control_room["url"]
    for path in ("/", "/api/overview", "/fragments/overview"):
        assert httpx.post(url + path, timeout=30, trust_env=False).status_code == 405
    assert httpx.get(url + "/nothing-here", timeout=30, trust_env=False).status_code == 404
    refused = cli("ui", "--port", "70000", "-p", str(control_room["root"]))
    assert refused.code == 2 and "--port: 70000 is not a port" in refused.stdout + refused.stderr
    taken = cli("ui", "--port", control_room["url"].rsplit(":", 1)[1], "-p", str(control_room["root"]))
    assert taken.code == 2 and "cannot listen on 127.0.0.1:" in taken.stdout + taken.stderr, taken.stdout + taken.stderr
    assert "Traceback" not in taken.stdout + taken.stderr


# ---- in a real browser (Debian's Chromium, driven by Playwright) ------------------------------
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(os.environ.get("CHAMPION_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts"))
AXE = Path(__file__).with_name("vendor") / "axe-core" / "axe.min.js"


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


def _production_cell(page: Any) -> str:
    return str(page.locator("tr", has=page.locator("th", has_text="production")).first.inner_text())


def test_in_a_browser_the_overview_follows_a_deploy_without_reloading(control_room, browser) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    blocked: list[str] = []
    context.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda route: (blocked.append(route.request.url),
                                                                           route.abort()))
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        page.goto(control_room["url"] + "/")
        assert "no endpoint running" in _production_cell(page)
        page.evaluate("window.sameDocument = true")  # gone if the page reloads
        assert cli("deploy", "production", "-p", str(control_room["root"]), "-q").code == 0
        page.wait_for_function("() => [...document.querySelectorAll('tr')].some(r => "
                               "r.innerText.startsWith('production') && r.innerText.includes('Healthy'))",
                               timeout=30_000)
        assert page.evaluate("window.sameDocument") is True
        assert "v1 on" in _production_cell(page)
        page.screenshot(path=str(ARTIFACTS / "ui-overview-1280.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing runs off a phone
        page.screenshot(path=str(ARTIFACTS / "ui-overview-390.png"), full_page=True)
        assert (ARTIFACTS / "ui-overview-1280.png").stat().st_size > 0
        assert blocked == [] and errors == [], (blocked, errors)  # nothing asked of anywhere else
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
        page.goto(control_room["url"] + "/")
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        serious = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
                   for v in results["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], serious
        assert results["passes"] is not None
    finally:
        context.close()
