"""Signing: URLs and opaque tokens protected by rotating HMAC-SHA256 keys."""
