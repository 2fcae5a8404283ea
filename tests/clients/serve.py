"""A live API for the TypeScript suite run on its own (`npm test` in clients/typescript): a fresh
PostgreSQL database (COSTSIM_TEST_POSTGRES_URL or the local server), the bulk history rows, one JSON
line of configuration on stdout, then serving until stdin closes.

    .venv/bin/python -m tests.clients.serve
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from tests.clients.live_server import (
    BULK_ENTITY,
    BULK_ROWS,
    BULK_TENANT,
    live_server,
    seed_history,
    suite_config,
)
from tests.conftest import ADMIN_URL_ENV, LOCAL_ADMIN_URL


def main() -> int:
    admin_url = os.environ.get(ADMIN_URL_ENV) or LOCAL_ADMIN_URL
    admin = sa.create_engine(admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    name = f"costsim_sdk_{uuid.uuid4().hex}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory() as root, live_server(url, Path(root)) as server:
            seed_history(url, BULK_TENANT, BULK_ENTITY, BULK_ROWS)
            print(json.dumps(suite_config(server)), flush=True)
            sys.stdin.read()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
