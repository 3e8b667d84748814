"""The control room's HTTP app (Starlette, like the endpoint): pages, their fragments, the
overview as JSON, and the package's own static files. Read-only: every route is a GET."""

from __future__ import annotations

import asyncio
from html import escape
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from champion.errors import ChampionError
from champion.ui import pages
from champion.ui.overview import overview
from champion.workspace import Workspace

STATIC = Path(__file__).with_name("static")
SECURITY_HEADERS = {
    # Nothing from anywhere but this server; no inline script; no framing, no form posts away.
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every answer, static files included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []),
                                      *[(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]]
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(ws: Workspace) -> Starlette:
    async def document() -> dict[str, Any]:
        return await asyncio.to_thread(overview, ws)  # stores and endpoints are read off the loop

    async def page(request: Request) -> Response:
        try:
            return HTMLResponse(pages.overview_page(await document()))
        except ChampionError as exc:  # a store away, a broken setting: said, not a traceback
            return HTMLResponse(f"<!doctype html><title>champion</title><p>{escape(str(exc))}</p>", status_code=503)

    async def fragment(request: Request) -> Response:
        try:
            return HTMLResponse(pages.overview_fragment(await document()))
        except ChampionError as exc:
            return HTMLResponse(f'<p class="next">{escape(str(exc))}</p>', status_code=503)

    async def api(request: Request) -> Response:
        try:
            return JSONResponse(await document())
        except ChampionError as exc:
            return JSONResponse({"error": str(exc)}, status_code=503)

    return Starlette(
        routes=[Route("/", page, methods=["GET"]), Route("/fragments/overview", fragment, methods=["GET"]),
                Route("/api/overview", api, methods=["GET"]), Mount("/static", StaticFiles(directory=STATIC))],
        middleware=[Middleware(SecurityHeaders)],
    )
