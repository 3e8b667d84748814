"""The control room's HTTP app (Starlette, like the endpoint): pages, the fragments they swap in,
their documents as JSON, the monitor's reports, sign-in and the actions.

Reads are GETs and change nothing. Every POST passes, in order: the UI holds an admin key
(else 403, read-only), the request comes from this UI's own pages (Origin), the session has
signed in (else 401), and the form's CSRF token is the session's (else 403).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from champion.errors import ChampionError, ConflictError, NotFoundError, UsageError
from champion.ui import actions
from champion.ui.auth import COOKIE, Session, Sessions, SignInRefused, cookie_header
from champion.ui.documents.agent import agent_page
from champion.ui.documents.model import model_page
from champion.ui.documents.monitoring import monitoring_page, report_html
from champion.ui.documents.overview import overview
from champion.ui.html import agent as agent_html
from champion.ui.html import forms
from champion.ui.html import model as model_html
from champion.ui.html import monitoring as monitoring_html
from champion.ui.html import overview as overview_html
from champion.ui.html.layout import Viewer
from champion.workspace import Workspace

STATIC = Path(__file__).with_name("static")
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
          "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
"""Nothing from anywhere but this server; no inline script or style; no framing."""
REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; frame-ancestors 'none'"
"""The monitor's HTML reports carry their CSS inline and no script at all."""
SECURITY_HEADERS = {
    "content-security-policy": POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",  # "no-referrer" makes browsers send `Origin: null` with forms
    "cache-control": "no-store",
}
MAX_FORM_BYTES = 16_384
_REPORT_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.html$")


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every answer that does not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.decode().lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *[(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()
                                        if k not in present]]
            await send(message)

        await self.app(scope, receive, with_headers)


class HttpProblem(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def create_app(ws: Workspace, admin_key: str | None = None) -> Starlette:
    """The app for `ws`; without `admin_key` it is read-only (no sign-in, no actions)."""
    sessions = Sessions(admin_key)
    project = ws.project.config.project.name
    models = list(ws.project.config.models)

    def viewer_of(request: Request) -> tuple[Viewer, Session | None, Session | None]:
        """The viewer, their session, and a new anonymous session to set (first visit)."""
        if sessions.read_only:
            return Viewer(True), None, None
        session = sessions.get(request.cookies.get(COOKIE))
        fresh = None
        if session is None:
            session = fresh = sessions.anonymous()
        return Viewer(False, session.name, session.csrf), session, fresh

    def answer(request: Request, render: Callable[[Viewer], str], status: int = 200) -> Response:
        viewer, _, fresh = viewer_of(request)
        response = HTMLResponse(render(viewer), status_code=status)
        if fresh is not None:
            response.headers.append("set-cookie", cookie_header(fresh, request.url.scheme == "https"))
        return response

    def page_route(build: Callable[[Request], Awaitable[Any]], render: Callable[[Any, Viewer], str],
                   fragment: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            try:
                document = await build(request)
            except ChampionError as exc:  # a store away, a broken setting: said, not a traceback
                status = 404 if isinstance(exc, NotFoundError) else 503
                if fragment:
                    return HTMLResponse(f'<p class="next">{escape(str(exc))}</p>', status_code=status)
                said = str(exc)
                return answer(request, lambda v: forms.message_page("Not available", said, project, models, v,
                                                                    bad=True), status)
            return answer(request, lambda v: render(document, v))
        return handler

    def json_route(build: Callable[[Request], Awaitable[Any]]) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            try:
                return JSONResponse(await build(request))
            except ChampionError as exc:
                return JSONResponse({"error": str(exc)}, status_code=404 if isinstance(exc, NotFoundError) else 503)
        return handler

    async def the_overview(request: Request) -> Any:
        return await asyncio.to_thread(overview, ws)  # stores and endpoints are read off the loop

    async def the_model(request: Request) -> Any:
        return await asyncio.to_thread(model_page, ws, request.path_params["model"])

    async def the_monitoring(request: Request) -> Any:
        return await asyncio.to_thread(monitoring_page, ws, request.path_params["model"])

    async def the_agent(request: Request) -> Any:
        return await asyncio.to_thread(agent_page, ws)

    async def report(request: Request) -> Response:
        model, name = request.path_params["model"], request.path_params["name"]
        if model not in models or not _REPORT_NAME.fullmatch(name):
            return HTMLResponse("<p>no such report</p>", status_code=404)
        try:
            html = await asyncio.to_thread(report_html, ws, model, name)
        except ChampionError as exc:
            return HTMLResponse(f"<p>{escape(str(exc))}</p>", status_code=503)
        if html is None:
            return HTMLResponse("<p>no such report</p>", status_code=404)
        return HTMLResponse(html, headers={"content-security-policy": REPORT_POLICY})

    # ---- sign-in and actions ------------------------------------------------------------------
    async def guarded_form(request: Request, need_name: bool) -> tuple[Session, dict[str, str]]:
        if sessions.read_only:
            raise HttpProblem(403, "this control room is read-only: start `champion ui` with CHAMPION_ADMIN_KEY "
                                   "set to act from it")
        origin = request.headers.get("origin")
        if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
            raise HttpProblem(403, f"refused: the form was sent from {origin}, not from this control room")
        session = sessions.get(request.cookies.get(COOKIE))
        if need_name and (session is None or session.name is None):
            raise HttpProblem(401, "sign in first (/signin): actions need the admin key")
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            raise HttpProblem(413, "the form is too large")
        form = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
        if session is None or not sessions.csrf_ok(session, form.get("csrf")):
            raise HttpProblem(403, "refused: the form's CSRF token is missing or out of date; reload the page "
                                   "and try again")
        return session, form

    def problem(request: Request, exc: HttpProblem | ChampionError, status: int | None = None) -> Response:
        code = status or (exc.status if isinstance(exc, HttpProblem) else 500)
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"ok": False, "error": str(exc)}, status_code=code)
        return answer(request, lambda v: forms.message_page("Not done", str(exc), project, models, v, bad=True), code)

    async def signin_form(request: Request) -> Response:
        if sessions.read_only:
            return problem(request, HttpProblem(403, "this control room is read-only: it was started without an "
                                                     "admin key (CHAMPION_ADMIN_KEY)"))
        return answer(request, lambda v: forms.signin_page(project, models, v))

    async def signin(request: Request) -> Response:
        try:
            _, form = await guarded_form(request, need_name=False)
            session = sessions.sign_in(form.get("name", ""), form.get("key", ""))
        except HttpProblem as exc:
            return problem(request, exc)
        except SignInRefused as exc:
            refused = str(exc)
            return answer(request, lambda v: forms.signin_page(project, models, v, refused), exc.status)
        response = RedirectResponse("/", status_code=303)
        response.headers.append("set-cookie", cookie_header(session, request.url.scheme == "https"))
        return response

    async def signout(request: Request) -> Response:
        try:
            session, _ = await guarded_form(request, need_name=False)
        except HttpProblem as exc:
            return problem(request, exc)
        sessions.sign_out(session.id)
        return RedirectResponse("/", status_code=303)

    async def confirm(request: Request) -> Response:
        kind = request.path_params["kind"]
        viewer, _, _ = viewer_of(request)
        if viewer.read_only:
            return problem(request, HttpProblem(403, "this control room is read-only"))
        if not viewer.can_act:
            return problem(request, HttpProblem(401, "sign in first (/signin): actions need the admin key"))
        try:
            preview = await asyncio.to_thread(actions.preview, ws, kind, dict(request.query_params))
        except ChampionError as exc:
            return problem(request, exc, _status(exc))
        if request.query_params.get("fragment"):
            return answer(request, lambda v: forms.confirm_fragment(preview, v))
        return answer(request, lambda v: forms.confirm_page(preview, project, models, v))

    async def act(request: Request) -> Response:
        kind = request.path_params["kind"]
        try:
            session, form = await guarded_form(request, need_name=True)
            if kind not in actions.KINDS:
                raise HttpProblem(404, f"no action {kind!r}")
            assert session.actor is not None
            result = await asyncio.to_thread(actions.run, ws, kind, form, session.actor)
        except HttpProblem as exc:
            return problem(request, exc)
        except ChampionError as exc:
            return problem(request, exc, _status(exc))
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"ok": True, **result})
        return answer(request, lambda v: forms.message_page("Done", result["message"], project, models, v))

    routes = [
        Route("/", page_route(the_overview, overview_html.overview_page), methods=["GET"]),
        Route("/fragments/overview", page_route(the_overview, overview_html.overview_fragment, True), methods=["GET"]),
        Route("/api/overview", json_route(the_overview), methods=["GET"]),
        Route("/models/{model}", page_route(the_model, lambda d, v: model_html.model_page(d, models, v)),
              methods=["GET"]),
        Route("/api/models/{model}", json_route(the_model), methods=["GET"]),
        Route("/models/{model}/monitoring",
              page_route(the_monitoring, lambda d, v: monitoring_html.monitoring_page(d, models, v)), methods=["GET"]),
        Route("/api/models/{model}/monitoring", json_route(the_monitoring), methods=["GET"]),
        Route("/agent", page_route(the_agent, agent_html.agent_page), methods=["GET"]),
        Route("/fragments/agent", page_route(the_agent, agent_html.agent_fragment, True), methods=["GET"]),
        Route("/api/agent", json_route(the_agent), methods=["GET"]),
        Route("/reports/{model}/{name}", report, methods=["GET"]),
        Route("/signin", signin_form, methods=["GET"]),
        Route("/signin", signin, methods=["POST"]),
        Route("/signout", signout, methods=["POST"]),
        Route("/actions/{kind}", confirm, methods=["GET"]),
        Route("/actions/{kind}", act, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC)),
    ]
    return Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)])


def _status(exc: ChampionError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, UsageError):
        return 400
    if isinstance(exc, ConflictError):
        return 409
    return 502  # the action was tried and failed (an endpoint that did not switch, a store away)
