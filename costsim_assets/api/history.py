"""The status history over HTTP: keyset pages, full streamed exports, and signed export downloads.

Auditors see their key's tenant; admins see every tenant or name one. Cursors and download links
are HMAC-signed (security/signing.py) and bound to the tenant and filters they were issued for.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field

from costsim_assets.api.errors import ApiError, responses
from costsim_assets.api.keys import Principal
from costsim_assets.api.params import parse_instant
from costsim_assets.api.services import Services, require, services, tenant_for
from costsim_assets.history.exports import history_chunks, write_export
from costsim_assets.history.formats import MEDIA_TYPES
from costsim_assets.security.signing import (
    SigningKeys,
    parse_signing_keys,
    read_token,
    sign_token,
    sign_url,
    verify_url,
)
from costsim_assets.store.history_exports import find_export, record_export
from costsim_assets.store.history_queries import history_page
from costsim_assets.store.tenancy import ALL_TENANTS

router = APIRouter(tags=["status history"])
DOWNLOAD_ROUTE = "/status-history/exports/{export_id}/download"
ExportFormat = Literal["csv", "jsonl"]


class HistoryFilters(BaseModel):
    entity_type: str | None = None
    entity_id: str | None = None
    status: str | None = Field(None, description="the row's new_status")
    actor_type: str | None = None
    actor_id: str | None = None
    created_from: str | None = Field(None, description="ISO date or datetime, inclusive (UTC when no offset)")
    created_to: str | None = Field(None, description="ISO date or datetime, exclusive (UTC when no offset)")
    tenant: str | None = Field(None, description="admins only; default: the key's tenant (admins: all)")


class ExportRequest(HistoryFilters):
    format: ExportFormat = "jsonl"


class HistoryPage(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None


class ExportCreated(BaseModel):
    export_id: str
    rows: int
    url: str
    expires_at: datetime


def _instant(text: str | None, name: str) -> str | None:
    """An ISO date or datetime as the stored created_at text (UTC, microseconds), so text compares."""
    return None if text is None else parse_instant(text, name).isoformat(timespec="microseconds")


def _store_filters(filters: HistoryFilters) -> dict[str, str | None]:
    """The query layer's filters (status is new_status; instants normalized)."""
    return {
        "entity_type": filters.entity_type,
        "entity_id": filters.entity_id,
        "new_status": filters.status,
        "actor_type": filters.actor_type,
        "actor_id": filters.actor_id,
        "created_from": _instant(filters.created_from, "created_from"),
        "created_to": _instant(filters.created_to, "created_to"),
    }


def _signing_keys(svc: Services) -> SigningKeys:
    """The configured keys; without them cursors and links cannot be issued, so answer 503."""
    try:
        return parse_signing_keys(svc.settings.signing_keys)
    except ValueError:
        raise ApiError(503, "signing_unavailable", "signing keys are not configured on this server") from None


def _after(keys: SigningKeys, cursor: str | None, tenant_id: str | None, filters: dict) -> int | None:
    """The id a cursor resumes after; it must be untampered and issued for this tenant and these filters."""
    if cursor is None:
        return None
    payload = read_token(keys, cursor)
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("after"), int)
        or payload.get("tenant") != tenant_id
        or payload.get("filters") != filters
    ):
        raise ApiError(400, "invalid_cursor", "the cursor is invalid or belongs to another query")
    return payload["after"]


@router.get(
    "/status-history",
    response_model=HistoryPage,
    responses=responses(400, 401, 403, 422, 429, 503),
    summary="Status-history rows: json pages (keyset cursor) or every row as csv/jsonl",
)
def list_history(
    filters: HistoryFilters = Depends(),
    limit: int = Query(100, ge=1, le=1000, description="json page size"),
    cursor: str | None = Query(
        None, description="next_cursor of the previous json page (csv/jsonl ignore it)"
    ),
    format: Literal["json", "csv", "jsonl"] = "json",  # noqa: A002 - the public parameter's name
    principal: Principal = Depends(require("history:read")),
    svc: Services = Depends(services),
) -> Any:
    tenant_id, store_filters = tenant_for(principal, filters.tenant), _store_filters(filters)
    if format != "json":
        disposition = f'attachment; filename="status_history.{format}"'
        return StreamingResponse(
            history_chunks(svc.engine, tenant_id, store_filters, format),
            media_type=MEDIA_TYPES[format],
            headers={"Content-Disposition": disposition},
        )
    keys = _signing_keys(svc)
    after = _after(keys, cursor, tenant_id, store_filters)
    with svc.engine.connect() as conn:
        rows = history_page(conn, tenant_id=tenant_id, filters=store_filters, after_id=after, limit=limit + 1)
    items = rows[:limit]
    more = len(rows) > limit
    next_cursor = (
        sign_token(keys, {"after": items[-1]["id"], "tenant": tenant_id, "filters": store_filters})
        if more
        else None
    )
    return HistoryPage(items=items, next_cursor=next_cursor)


def _export_dir(svc: Services) -> Path:
    """Where exports go; PostgreSQL deployments must choose it, so answer 503 until they do."""
    if not svc.settings.export_dir:
        raise ApiError(503, "export_unavailable", "COSTSIM_EXPORT_DIR is not configured on this server")
    return Path(svc.settings.export_dir)


@router.post(
    "/status-history/exports",
    response_model=ExportCreated,
    status_code=201,
    responses=responses(401, 403, 422, 429, 503),
    summary="Write every matching row to a file and return a signed, expiring download link",
)
def create_export(
    body: ExportRequest,
    principal: Principal = Depends(require("history:read")),
    svc: Services = Depends(services),
) -> ExportCreated:
    tenant_id, store_filters = tenant_for(principal, body.tenant), _store_filters(body)
    keys, export_dir = _signing_keys(svc), _export_dir(svc)
    export_id = str(uuid.uuid4())
    written = write_export(
        svc.engine, export_dir / f"{export_id}.{body.format}", tenant_id, store_filters, body.format
    )
    owner = ALL_TENANTS if tenant_id is None else tenant_id
    with svc.engine.begin() as conn:
        record_export(
            conn,
            {
                "id": export_id,
                "created_at": datetime.now(UTC),
                "tenant_id": owner,
                "actor_key_id": principal.key_id,
                "role": principal.role,
                "filters": store_filters,
                "format": body.format,
                "row_count": written.rows,
                "file_path": str(written.path),
                "sha256": written.sha256,
            },
        )
    path = DOWNLOAD_ROUTE.format(export_id=export_id)
    query = sign_url(keys, "GET", path, f"{export_id}:{owner}", svc.settings.export_ttl_s)
    return ExportCreated(
        export_id=export_id,
        rows=written.rows,
        url=f"{path}?{urlencode(query)}",
        expires_at=datetime.fromtimestamp(int(query["expires"]), UTC),
    )


def _forbidden() -> ApiError:
    """One body for every refused download, so a failure reveals nothing about why."""
    return ApiError(403, "forbidden", "invalid or expired link")


@router.get(
    DOWNLOAD_ROUTE,
    responses=responses(403),
    response_class=FileResponse,
    summary="Download an export (the signed link is the credential; no API key)",
)
def download_export(
    export_id: str, expires: str = "", kid: str = "", sig: str = "", svc: Services = Depends(services)
) -> FileResponse:
    try:
        keys = parse_signing_keys(svc.settings.signing_keys)
    except ValueError:
        raise _forbidden() from None
    with svc.engine.connect() as conn:
        export = find_export(conn, export_id)
    owner = export["tenant_id"] if export else ""
    signed = verify_url(
        keys, "GET", DOWNLOAD_ROUTE.format(export_id=export_id), f"{export_id}:{owner}", expires, kid, sig
    )
    if not (signed and export and Path(export["file_path"]).is_file()):
        raise _forbidden()
    path = Path(export["file_path"])
    return FileResponse(path, media_type=MEDIA_TYPES[export["format"]], filename=path.name)
