"""Engine construction and Alembic entry points, so every caller gets the same DB setup."""

from functools import cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> sa.Engine:
    """Create an engine; SQLite gets FKs, WAL and real transactions so it behaves like PostgreSQL."""
    sa_url = sa.make_url(url)
    if sa_url.drivername == "postgresql":  # SQLAlchemy 2.1 defaults to psycopg 3, which we do not ship
        sa_url = sa_url.set(drivername="postgresql+psycopg2")
    if sa_url.get_backend_name() != "sqlite":
        return sa.create_engine(sa_url, pool_pre_ping=True)
    _ensure_parent_dir(sa_url)
    engine = sa.create_engine(sa_url)
    sa.event.listen(engine, "connect", _configure_sqlite)
    sa.event.listen(engine, "begin", _begin_sqlite)
    return engine


def _ensure_parent_dir(url: sa.URL) -> None:
    """SQLite cannot create missing directories, so create them for file databases."""
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    """Enforce foreign keys, allow concurrent readers, and let SQLAlchemy own BEGIN."""
    dbapi_connection.isolation_level = None  # type: ignore[attr-defined]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _begin_sqlite(conn: sa.Connection) -> None:
    """Emit BEGIN ourselves so DDL and reads are transactional too (pysqlite skips them)."""
    conn.exec_driver_sql("BEGIN")


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Build the Alembic config in code so migrations work from an installed package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade_to_head(engine: sa.Engine) -> None:
    """Apply pending migrations in one transaction; a no-op when already at head."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")


def current_revision(engine: sa.Engine) -> str | None:
    """Report the applied revision (None on an empty database) for readiness checks."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@cache
def head_revision() -> str:
    """Report the newest revision shipped with the code, to compare with current_revision."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head
