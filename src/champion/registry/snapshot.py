"""A consistent copy of the embedded MLflow store, relocated for another folder (for the
Docker export). It reads and rewrites MLflow's own tables, so it lives with the adapter: only
`registry/` knows MLflow.

MLflow records absolute artifact locations (`file:///.../.champion/artifacts/...`) in its
tables. A copy served from another folder (e.g. `/srv/project` in an image) must point at
its own artifacts, so those prefixes are rewritten in the copy, never in the source.
"""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

_TEXT_TYPES = ("CHAR", "TEXT", "CLOB")


def snapshot_database(source: Path, target: Path, relocate: dict[str, str] | None = None) -> int:
    """Copy the SQLite database `source` to `target` with SQLite's online backup API.

    The backup is one read transaction, so concurrent writers (a running build) never leave
    a half-written copy. Then every text cell that starts with a key of `relocate` (followed
    by '/' or nothing) gets that prefix replaced by its value. Returns the cells rewritten.
    """
    if not source.is_file():
        raise FileNotFoundError(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source, timeout=60)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        rewritten = _relocate(dst, relocate or {})
        dst.commit()
        if rewritten:
            dst.execute("VACUUM")  # drop the old values from free space: no path of this machine
    return rewritten


def _relocate(db: sqlite3.Connection, relocate: dict[str, str]) -> int:
    rewritten = 0
    tables = [row[0] for row in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    for table in tables:
        columns = [row[1] for row in db.execute(f"PRAGMA table_info({_quote(table)})")
                   if not row[2] or any(t in row[2].upper() for t in _TEXT_TYPES)]
        for column in columns:
            for old, new in relocate.items():
                cursor = db.execute(
                    f"UPDATE {_quote(table)} SET {_quote(column)} = ? || substr({_quote(column)}, ?) "
                    f"WHERE {_quote(column)} = ? OR substr({_quote(column)}, 1, ?) = ?",
                    (new, len(old) + 1, old, len(old) + 1, old + "/"),
                )
                rewritten += max(cursor.rowcount, 0)
    return rewritten


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def copy_artifacts(source: Path, target: Path) -> None:
    """Copy the artifact folder (after the database snapshot, so that everything the snapshot
    references is already complete on disk)."""
    if source.is_dir():
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    else:
        target.mkdir(parents=True, exist_ok=True)


def aliases(database: Path) -> dict[str, list[str]]:
    """Registered model name -> its aliases, read from an MLflow SQLite database."""
    found: dict[str, list[str]] = {}
    with closing(sqlite3.connect(database)) as db:
        for (name,) in db.execute("SELECT name FROM registered_models ORDER BY name"):
            found[name] = []
        try:
            rows = db.execute("SELECT name, alias FROM registered_model_aliases ORDER BY name, alias").fetchall()
        except sqlite3.OperationalError:  # an MLflow without aliases
            rows = []
        for name, alias in rows:
            found.setdefault(name, []).append(alias)
    return found
