"""The versioned schema of champion's state: Alembic migrations (`state/migrations/`), the
same on SQLite and PostgreSQL.

The first process to open a database migrates it to the newest revision, under a lock (a
file lock beside a SQLite file, an advisory lock on PostgreSQL); the others wait and find it
done. A database migrated by a newer champion is refused with a clear message, never
touched. A process checks once per database (one small query), then trusts it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from champion.credentials import redact
from champion.errors import ConfigError
from champion.locks import file_lock

VERSION_TABLE = "champion_schema_version"
"""Not Alembic's default name: MLflow's own `alembic_version` may share the database."""
SCRIPTS = Path(__file__).with_name("migrations")
_checked: set[str] = set()
_checking = threading.Lock()


class SchemaError(ConfigError):
    """The state database's schema cannot be used by this champion."""


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    return config


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head() -> str:
    return str(scripts().get_current_head())


def revision_of(engine: Engine) -> str | None:
    """The database's schema revision (None: never migrated)."""
    with engine.connect() as connection:
        return _revision(connection)


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()


def migrate(engine: Engine, lock_name: str) -> None:
    """Bring the database of `engine` to the newest schema (no-op when it is there)."""
    key = f"{engine.url.render_as_string(hide_password=True)}#{lock_name}"
    if key in _checked:
        return
    with _checking:
        if key in _checked:
            return
        directory = scripts()
        try:
            current = revision_of(engine)
            _refuse_newer(engine, directory, current)
            if current != directory.get_current_head():
                with _migration_lock(engine, lock_name):
                    _upgrade(engine, directory)
        except SQLAlchemyError as exc:
            raise SchemaError(f"migrating the state database {_where(engine)} failed: {exc}") from None
        _checked.add(key)


def _upgrade(engine: Engine, directory: ScriptDirectory) -> None:
    def upgrade(revision, context):  # type: ignore[no-untyped-def]
        return directory._upgrade_revs("head", revision)  # noqa: SLF001 - Alembic's documented hook

    with engine.begin() as connection:  # under the lock, again: another process may have done it
        current = _revision(connection)
        _refuse_newer(engine, directory, current)
        if current == directory.get_current_head():
            return
        environment = EnvironmentContext(_config(), directory, fn=upgrade, destination_rev="head")
        with environment:
            environment.configure(connection=connection, version_table=VERSION_TABLE, target_metadata=None)
            with environment.begin_transaction():
                environment.run_migrations()


def _refuse_newer(engine: Engine, directory: ScriptDirectory, current: str | None) -> None:
    if current is None:
        return
    try:
        directory.get_revision(current)
    except Exception:  # noqa: BLE001 - Alembic raises several kinds for an unknown revision
        raise SchemaError(
            f"the state database {_where(engine)} has schema revision {current}, newer than this champion "
            f"knows (its newest is {directory.get_current_head()}): a newer champion migrated it. Upgrade "
            "champion on this machine (pip install -U champion); nothing was changed") from None


@contextmanager
def _migration_lock(engine: Engine, lock_name: str) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        from champion.state.store import advisory_lock

        with advisory_lock(engine, f"{lock_name}:migrate", 300, "migrating the state database"):
            yield
        return
    database = engine.url.database
    folder = Path(database).parent if database else Path(".")
    with file_lock(folder / f".{Path(database or 'state').name}.migrate.lock", 300, "migrating the state database"):
        yield


def _where(engine: Engine) -> str:
    return redact(engine.url.render_as_string(hide_password=True))
