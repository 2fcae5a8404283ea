"""GET /status-history and its exports: filters, formats, keyset pages, tenancy and signed links."""

import csv
import hashlib
import io
import json
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from costsim_assets.api.app import create_app
from costsim_assets.cli import main
from costsim_assets.security import signing
from costsim_assets.security.signing import parse_signing_keys, sign_url
from costsim_assets.settings import ApiSettings
from costsim_assets.store.engine import make_engine, provision_app_role, upgrade_to_head
from costsim_assets.store.history_exports import find_export
from costsim_assets.store.status_history import append_status
from tests.api.conftest import SIGNING_KEY, headers

FORBIDDEN = {"error": {"code": "forbidden", "message": "invalid or expired link", "details": None}}


@pytest.fixture
def client(make_client, tmp_path):
    return make_client(v2_sandbox=False, export_dir=str(tmp_path / "exports"))


def seed(
    client,
    tenant="tenant-a",
    entity_type="job",
    entity_id="j1",
    status="ok",
    actor_type="sensor",
    actor_id="s1",
    count=1,
):
    with client.app.state.services.engine.begin() as conn:
        return [
            append_status(
                conn,
                tenant_id=tenant,
                entity_type=entity_type,
                entity_id=entity_id,
                old_status=None,
                new_status=status,
                actor_type=actor_type,
                actor_id=actor_id,
                reason="r",
                metadata={"i": i},
            )
            for i in range(count)
        ]


def get(client, key, **params):
    return client.get("/status-history", params=params, headers=headers(key))


def ids(response):
    return [item["id"] for item in response.json()["items"]]


def test_every_filter(client, keys):
    base = seed(client)[0]
    other = {
        "entity_type": seed(client, entity_type="canary")[0],
        "entity_id": seed(client, entity_id="j2")[0],
        "status": seed(client, status="failed")[0],
        "actor_type": seed(client, actor_type="person")[0],
        "actor_id": seed(client, actor_id="s2")[0],
    }
    for name, row in other.items():
        value = row["new_status" if name == "status" else name]
        assert ids(get(client, keys["auditor"], **{name: value})) == [row["id"]], name
    everything = ids(get(client, keys["auditor"]))
    assert len(everything) == 6 and base["id"] in everything
    middle = other["entity_id"]["created_at"]
    after = ids(get(client, keys["auditor"], created_from=middle))
    before = ids(get(client, keys["auditor"], created_to=middle))
    assert sorted(before + after) == sorted(everything) and other["entity_id"]["id"] in after
    assert ids(get(client, keys["auditor"], created_from="2999-01-01")) == []
    assert get(client, keys["auditor"], created_to="yesterday").status_code == 422


def test_formats_json_csv_jsonl_carry_the_same_rows(client, keys):
    seed(client, count=3)
    items = get(client, keys["auditor"]).json()["items"]
    as_csv = get(client, keys["auditor"], format="csv")
    as_jsonl = get(client, keys["auditor"], format="jsonl")
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_jsonl.headers["content-type"].startswith("application/x-ndjson")
    csv_rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    jsonl_rows = [json.loads(line) for line in as_jsonl.text.splitlines()]
    assert [int(r["id"]) for r in csv_rows] == [r["id"] for r in jsonl_rows] == [r["id"] for r in items]
    assert jsonl_rows == items
    assert [json.loads(r["metadata"]) for r in csv_rows] == [{"i": 0}, {"i": 1}, {"i": 2}]


def walk(client, key, limit, between=None, **params):
    """Every page's ids, calling `between()` after each page that has a successor."""
    pages, cursor = [], None
    while True:
        body = get(client, key, limit=limit, **params, **({"cursor": cursor} if cursor else {})).json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        if between:
            between()


def test_pagination_edges(client, keys):
    assert get(client, keys["auditor"]).json() == {"items": [], "next_cursor": None}
    rows = [r["id"] for r in seed(client, count=3)]
    assert walk(client, keys["auditor"], limit=5) == [rows]
    assert walk(client, keys["auditor"], limit=3) == [rows]
    assert walk(client, keys["auditor"], limit=2) == [rows[:2], rows[2:]]
    assert walk(client, keys["auditor"], limit=1) == [[r] for r in rows]
    assert get(client, keys["auditor"], limit=0).status_code == 422
    assert get(client, keys["auditor"], limit=1001).status_code == 422


def test_rows_inserted_between_pages_are_neither_skipped_nor_repeated(client, keys):
    seed(client, count=4)
    seed(client, tenant="tenant-b", count=2)
    pages = walk(
        client, keys["auditor"], limit=2, between=lambda: seed(client) and seed(client, tenant="tenant-b")
    )
    seen = [i for page in pages for i in page]
    assert len(seen) == len(set(seen)) and seen == sorted(seen) and len(pages) > 2
    assert seen == ids(get(client, keys["auditor"], limit=1000))


def test_authentication_and_permissions(client, keys):
    assert client.get("/status-history").status_code == 401
    for role in ("engineer", "service"):
        refused = get(client, keys[role])
        assert (
            refused.status_code == 403
            and refused.json()["error"]["details"]["missing_permission"] == "history:read"
        )
        refused = client.post("/status-history/exports", json={}, headers=headers(keys[role]))
        assert refused.status_code == 403


def test_auditor_sees_own_tenant_admin_sees_all_or_names_one(client, keys):
    a, b = seed(client)[0]["id"], seed(client, tenant="tenant-b")[0]["id"]
    assert ids(get(client, keys["auditor"])) == [a]
    assert ids(get(client, keys["other_auditor"])) == [b]
    assert ids(get(client, keys["admin"])) == [a, b]
    assert ids(get(client, keys["admin"], tenant="tenant-b")) == [b]
    assert ids(get(client, keys["auditor"], tenant="tenant-a")) == [a]
    assert get(client, keys["admin"], tenant="*").status_code == 422


def test_cross_tenant_attempts_through_every_parameter(client, keys):
    seed(client, count=2)
    seed(client, tenant="tenant-b", entity_id="b-only", count=2)
    refused = get(client, keys["auditor"], tenant="tenant-b")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "tenant_mismatch"
    assert get(client, keys["auditor"], tenant="tenant-b", format="csv").status_code == 403
    assert ids(get(client, keys["auditor"], entity_id="b-only")) == []
    assert get(client, keys["auditor"], entity_id="b-only", format="jsonl").text == ""
    b_cursor = get(client, keys["other_auditor"], limit=1).json()["next_cursor"]
    a_cursor = get(client, keys["auditor"], limit=1).json()["next_cursor"]
    for cursor, params in (
        (b_cursor, {}),
        (a_cursor, {"entity_id": "j1"}),
        (a_cursor[:-2] + "00", {}),
        ("garbage", {}),
    ):
        bad = get(client, keys["auditor"], limit=1, cursor=cursor, **params)
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_cursor"
    admin_cursor = get(client, keys["admin"], limit=1).json()["next_cursor"]
    assert get(client, keys["admin"], cursor=admin_cursor, tenant="tenant-a").status_code == 400
    assert get(client, keys["auditor"], limit=1, cursor=a_cursor).status_code == 200


def test_without_signing_keys_cursors_and_exports_are_unavailable(make_client, keys, tmp_path):
    client = make_client(v2_sandbox=False, signing_keys=None, export_dir=str(tmp_path))
    for response in (
        get(client, keys["auditor"]),
        client.post("/status-history/exports", json={}, headers=headers(keys["auditor"])),
    ):
        assert response.status_code == 503 and response.json()["error"]["code"] == "signing_unavailable"
    assert get(client, keys["auditor"], format="csv").status_code == 200


def test_exports_answer_503_without_an_export_dir(make_client, keys):
    client = make_client(v2_sandbox=False, export_dir=None)
    response = client.post("/status-history/exports", json={}, headers=headers(keys["auditor"]))
    assert response.status_code == 503 and response.json()["error"]["code"] == "export_unavailable"


def export(client, key, **body):
    created = client.post("/status-history/exports", json=body, headers=headers(key))
    assert created.status_code == 201, created.text
    return created.json()


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_is_recorded_and_downloads_by_signed_link(client, keys, fmt):
    seed(client, count=3)
    seed(client, tenant="tenant-b")
    made = export(client, keys["auditor"], format=fmt)
    assert made["rows"] == 3
    downloaded = client.get(made["url"])
    assert downloaded.status_code == 200
    assert (
        downloaded.content
        == client.get("/status-history", params={"format": fmt}, headers=headers(keys["auditor"])).content
    )
    with client.app.state.services.engine.connect() as conn:
        record = find_export(conn, made["export_id"])
    assert record["sha256"] == hashlib.sha256(downloaded.content).hexdigest()
    assert (record["tenant_id"], record["role"], record["row_count"], record["format"]) == (
        "tenant-a",
        "auditor",
        3,
        fmt,
    )


def link_parts(url):
    parts = urlsplit(url)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


def altered_id(export_id: str) -> str:
    """The same id with its last character changed (never to itself)."""
    return export_id[:-1] + ("1" if export_id.endswith("0") else "0")


def test_every_refused_download_gives_the_same_403(client, keys, monkeypatch):
    seed(client)
    seed(client, tenant="tenant-b")
    mine = export(client, keys["auditor"])
    theirs = export(client, keys["other_auditor"])
    path, query = link_parts(mine["url"])
    other_path = path.replace(mine["export_id"], theirs["export_id"])
    keys_ = parse_signing_keys(f"test:{SIGNING_KEY}")
    wrong_tenant = sign_url(keys_, "GET", other_path, f"{theirs['export_id']}:tenant-a", 60)
    attempts = [
        (other_path, query),  # my signature on another tenant's export
        (other_path, wrong_tenant),  # a valid signature bound to the wrong tenant
        (path.replace(mine["export_id"], altered_id(mine["export_id"])), query),  # altered export id
        (path.replace(mine["export_id"], "no-such-export"), query),
        (path, {**query, "sig": "0" * 64}),
        (path, {**query, "kid": "unknown"}),
        (path, {**query, "expires": str(int(query["expires"]) + 10)}),
        (path, {}),
    ]
    for attempt_path, attempt_query in attempts:
        refused = client.get(attempt_path, params=attempt_query)
        assert (refused.status_code, refused.json()) == (403, FORBIDDEN), attempt_path
    assert client.get(path, params=query).status_code == 200
    monkeypatch.setattr(signing, "time", type("Clock", (), {"time": staticmethod(lambda: 10**10)}))
    expired = client.get(path, params=query)
    assert (expired.status_code, expired.json()) == (403, FORBIDDEN)


def test_expired_link_and_missing_keys_are_refused_alike(make_client, keys, tmp_path):
    client = make_client(v2_sandbox=False, export_dir=str(tmp_path / "x"), export_ttl_s=-1)
    seed(client)
    made = export(client, keys["admin"])
    expired = client.get(made["url"])
    assert (expired.status_code, expired.json()) == (403, FORBIDDEN)
    fresh = make_client(v2_sandbox=False, export_dir=str(tmp_path / "x"))
    link = export(fresh, keys["admin"])["url"]
    unsigned = make_client(v2_sandbox=False, signing_keys=None, export_dir=str(tmp_path / "x"))
    refused = unsigned.get(link)
    assert (refused.status_code, refused.json()) == (403, FORBIDDEN)


def test_admin_exports_every_tenant_or_one(client, keys):
    seed(client)
    seed(client, tenant="tenant-b", count=2)
    assert export(client, keys["admin"])["rows"] == 3
    assert export(client, keys["admin"], tenant="tenant-b")["rows"] == 2
    assert (
        client.post(
            "/status-history/exports", json={"tenant": "tenant-b"}, headers=headers(keys["auditor"])
        ).status_code
        == 403
    )


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_exported_chain_verifies_and_tampering_is_found(client, keys, tmp_path, capsys, fmt):
    seed(client, count=4)
    file = tmp_path / f"export.{fmt}"
    file.write_bytes(client.get(export(client, keys["auditor"], format=fmt)["url"]).content)
    assert main(["verify-history", "--file", str(file)]) == 0
    assert "OK" in capsys.readouterr().out
    lines = file.read_text().splitlines(keepends=True)
    line, old, new = (3, '""i"":2', '""i"":9') if fmt == "csv" else (2, '"i":2', '"i":9')
    assert old in lines[line]
    lines[line] = lines[line].replace(old, new)
    file.write_text("".join(lines))
    assert main(["verify-history", "--file", str(file)]) == 1
    assert "seq 3" in capsys.readouterr().out


def test_through_the_app_role_row_level_security_backs_the_api(postgres_database_factory, keys, tmp_path):
    owner_url = postgres_database_factory()
    owner = make_engine(owner_url)
    upgrade_to_head(owner)
    role = f"costsim_app_{uuid.uuid4().hex[:8]}"
    with owner.begin() as conn:
        provision_app_role(conn, role, "app-secret")
        for tenant in ("tenant-a", "tenant-b", "tenant-b"):
            append_status(
                conn,
                tenant_id=tenant,
                entity_type="job",
                entity_id="e",
                old_status=None,
                new_status="ok",
                actor_type="sensor",
                actor_id="s",
                reason="r",
            )
    app_url = sa.make_url(owner_url).set(username=role, password="app-secret").render_as_string(False)
    settings = ApiSettings(
        database_url=app_url,
        sandbox_database_url=owner_url,
        api_keys_file=keys["path"],
        signing_keys=f"test:{SIGNING_KEY}",
        export_dir=str(tmp_path / "exports"),
    )
    try:
        with TestClient(create_app(settings)) as client:
            assert [r["tenant_id"] for r in get(client, keys["auditor"]).json()["items"]] == ["tenant-a"]
            assert len(get(client, keys["other_auditor"], format="jsonl").text.splitlines()) == 2
            assert len(get(client, keys["admin"]).json()["items"]) == 3
            made = export(client, keys["other_auditor"])
            assert made["rows"] == 2 and client.get(made["url"]).status_code == 200
            client.app.state.services.engine.dispose()
    finally:
        with owner.begin() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
        owner.dispose()
