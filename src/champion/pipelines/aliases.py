"""Alias moves: compare-and-set under the model's lock, each one written to the history.

MLflow aliases have no compare-and-set; concurrent moves on one SQLite file even fail with
integrity errors. Every move in champion goes through here.
"""

from __future__ import annotations

from dataclasses import replace

from champion.errors import ConflictError
from champion.state.store import AliasMove, now
from champion.workspace import Workspace, actor

CHAMPION = "champion"


def lock_name(model: str) -> str:
    """The lock that guards every alias of `model` (and the registration of its versions)."""
    return f"model-{model}"


def move_alias(ws: Workspace, model: str, alias: str, to_version: int | None, expected: int | None,
               reason: str, run_id: str | None = None, by: str | None = None) -> AliasMove:
    """Point `alias` at `to_version` if it still points at `expected`; else `ConflictError`.
    `by` names who moves it (default: `actor()`, the user or `CHAMPION_ACTOR`)."""
    with ws.state.lock(lock_name(model)):
        return move_alias_locked(ws, model, alias, to_version, expected, reason, run_id, by)


def move_alias_locked(ws: Workspace, model: str, alias: str, to_version: int | None,
                      expected: int | None, reason: str, run_id: str | None = None,
                      by: str | None = None) -> AliasMove:
    """As `move_alias`, for a caller that already holds `lock_name(model)`.

    The intent is written first, then the alias moves, then the history row replaces the
    intent: a command killed in between leaves an intent that `settle_moves` turns into
    history (the alias moved) or forgets (it did not)."""
    settle_moves(ws, model)
    current = ws.registry.aliases(model).get(alias)
    if current != expected:
        raise ConflictError(
            f"alias {alias!r} of {model} points at version {current}, not {expected} as expected: "
            "someone moved it meanwhile"
        )
    move = AliasMove(model, alias, current, to_version, now(), by or actor(), reason, run_id)
    intent = ws.state.begin_move(move)
    try:
        ws.registry.set_alias(model, alias, to_version)
    except BaseException:
        _settle_quietly(ws, model)  # whether it moved or not, the history says what is
        raise
    try:
        ws.state.complete_move(intent, move)
    except BaseException:
        ws.registry.set_alias(model, alias, current)  # no move without its history line
        _settle_quietly(ws, model)
        raise
    return move


def settle_moves(ws: Workspace, model: str) -> list[AliasMove]:
    """Settle the alias moves of `model` a killed command left half done (caller holds the
    model's lock): an alias that reads the intended version gets its history row, noted as
    recorded late; an intent whose alias did not move is forgotten. The moves recorded."""
    pending = ws.state.pending_moves(model)
    if not pending:
        return []
    aliases = ws.registry.aliases(model)
    recorded = []
    for intent, move in pending:
        if aliases.get(move.alias) == move.to_version and move.from_version != move.to_version:
            late = replace(move, reason=f"{move.reason} (recorded by {actor()} at {now():%Y-%m-%d %H:%M:%S} UTC: "
                                        "the command that moved the alias was interrupted)")
            ws.state.complete_move(intent, late)
            recorded.append(late)
        else:
            ws.state.abandon_move(intent)
    return recorded


def _settle_quietly(ws: Workspace, model: str) -> None:
    try:
        settle_moves(ws, model)
    except Exception:  # noqa: BLE001 - the original error matters more; the next command settles
        pass
