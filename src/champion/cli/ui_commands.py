"""`champion ui`: the control room of a project in a browser."""

from __future__ import annotations

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
    project: ProjectOpt = Path("."),
) -> None:
    """Serve the project's control room (read-only for now) until Ctrl-C.

    One page per project: every model x environment with the version each endpoint serves and
    its health, where each alias points, the last registered version and its verdict, and the
    agent's state; it updates itself every few seconds. Nothing is loaded from the internet.
    """
    with handled(False, lambda: log_dir(project)):
        if not 0 < port < 65536:
            raise UsageError(f"--port: {port} is not a port (1-65535)")
        _check_free(host, port)
        import uvicorn

        from champion.ui.app import create_app

        ws = workspace(project)
        render.console.print(f"champion ui for {ws.project.config.project.name}: http://{host}:{port}/ (Ctrl-C stops it)")
        uvicorn.run(create_app(ws), host=host, port=port, log_level="warning", access_log=False)


def _check_free(host: str, port: int) -> None:
    """A clear error before anything starts when the address is taken (uvicorn would exit 3)."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise UsageError(f"--port/--host: cannot listen on {host}:{port} ({exc.strerror}); "
                         "choose another with --port") from None
