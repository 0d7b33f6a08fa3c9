"""The HTTPS push to a partner: in order, retried with backoff, one idempotency key.

A real HTTP server stands in for the partner: it fails the first message twice
(503), refuses the second for good (400) and accepts the third. A refused
message, once the partner fixed its side, is re-driven with the same key and
delivered once.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest
from prometheus_client import REGISTRY
from psycopg_pool import AsyncConnectionPool

from services.common.runtime import free_port
from services.common.settings import HubSettings
from services.partner_gateway.outbound import push_to_endpoint
from tests.integration.harness import hub_env
from tests.integration.outbox import (
    CASE,
    add_to_outbox,
    partner_dead_letters,
    payload,
    prepare_outbox,
)

pytestmark = pytest.mark.integration

FIRST, SECOND, THIRD = (uuid.UUID(int=n) for n in (901, 902, 903))


class Partner(BaseHTTPRequestHandler):
    """Answers by script; remembers what it was sent and what it answered."""

    received: list[tuple[str, str, dict[str, Any], int]] = []  # noqa: RUF012
    script: dict[str, list[int]] = {}  # noqa: RUF012

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        key = self.headers["Idempotency-Key"]
        answers = self.script.get(key, [200])
        status = answers.pop(0) if len(answers) > 1 else answers[0]
        self.received.append((key, self.headers["X-API-Key"], body, status))
        self.send_response(status)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        """Quiet."""


@pytest.fixture
def partner() -> Iterator[str]:
    """The partner's endpoint (its URL), with nothing received yet."""
    Partner.received = []
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Partner)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}/messages"
    server.shutdown()


def push(settings: HubSettings, url: str, wanted: int) -> None:
    """Run the push until the partner received ``wanted`` requests."""

    async def run() -> None:
        async with AsyncConnectionPool(
            settings.database_url, min_size=1, max_size=2, open=False
        ) as pool:
            stop = asyncio.Event()
            task = asyncio.create_task(
                push_to_endpoint(
                    pool, "forem", url, "partner-key", stop, max_backoff=0.05
                )
            )
            for _ in range(200):
                if len(Partner.received) >= wanted:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            stop.set()
            await task

    asyncio.run(run())


def test_the_push_retries_parks_refusals_and_keeps_the_order(
    hub_settings: HubSettings, partner: str
) -> None:
    Partner.script = {
        str(FIRST): [503, 503, 200],
        str(SECOND): [400],
        str(THIRD): [401, 200],
    }
    prepare_outbox(hub_settings)
    add_to_outbox(hub_settings, [FIRST, SECOND, THIRD])
    push(hub_settings, partner, 6)
    keys = [key for key, _, _, _ in Partner.received]
    # 503 and 401 are retried with the same key; 400 is parked; order is kept.
    assert keys == [str(FIRST)] * 3 + [str(SECOND)] + [str(THIRD)] * 2
    assert {api_key for _, api_key, _, _ in Partner.received} == {"partner-key"}
    assert [
        (rule, reason, source, message_id)
        for _, rule, _, source, message_id, reason in partner_dead_letters(hub_settings)
    ] == [("partner.refused", "partner refused: HTTP 400", "push:forem", str(SECOND))]
    parked = REGISTRY.get_sample_value(
        "hub_dead_letters_parked", {"consumer": "partner-desk"}
    )
    assert parked == 1


def redrive(
    settings: HubSettings, dead_letter_id: int
) -> subprocess.CompletedProcess[str]:
    command = ["dead-letters", "redrive", "partner_messages", str(dead_letter_id)]
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *command],
        env={**hub_env(settings), "HUB_LOG_LEVEL": "ERROR"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_refused_message_is_redriven_with_its_key_and_delivered_once(
    hub_settings: HubSettings, partner: str
) -> None:
    # FIRST is refused, then the partner fixes its side; SECOND stays refused.
    Partner.script = {str(FIRST): [400, 200], str(SECOND): [400, 422]}
    prepare_outbox(hub_settings)
    add_to_outbox(hub_settings, [FIRST, SECOND, THIRD])
    push(hub_settings, partner, 3)
    (first, *_), (second, *_) = partner_dead_letters(hub_settings)
    settings = hub_settings.model_copy(
        update={
            "partner_endpoints": json.dumps(
                {"forem": {"url": partner, "api_key": "partner-key"}}
            )
        }
    )

    done = redrive(settings, first)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "redriven"
    delivered = [(key, status) for key, _, _, status in Partner.received]
    assert delivered == [
        (str(FIRST), 400),
        (str(SECOND), 400),
        (str(THIRD), 200),
        (str(FIRST), 200),
    ]
    assert Partner.received[-1][2] == payload(FIRST)
    again = redrive(settings, first)
    assert again.returncode != 0
    assert len(Partner.received) == 4  # redriven once: not sent again

    still = redrive(settings, second)
    assert still.returncode == 1
    assert json.loads(still.stdout)["reason"] == "partner refused: HTTP 422"
    assert [row[2:] for row in partner_dead_letters(settings)] == [
        ("redriven", "push:forem", str(FIRST), "partner refused: HTTP 400"),
        ("parked", "push:forem", str(SECOND), "partner refused: HTTP 422"),
    ]


def test_a_refusal_parked_before_message_ids_were_kept_is_found_in_the_outbox(
    hub_settings: HubSettings, partner: str
) -> None:
    Partner.script = {}
    prepare_outbox(hub_settings)
    add_to_outbox(hub_settings, [FIRST])
    with psycopg.connect(hub_settings.database_url, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO partner_messages.dead_letters (case_key, event_type, "
            "payload, reason, source, partner, rule) VALUES (%s, "
            "'partner.forem.outbound', %s, 'partner refused: HTTP 400', "
            "'push:forem', 'forem', 'partner.refused') RETURNING id",
            (str(CASE), json.dumps(payload(FIRST)).encode()),
        ).fetchone()
    assert row is not None
    settings = hub_settings.model_copy(
        update={"partner_endpoints": json.dumps({"forem": {"url": partner}})}
    )
    done = redrive(settings, row[0])
    assert done.returncode == 0, done.stderr
    assert [(key, status) for key, _, _, status in Partner.received] == [
        (str(FIRST), 200)
    ]
    assert partner_dead_letters(settings)[0][2:5] == (
        "redriven",
        "push:forem",
        str(FIRST),
    )
