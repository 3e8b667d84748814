"""The endpoint's OpenAPI document (`/openapi.json`) and its reference page (`/docs`)."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from champion import __version__

DOCS_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
"""`/docs` loads nothing: one page, its style inline, no script."""


def document(service: Any) -> dict[str, Any]:
    """OpenAPI 3.1 description of every route, with the served models' names as examples and
    every status each route answers."""
    models = list(service.slots)
    error = {"description": "Bad input, with a message naming the problem",
             "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}

    def said(description: str) -> dict[str, Any]:
        return {**error, "description": description}

    json_body = {"application/json": {"schema": {"type": "object"}}}
    key = {"401": said("Missing or wrong API key")}
    scoring_responses = {"200": {"description": "Predictions", "content": json_body}, "400": error, **key,
                         "404": said("No such model or version"), "408": said("The body did not arrive in time"),
                         "413": said("Body, rows or text over a limit (the message names it)"),
                         "503": said("No version served yet")}

    def get(summary: str, *extra: str, **more: dict[str, Any]) -> dict[str, Any]:
        responses: dict[str, Any] = {"200": {"description": "OK", "content": json_body}}
        responses.update({code: said(_REASONS[code]) for code in extra})
        return {"get": {"summary": summary, "responses": responses, **more}}

    name_param = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string", "enum": models}}]
    version_param = [{"name": "version", "in": "path", "required": True, "schema": {"type": "string"}}]
    secured: dict[str, Any] = {"security": [{"ApiKey": []}, {}]}
    score = {"post": {
        "summary": "Score rows with the default model: {\"data\": [...]} -> {\"result\": [...]}",
        "description": "Each item of `data` is a value (one-input models) or an object with one key per "
                       "input; a forecaster takes `{\"data\": [steps]}`.",
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/ScoreRequest"},
            "example": {"data": ["Check out my channel!", "Love this song"]}}}},
        "responses": scoring_responses, **secured}}
    score_model = {"post": {**score["post"], "summary": "Score rows with the model named in the path",
                            "parameters": name_param}}
    feedback = {"post": {"summary": "Actual values for logged predictions of this environment",
                         "requestBody": {"required": True, "content": json_body},
                         "responses": {**scoring_responses, "200": {"description": "Matched and pending counts",
                                                                    "content": json_body}}, **secured}}
    infer = {"post": {"summary": "Open Inference Protocol (KServe v2) inference", "parameters": name_param,
                      "requestBody": {"required": True, "content": json_body},
                      "responses": scoring_responses, **secured}}
    described = {**secured}
    model_get = get("Model metadata: input and output tensors", "401", "404", "503", **described)["get"]
    ready_get = get("Model readiness", "404", "503")["get"]
    return {
        "openapi": "3.1.0",
        "info": {"title": f"champion endpoint ({service.environment})", "version": __version__},
        "paths": {
            "/score": score,
            "/score/{name}": score_model,
            "/feedback": feedback,
            "/feedback/{name}": {"post": {**feedback["post"], "parameters": name_param}},
            "/health": get("Healthy, Transitioning or Unhealthy, with the served versions", "503"),
            "/metadata": get("Served models, versions and input contracts", "401", **described),
            "/metrics": get("Prometheus metrics of the endpoint (every worker)", "401", **described),
            "/admin/reload": {"post": {"summary": "Re-read the alias now, retrying refused versions (admin key)",
                                       "responses": {"200": {"description": "Healthy", "content": json_body},
                                                     "401": said("Missing or wrong admin key"),
                                                     "403": said("Admin routes are off: no admin key is set"),
                                                     "503": said("Not Healthy after the reload")},
                                       "security": [{"ApiKey": []}]}},
            "/v2": get("Server metadata", "401", **described),
            "/v2/health/live": get("Liveness"),
            "/v2/health/ready": get("Readiness: every model has a version loaded", "503"),
            "/v2/models/{name}": {"get": {**model_get, "parameters": name_param}},
            "/v2/models/{name}/versions/{version}": {"get": {**model_get, "parameters": name_param + version_param}},
            "/v2/models/{name}/ready": {"get": {**ready_get, "parameters": name_param}},
            "/v2/models/{name}/versions/{version}/ready": {"get": {**ready_get,
                                                                   "parameters": name_param + version_param}},
            "/v2/models/{name}/infer": infer,
            "/v2/models/{name}/versions/{version}/infer": {"post": {**infer["post"],
                                                                    "parameters": name_param + version_param}},
        },
        "components": {
            "schemas": {
                "ScoreRequest": {"type": "object", "required": ["data"], "additionalProperties": False,
                                 "properties": {"data": {"type": "array", "minItems": 1}}},
                "Error": {"type": "object", "properties": {"error": {"type": "string"}}},
            },
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
    }


_REASONS = {"401": "Missing or wrong API key (the route describes the models: open_metadata)",
            "404": "No such model or version", "503": "Not ready: no version served"}


def docs_page(document: dict[str, Any]) -> str:
    """The routes of `document` as one self-contained page: method, path, summary, request
    example and statuses. Nothing is fetched from anywhere (the page works offline)."""
    rows = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            statuses = ", ".join(f"<b>{escape(code)}</b> {escape(r.get('description', ''))}"
                                 for code, r in operation.get("responses", {}).items())
            body = (operation.get("requestBody") or {}).get("content", {}).get("application/json", {})
            example = (f"<pre>{escape(json.dumps(body['example']))}</pre>" if "example" in body else "")
            key = " (X-API-Key when the endpoint has one)" if operation.get("security") else ""
            rows.append(f"<tr><td><code>{escape(method.upper())}</code></td><td><code>{escape(path)}</code></td>"
                        f"<td>{escape(operation.get('summary', ''))}{escape(key)}"
                        f"{'<p>' + escape(operation['description']) + '</p>' if operation.get('description') else ''}"
                        f"{example}</td><td>{statuses}</td></tr>")
    title = escape(document["info"]["title"])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font:15px/1.45 system-ui,sans-serif;margin:1.5rem;color:#1a1a1a}}table{{border-collapse:collapse;width:100%}}
th,td{{border-bottom:1px solid #ccc;padding:.45rem;text-align:left;vertical-align:top}}code,pre{{font:13px ui-monospace,monospace}}
pre{{background:#f3f3f3;padding:.4rem;white-space:pre-wrap}}td:last-child{{font-size:13px}}</style></head>
<body><h1>{title}</h1>
<p>Version {escape(document["info"]["version"])}. The machine-readable description is
<a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1): give it to any OpenAPI tool.</p>
<table><thead><tr><th>method</th><th>path</th><th>what it does</th><th>answers</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table></body></html>"""
