"""Signed URLs and tokens: expiry, tampering, rotation, no default key."""

import base64

import pytest

from costsim_assets.security.signing import parse_signing_keys, read_token, sign_token, sign_url, verify_url

K1 = base64.urlsafe_b64encode(b"1" * 32).decode()
K2 = base64.urlsafe_b64encode(b"2" * 32).decode()


def test_url_signature_roundtrip_expiry_and_tampering():
    keys = parse_signing_keys(f"k1:{K1}")
    q = sign_url(keys, "get", "/x/e1/download", "e1", ttl_s=60, now=1000)
    assert verify_url(keys, "GET", "/x/e1/download", "e1", q["expires"], q["kid"], q["sig"], now=1059)
    assert not verify_url(keys, "GET", "/x/e1/download", "e1", q["expires"], q["kid"], q["sig"], now=1061)
    assert not verify_url(keys, "GET", "/x/e2/download", "e2", q["expires"], q["kid"], q["sig"], now=1000)
    assert not verify_url(
        keys, "GET", "/x/e1/download", "e1", str(int(q["expires"]) + 100), q["kid"], q["sig"], now=1000
    )
    assert not verify_url(keys, "GET", "/x/e1/download", "e1", "soon", q["kid"], q["sig"], now=1000)
    assert not verify_url(keys, "GET", "/x/e1/download", "e1", q["expires"], "k9", q["sig"], now=1000)


def test_rotation_old_key_still_verifies_new_key_signs():
    old = parse_signing_keys(f"k1:{K1}")
    rotated = parse_signing_keys(f"k2:{K2},k1:{K1}")
    q = sign_url(old, "GET", "/p", "r", 60, now=0)
    assert verify_url(rotated, "GET", "/p", "r", q["expires"], q["kid"], q["sig"], now=0)
    assert sign_url(rotated, "GET", "/p", "r", 60, now=0)["kid"] == "k2"


def test_tokens_are_tamper_proof():
    keys = parse_signing_keys(f"k1:{K1}")
    token = sign_token(keys, {"after": 41, "tenant": "a"})
    assert read_token(keys, token) == {"after": 41, "tenant": "a"}
    kid, body, sig = token.split(".")
    forged = base64.urlsafe_b64encode(b'{"after":1,"tenant":"b"}').decode().rstrip("=")
    assert read_token(keys, f"{kid}.{forged}.{sig}") is None
    assert read_token(keys, "garbage") is None
    assert read_token(parse_signing_keys(f"k2:{K2}"), token) is None


@pytest.mark.parametrize(
    "spec", [None, "", " , ", "k1", f"k1:{base64.urlsafe_b64encode(b'short').decode()}", ":" + K1, "k1:***"]
)
def test_no_working_default_and_weak_keys_refused(spec):
    with pytest.raises(ValueError):
        parse_signing_keys(spec)
