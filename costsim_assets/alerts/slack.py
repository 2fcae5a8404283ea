"""Slack incoming-webhook delivery: bounded retries, never raises, and each alert sent at most once.

The webhook URL is a credential (anyone holding it can post to the channel), so it never
appears in an outcome, an error or a log line.
"""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from typing import Any

import sqlalchemy as sa

from costsim_assets.store.incidents import claim_delivery, finish_delivery

LOG = logging.getLogger(__name__)
MAX_RETRY_AFTER_S = 30.0
REDACTED = "[webhook redacted]"
REPLY_BODY_BYTES = 200


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str  # "delivered" | "failed"
    attempts: int
    last_error: str | None


NOT_CONFIGURED = DeliveryOutcome(status="failed", attempts=0, last_error="no Slack webhook configured")


@dataclass(frozen=True)
class _Attempt:
    """One POST: whether it worked, whether trying again could help, and any server-requested wait."""

    ok: bool
    retryable: bool = False
    error: str | None = None
    retry_after_s: float | None = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirected webhook POST would be replayed as a GET and could look delivered; fail instead."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class SlackNotifier:
    def __init__(
        self,
        webhook_url: str,
        *,
        retries: int = 3,
        backoff_s: float = 0.5,
        timeout_s: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._webhook_url = webhook_url
        self._retries = retries
        self._backoff_s = backoff_s
        self._timeout_s = timeout_s
        self._sleep = sleep
        self._opener = urllib.request.build_opener(_NoRedirect)

    def __repr__(self) -> str:
        return f"SlackNotifier({REDACTED}, retries={self._retries})"

    def send(self, text: str, blocks: list | None = None) -> DeliveryOutcome:
        """Post the message, retrying transient failures; the outcome says how it went."""
        message: dict[str, Any] = {"text": text} if blocks is None else {"text": text, "blocks": blocks}
        body = json.dumps(message).encode()
        attempts, result = 1, self._post(body)
        while result.retryable and attempts <= self._retries:
            backoff = self._backoff_s * 2 ** (attempts - 1)
            self._sleep(backoff if result.retry_after_s is None else result.retry_after_s)
            attempts, result = attempts + 1, self._post(body)
        if result.ok:
            return DeliveryOutcome(status="delivered", attempts=attempts, last_error=None)
        LOG.warning("Slack delivery failed after %d attempt(s): %s", attempts, result.error)
        return DeliveryOutcome(status="failed", attempts=attempts, last_error=result.error)

    def _post(self, body: bytes) -> _Attempt:
        try:
            status, text, headers = self._exchange(body)
        except ValueError:  # a malformed URL; its text could hold the secret, so keep none of it
            return _Attempt(ok=False, error="invalid Slack webhook URL")
        except (OSError, http.client.HTTPException) as error:  # refused, reset, DNS, timeout, bad reply
            return _Attempt(ok=False, retryable=True, error=self._redact(f"{type(error).__name__}: {error}"))
        return _classify(status, self._redact(text), headers)

    def _exchange(self, body: bytes) -> tuple[int, str, Message]:
        """One POST; the status, the start of the reply body and the headers, whatever the status."""
        request = urllib.request.Request(
            self._webhook_url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with self._opener.open(request, timeout=self._timeout_s) as response:
                return response.status, _text(response.read(REPLY_BODY_BYTES)), response.headers
        except urllib.error.HTTPError as error:
            return error.code, _text(error.read(REPLY_BODY_BYTES)), error.headers

    def _redact(self, message: str) -> str:
        """Remove the URL, and its secret path on its own, from a message before it is kept."""
        path = urllib.parse.urlsplit(self._webhook_url).path
        message = message.replace(self._webhook_url, REDACTED)
        return message.replace(path, REDACTED) if len(path) > 1 else message


def _classify(status: int, text: str, headers: Message) -> _Attempt:
    """200 is delivered; 5xx and 429 are worth retrying; other statuses (400 invalid_payload,
    404 no_service, a redirect) will fail the same way again."""
    if status == 200:
        return _Attempt(ok=True)
    error = f"HTTP {status}: {text}" if text else f"HTTP {status}"
    if status == 429:
        return _Attempt(ok=False, retryable=True, error=error, retry_after_s=_retry_after(headers))
    return _Attempt(ok=False, retryable=status >= 500, error=error)


def _retry_after(headers: Message) -> float | None:
    """Retry-After in seconds, capped; None (use backoff) when absent or an HTTP date."""
    try:
        return min(max(float(headers.get("Retry-After", "")), 0.0), MAX_RETRY_AFTER_S)
    except ValueError:
        return None


def _text(reply: bytes) -> str:
    return reply.decode("utf-8", "replace").strip()


def deliver_once(
    engine: sa.Engine,
    *,
    dedupe_key: str,
    payload: dict,
    notifier: SlackNotifier | None,
    channel: str = "slack",
    resend_failed: bool = False,
) -> DeliveryOutcome | None:
    """Claim, send outside any transaction, record; None when another sender already claimed it.

    With `resend_failed` a retried caller (the breach-response job under Dagster's retry policy)
    sends again what failed before, the first payload, still at most one delivered message."""
    with engine.begin() as conn:
        claimed = claim_delivery(conn, dedupe_key, channel, payload, resend_failed)
    if claimed is None:
        return None
    outcome = NOT_CONFIGURED if notifier is None else notifier.send(claimed["text"], claimed.get("blocks"))
    with engine.begin() as conn:
        finish_delivery(
            conn,
            dedupe_key,
            channel,
            status=outcome.status,
            attempts=outcome.attempts,
            last_error=outcome.last_error,
        )
    return outcome
