"""Alias moves: compare-and-set under the model's lock, each one written to the history.

MLflow aliases have no compare-and-set; concurrent moves on one SQLite file even fail with
integrity errors. Every move in champion goes through here.
"""

from __future__ import annotations

from champion.errors import ConflictError
from champion.pipelines.workspace import Workspace, actor
from champion.state.store import AliasMove, now

CHAMPION = "champion"


def lock_name(model: str) -> str:
    """The lock that guards every alias of `model` (and the registration of its versions)."""
    return f"model-{model}"


def move_alias(ws: Workspace, model: str, alias: str, to_version: int | None, expected: int | None,
               reason: str, run_id: str | None = None) -> AliasMove:
    """Point `alias` at `to_version` if it still points at `expected`; else `ConflictError`."""
    with ws.state.lock(lock_name(model)):
        return move_alias_locked(ws, model, alias, to_version, expected, reason, run_id)


def move_alias_locked(ws: Workspace, model: str, alias: str, to_version: int | None,
                      expected: int | None, reason: str, run_id: str | None = None) -> AliasMove:
    """As `move_alias`, for a caller that already holds `lock_name(model)`."""
    current = ws.registry.aliases(model).get(alias)
    if current != expected:
        raise ConflictError(
            f"alias {alias!r} of {model} points at version {current}, not {expected} as expected: "
            "someone moved it meanwhile"
        )
    ws.registry.set_alias(model, alias, to_version)
    move = AliasMove(model, alias, current, to_version, now(), actor(), reason, run_id)
    try:
        ws.state.record_move(move)
    except BaseException:
        ws.registry.set_alias(model, alias, current)  # no move without its history line
        raise
    return move
