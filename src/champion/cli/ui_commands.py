"""`champion ui`: the control room of a project in a browser."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated

import typer

from champion.cli import render
from champion.cli.app import app
from champion.cli.errors import handled
from champion.cli.options import ProjectOpt, log_dir, workspace
from champion.errors import UsageError


@app.command()
def ui(
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8700,
    host: Annotated[str, typer.Option("--host", help="Address to listen on. The default keeps it on this "
                                                     "machine; another address shows the project to the network.")]
    = "127.0.0.1",
    admin_key_env: Annotated[str, typer.Option(
        "--admin-key-env", help="Environment variable holding the admin key. Set: people who sign in with it "
                                "can deploy, roll back, retrain and acknowledge alerts. Unset: read-only.")]
    = "CHAMPION_ADMIN_KEY",
    tls_cert: Annotated[Path | None, typer.Option("--tls-cert", help="Serve HTTPS with this certificate (PEM); "
                                                                      "the session cookie is then Secure.")] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", help="The certificate's private key (PEM).")] = None,
    project: ProjectOpt = Path("."),
) -> None:
    """Serve the project's control room until Ctrl-C.

    The overview shows every model x environment: the version each endpoint serves and its
    health, traffic, latency and errors over 5 minutes and 24 hours, the last gate verdict,
    drift and performance from the last monitor run, open alerts and the agent; it updates
    itself every few seconds. A page per model (versions with the gate's evidence, alias
    timeline, charts), its monitoring, and the agent's queue and live log.

    With the admin key set, a person signs in (a name and the key) to deploy a version, roll
    back, queue a retraining or acknowledge an alert; each is confirmed first and written to
    the history as `ui:NAME` with a reason. Nothing is loaded from the internet.
    """
    with handled(False, lambda: log_dir(project)):
        if not 0 < port < 65536:
            raise UsageError(f"--port: {port} is not a port (1-65535)")
        if (tls_cert is None) != (tls_key is None):
            raise UsageError("--tls-cert and --tls-key go together")
        for option, path in (("--tls-cert", tls_cert), ("--tls-key", tls_key)):
            if path is not None and not path.is_file():
                raise UsageError(f"{option}: {path} is not a file")
        _check_free(host, port)
        import uvicorn

        from champion.ui.app import create_app

        ws = workspace(project)
        admin_key = os.environ.get(admin_key_env) or None
        scheme = "https" if tls_cert else "http"
        mode = (f"actions need the admin key from {admin_key_env}" if admin_key
                else f"read-only ({admin_key_env} is not set)")
        render.console.print(f"champion ui for {ws.project.config.project.name}: {scheme}://{host}:{port}/ "
                             f"({mode}; Ctrl-C stops it)")
        uvicorn.run(create_app(ws, admin_key), host=host, port=port, log_level="warning", access_log=False,
                    ssl_certfile=str(tls_cert) if tls_cert else None, ssl_keyfile=str(tls_key) if tls_key else None)


def _check_free(host: str, port: int) -> None:
    """A clear error before anything starts when the address is taken (uvicorn would exit 3)."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise UsageError(f"--port/--host: cannot listen on {host}:{port} ({exc.strerror}); "
                         "choose another with --port") from None
