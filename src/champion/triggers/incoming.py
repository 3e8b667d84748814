"""Data arrival: new files in a model's incoming folder, and where they go afterwards.

A file is taken only once its size and modification time were the same in two polls in a
row, so a file still being copied in is never read half-written. Dotfiles, `*.partial`
files and subfolders (`processed/`, `rejected/`) are never taken.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

PROCESSED = "processed"
REJECTED = "rejected"
IGNORED_SUFFIXES = (".partial",)

Signature = tuple[int, int]
"""(size in bytes, modification time in ns)."""


class IncomingWatcher:
    """Polls one folder and hands out each stable new file once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._previous: dict[Path, Signature] = {}
        self._taken: dict[Path, Signature] = {}

    def poll(self) -> list[Path]:
        """Files that were unchanged since the previous poll and not handed out before
        (with this size and time), sorted by name."""
        current = _candidates(self.folder)
        stable = [path for path, signature in sorted(current.items())
                  if self._previous.get(path) == signature and self._taken.get(path) != signature]
        for path in stable:
            self._taken[path] = current[path]
        self._previous = current
        # Forget files that left, so a new file under an old name is taken again.
        self._taken = {p: s for p, s in self._taken.items() if p in current}
        return stable

    def release(self, path: Path) -> None:
        """Let a file that stayed in the folder (its job did not consume it) be taken again."""
        self._taken.pop(path, None)


def _candidates(folder: Path) -> dict[Path, Signature]:
    found: dict[Path, Signature] = {}
    try:
        entries = list(folder.iterdir())
    except OSError:  # the folder does not exist (yet): nothing has arrived
        return found
    for path in entries:
        if path.name.startswith(".") or path.name.endswith(IGNORED_SUFFIXES):
            continue
        try:
            if not path.is_file():
                continue
            stat = path.stat()
        except OSError:  # vanished between listing and stat
            continue
        found[path.resolve()] = (stat.st_size, stat.st_mtime_ns)
    return found


def move_processed(path: Path) -> Path:
    """Move a consumed file to `processed/` beside it; returns where it went."""
    return _move(path, path.parent / PROCESSED)


def move_rejected(path: Path, reason: str) -> Path:
    """Move a file that failed to `rejected/`, with `<name>.reason.txt` saying why."""
    target = _move(path, path.parent / REJECTED)
    target.with_name(target.name + ".reason.txt").write_text(reason.rstrip() + "\n", encoding="utf-8")
    return target


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    if target.exists():  # the same name arrived before: keep both
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        target = folder / f"{path.stem}-{stamp}{path.suffix}"
    shutil.move(str(path), str(target))
    return target
