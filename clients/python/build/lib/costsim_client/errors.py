"""Typed exceptions: one per status family, each carrying the API's {code, message, details}."""

from __future__ import annotations

from typing import Any

import httpx


class CostSimError(Exception):
    """Any error answer of the API (the base: catch it to handle every status at once)."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details


class BadRequestError(CostSimError):
    """400: malformed JSON, an invalid cursor."""


class AuthenticationError(CostSimError):
    """401: the API key is missing or unknown."""


class PermissionDeniedError(CostSimError):
    """403: the key's role lacks the permission, another tenant was named, or a link is refused."""


class NotFoundError(CostSimError):
    """404: no such resource."""


class ConflictError(CostSimError):
    """409: nothing changed (e.g. V2 routing is already in the requested state)."""


class ValidationError(CostSimError):
    """422: the request does not match the schema (details carry field paths)."""


class RateLimitedError(CostSimError):
    """429 after the bounded retries were spent (or Retry-After exceeded the allowed wait)."""

    def __init__(self, status: int, code: str, message: str, details: Any, retry_after_s: float) -> None:
        super().__init__(status, code, message, details)
        self.retry_after_s = retry_after_s


class ServerError(CostSimError):
    """5xx: the server failed or a dependency (signing keys, export directory) is unavailable."""


class TransportError(CostSimError):
    """No HTTP answer: connection refused, a timeout (status 0; the httpx error is the cause)."""


_BY_STATUS: dict[int, type[CostSimError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
}


def retry_after_s(response: httpx.Response) -> float:
    """Retry-After in seconds (delta form); 1 s when absent or unreadable."""
    try:
        return max(0.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


def _error_body(response: httpx.Response) -> tuple[str, str, Any]:
    """The {code, message, details} of an error body, or a stand-in for one that is not the API's."""
    try:
        error = response.json()["error"]
        return str(error["code"]), str(error["message"]), error.get("details")
    except (ValueError, KeyError, TypeError):
        return f"http_{response.status_code}", response.text[:500], None


def error_for(response: httpx.Response) -> CostSimError:
    """The typed exception for an error response (its body must have been read)."""
    status = response.status_code
    code, message, details = _error_body(response)
    if status == 429:
        return RateLimitedError(status, code, message, details, retry_after_s(response))
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else CostSimError)
    return cls(status, code, message, details)
