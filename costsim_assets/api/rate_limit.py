"""Per-key token buckets: `burst` requests at once, refilled at `per_second`; each tenant's keys
may get their own limits from the tenants file (the Helm chart renders it from values)."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Limit:
    per_second: float
    burst: int


class TenantLimits:
    """Limits by tenant: the file's `tenants.<id>.rateLimit`, else the default."""

    def __init__(self, default: Limit, by_tenant: dict[str, Limit] | None = None) -> None:
        self.default, self.by_tenant = default, by_tenant or {}

    @classmethod
    def load(cls, default: Limit, path: str | None) -> TenantLimits:
        if not path:
            return cls(default)
        tenants = (yaml.safe_load(Path(path).read_text()) or {}).get("tenants") or {}
        return cls(
            default,
            {
                tenant: Limit(float(cfg["rateLimit"]["requestsPerSecond"]), int(cfg["rateLimit"]["burst"]))
                for tenant, cfg in tenants.items()
                if (cfg or {}).get("rateLimit")
            },
        )

    def for_tenant(self, tenant_id: str) -> Limit:
        return self.by_tenant.get(tenant_id, self.default)


class TokenBuckets:
    def __init__(self, limits: TenantLimits, clock=time.monotonic) -> None:
        self.limits, self.clock = limits, clock
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, tenant_id: str) -> float:
        """0.0 when a token was taken, else the seconds until one is available."""
        limit = self.limits.for_tenant(tenant_id)
        with self._lock:
            now = self.clock()
            tokens, last = self._state.get(key, (float(limit.burst), now))
            tokens = min(float(limit.burst), tokens + (now - last) * limit.per_second)
            if tokens >= 1.0:
                self._state[key] = (tokens - 1.0, now)
                return 0.0
            self._state[key] = (tokens, now)
            return (1.0 - tokens) / limit.per_second


def retry_after_header(wait_seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(wait_seconds)))}
