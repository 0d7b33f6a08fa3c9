"""The HTTPS push to a partner: in order, retried with backoff, one idempotency key.

A real HTTP server stands in for the partner: it fails the first message twice
(503), refuses the second for good (400) and accepts the third.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from services.common.consumer import ProjectionStore
from services.common.runtime import free_port
from services.common.settings import HubSettings
from services.partner_gateway.inbound import QUARANTINE, create_quarantine
from services.partner_gateway.outbound import OutboundProjection, push_to_endpoint

pytestmark = pytest.mark.integration

FIRST, SECOND, THIRD = (uuid.UUID(int=n) for n in (901, 902, 903))
CASE = uuid.UUID(int=900)


class Partner(BaseHTTPRequestHandler):
    """Answers by script; remembers what it was sent."""

    received: list[tuple[str, str, dict[str, Any]]] = []  # noqa: RUF012
    script: dict[str, list[int]] = {}  # noqa: RUF012

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        key = self.headers["Idempotency-Key"]
        self.received.append((key, self.headers["X-API-Key"], body))
        answers = self.script.get(key, [200])
        status = answers.pop(0) if len(answers) > 1 else answers[0]
        self.send_response(status)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        """Quiet."""


def test_the_push_retries_parks_refusals_and_keeps_the_order(
    hub_settings: HubSettings,
) -> None:
    Partner.script = {
        str(FIRST): [503, 503, 200],
        str(SECOND): [400],
        str(THIRD): [401, 200],
    }
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Partner)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    async def run() -> list[Any]:
        async with AsyncConnectionPool(
            hub_settings.database_url, min_size=1, max_size=2, open=False
        ) as pool:
            with psycopg.connect(hub_settings.database_url, autocommit=True) as sync:
                create_quarantine(sync, QUARANTINE)
            async with pool.connection() as conn:
                await ProjectionStore(OutboundProjection(), "partners").create_tables(
                    conn
                )
                for message_id in (FIRST, SECOND, THIRD):
                    await conn.execute(
                        "INSERT INTO partners.outbox (message_id, partner, case_id, "
                        "kind, payload) VALUES (%s, 'forem', %s, 'phase_changed', %s)",
                        (
                            message_id,
                            CASE,
                            Jsonb({"identifiant_message": str(message_id)}),
                        ),
                    )
            stop = asyncio.Event()
            push = asyncio.create_task(
                push_to_endpoint(
                    pool,
                    "forem",
                    f"http://127.0.0.1:{port}/messages",
                    "partner-key",
                    stop,
                    max_backoff=0.05,
                )
            )
            for _ in range(200):
                if len(Partner.received) >= 6:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            stop.set()
            await push
            async with pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT reason, source FROM partner_messages.dead_letters "
                    "ORDER BY id"
                )
                return list(await cur.fetchall())

    try:
        parked = asyncio.run(run())
    finally:
        server.shutdown()
    keys = [key for key, _, _ in Partner.received]
    # 503 and 401 are retried with the same key; 400 is parked; order is kept.
    assert keys == [str(FIRST)] * 3 + [str(SECOND)] + [str(THIRD)] * 2
    assert {api_key for _, api_key, _ in Partner.received} == {"partner-key"}
    assert parked == [("partner refused: HTTP 400", "push:forem")]
