"""HMAC-SHA256 signing for download URLs and opaque cursors, with key ids so keys can rotate.

Keys come from one secret, `COSTSIM_SIGNING_KEYS` = "kid1:<base64url key>,kid2:<...>": the first
key signs, every listed key verifies. There is no default key: without the secret, signing fails.
Verification is constant-time and says only yes or no.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

MIN_KEY_BYTES = 32
_DUMMY_KEY = b"\0" * MIN_KEY_BYTES


@dataclass(frozen=True)
class SigningKeys:
    active_kid: str
    keys: dict[str, bytes]

    def key(self, kid: str) -> bytes | None:
        return self.keys.get(kid)


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_signing_keys(spec: str | None) -> SigningKeys:
    """Parse "kid:key,kid:key"; refuses an empty spec and keys shorter than 32 bytes."""
    entries = [part.strip() for part in (spec or "").split(",") if part.strip()]
    if not entries:
        raise ValueError("COSTSIM_SIGNING_KEYS is not set: signed URLs and cursors are unavailable")
    keys: dict[str, bytes] = {}
    for entry in entries:
        kid, _, encoded = entry.partition(":")
        try:
            key = _b64decode(encoded)
        except (binascii.Error, ValueError) as error:
            raise ValueError(f"signing key {kid!r} is not base64url") from error
        if not kid or len(key) < MIN_KEY_BYTES:
            raise ValueError(f"signing key {kid!r} must have an id and at least {MIN_KEY_BYTES} bytes")
        keys[kid] = key
    return SigningKeys(active_kid=entries[0].partition(":")[0], keys=keys)


def _mac(key: bytes, *parts: str) -> str:
    return hmac.new(key, "\n".join(parts).encode(), hashlib.sha256).hexdigest()


def sign_url(
    keys: SigningKeys, method: str, path: str, resource_id: str, ttl_s: int, now: float | None = None
) -> dict[str, str]:
    """Query parameters (expires, kid, sig) authorising `method path` for `resource_id` until expiry."""
    expires = str(int((time.time() if now is None else now) + ttl_s))
    sig = _mac(keys.keys[keys.active_kid], method.upper(), path, expires, resource_id)
    return {"expires": expires, "kid": keys.active_kid, "sig": sig}


def verify_url(
    keys: SigningKeys,
    method: str,
    path: str,
    resource_id: str,
    expires: str,
    kid: str,
    sig: str,
    now: float | None = None,
) -> bool:
    """True only for an unexpired signature by a known key over exactly these values."""
    key = keys.key(kid)
    expected = _mac(key or _DUMMY_KEY, method.upper(), path, str(expires), resource_id)
    valid = hmac.compare_digest(expected, str(sig))
    try:
        fresh = int(expires) >= (time.time() if now is None else now)
    except ValueError:
        fresh = False
    return valid and fresh and key is not None


def sign_token(keys: SigningKeys, payload: dict) -> str:
    """An opaque, tamper-proof token (e.g. a pagination cursor) carrying `payload`."""
    body = base64.urlsafe_b64encode(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode())
    body_text = body.decode().rstrip("=")
    return f"{keys.active_kid}.{body_text}.{_mac(keys.keys[keys.active_kid], 'token', body_text)}"


def read_token(keys: SigningKeys, token: str) -> dict | None:
    """The payload of a token signed by a known key, or None if it was altered or is malformed."""
    kid, _, rest = token.partition(".")
    body, _, sig = rest.partition(".")
    expected = _mac(keys.key(kid) or _DUMMY_KEY, "token", body)
    if not (hmac.compare_digest(expected, sig) and keys.key(kid) is not None):
        return None
    try:
        return json.loads(_b64decode(body))
    except (ValueError, binascii.Error):
        return None
