"""An API app on real databases with one key per role (two tenants)."""

import base64
import secrets

import pytest
from fastapi.testclient import TestClient

from costsim_assets.api.app import create_app
from costsim_assets.api.keys import create_key
from costsim_assets.settings import ApiSettings

ROLES = ("admin", "engineer", "auditor", "service")
SIGNING_KEY = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


@pytest.fixture
def keys(tmp_path) -> dict[str, str]:
    path = tmp_path / "keys.yaml"
    made = {role: create_key(path, "tenant-a", role) for role in ROLES}
    made["other_tenant"] = create_key(path, "tenant-b", "engineer")
    made["other_auditor"] = create_key(path, "tenant-b", "auditor")
    made["path"] = str(path)
    return made


@pytest.fixture
def make_client(tmp_path, keys, database_url):
    """Factory: a started TestClient with chosen settings and V2 function."""
    clients = []

    def make(v2=None, **overrides) -> TestClient:
        settings = ApiSettings(
            **{
                "database_url": database_url,
                "api_keys_file": keys["path"],
                "v2_sandbox": True,
                "signing_keys": f"test:{SIGNING_KEY}",
                **overrides,
            }
        )
        client = TestClient(create_app(settings, v2=v2))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def headers(key: str) -> dict[str, str]:
    return {"X-API-Key": key}
