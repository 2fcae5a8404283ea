"""An API app on real databases with one key per role (two tenants)."""

import pytest
from fastapi.testclient import TestClient

from costsim_assets.api.app import create_app
from costsim_assets.api.keys import create_key
from costsim_assets.settings import ApiSettings

ROLES = ("admin", "engineer", "auditor", "service")


@pytest.fixture
def keys(tmp_path) -> dict[str, str]:
    path = tmp_path / "keys.yaml"
    made = {role: create_key(path, "tenant-a", role) for role in ROLES}
    made["other_tenant"] = create_key(path, "tenant-b", "engineer")
    made["path"] = str(path)
    return made


@pytest.fixture
def make_client(tmp_path, keys, database_url):
    """Factory: a started TestClient with chosen settings and V2 function."""
    clients = []

    def make(v2=None, **overrides) -> TestClient:
        settings = ApiSettings(**{"database_url": database_url, "api_keys_file": keys["path"],
                                  "v2_sandbox": True, **overrides})
        client = TestClient(create_app(settings, v2=v2))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def headers(key: str) -> dict[str, str]:
    return {"X-API-Key": key}
