"""Slack delivery against a real local HTTP server: retries, no-retry cases, redaction, dedupe."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from costsim_assets.alerts.slack import DeliveryOutcome, SlackNotifier, deliver_once
from costsim_assets.store.engine import make_engine, upgrade_to_head
from costsim_assets.store.incidents import list_deliveries

SECRET_PATH = "/services/T000/B000/s3cr3tT0ken"


@dataclass
class Reply:
    status: int
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


class FakeSlack:
    """Answers POSTs from a script (the last reply repeats) and records every request."""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = replies
        self.requests: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{SECRET_PATH}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                fake.requests.append(
                    {
                        "path": self.path,
                        "content_type": self.headers["Content-Type"],
                        "json": json.loads(body),
                    }
                )
                reply = fake.replies[min(len(fake.requests), len(fake.replies)) - 1]
                time.sleep(reply.delay_s)
                payload = reply.body.encode()
                self.send_response(reply.status)
                for name, value in {"Content-Length": str(len(payload)), **reply.headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        return Handler


@pytest.fixture
def slack() -> Iterator[Callable[..., FakeSlack]]:
    """Start fake Slack servers on free loopback ports; all are shut down after the test."""
    servers: list[FakeSlack] = []

    def start(*replies: Reply) -> FakeSlack:
        fake = FakeSlack(list(replies))
        threading.Thread(target=fake.server.serve_forever, daemon=True).start()
        servers.append(fake)
        return fake

    yield start
    for fake in servers:
        fake.server.shutdown()
        fake.server.server_close()


class Sleeps(list):
    """A no-op sleep that remembers the delays it was asked for."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def notifier(url: str, sleeps: Sleeps | None = None, **options) -> SlackNotifier:
    return SlackNotifier(url, sleep=sleeps if sleeps is not None else Sleeps(), **options)


def test_delivered_on_first_try_posts_json(slack):
    fake = slack(Reply(200))
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*P1*"}}]
    outcome = notifier(fake.url).send("drift", blocks)
    assert outcome == DeliveryOutcome(status="delivered", attempts=1, last_error=None)
    assert fake.requests == [
        {"path": SECRET_PATH, "content_type": "application/json", "json": {"text": "drift", "blocks": blocks}}
    ]


def test_text_only_message_omits_blocks(slack):
    fake = slack(Reply(200))
    assert notifier(fake.url).send("hello").status == "delivered"
    assert fake.requests[0]["json"] == {"text": "hello"}


def test_server_errors_are_retried_with_exponential_backoff(slack):
    fake, sleeps = slack(Reply(500), Reply(500), Reply(200)), Sleeps()
    outcome = notifier(fake.url, sleeps, backoff_s=0.5).send("x")
    assert outcome == DeliveryOutcome(status="delivered", attempts=3, last_error=None)
    assert sleeps == [0.5, 1.0]
    assert len(fake.requests) == 3


def test_persistent_server_error_fails_after_all_retries(slack):
    fake, sleeps = slack(Reply(500, "internal_error")), Sleeps()
    outcome = notifier(fake.url, sleeps, retries=3, backoff_s=0.25).send("x")
    assert outcome == DeliveryOutcome(status="failed", attempts=4, last_error="HTTP 500: internal_error")
    assert sleeps == [0.25, 0.5, 1.0]
    assert len(fake.requests) == 4


def test_rate_limit_honours_retry_after(slack):
    fake, sleeps = slack(Reply(429, "rate_limited", {"Retry-After": "2"}), Reply(200)), Sleeps()
    outcome = notifier(fake.url, sleeps).send("x")
    assert outcome.status == "delivered" and outcome.attempts == 2
    assert sleeps == [2.0]


@pytest.mark.parametrize(
    ("retry_after", "expected"), [("120", 30.0), ("-5", 0.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.5)]
)
def test_retry_after_is_capped_and_dates_fall_back_to_backoff(slack, retry_after, expected):
    fake, sleeps = slack(Reply(429, "", {"Retry-After": retry_after}), Reply(200)), Sleeps()
    assert notifier(fake.url, sleeps, backoff_s=0.5).send("x").status == "delivered"
    assert sleeps == [expected]


def test_rate_limit_without_retry_after_uses_backoff(slack):
    fake, sleeps = slack(Reply(429, ""), Reply(429, ""), Reply(200)), Sleeps()
    assert notifier(fake.url, sleeps, backoff_s=1.0).send("x").attempts == 3
    assert sleeps == [1.0, 2.0]


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(400, "invalid_payload"), "HTTP 400: invalid_payload"),
        (Reply(403, "invalid_token"), "HTTP 403: invalid_token"),
        (Reply(204, ""), "HTTP 204"),
        (Reply(302, "", {"Location": "http://127.0.0.1:9/elsewhere"}), "HTTP 302"),
    ],
)
def test_client_errors_and_unexpected_statuses_are_not_retried(slack, reply, error):
    fake, sleeps = slack(reply, Reply(200)), Sleeps()
    assert notifier(fake.url, sleeps).send("x") == DeliveryOutcome(
        status="failed", attempts=1, last_error=error
    )
    assert sleeps == [] and len(fake.requests) == 1


def test_webhook_url_never_appears_in_errors_or_logs(slack, caplog):
    fake = slack(Reply(404, f"no_service for {SECRET_PATH}"))
    outcome = notifier(fake.url).send("x")
    assert outcome.last_error == "HTTP 404: no_service for [webhook redacted]"
    assert "s3cr3tT0ken" not in caplog.text and "s3cr3tT0ken" not in repr(notifier(fake.url))
    assert "Slack delivery failed after 1 attempt(s)" in caplog.text


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{SECRET_PATH}"


def test_connection_refused_is_retried_then_fails():
    sleeps = Sleeps()
    outcome = notifier(closed_port_url(), sleeps, retries=2, backoff_s=0.1).send("x")
    assert outcome.status == "failed" and outcome.attempts == 3
    assert "Connection refused" in outcome.last_error and "s3cr3tT0ken" not in outcome.last_error
    assert sleeps == [0.1, 0.2]


def test_timeout_is_retried(slack):
    fake, sleeps = slack(Reply(200, delay_s=1.0), Reply(200)), Sleeps()
    outcome = notifier(fake.url, sleeps, timeout_s=0.2).send("x")
    assert outcome == DeliveryOutcome(status="delivered", attempts=2, last_error=None)
    assert sleeps == [0.5]


def test_malformed_url_fails_without_echoing_it():
    outcome = notifier("hooks.slack.com/services/T/B/s3cr3tT0ken").send("x")
    assert outcome == DeliveryOutcome(status="failed", attempts=1, last_error="invalid Slack webhook URL")


@pytest.fixture
def migrated(database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


def deliveries(engine: sa.Engine) -> list[dict]:
    with engine.connect() as conn:
        return list_deliveries(conn)


def test_deliver_once_sends_one_message_per_key(migrated, slack):
    fake = slack(Reply(200))
    payload = {"text": "P1 drift on 2024-05-01", "blocks": [{"type": "divider"}]}
    first = deliver_once(
        migrated, dedupe_key="incident:drift:2024-05-01", payload=payload, notifier=notifier(fake.url)
    )
    again = deliver_once(
        migrated, dedupe_key="incident:drift:2024-05-01", payload=payload, notifier=notifier(fake.url)
    )
    assert first == DeliveryOutcome(status="delivered", attempts=1, last_error=None)
    assert again is None
    assert [r["json"] for r in fake.requests] == [payload]
    [row] = deliveries(migrated)
    assert (
        row["dedupe_key"],
        row["channel"],
        row["status"],
        row["attempts"],
        row["last_error"],
        row["payload"],
    ) == ("incident:drift:2024-05-01", "slack", "delivered", 1, None, payload)


def test_deliver_once_records_a_failed_delivery(migrated, slack):
    fake = slack(Reply(500, "down"))
    outcome = deliver_once(
        migrated, dedupe_key="k", payload={"text": "x"}, notifier=notifier(fake.url, retries=1)
    )
    assert outcome == DeliveryOutcome(status="failed", attempts=2, last_error="HTTP 500: down")
    [row] = deliveries(migrated)
    assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 2, "HTTP 500: down")


def test_deliver_once_without_a_webhook_records_a_failure(migrated):
    outcome = deliver_once(migrated, dedupe_key="k", payload={"text": "x"}, notifier=None)
    assert outcome == DeliveryOutcome(status="failed", attempts=0, last_error="no Slack webhook configured")
    assert deliver_once(migrated, dedupe_key="k", payload={"text": "x"}, notifier=None) is None
    [row] = deliveries(migrated)
    assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 0, "no Slack webhook configured")


def test_same_key_on_another_channel_is_a_separate_delivery(migrated, slack):
    fake = slack(Reply(200))
    for channel in ("slack", "slack-oncall"):
        assert (
            deliver_once(
                migrated, dedupe_key="k", payload={"text": "x"}, notifier=notifier(fake.url), channel=channel
            ).status
            == "delivered"
        )
    assert len(fake.requests) == 2 and len(deliveries(migrated)) == 2
