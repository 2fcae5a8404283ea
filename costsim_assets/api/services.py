"""What request handlers need, built once per process by the app's lifespan."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from costsim_assets.api.errors import ApiError
from costsim_assets.api.keys import KeyRing, Principal
from costsim_assets.api.rate_limit import TokenBuckets, retry_after_header
from costsim_assets.sandbox.shadow import ShadowRecorder
from costsim_assets.settings import ApiSettings
from costsim_assets.store.routing import read_routing_state
from costsim_assets.store.tenancy import ALL_TENANTS

LOG = logging.getLogger(__name__)
ROUTING_CACHE_S = 1.0  # a disable reaches every replica within this long
API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key created by `costsim create-key`."
)


@dataclass
class Services:
    settings: ApiSettings
    engine: sa.Engine
    sandbox_engine: sa.Engine
    keys: KeyRing
    limiter: TokenBuckets
    recorder: ShadowRecorder
    v2_model_version: str
    _routing: tuple[float, bool] = field(default=(float("-inf"), False))

    def v2_should_run(self) -> bool:
        """Master flag and routing state (cached ROUTING_CACHE_S); unreadable state: V2 does not run."""
        if not self.settings.v2_sandbox:
            return False
        read_at, enabled = self._routing
        if time.monotonic() - read_at < ROUTING_CACHE_S:
            return enabled
        try:
            with self.engine.connect() as conn:
                enabled = read_routing_state(conn).enabled
        except Exception:
            LOG.exception("routing state unreadable: V2 shadow skipped (fail-safe)")
            enabled = False
        self._routing = (time.monotonic(), enabled)
        return enabled

    def forget_routing(self) -> None:
        """Drop the cached state (after this process changed it)."""
        self._routing = (float("-inf"), False)


def tenant_for(principal: Principal, named: str | None) -> str | None:
    """The one tenant-access rule: admins may name any tenant or none (every tenant); everyone
    else sees only their key's tenant, and naming another is refused."""
    if named == ALL_TENANTS:
        raise ApiError(422, "invalid_request", "'*' is not a tenant: omit tenant to see every tenant")
    if principal.role == "admin":
        return named
    if named is not None and named != principal.tenant_id:
        raise ApiError(
            403,
            "tenant_mismatch",
            "the request names a tenant other than the key's",
            {"key_tenant": principal.tenant_id},
        )
    return principal.tenant_id


def services(request: Request) -> Services:
    return request.app.state.services


def require(permission: str):
    """Dependency: an authenticated, rate-limited principal holding `permission`."""

    def dependency(key: str | None = Depends(API_KEY_HEADER), svc: Services = Depends(services)) -> Principal:
        principal = svc.keys.authenticate(key)
        if principal is None:
            raise ApiError(
                401,
                "unauthenticated",
                "a valid X-API-Key header is required",
                headers={"WWW-Authenticate": "X-API-Key"},
            )
        if not principal.may(permission):
            raise ApiError(
                403,
                "forbidden",
                f"role '{principal.role}' lacks permission '{permission}'",
                {"missing_permission": permission, "role": principal.role},
            )
        wait = svc.limiter.take(principal.key_id, principal.tenant_id)
        if wait > 0:
            raise ApiError(
                429,
                "rate_limited",
                "too many requests for this key",
                {"retry_after_s": wait},
                headers=retry_after_header(wait),
            )
        return principal

    return dependency
