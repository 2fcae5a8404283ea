"""API keys: stored only as SHA-256 hashes in a YAML file, each bound to a tenant and a role.

A key reads `csk_<key id>_<secret>`; the id selects the entry, the secret's hash is compared in
constant time. `create_key` appends an entry atomically and returns the key (shown once).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

from costsim_assets.artifacts.files import write_text

ROLES = ("admin", "engineer", "auditor", "service")
PERMISSIONS: dict[str, frozenset[str]] = {
    "simulate": frozenset({"admin", "engineer", "service"}),
    "outcomes:write": frozenset({"admin", "service"}),
    "v2:read": frozenset({"admin", "engineer", "auditor"}),
    "v2:write": frozenset({"admin"}),
    "history:read": frozenset({"admin", "auditor"}),
    "report:read": frozenset({"admin", "engineer", "auditor"}),
}
PREFIX = "csk"
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()


@dataclass(frozen=True)
class Principal:
    key_id: str
    tenant_id: str
    role: str

    def may(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyRing:
    """The loaded key file: key id -> (secret hash, tenant, role)."""

    def __init__(self, entries: dict[str, dict]) -> None:
        self.entries = entries

    @classmethod
    def load(cls, path: str | Path) -> KeyRing:
        data = yaml.safe_load(Path(path).read_text()) or {}
        return cls({e["id"]: e for e in data.get("keys", [])})

    def authenticate(self, presented: str | None) -> Principal | None:
        """The principal for a presented key, or None; the hash comparison is constant-time."""
        parts = (presented or "").split("_", 2)
        key_id, secret = (parts[1], parts[2]) if len(parts) == 3 and parts[0] == PREFIX else ("", "")
        entry = self.entries.get(key_id)
        expected = entry["sha256"] if entry else _DUMMY_HASH
        matches = hmac.compare_digest(_hash(secret), expected)
        return Principal(key_id, entry["tenant"], entry["role"]) if matches and entry else None


def create_key(path: str | Path, tenant_id: str, role: str) -> str:
    """Add a key for (tenant, role) to the file and return it; only its hash is stored."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    path = Path(path)
    data = (yaml.safe_load(path.read_text()) if path.exists() else None) or {"keys": []}
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24).replace("_", "-")
    data["keys"].append({"id": key_id, "sha256": _hash(secret), "tenant": tenant_id, "role": role})
    write_text(path, yaml.safe_dump(data, sort_keys=False))
    path.chmod(0o600)
    return f"{PREFIX}_{key_id}_{secret}"
