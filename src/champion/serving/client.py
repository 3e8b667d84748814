"""A small HTTP client of our own endpoints (deploy waits, smoke tests, `ps`).

httpx sits behind this one class; its errors become `EndpointError` here.
"""

from __future__ import annotations

import os
import ssl
import time
from functools import cache
from typing import Any

import httpx

from champion.errors import EndpointError


@cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default verifying context, built once: loading the CA bundle costs ~20 ms, and
    `ps`, the control room and deploy waits open a client per endpoint per look."""
    return httpx.create_ssl_context()


class EndpointClient:
    """Talks to one endpoint, with the scoring and admin keys from the environment."""

    def __init__(self, url: str, api_key_env: str = "CHAMPION_API_KEY",
                 admin_key_env: str = "CHAMPION_ADMIN_KEY", timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self._api_key = os.environ.get(api_key_env, "")
        self._admin_key = os.environ.get(admin_key_env, "")
        # trust_env=False: never route loopback calls through a proxy from the environment.
        self._http = httpx.Client(base_url=self.url, timeout=timeout, trust_env=False, verify=_tls_context())

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EndpointClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def health(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The `/health` document, or None when nothing answers."""
        try:
            response = self._http.get("/health", timeout=timeout or self._http.timeout)
            document = response.json()
        except (httpx.HTTPError, ValueError):
            return None
        return document if isinstance(document, dict) else None

    def get(self, path: str) -> tuple[int, Any]:
        try:
            response = self._http.get(path, headers={"x-api-key": self._api_key} if self._api_key else {})
        except httpx.HTTPError as exc:
            raise EndpointError(f"GET {self.url}{path}: {exc}") from None
        return response.status_code, _body(response)

    def score(self, data: list[Any], model: str | None = None, synthetic: bool = False) -> tuple[int, Any, float]:
        """POST /score; the status, the document and the seconds it took. `synthetic`
        requests (smoke tests) are answered but kept out of the prediction log."""
        headers = {"x-api-key": self._api_key} if self._api_key else {}
        if synthetic:
            headers["x-champion-synthetic"] = "true"
        path = f"/score/{model}" if model else "/score"
        started = time.perf_counter()
        try:
            response = self._http.post(path, json={"data": data}, headers=headers)
        except httpx.HTTPError as exc:
            raise EndpointError(f"POST {self.url}{path}: {exc}") from None
        return response.status_code, _body(response), time.perf_counter() - started

    def reload(self) -> bool:
        """Ask the endpoint to read its alias now (only when an admin key is set)."""
        if not self._admin_key:
            return False
        try:
            self._http.post("/admin/reload", headers={"x-api-key": self._admin_key})
        except httpx.HTTPError:
            return False
        return True


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text
