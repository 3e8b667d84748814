"""The endpoint's OpenAPI document (`/openapi.json`) and a Swagger UI page (`/docs`)."""

from __future__ import annotations

from typing import Any

from champion import __version__

_SWAGGER = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"


def document(service: Any) -> dict[str, Any]:
    """OpenAPI 3.1 description of every route, with the served models' names as examples."""
    models = list(service.slots)
    error = {"description": "Bad input, with a message naming the problem",
             "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    json_body = {"application/json": {"schema": {"type": "object"}}}
    scoring_responses = {"200": {"description": "Predictions", "content": json_body}, "400": error,
                         "401": {"description": "Missing or wrong API key"}, "404": error,
                         "413": {"description": "Body or batch too large"},
                         "503": {"description": "No version served yet"}}

    def get(summary: str) -> dict[str, Any]:
        return {"get": {"summary": summary, "responses": {"200": {"description": "OK", "content": json_body}}}}

    name_param = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string", "enum": models}}]
    score = {"post": {
        "summary": "Score rows with the default model: {\"data\": [...]} -> {\"result\": [...]}",
        "description": "Each item of `data` is a value (one-input models) or an object with one key per "
                       "input; a forecaster takes `{\"data\": [steps]}`.",
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/ScoreRequest"},
            "example": {"data": ["Check out my channel!", "Love this song"]}}}},
        "responses": scoring_responses, "security": [{"ApiKey": []}, {}]}}
    infer = {"post": {"summary": "Open Inference Protocol (KServe v2) inference", "parameters": name_param,
                      "requestBody": {"required": True, "content": json_body},
                      "responses": scoring_responses, "security": [{"ApiKey": []}, {}]}}
    return {
        "openapi": "3.1.0",
        "info": {"title": f"champion endpoint ({service.environment})", "version": __version__},
        "paths": {
            "/score": score,
            "/health": get("Healthy, Transitioning or Unhealthy, with the served versions"),
            "/metadata": get("Served models, versions and input contracts"),
            "/metrics": get("Prometheus metrics of this worker"),
            "/admin/reload": {"post": {"summary": "Re-read the alias now (admin key)",
                                       "responses": {"200": {"description": "Healthy"}},
                                       "security": [{"ApiKey": []}]}},
            "/v2": get("Server metadata"),
            "/v2/health/live": get("Liveness"),
            "/v2/health/ready": get("Readiness: every model has a version loaded"),
            "/v2/models/{name}": {"get": {**get("Model metadata: input and output tensors")["get"],
                                          "parameters": name_param}},
            "/v2/models/{name}/ready": {"get": {**get("Model readiness")["get"], "parameters": name_param}},
            "/v2/models/{name}/infer": infer,
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


def docs_page() -> str:
    """Swagger UI for `/openapi.json` (its script comes from a CDN; the spec itself is local)."""
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>champion endpoint</title>
<link rel="stylesheet" href="{_SWAGGER}/swagger-ui.css"></head>
<body><div id="ui"><p>The interactive page needs {_SWAGGER}; the API is described at
<a href="/openapi.json">/openapi.json</a>.</p></div>
<script src="{_SWAGGER}/swagger-ui-bundle.js"></script>
<script>window.onload = () => SwaggerUIBundle({{url: "/openapi.json", dom_id: "#ui"}});</script>
</body></html>"""
