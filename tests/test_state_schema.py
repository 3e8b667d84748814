"""Champion's state schema is versioned (Alembic): new databases are migrated once, old
ones (made by `create_all` before migrations) are adopted, a half-made one is finished, and a
database from a newer champion is refused untouched. On SQLite here, on PostgreSQL too."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, inspect

from champion.state import jobs, predictions, store
from champion.state.predictions import PredictionLog
from champion.state.schema import VERSION_TABLE, SchemaError, head, revision_of
from champion.state.store import StateStore, engine_for

ALL_TABLES = {*store.metadata.tables, *predictions.metadata.tables, *jobs.metadata.tables}


def _tables(url: str) -> set[str]:
    return set(inspect(create_engine(url)).get_table_names())


def _dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return list(db.iterdump())


def test_a_new_database_gets_every_table_and_the_newest_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    StateStore(url, tmp_path / "locks")
    assert ALL_TABLES | {VERSION_TABLE} == _tables(url)
    assert revision_of(engine_for(url)) == head()


def test_a_database_made_before_migrations_is_adopted_with_its_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    engine = create_engine(url)
    for metadata in (store.metadata, predictions.metadata, jobs.metadata):
        metadata.create_all(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO alias_moves (model, alias, from_version, to_version, at, actor, reason)"
                                   " VALUES ('spam', 'champion', NULL, 1, '2026-01-01 00:00:00', 'me', 'first')")
    opened = StateStore(url, tmp_path / "locks")
    assert [m.to_version for m in opened.moves("spam")] == [1]
    assert revision_of(opened.engine) == head()


def test_a_half_made_database_is_finished(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    partial = MetaData()
    store.alias_moves.to_metadata(partial)
    predictions.predictions.to_metadata(partial)
    partial.create_all(create_engine(url))  # what a first migration killed after two tables left
    PredictionLog(url)
    assert ALL_TABLES <= _tables(url) and revision_of(engine_for(url)) == head()


def test_a_database_of_a_newer_champion_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    StateStore(f"sqlite:///{path}", tmp_path / "locks")
    with sqlite3.connect(path) as db:
        db.execute(f"UPDATE {VERSION_TABLE} SET version_num = '0099'")
    before = _dump(path)
    # A new process (this one remembers the database as checked).
    done = subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                           "from champion.state.store import StateStore; "
                           f"StateStore('sqlite:///{path}', Path({str(tmp_path / 'locks')!r}))"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "SchemaError" in done.stderr
    assert "revision 0099, newer than this champion knows" in done.stderr and "Upgrade" in done.stderr
    assert _dump(path) == before


def test_the_cli_says_so_for_a_newer_database(make_project) -> None:  # type: ignore[no-untyped-def]
    from conftest import cli_process

    root = make_project(registry=False)
    (root / ".champion").mkdir()
    StateStore(f"sqlite:///{root / '.champion' / 'state.db'}", root / ".champion" / "locks")
    with sqlite3.connect(root / ".champion" / "state.db") as db:
        db.execute(f"UPDATE {VERSION_TABLE} SET version_num = '0099'")
    result = cli_process("history", "spam", "--project", str(root))
    assert result.code == 2, result.stderr
    assert "newer than this champion knows" in result.stderr and "Traceback" not in result.stderr


def test_concurrent_first_opens_on_postgres_migrate_once(team_servers) -> None:  # type: ignore[no-untyped-def]
    postgres, _ = team_servers
    url = postgres.create_database("state_migrations")
    code = ("import sys; from pathlib import Path; from champion.state.store import StateStore; "
            f"StateStore({url!r}, Path('/nonexistent'), 'champion_race')")
    env = {**__import__("os").environ, **postgres.env}
    runs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True, env=env)
            for _ in range(4)]
    for run in runs:
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
    tables = set(postgres.sql("state_migrations", "SELECT tablename FROM pg_tables WHERE schemaname = 'champion_race'"
                              ).split())
    assert tables == ALL_TABLES | {VERSION_TABLE}
    assert postgres.sql("state_migrations", f"SELECT version_num FROM champion_race.{VERSION_TABLE}").strip() == head()


@pytest.fixture(autouse=True)
def _fresh_process_memory():  # type: ignore[no-untyped-def]
    from champion.state import schema

    schema._checked.clear()
    yield
