"""Engine construction and Alembic entry points, so every caller gets the same DB setup."""

from functools import cache, partial
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SANDBOX_SCHEMA = "sandbox"
SQLITE_BUSY_TIMEOUT_MS = 10_000


def make_engine(url: str) -> sa.Engine:
    """Create an engine; SQLite gets FKs, WAL and real transactions so it behaves like PostgreSQL."""
    sa_url = sa.make_url(url)
    if sa_url.drivername == "postgresql":  # SQLAlchemy 2.1 defaults to psycopg 3, which we do not ship
        sa_url = sa_url.set(drivername="postgresql+psycopg2")
    if sa_url.get_backend_name() != "sqlite":
        return sa.create_engine(sa_url, pool_pre_ping=True)
    _ensure_parent_dir(sa_url)
    engine = sa.create_engine(sa_url)
    sa.event.listen(engine, "connect", partial(_configure_sqlite, attach=sqlite_sandbox_path(sa_url)))
    sa.event.listen(engine, "begin", _begin_sqlite)
    return engine


def sqlite_sandbox_path(url: sa.URL) -> str:
    """SQLite has no schemas: the sandbox area is a second database file beside the main one."""
    if not url.database or url.database == ":memory:":
        return ":memory:"
    return f"{url.database}.sandbox"


def make_sandbox_engine(url: str, sandbox_url: str | None = None) -> sa.Engine:
    """An engine for V2's code path that can reach only the sandbox area.

    SQLite: it opens the sandbox file alone, so production tables do not exist for it.
    PostgreSQL: `sandbox_url` connects as a role granted nothing outside the sandbox schema.
    """
    sa_url = sa.make_url(url)
    if sa_url.get_backend_name() != "sqlite":
        engine = make_engine(sandbox_url or url)
        return engine.execution_options(schema_translate_map={SANDBOX_SCHEMA: SANDBOX_SCHEMA})
    sandbox = sa.create_engine(sa_url.set(database=sqlite_sandbox_path(sa_url)))
    sa.event.listen(sandbox, "connect", partial(_configure_sqlite, attach=None))
    sa.event.listen(sandbox, "begin", _begin_sqlite)
    return sandbox.execution_options(schema_translate_map={SANDBOX_SCHEMA: None})


APPEND_ONLY_SANDBOX_TABLES = ("outcomes", "outcome_steps")


def provision_sandbox_role(connection: sa.Connection, role: str, password: str) -> None:
    """PostgreSQL: a login role that may read and write the sandbox schema and nothing else.

    Outcomes are the evidence V2 is judged on: the role may add them, never change them.
    """
    quoted = connection.dialect.identifier_preparer.quote(role)
    exists = connection.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    verb = "ALTER" if exists else "CREATE"
    connection.exec_driver_sql(f"{verb} ROLE {quoted} LOGIN PASSWORD %(p)s", {"p": password})
    connection.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}")
    connection.exec_driver_sql(f"GRANT USAGE ON SCHEMA {SANDBOX_SCHEMA} TO {quoted}")
    connection.exec_driver_sql(
        f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA {SANDBOX_SCHEMA} TO {quoted}"
    )
    tables = ", ".join(f"{SANDBOX_SCHEMA}.{table}" for table in APPEND_ONLY_SANDBOX_TABLES)
    connection.exec_driver_sql(f"REVOKE UPDATE ON {tables} FROM {quoted}")


APPEND_ONLY_TABLES = ("status_history", "status_history_exports")


def provision_app_role(connection: sa.Connection, role: str, password: str) -> None:
    """PostgreSQL: the API's login role, subject to row-level security and unable to change history.

    It may read and append to the history tables (never UPDATE, DELETE or TRUNCATE them) and read,
    insert and update the other application tables; it owns nothing, so RLS always applies to it.
    """
    quoted = connection.dialect.identifier_preparer.quote(role)
    exists = connection.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    verb = "ALTER" if exists else "CREATE"
    connection.exec_driver_sql(
        f"{verb} ROLE {quoted} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD %(p)s", {"p": password}
    )
    connection.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}")
    connection.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {quoted}")
    connection.exec_driver_sql(f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO {quoted}")
    connection.exec_driver_sql(f"REVOKE UPDATE ON {', '.join(APPEND_ONLY_TABLES)} FROM {quoted}")
    connection.exec_driver_sql(f"REVOKE INSERT, UPDATE ON alembic_version FROM {quoted}")
    connection.exec_driver_sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {quoted}")


def _ensure_parent_dir(url: sa.URL) -> None:
    """SQLite cannot create missing directories, so create them for file databases."""
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(
    dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry, attach: str | None
) -> None:
    """Enforce foreign keys, allow concurrent readers, wait for writers, let SQLAlchemy own BEGIN,
    and attach the sandbox file as schema `sandbox`."""
    dbapi_connection.isolation_level = None  # type: ignore[attr-defined]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: commits survive a process crash, not power loss
    if attach is not None:
        cursor.execute(f"ATTACH DATABASE ? AS {SANDBOX_SCHEMA}", (attach,))
        cursor.execute(f"PRAGMA {SANDBOX_SCHEMA}.journal_mode=WAL")
        cursor.execute(f"PRAGMA {SANDBOX_SCHEMA}.synchronous=NORMAL")
    cursor.close()


def _begin_sqlite(conn: sa.Connection) -> None:
    """BEGIN IMMEDIATE: writers queue up front (busy_timeout) instead of failing mid-transaction
    on an upgrade from read to write; WAL readers are never blocked by it."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")


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
