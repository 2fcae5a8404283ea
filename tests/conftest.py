"""Shared database fixtures so every test layer runs against SQLite and a real PostgreSQL."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

ADMIN_URL_ENV = "COSTSIM_TEST_POSTGRES_URL"
LOCAL_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
SERVER_USER = "postgres"


def pytest_configure(config: pytest.Config) -> None:
    """Register the backend marks so `-m postgresql` / `-m sqlite` select one backend."""
    config.addinivalue_line("markers", "sqlite: test runs against a SQLite file database")
    config.addinivalue_line("markers", "postgresql: test runs against a real PostgreSQL server")


def _with_psycopg2(url: str) -> str:
    """Pin the installed driver; SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3."""
    parsed = sa.make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed.render_as_string(hide_password=False)


def _accepts_connections(url: str) -> bool:
    """Probe a server quickly so a missing one costs two seconds, not a hang."""
    engine = sa.create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 2})
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def _postgres_bin_dir() -> Path:
    """Newest PostgreSQL install that has both initdb and pg_ctl."""
    candidates = [
        path.parent
        for path in Path("/usr/lib/postgresql").glob("[0-9]*/bin/initdb")
        if (path.parent / "pg_ctl").exists()
    ]
    if not candidates:
        pytest.skip(
            "PostgreSQL tests need a server: set COSTSIM_TEST_POSTGRES_URL, run one on "
            "127.0.0.1:5432, or install initdb/pg_ctl under /usr/lib/postgresql/*/bin"
        )
    return max(candidates, key=lambda path: int(path.parent.name))


def _as_server_user(argv: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root, so drop to the postgres account when root."""
    if os.geteuid() != 0:
        return argv
    if shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start a throwaway PostgreSQL")
    return ["runuser", "-u", SERVER_USER, "--", *argv]


def _free_port() -> int:
    """Ask the kernel for an unused loopback port for the throwaway server."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(argv: list[str]) -> None:
    """Run a server command, turning failure into a skip that shows its output."""
    result = subprocess.run(_as_server_user(argv), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"throwaway PostgreSQL failed: {' '.join(argv)}\n{result.stdout}{result.stderr}")


def _owned_temp_dir() -> Path:
    """Temp dir the server user can write to, since the server cannot run as root."""
    root = Path(tempfile.mkdtemp(prefix="costsim-pg-"))
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam(SERVER_USER)
        except KeyError:
            shutil.rmtree(root)
            pytest.skip(f"running as root and no '{SERVER_USER}' user: cannot start a throwaway PostgreSQL")
        os.chown(root, account.pw_uid, account.pw_gid)
    return root


@contextmanager
def _throwaway_server() -> Iterator[str]:
    """initdb + start a private server on a free port, and always stop and delete it."""
    bin_dir = _postgres_bin_dir()
    root = _owned_temp_dir()
    data, port = root / "data", _free_port()
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data)]
    try:
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        _run([*pg_ctl, "-l", str(root / "server.log"), "-o", options, "-w", "-t", "60", "start"])
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_server_user([*pg_ctl, "-m", "immediate", "-w", "stop"]), capture_output=True, check=False
            )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """Superuser URL of a PostgreSQL server: configured, local, or started for this session."""
    configured = os.environ.get(ADMIN_URL_ENV)
    if configured:
        yield _with_psycopg2(configured)
    elif _accepts_connections(LOCAL_ADMIN_URL):
        yield LOCAL_ADMIN_URL
    else:
        with _throwaway_server() as url:
            yield url


@pytest.fixture
def postgres_database_factory(postgres_admin_url: str) -> Iterator[Callable[[], str]]:
    """Create fresh empty databases on demand; all are force-dropped after the test."""
    admin = sa.create_engine(postgres_admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def create() -> str:
        name = f"costsim_t_{uuid.uuid4().hex}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        created.append(name)
        return sa.make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)

    yield create
    with admin.connect() as conn:
        for name in created:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.sqlite),
        pytest.param("postgresql", marks=pytest.mark.postgresql),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty database, once per backend, so a test proves itself on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"
    return request.getfixturevalue("postgres_database_factory")()
