"""Query-parameter parsing shared by the endpoints, with the same structured 422 everywhere."""

from __future__ import annotations

from datetime import UTC, datetime

from costsim_assets.api.errors import ApiError


def parse_instant(text: str, name: str) -> datetime:
    """An ISO date (midnight UTC) or datetime (naive = UTC) as an aware UTC datetime."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(
            422,
            "invalid_request",
            f"{name} is not an ISO date or datetime",
            [{"path": name, "reason": "expected YYYY-MM-DD or an ISO 8601 datetime"}],
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
