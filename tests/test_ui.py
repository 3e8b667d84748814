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
