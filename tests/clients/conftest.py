"""One live API server (PostgreSQL store) for the whole SDK suite: starting one costs seconds."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from tests.clients.live_server import (
    BULK_ENTITY,
    BULK_ROWS,
    BULK_TENANT,
    LiveServer,
    live_server,
    seed_history,
)


@pytest.fixture(scope="session")
def sdk_database_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for the session's server, force-dropped afterwards."""
    admin = sa.create_engine(postgres_admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    name = f"costsim_sdk_{uuid.uuid4().hex}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield sa.make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def server(sdk_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(sdk_database_url, tmp_path_factory.mktemp("sdk-server")) as running:
        yield running


@pytest.fixture(scope="session")
def bulk_history(server: LiveServer) -> int:
    """BULK_ROWS chained rows of the bulk tenant (entity type BULK_ENTITY), loaded once."""
    seed_history(server.database_url, BULK_TENANT, BULK_ENTITY, BULK_ROWS)
    return BULK_ROWS
