"""schemathesis against the endpoint's own OpenAPI document, on a real two-worker endpoint:
whatever the spec allows (and what it does not: schemathesis also sends invalid bodies),
the answers are never a 5xx, never hang, conform to the documented statuses, and no worker
restarts."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
import schemathesis
from conftest import cli
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import status_code_conformance
from serving_support import free_port, new_project, session_pids, set_environments


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path):  # type: ignore[no-untyped-def]
    root = new_project(tmp_path_factory.mktemp("fuzz") / "spam", migrated_mlflow_db)
    port = free_port()
    set_environments(root, {"staging": {"port": port, "workers": 2, "read_timeout_seconds": 5.0},
                            "production": {"port": free_port()}})
    assert cli("build", "-p", str(root), "-q").code == 0
    assert cli("deploy", "staging", "-p", str(root), "-q").code == 0
    url = f"http://127.0.0.1:{port}"
    workers = {w["pid"] for w in httpx.get(url + "/health", trust_env=False).json()["workers"]}
    yield {"url": url, "workers": workers}
    ps = cli("ps", "-p", str(root), "--json").json()
    cli("down", "-p", str(root))
    deadline = time.monotonic() + 10
    while any(session_pids(e["pid"]) for e in ps if e["pid"]) and time.monotonic() < deadline:
        time.sleep(0.1)


def no_failure(ctx, response, case) -> bool:  # type: ignore[no-untyped-def]
    """No 5xx but the documented 503 (not ready: no version served)."""
    if response.status_code >= 500 and response.status_code != 503:
        raise AssertionError(f"{case.method} {case.formatted_path} answered {response.status_code}: "
                             f"{response.text[:300]}")
    return True


def operations(url: str) -> list:  # type: ignore[type-arg]
    schema = schemathesis.openapi.from_dict(httpx.get(url + "/openapi.json", trust_env=False).json())
    return [result.ok() for result in schema.get_all_operations()]


def test_no_input_makes_the_endpoint_fail(endpoint) -> None:  # type: ignore[no-untyped-def]
    found = operations(endpoint["url"])
    assert len(found) >= 10
    for operation in found:
        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def call(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(base_url=endpoint["url"], timeout=15,
                                   checks=[no_failure, status_code_conformance])

        call()


def test_no_worker_restarted_under_the_fuzzing(endpoint) -> None:  # type: ignore[no-untyped-def]
    health = httpx.get(endpoint["url"] + "/health", trust_env=False).json()
    assert {w["pid"] for w in health["workers"]} == endpoint["workers"] and health["status"] == "Healthy"
