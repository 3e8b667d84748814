"""Helpers for tests that run real endpoints: free ports, environment settings, cleanup."""

from __future__ import annotations

import json
import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from conftest import cli


def wait_until(check: Callable[[], Any], timeout: float = 60.0, every: float = 0.2, what: str = "") -> Any:
    """The first truthy value of `check()` (an HTTP error counts as not yet) within `timeout`;
    an `AssertionError` naming `what` was awaited when it does not come."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out{': ' + what if what else ''}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _toml_value(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, bool) else str(value).lower()


def set_environments(root: Path, environments: dict[str, dict[str, Any]]) -> None:
    """Replace the project's `[environments.*]` tables (the templates keep them last)."""
    path = root / "champion.toml"
    text = path.read_text(encoding="utf-8")
    head = text[: text.index("[environments.")]
    parts = [head]
    for name, settings in environments.items():
        plain = {k: v for k, v in settings.items() if not isinstance(v, dict)}
        parts.append(f"[environments.{name}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in plain.items()))
        for table, values in settings.items():
            if isinstance(values, dict):
                parts.append(f"[environments.{name}.{table}]\n"
                             + "".join(f"{k} = {_toml_value(v)}\n" for k, v in values.items()))
    path.write_text("\n".join(parts), encoding="utf-8")


def new_project(folder: Path, migrated_db: Path, template: str = "youtube-spam") -> Path:
    assert cli("init", str(folder), "--template", template).code == 0
    (folder / ".champion").mkdir()
    shutil.copyfile(migrated_db, folder / ".champion" / "mlflow.db")
    return folder


def session_pids(session: int) -> list[int]:
    """Live processes of a session (an endpoint started by `up` leads its own session)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == session:
            found.append(int(entry.name))
    return found


def stop_all(root: Path) -> None:
    cli("down", "--project", str(root))


def get(url: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(url + path, timeout=30, trust_env=False, **kwargs)


def post(url: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(url + path, timeout=30, trust_env=False, **kwargs)
