"""What killed commands leave behind, found and tidied: alias moves half done, runs MLflow
still marks RUNNING whose process is gone, and versions registered by a build that died
before the version became champion (never aliased, never in the history).

`leftovers()` only reads (for `status`); `tidy()` settles and marks them under the model's
lock (every registration runs it first, and `champion gc`), deleting orphan versions only
when asked.
"""

from __future__ import annotations

import socket
from dataclasses import asdict, dataclass, field
from typing import Any

from champion.pipelines.aliases import lock_name, settle_moves
from champion.registry.records import VERDICT_TAG
from champion.workspace import Workspace
from champion.workspace.processes import pid_alive

ORPHAN_TAG = "champion.orphan"
ORPHAN_REASON = "registered by a command that stopped before the version became champion"


@dataclass
class Leftovers:
    model: str
    interrupted_moves: list[dict[str, Any]] = field(default_factory=list)
    """Alias moves begun and never recorded (settled by the next command that moves an alias)."""
    dead_runs: list[str] = field(default_factory=list)
    """Runs MLflow marks RUNNING whose process (on this machine) is gone."""
    orphan_versions: list[int] = field(default_factory=list)
    """Versions champion registered that no alias ever pointed at."""
    settled_moves: list[dict[str, Any]] = field(default_factory=list)
    deleted_versions: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def leftovers(ws: Workspace, model: str) -> Leftovers:
    """What killed commands left of `model`, without changing anything."""
    found = Leftovers(model)
    pending = [move for _, move in ws.state.pending_moves(model)]
    found.interrupted_moves = [m.as_dict() for m in pending]
    found.dead_runs = [r.run_id for r in ws.registry.running_runs(model) if _process_gone(r.tags)]
    aliased = set(ws.registry.aliases(model).values())
    ever = {m.to_version for m in ws.state.moves(model) + pending}
    found.orphan_versions = [v.version for v in ws.registry.versions(model)
                             if VERDICT_TAG in v.tags and v.version not in aliased and v.version not in ever]
    return found


def tidy(ws: Workspace, model: str, delete_orphans: bool = False) -> Leftovers:
    with ws.state.lock(lock_name(model)):
        return tidy_locked(ws, model, delete_orphans)


def tidy_locked(ws: Workspace, model: str, delete_orphans: bool = False) -> Leftovers:
    """As `tidy`, for a caller that holds the model's lock (so no registration is under way)."""
    settled = [m.as_dict() for m in settle_moves(ws, model)]
    found = leftovers(ws, model)
    found.settled_moves = settled
    for run_id in found.dead_runs:
        ws.registry.set_run_tags(run_id, {"champion.interrupted": "its process was gone; marked KILLED"})
        ws.registry.end_run(run_id, "KILLED")
    for version in found.orphan_versions:
        if delete_orphans:
            ws.registry.delete_version(model, version)
            found.deleted_versions.append(version)
        else:
            ws.registry.set_version_tag(model, version, ORPHAN_TAG, ORPHAN_REASON)
    return found


def _process_gone(tags: dict[str, str]) -> bool:
    host, pid = tags.get("champion.host"), tags.get("champion.pid")
    if host != socket.gethostname() or not (pid or "").isdigit():
        return False  # another machine's run, or one logged before runs said whose they are
    return not pid_alive(int(pid or 0))
