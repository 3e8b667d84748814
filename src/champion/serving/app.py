"""The HTTP edge: Starlette routes that translate requests into `ScoringService` calls.

Bad input is a 4xx with a message naming the problem; nothing a client sends produces a 5xx.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from champion.errors import InputError, NotFoundError, UnavailableError
from champion.serving import openapi, v2
from champion.serving.metrics import CONTENT_TYPE_LATEST
from champion.serving.service import HEALTHY, UNHEALTHY, ScoringService

log = logging.getLogger("champion.serving")

Handler = Callable[[Request], Awaitable[Response]]
SYNTHETIC_HEADER = "x-champion-synthetic"
"""A `/score` request with this header is answered but not logged (smoke and load tests)."""
UNCOUNTED_STATUSES = frozenset({401, 499})
"""Failed answers left out of the traffic rollup: no key (not the model's traffic), the
client left (no answer)."""


class RequestTimeout(Exception):
    """A request body that did not arrive in time (408, and the connection is closed)."""


class ORJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


def create_app(service: ScoringService) -> Starlette:
    """The ASGI app of one environment's endpoint."""
    settings = service.settings
    api_key = os.environ.get(settings.api_key_env, "")
    admin_key = os.environ.get(settings.admin_key_env, "")

    async def read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > settings.max_body_bytes:
            raise InputError(f"the body has {declared} bytes; the limit is {settings.max_body_bytes}", too_large=True)
        chunks, size = [], 0
        try:
            async with asyncio.timeout(settings.read_timeout_seconds):
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > settings.max_body_bytes:
                        raise InputError(f"the body exceeds the limit of {settings.max_body_bytes} bytes",
                                         too_large=True)
                    chunks.append(chunk)
        except TimeoutError:
            raise RequestTimeout(f"the body did not arrive within {settings.read_timeout_seconds:g} s "
                                 f"({size:,} bytes came{f' of {declared} declared' if declared else ''}); "
                                 "read_timeout_seconds") from None
        return b"".join(chunks)

    async def read_json(request: Request) -> Any:
        body = await read_body(request)
        if not body:
            raise InputError("the body is empty; send JSON like {\"data\": [...]}")
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"the body is not valid JSON: {exc}") from None

    def scoring(route: str, handler: Handler) -> Handler:
        """Key check, errors to 4xx, metrics; failed scoring requests into the traffic rollup
        when the same request answered would be logged (`/score` not synthetic, v2 always)."""
        scores = route in ("score", "infer")

        async def wrapped(request: Request) -> Response:
            started = time.perf_counter()
            model = service.metric_label(request.path_params.get("name"))
            if api_key and not _key_matches(request, api_key):
                response: Response = _error(401, "missing or wrong API key (send it in the X-API-Key header)")
            else:
                response = await _guarded(handler, request)
            status = response.status_code
            took = time.perf_counter() - started
            service.metrics.requests.labels(route, model, str(status)).inc()
            service.metrics.latency.labels(route, model).observe(took)
            if status >= 400 and scores and model != "-" and status not in UNCOUNTED_STATUSES \
                    and (route == "infer" or SYNTHETIC_HEADER not in request.headers):
                service.failed(model, status, time.time() - took)
            return response
        return wrapped

    describe_openly = settings.open_metadata if settings.open_metadata is not None else not api_key

    def describing(handler: Handler) -> Handler:
        """Routes that describe the endpoint: the scoring key when they are closed."""
        async def wrapped(request: Request) -> Response:
            if not describe_openly and not (api_key and _key_matches(request, api_key)):
                return _error(401, "missing or wrong API key (send it in the X-API-Key header); this route "
                                   "describes the served models (open_metadata)")
            return await _guarded(handler, request)
        return wrapped

    async def score(request: Request) -> Response:
        # Synthetic traffic (smoke tests, load tests) says so, and stays out of the monitoring data.
        document = await service.score(request.path_params.get("name"), await read_json(request),
                                       _request_id(request), log=SYNTHETIC_HEADER not in request.headers)
        return ORJSONResponse(document, headers={"x-request-id": document["request_id"]})

    async def infer(request: Request) -> Response:
        name = request.path_params["name"]
        _check_version(service, name, request.path_params.get("version"))
        body, header_length, request_id = await service.infer(name, await read_body(request),
                                                              request.headers.get(v2.HEADER_LENGTH),
                                                              _request_id(request))
        if header_length is None:
            return Response(body, media_type="application/json", headers={"x-request-id": request_id})
        return Response(body, media_type="application/octet-stream",
                        headers={"Inference-Header-Content-Length": str(header_length), "x-request-id": request_id})

    async def feedback(request: Request) -> Response:
        return ORJSONResponse(await service.feedback(request.path_params.get("name"), await read_json(request)))

    async def health(request: Request) -> Response:
        document = service.health()
        return ORJSONResponse(document, status_code=503 if document["status"] == UNHEALTHY else 200)

    async def metadata(request: Request) -> Response:
        return ORJSONResponse(service.metadata())

    async def metrics(request: Request) -> Response:
        return Response(service.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    async def live(request: Request) -> Response:
        return ORJSONResponse({"live": True})

    async def ready(request: Request) -> Response:
        ok = all(service.slots[n].current is not None for n in service.slots)
        return ORJSONResponse({"ready": ok}, status_code=200 if ok else 503)

    async def server_metadata(request: Request) -> Response:
        return ORJSONResponse(v2.server_metadata())

    async def model_metadata(request: Request) -> Response:
        name = request.path_params["name"]
        _check_version(service, name, request.path_params.get("version"))
        return ORJSONResponse(v2.model_metadata(service.served(name)))

    async def model_ready(request: Request) -> Response:
        name = service.model_name(request.path_params["name"])
        slot = service.slots[name]
        wanted = request.path_params.get("version")
        if wanted is not None and slot.current is not None and wanted != str(slot.current.version):
            raise NotFoundError(f"{name} version {wanted} is not served here (serving version {slot.current.version})")
        ok = slot.current is not None
        return ORJSONResponse({"name": name, "ready": ok}, status_code=200 if ok else 503)

    async def reload(request: Request) -> Response:
        if not admin_key:
            return _error(403, f"admin routes are disabled: set {settings.admin_key_env} for the endpoint")
        if not _key_matches(request, admin_key):
            return _error(401, "missing or wrong admin key (send it in the X-API-Key header)")
        document = await service.refresh(force=True)
        return ORJSONResponse(document, status_code=200 if document["status"] == HEALTHY else 503)

    async def openapi_json(request: Request) -> Response:
        return ORJSONResponse(openapi.document(service))

    async def docs(request: Request) -> Response:
        return HTMLResponse(openapi.docs_page(openapi.document(service)),
                            headers={"Content-Security-Policy": openapi.DOCS_POLICY})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Load the served versions before uvicorn starts listening: a worker joins the port's
        # SO_REUSEPORT group only once it can answer, so no request meets an empty worker.
        await service.refresh()
        watcher = asyncio.create_task(service.watch())
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            service.close()

    routes = [
        Route("/score", scoring("score", score), methods=["POST"]),
        Route("/score/{name}", scoring("score", score), methods=["POST"]),
        Route("/feedback", scoring("feedback", feedback), methods=["POST"]),
        Route("/feedback/{name}", scoring("feedback", feedback), methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/metadata", describing(metadata), methods=["GET"]),
        Route("/metrics", describing(metrics), methods=["GET"]),
        Route("/openapi.json", describing(openapi_json), methods=["GET"]),
        Route("/docs", describing(docs), methods=["GET"]),
        Route("/admin/reload", reload, methods=["POST"]),
        Route("/v2", describing(server_metadata), methods=["GET"]),
        Route("/v2/health/live", live, methods=["GET"]),
        Route("/v2/health/ready", ready, methods=["GET"]),
        Route("/v2/models/{name}", describing(model_metadata), methods=["GET"]),
        Route("/v2/models/{name}/versions/{version}", describing(model_metadata), methods=["GET"]),
        Route("/v2/models/{name}/ready", guarded(model_ready), methods=["GET"]),
        Route("/v2/models/{name}/versions/{version}/ready", guarded(model_ready), methods=["GET"]),
        Route("/v2/models/{name}/infer", scoring("infer", infer), methods=["POST"]),
        Route("/v2/models/{name}/versions/{version}/infer", scoring("infer", infer), methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan,
                     exception_handlers={404: _not_found, 405: _not_allowed})


def guarded(handler: Handler) -> Handler:
    """`handler` with our errors answered as 4xx/5xx (see `_guarded`)."""
    async def wrapped(request: Request) -> Response:
        return await _guarded(handler, request)
    return wrapped


async def _guarded(handler: Handler, request: Request) -> Response:
    try:
        return await handler(request)
    except InputError as exc:
        return _error(413 if exc.too_large else 400, str(exc))
    except NotFoundError as exc:
        return _error(404, str(exc))
    except UnavailableError as exc:
        return _error(503, str(exc))
    except RequestTimeout as exc:
        response = _error(408, str(exc))
        response.headers["connection"] = "close"
        return response
    except ClientDisconnect:
        return Response(status_code=499)
    except Exception as exc:  # noqa: BLE001 - a bug of ours or of the model: log it, answer 500
        log.exception("scoring failed")
        return _error(500, f"internal error: {type(exc).__name__}: {exc}")


MAX_REQUEST_ID_CHARS = 128
"""An `X-Request-Id` header is kept to this many characters (it is echoed and logged)."""


def _request_id(request: Request) -> str | None:
    """The client's `X-Request-Id`, cut to `MAX_REQUEST_ID_CHARS` printable characters."""
    given = request.headers.get("x-request-id")
    if not given:
        return None
    kept = "".join(c for c in given[:MAX_REQUEST_ID_CHARS] if c.isprintable())
    return kept or None


def _check_version(service: ScoringService, name: str, version: str | None) -> None:
    if version is None:
        return
    served = service.served(name)
    if version != str(served.version):
        raise NotFoundError(f"{name} version {version} is not served here (serving version {served.version})")


def _key_matches(request: Request, key: str) -> bool:
    given = request.headers.get("x-api-key")
    if given is None:
        auth = request.headers.get("authorization", "")
        given = auth[7:] if auth.lower().startswith("bearer ") else ""
    return hmac.compare_digest(given.encode(), key.encode())


def _error(status: int, message: str) -> Response:
    return ORJSONResponse({"error": message}, status_code=status)


async def _not_found(request: Request, exc: Exception) -> Response:
    return _error(404, f"no route {request.method} {request.url.path}; see /docs")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return _error(405, f"{request.method} is not allowed on {request.url.path}; see /docs")
