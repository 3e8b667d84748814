"""The scoring endpoint over real HTTP on loopback: /score, KServe v2 (with tritonclient),
health, metadata, metrics, limits, bad input, keys. One spam project per module."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from conftest import cli
from serving_support import free_port, get, new_project, post, session_pids, set_environments

from champion.project import Project
from champion.serving.loading import load_version
from champion.workspace import Workspace

API_KEY, ADMIN_KEY = "scoring-key-0123456789", "admin-key-9876543210"
COMMENTS = ["Check out my channel and subscribe!!! http://example.com", "I love this song so much",
            "Free gift cards at my website", "2015 and still listening"]


@pytest.fixture(scope="module")
def spam(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path):  # type: ignore[no-untyped-def]
    root = new_project(tmp_path_factory.mktemp("serving") / "spam", migrated_mlflow_db)
    staging, production = free_port(), free_port()
    set_environments(root, {
        "staging": {"port": staging, "workers": 1, "poll_seconds": 0.2, "max_batch_rows": 50,
                    "max_body_bytes": 65536},
        "production": {"port": production, "workers": 2, "poll_seconds": 0.2,
                       "api_key_env": "CHAMPION_TEST_API_KEY", "admin_key_env": "CHAMPION_TEST_ADMIN_KEY"},
    })
    assert cli("build", "-p", str(root), "-q").code == 0
    os.environ["CHAMPION_TEST_API_KEY"], os.environ["CHAMPION_TEST_ADMIN_KEY"] = API_KEY, ADMIN_KEY
    try:
        deployed = cli("deploy", "staging", "-p", str(root), "-q", "--json")
        assert deployed.code == 0, deployed.stderr
        assert deployed.json()["version"] == 1
        assert cli("deploy", "production", "-p", str(root), "-q").code == 0
    finally:
        del os.environ["CHAMPION_TEST_API_KEY"], os.environ["CHAMPION_TEST_ADMIN_KEY"]
    ps = cli("ps", "-p", str(root), "--json").json()
    yield {"root": root, "staging": f"http://127.0.0.1:{staging}", "production": f"http://127.0.0.1:{production}",
           "pids": [e["pid"] for e in ps]}
    assert cli("down", "-p", str(root)).code == 0
    deadline = time.monotonic() + 10
    while any(session_pids(e["pid"]) for e in ps) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [p for e in ps for p in session_pids(e["pid"])] == [], "an endpoint process outlived `down`"


def offline(root: Path, version: int = 1):  # type: ignore[no-untyped-def]
    return load_version(Workspace(Project.open(root)), "spam", version)


def test_score_answers_like_the_offline_model(spam) -> None:  # type: ignore[no-untyped-def]
    response = post(spam["staging"], "/score", json={"data": COMMENTS})
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == "spam" and body["version"] == 1 and body["classes"] == [0, 1]
    labels, proba = offline(spam["root"]).predict_rows({"CONTENT": COMMENTS})
    assert body["result"] == labels.tolist()
    assert np.allclose(body["probabilities"], proba, atol=1e-12)
    assert response.headers["x-request-id"] == body["request_id"]
    as_objects = post(spam["staging"], "/score", json={"data": [{"CONTENT": c} for c in COMMENTS]}).json()
    assert as_objects["result"] == body["result"]


@pytest.mark.parametrize(("body", "status", "fragment"), [
    (b"not json", 400, "not valid JSON"),
    (b"", 400, "body is empty"),
    (b"[1, 2]", 400, "must be a JSON object"),
    (b"{}", 400, "missing field 'data'"),
    (b'{"data": []}', 400, "empty"),
    (b'{"data": "text"}', 400, "expected a list"),
    (b'{"data": [1]}', 400, "data[0]: expected a string for CONTENT"),
    (b'{"data": ["ok", null]}', 400, "data[1]: expected a string for CONTENT, got null"),
    (b'{"data": [{"TEXT": "x"}]}', 400, "unknown field(s) ['TEXT']"),
    (b'{"data": [{}]}', 400, "missing field 'CONTENT'"),
    (b'{"data": ["x"], "extra": 1}', 400, "unknown field(s) ['extra']"),
    (b'{"data": [' + b",".join([b'"x"'] * 51) + b"]}", 413, "limit is 50"),
    (b'{"data": ["' + b"x" * 70000 + b'"]}', 413, "limit"),
])
def test_bad_score_input_is_a_4xx_naming_the_problem(spam, body: bytes, status: int, fragment: str) -> None:  # type: ignore[no-untyped-def]
    response = post(spam["staging"], "/score", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    assert fragment in response.json()["error"]


@pytest.mark.parametrize(("path", "payload", "status", "fragment"), [
    ("/v2/models/nope/infer", {"inputs": [{"name": "CONTENT", "datatype": "BYTES", "shape": [1], "data": ["x"]}]},
     404, "no model 'nope'"),
    ("/v2/models/spam/infer", {"inputs": []}, 400, "non-empty 'inputs'"),
    ("/v2/models/spam/infer", {"inputs": [{"name": "TEXT", "datatype": "BYTES", "shape": [1], "data": ["x"]}]},
     400, "unknown input(s) ['TEXT']"),
    ("/v2/models/spam/infer", {"inputs": [{"name": "CONTENT", "datatype": "BYTES", "shape": [2], "data": ["x"]}]},
     400, "holds 2 elements, data has 1"),
    ("/v2/models/spam/infer", {"inputs": [{"name": "CONTENT", "datatype": "FP32", "shape": [1], "data": [1.0]}]},
     400, "expected a string"),
    ("/v2/models/spam/infer", {"inputs": [{"name": "CONTENT", "datatype": "TEXT", "shape": [1], "data": ["x"]}]},
     400, "unknown datatype"),
    ("/v2/models/spam/versions/7/infer",
     {"inputs": [{"name": "CONTENT", "datatype": "BYTES", "shape": [1], "data": ["x"]}]}, 404, "version 7"),
    ("/v2/models/spam/infer", {"inputs": [{"name": "CONTENT", "datatype": "BYTES", "shape": [1], "data": ["x"]}],
                               "outputs": [{"name": "score"}]}, 400, "unknown output(s) ['score']"),
    ("/v2/models/spam/infer", {"id": {"a": 1}, "inputs": [
        {"name": "CONTENT", "datatype": "BYTES", "shape": [1], "data": ["x"]}]}, 400, "'id' must be a string, got an object"),
    ("/v2/models/spam/infer", {"id": "i" * 129, "inputs": [
        {"name": "CONTENT", "datatype": "BYTES", "shape": [1], "data": ["x"]}]}, 400, "the limit is 128"),
])
def test_bad_v2_input_is_a_4xx(spam, path: str, payload: dict, status: int, fragment: str) -> None:  # type: ignore[no-untyped-def,type-arg]
    response = post(spam["staging"], path, json=payload)
    assert response.status_code == status
    assert fragment in response.json()["error"]


def test_wrong_routes_and_methods(spam) -> None:  # type: ignore[no-untyped-def]
    assert get(spam["staging"], "/score").status_code == 405
    missing = get(spam["staging"], "/nowhere")
    assert missing.status_code == 404 and "/docs" in missing.json()["error"]


def test_v2_routes(spam) -> None:  # type: ignore[no-untyped-def]
    url = spam["staging"]
    assert get(url, "/v2/health/live").json() == {"live": True}
    assert get(url, "/v2/health/ready").status_code == 200
    assert get(url, "/v2").json()["name"] == "champion"
    metadata = get(url, "/v2/models/spam").json()
    assert metadata["versions"] == ["1"] and metadata["inputs"][0] == {"name": "CONTENT", "datatype": "BYTES",
                                                                        "shape": [-1]}
    assert get(url, "/v2/models/spam/ready").json()["ready"] is True
    assert get(url, "/v2/models/spam/versions/1/ready").status_code == 200
    answer = post(url, "/v2/models/spam/infer", json={"id": "r1", "inputs": [
        {"name": "CONTENT", "datatype": "BYTES", "shape": [len(COMMENTS), 1], "data": COMMENTS}]}).json()
    assert answer["id"] == "r1" and answer["model_version"] == "1"
    outputs = {o["name"]: o for o in answer["outputs"]}
    labels, proba = offline(spam["root"]).predict_rows({"CONTENT": COMMENTS})
    assert outputs["label"]["data"] == labels.tolist()
    assert outputs["probabilities"]["shape"] == [len(COMMENTS), 2]
    assert np.allclose(np.reshape(outputs["probabilities"]["data"], (-1, 2)), proba)


def test_an_unmodified_tritonclient_scores_with_binary_and_json_tensors(spam) -> None:  # type: ignore[no-untyped-def]
    import tritonclient.http as triton

    client = triton.InferenceServerClient(spam["staging"].removeprefix("http://"))
    assert client.is_server_live() and client.is_server_ready() and client.is_model_ready("spam")
    assert client.get_model_metadata("spam")["outputs"][1]["name"] == "probabilities"
    labels, proba = offline(spam["root"]).predict_rows({"CONTENT": COMMENTS})
    for binary in (True, False):
        tensor = triton.InferInput("CONTENT", [len(COMMENTS)], "BYTES")
        tensor.set_data_from_numpy(np.array(COMMENTS, dtype=object), binary_data=binary)
        wanted = [triton.InferRequestedOutput("label", binary_data=binary),
                  triton.InferRequestedOutput("probabilities", binary_data=binary)]
        result = client.infer("spam", [tensor], outputs=wanted)
        assert result.as_numpy("label").tolist() == labels.tolist()
        assert np.allclose(result.as_numpy("probabilities"), proba)
    with pytest.raises(triton.InferenceServerException, match="unknown input"):
        wrong = triton.InferInput("TEXT", [1], "BYTES")
        wrong.set_data_from_numpy(np.array(["x"], dtype=object))
        client.infer("spam", [wrong])
    client.close()


def test_health_metadata_metrics_and_docs(spam) -> None:  # type: ignore[no-untyped-def]
    url = spam["staging"]
    health = get(url, "/health").json()
    assert health["status"] == "Healthy" and health["models"]["spam"]["version"] == 1
    metadata = get(url, "/metadata").json()
    assert metadata["models"]["spam"]["sha256"] and metadata["models"]["spam"]["inputs"] == [
        {"name": "CONTENT", "type": "text"}]
    post(url, "/score", json={"data": ["x"]})
    metrics = get(url, "/metrics").text
    assert 'champion_requests_total{model="spam",route="score",status="200"}' in metrics
    assert "champion_model_version" in metrics
    spec = get(url, "/openapi.json").json()
    assert {"/score", "/v2/models/{name}/infer", "/health"} <= set(spec["paths"])
    docs = get(url, "/docs")
    assert "openapi.json" in docs.text
    # The reference page is the document's routes, rendered here: it loads nothing from anywhere.
    assert docs.headers["content-security-policy"].startswith("default-src 'none'")
    assert "<script" not in docs.text and "http://" not in docs.text and "https://" not in docs.text
    for path, methods in spec["paths"].items():
        assert f"<code>{path}</code>" in docs.text
        for method in methods:
            assert f"<code>{method.upper()}</code>" in docs.text
    assert "Check out my channel!" in docs.text  # the request example of /score


def test_concurrent_requests_share_predict_calls(spam) -> None:  # type: ignore[no-untyped-def]
    url = spam["staging"]

    def batches() -> float:
        for line in get(url, "/metrics").text.splitlines():
            if line.startswith("champion_batch_rows_count"):
                return float(line.split()[-1])
        raise AssertionError("no batch metric")

    before = batches()
    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(lambda i: post(url, "/score", json={"data": [COMMENTS[i % 4]]}), range(400)))
    assert all(a.status_code == 200 for a in answers)
    assert [a.json()["result"][0] for a in answers[:4]] == offline(spam["root"]).predict_rows(
        {"CONTENT": COMMENTS})[0].tolist()
    assert batches() - before < 400, "no two requests were ever batched together"


def test_scoring_key_and_admin_key(spam) -> None:  # type: ignore[no-untyped-def]
    url = spam["production"]
    body = {"data": ["hello"]}
    assert post(url, "/score", json=body).status_code == 401
    assert post(url, "/score", json=body, headers={"x-api-key": "wrong"}).status_code == 401
    assert post(url, "/score", json=body, headers={"x-api-key": API_KEY}).status_code == 200
    assert post(url, "/score", json=body, headers={"authorization": f"Bearer {API_KEY}"}).status_code == 200
    assert get(url, "/health").status_code == 200  # health stays open for probes
    assert get(url, "/v2/health/ready").status_code == 200 and get(url, "/v2/models/spam/ready").status_code == 200
    # With a scoring key, what describes the models (run ids, hashes) needs it too.
    for path in ("/metadata", "/metrics", "/openapi.json", "/docs", "/v2", "/v2/models/spam"):
        closed = get(url, path)
        assert closed.status_code == 401 and "open_metadata" in closed.json()["error"], path
        assert get(url, path, headers={"x-api-key": API_KEY}).status_code == 200, path
    assert get(spam["staging"], "/metadata").status_code == 200  # no key set there: open
    assert post(url, "/admin/reload", headers={"x-api-key": API_KEY}).status_code == 401
    assert post(url, "/admin/reload", headers={"x-api-key": ADMIN_KEY}).status_code == 200
    assert post(spam["staging"], "/admin/reload").status_code == 403  # no admin key set there
    log = (spam["root"] / ".champion" / "endpoints" / "production" / "endpoint.log").read_text()
    assert API_KEY not in log and ADMIN_KEY not in log


def test_ps_lists_every_endpoint(spam) -> None:  # type: ignore[no-untyped-def]
    listed = cli("ps", "-p", str(spam["root"]), "--json").json()
    assert {e["environment"] for e in listed} == {"staging", "production"}
    for entry in listed:
        assert set(entry) >= {"environment", "url", "pid", "state", "model", "version"}
        assert entry["state"] == "Healthy" and entry["version"] == 1 and entry["model"] == "spam"
    production = next(e for e in listed if e["environment"] == "production")
    assert len(get(production["url"], "/health").json()["workers"]) == 2


def test_a_second_serve_of_one_environment_is_refused(spam) -> None:  # type: ignore[no-untyped-def]
    second = cli("serve", "staging", "-p", str(spam["root"]))
    assert second.code == 4 and "already runs" in second.stderr
    assert cli("up", "staging", "-p", str(spam["root"])).code == 0  # already up: nothing to do
