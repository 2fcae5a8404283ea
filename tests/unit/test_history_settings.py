"""Status-history settings: signing keys and export directory have no working default on PostgreSQL."""

import os

from costsim_assets.settings import load_api_settings

BASE = {"COSTSIM_API_KEYS_FILE": "k"}


def test_sqlite_exports_go_beside_the_database_file(tmp_path):
    settings = load_api_settings({**BASE, "COSTSIM_DATABASE_URL": f"sqlite:///{tmp_path}/db/store.db"})
    assert settings.export_dir == os.path.join(tmp_path, "db", "exports")
    assert (settings.signing_keys, settings.export_ttl_s) == (None, 900)


def test_postgresql_needs_an_explicit_export_dir():
    pg = {**BASE, "COSTSIM_DATABASE_URL": "postgresql+psycopg2://u@h/db"}
    assert load_api_settings(pg).export_dir is None
    assert load_api_settings({**BASE, "COSTSIM_DATABASE_URL": "sqlite://"}).export_dir is None
    settings = load_api_settings(
        {
            **pg,
            "COSTSIM_EXPORT_DIR": "/srv/exports",
            "COSTSIM_EXPORT_TTL_S": "60",
            "COSTSIM_SIGNING_KEYS": " k1:abc ",
        }
    )
    assert (settings.export_dir, settings.export_ttl_s, settings.signing_keys) == (
        "/srv/exports",
        60,
        "k1:abc",
    )
