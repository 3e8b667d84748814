"""Deliver monitoring alerts: a log file, a signed webhook, a command.

The webhook follows Standard Webhooks (standardwebhooks.com): a message id that stays the
same across retries (receivers drop duplicates), a timestamp, and an HMAC-SHA256 signature
over both and the body (receivers refuse old or altered messages). Failed tries are
retried with exponential backoff. A sink that fails is reported in the result and never
stops the monitor or the others.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from champion.config import AlertSettings

log = logging.getLogger("champion.alerts")

TIMEOUT_SECONDS = 10.0
SECRET_PREFIX = "whsec_"
RETRY_STATUSES = frozenset({408, 425, 429})


def sign(message_id: str, timestamp: int, body: bytes, secret: str) -> str:
    """The `webhook-signature` value: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX)) if secret.startswith(SECRET_PREFIX) else secret.encode()
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def deliver(alerts: list[dict[str, Any]], context: dict[str, Any], settings: AlertSettings,
            log_file: Path) -> list[dict[str, Any]]:
    """Send each alert (with `context`: model, environment, report path) to every sink;
    one delivery record per sink and alert: `{"sink", "kind", "ok", "error", "attempts",
    "message_id", "status"}` (the last two for the webhook)."""
    deliveries: list[dict[str, Any]] = []
    for alert in alerts:
        payload = {**context, **alert}
        body = json.dumps(payload, sort_keys=True, default=str).encode()
        if settings.log:
            deliveries.append(_attempt("log", alert, _append, log_file, body))
        if settings.webhook_url:
            secret = os.environ.get(settings.webhook_secret_env, "")
            deliveries.append(_webhook(settings, alert, body, secret))
        if settings.command:
            deliveries.append(_attempt("command", alert, _run, settings.command, body))
    return deliveries


def _webhook(settings: AlertSettings, alert: dict[str, Any], body: bytes, secret: str) -> dict[str, Any]:
    import httpx

    url = str(settings.webhook_url)
    message_id = f"msg_{uuid.uuid4().hex}"
    record: dict[str, Any] = {"sink": "webhook", "kind": alert["kind"], "ok": False, "error": None,
                              "attempts": 0, "message_id": message_id, "status": None}
    for attempt in range(settings.webhook_attempts):
        if attempt:
            time.sleep(settings.webhook_backoff_seconds * 2 ** (attempt - 1))
        record["attempts"] = attempt + 1
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json", "User-Agent": "champion-alerts",
                   "webhook-id": message_id, "webhook-timestamp": str(timestamp)}
        if secret:
            headers["webhook-signature"] = sign(message_id, timestamp, body, secret)
        try:
            response = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS, trust_env=False)
        except httpx.HTTPError as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
            continue
        record["status"] = response.status_code
        if response.status_code < 300:
            record["ok"], record["error"] = True, None
            return record
        record["error"] = f"{url} answered {response.status_code}"
        if response.status_code < 500 and response.status_code not in RETRY_STATUSES:
            break  # the receiver refuses it: trying again would not help
    log.warning("alert webhook failed after %d tries: %s", record["attempts"], record["error"])
    return record


def _attempt(sink: str, alert: dict[str, Any], send: Callable[..., None], *args: Any) -> dict[str, Any]:
    try:
        send(*args)
    except Exception as exc:  # noqa: BLE001 - a broken sink must not stop the monitor
        log.warning("alert sink %s failed: %s", sink, exc)
        return {"sink": sink, "kind": alert["kind"], "ok": False, "error": f"{type(exc).__name__}: {exc}",
                "attempts": 1}
    return {"sink": sink, "kind": alert["kind"], "ok": True, "error": None, "attempts": 1}


def _append(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as file:
        file.write(body + b"\n")


def _run(command: list[str], body: bytes) -> None:
    done = subprocess.run(command, input=body, capture_output=True, timeout=TIMEOUT_SECONDS * 3, check=False)
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip()[-300:]
        raise RuntimeError(f"{command[0]} exited {done.returncode}: {tail}")
