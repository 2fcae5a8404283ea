"""Engines for the store tests, built on the shared per-backend database_url."""

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from costsim_assets.store.engine import make_engine, upgrade_to_head


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """Engine on an empty database, disposed so the PostgreSQL drop is not blocked."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def migrated_engine(engine: sa.Engine) -> sa.Engine:
    """Engine on a database already at the head revision."""
    upgrade_to_head(engine)
    return engine
