"""Deliver monitoring alerts: a log file, a signed webhook, a command.

A sink that fails is reported in the result and never stops the monitor or the others.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from champion.config import AlertSettings

log = logging.getLogger("champion.alerts")

SIGNATURE_HEADER = "X-Champion-Signature"
TIMEOUT_SECONDS = 10.0


def sign(body: bytes, secret: str) -> str:
    """`sha256=<hex HMAC>` of the body, the value of `X-Champion-Signature`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(alerts: list[dict[str, Any]], context: dict[str, Any], settings: AlertSettings,
            log_file: Path) -> list[dict[str, Any]]:
    """Send each alert (with `context`: model, environment, report path) to every sink;
    one delivery record per sink and alert: `{"sink", "kind", "ok", "error"}`."""
    deliveries: list[dict[str, Any]] = []
    for alert in alerts:
        payload = {**context, **alert}
        body = json.dumps(payload, sort_keys=True, default=str).encode()
        if settings.log:
            deliveries.append(_attempt("log", alert, _append, log_file, body))
        if settings.webhook_url:
            secret = os.environ.get(settings.webhook_secret_env, "")
            deliveries.append(_attempt("webhook", alert, _post, settings.webhook_url, body, secret))
        if settings.command:
            deliveries.append(_attempt("command", alert, _run, settings.command, body))
    return deliveries


def _attempt(sink: str, alert: dict[str, Any], send: Callable[..., None], *args: Any) -> dict[str, Any]:
    try:
        send(*args)
    except Exception as exc:  # noqa: BLE001 - a broken sink must not stop the monitor
        log.warning("alert sink %s failed: %s", sink, exc)
        return {"sink": sink, "kind": alert["kind"], "ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"sink": sink, "kind": alert["kind"], "ok": True, "error": None}


def _append(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as file:
        file.write(body + b"\n")


def _post(url: str, body: bytes, secret: str) -> None:
    import httpx

    headers = {"Content-Type": "application/json", "User-Agent": "champion-alerts"}
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    response = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
    if response.status_code >= 300:
        raise RuntimeError(f"{url} answered {response.status_code}")


def _run(command: list[str], body: bytes) -> None:
    done = subprocess.run(command, input=body, capture_output=True, timeout=TIMEOUT_SECONDS * 3, check=False)
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip()[-300:]
        raise RuntimeError(f"{command[0]} exited {done.returncode}: {tail}")
