"""CostSim API client, SDK v1: `Client` (sync) and `AsyncClient` (async) on httpx."""

from costsim_client._core import DEFAULT_TIMEOUT, MAX_OUTCOMES_PER_REQUEST, RetryEvent, RetryPolicy
from costsim_client.async_client import AsyncClient
from costsim_client.client import Client
from costsim_client.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    CostSimError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    TransportError,
    ValidationError,
)
from costsim_client.types import Downloaded

__version__ = "1.0.0"
__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_OUTCOMES_PER_REQUEST",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConflictError",
    "CostSimError",
    "Downloaded",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RetryEvent",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "ValidationError",
]
