"""Outbound: hub events become partner messages in an outbox, then leave the hub.

The gateway consumes the intake, PIIS and placement topics through the consumer
framework. Its fold keeps each case's routing facts and, for the events a
partner must hear of, writes the partner's message (translated, allow-listed)
into ``partners.outbox`` in the same transaction as the consumer's positions:
a redelivered event finds its message id there and adds nothing.

Publishers then follow the outbox: one per partner to
``partner.<code>.outbound.v1`` (keyed by case), and one per partner endpoint
configured for an HTTPS push (retries with backoff, the message id as
``Idempotency-Key``). Each records its position only after the broker's ack or
the partner's 2xx. A partner's permanent refusal (4xx) parks the message with
the reason and moves on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx
import psycopg
from aiokafka import AIOKafkaProducer
from psycopg import sql
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from contracts.envelope import ContractEvent
from contracts.income import IncomeRightGrantedV1
from contracts.intake import BeneficiaryRegisteredV1
from contracts.piis import PhaseChangedV1, PIISSignedV1
from contracts.placement import Article60EndedV1, Article60StartedV1
from services.common.consumer import NotYetError
from services.common.settings import HubSettings
from services.partner_gateway.canonical import RoutingFacts, outbound_for
from services.partner_gateway.facts import RoutingFactsTable, routing_facts
from services.partner_gateway.registry import PARTNERS

__all__ = [
    "GatewayCase",
    "OutboundProjection",
    "OutboxEntry",
    "outbound_topic",
    "publish_to_broker",
    "push_to_endpoint",
]

log = logging.getLogger(__name__)

# The events partners hear of (services/partner_gateway/canonical.py maps them).
PARTNER_EVENTS: Final = (
    IncomeRightGrantedV1,
    PIISSignedV1,
    PhaseChangedV1,
    Article60StartedV1,
    Article60EndedV1,
)
_IDLE_SECONDS = 0.2
_PAGE = 500


def outbound_topic(code: str) -> str:
    """The topic a partner reads its messages from (without the prefix)."""
    return f"partner.{code}.outbound.v1"


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One partner message ready to leave the hub."""

    message_id: uuid.UUID
    partner: str
    case_id: uuid.UUID
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class GatewayCase:
    """A case's routing facts and the messages this batch adds for it."""

    facts: RoutingFacts | None
    outbox: tuple[OutboxEntry, ...] = ()
    facts_changed: bool = False


class OutboundProjection:
    """The fold from hub events to routing facts and outbox entries."""

    name = "partner-outbound"

    def __init__(self) -> None:
        self._facts = RoutingFactsTable()

    def fold(self, row: GatewayCase | None, event: ContractEvent) -> GatewayCase | None:
        """The case after one event (None: nothing for the gateway)."""
        if isinstance(event, BeneficiaryRegisteredV1):
            outbox = row.outbox if row else ()
            return GatewayCase(routing_facts(event), outbox, facts_changed=True)
        if not isinstance(event, PARTNER_EVENTS):
            return None
        if row is None or row.facts is None:
            # Intake's registration has not reached the gateway yet.
            raise NotYetError(str(event.case_id))
        message = outbound_for(event, row.facts)
        if message is None:
            return None
        translator = PARTNERS[row.facts.partner]
        entry = OutboxEntry(
            message_id=message.message_id,
            partner=translator.code,
            case_id=event.case_id,
            kind=message.kind,
            payload=translator.translate(message, row.facts),
        )
        return dataclasses.replace(row, outbox=(*row.outbox, entry))

    async def create_tables(
        self, conn: psycopg.AsyncConnection[Any], schema: str
    ) -> None:
        """Routing facts, the outbox and the publishers' positions."""
        await self._facts.create_tables(conn, schema)
        ident = sql.Identifier(schema)
        await conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.outbox (id bigserial PRIMARY KEY, "
                "message_id uuid NOT NULL UNIQUE, partner text NOT NULL, "
                "case_id uuid NOT NULL, kind text NOT NULL, payload jsonb NOT NULL, "
                "tx xid8 NOT NULL DEFAULT pg_current_xact_id(), "
                "created_at timestamptz NOT NULL DEFAULT now())"
            ).format(ident)
        )
        await conn.execute(
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS outbox_partner ON {}.outbox "
                "(partner, tx, id)"
            ).format(ident)
        )
        await conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.outbox_positions (channel text "
                "PRIMARY KEY, last_tx xid8 NOT NULL, last_id bigint NOT NULL)"
            ).format(ident)
        )

    async def load(
        self, conn: psycopg.AsyncConnection[Any], schema: str, keys: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, GatewayCase]:
        """The routing facts of some cases (no pending messages yet)."""
        found = await self._facts.load(conn, schema, keys)
        return {key: GatewayCase(facts) for key, facts in found.items()}

    async def store(
        self,
        conn: psycopg.AsyncConnection[Any],
        schema: str,
        rows: dict[uuid.UUID, GatewayCase],
    ) -> None:
        """Upsert changed facts; add the new messages (each message id once)."""
        changed = {
            key: row.facts
            for key, row in rows.items()
            if row.facts_changed and row.facts is not None
        }
        if changed:
            await self._facts.store(conn, schema, changed)
        entries = [entry for row in rows.values() for entry in row.outbox]
        if not entries:
            return
        async with conn.cursor() as cur:
            await cur.executemany(
                sql.SQL(
                    "INSERT INTO {}.outbox (message_id, partner, case_id, kind, "
                    "payload) VALUES (%s, %s, %s, %s, %s) "
                    "ON CONFLICT (message_id) DO NOTHING"
                ).format(sql.Identifier(schema)),
                [
                    (e.message_id, e.partner, e.case_id, e.kind, Jsonb(e.payload))
                    for e in entries
                ],
            )


class _Outbox:
    """Reads a partner's outbox after a channel's position; moves the position.

    Three consumers write the outbox in concurrent transactions, so ids do not
    commit in order. Rows are read in (transaction, id) order and only from
    transactions older than every one still running: a row that commits later
    always sorts after the position, so none is skipped.
    """

    def __init__(
        self, pool: AsyncConnectionPool[Any], schema: str, channel: str
    ) -> None:
        self._pool = pool
        self._channel = channel
        ident = sql.Identifier(schema)
        self._select = sql.SQL(
            "SELECT id, message_id, case_id, payload, tx FROM {}.outbox o "
            "WHERE partner = %s AND tx < pg_snapshot_xmin(pg_current_snapshot()) "
            "AND (tx, id) > COALESCE((SELECT (last_tx, last_id) FROM "
            "{}.outbox_positions WHERE channel = %s), ('0'::xid8, 0)) "
            "ORDER BY tx, id LIMIT %s"
        ).format(ident, ident)
        self._advance = sql.SQL(
            "INSERT INTO {}.outbox_positions (channel, last_tx, last_id) "
            "VALUES (%s, %s, %s) ON CONFLICT (channel) DO UPDATE SET "
            "last_tx = EXCLUDED.last_tx, last_id = EXCLUDED.last_id"
        ).format(ident)

    async def next_page(self, partner: str) -> list[tuple[Any, ...]]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(self._select, (partner, self._channel, _PAGE))
            return list(await cur.fetchall())

    async def advance(self, row: tuple[Any, ...]) -> None:
        """Record a row (id, …, tx) as delivered on this channel."""
        async with self._pool.connection() as conn:
            await conn.execute(self._advance, (self._channel, row[-1], row[0]))


async def publish_to_broker(
    settings: HubSettings,
    pool: AsyncConnectionPool[Any],
    producer: AIOKafkaProducer,
    stop: asyncio.Event,
    *,
    schema: str = "partners",
) -> None:
    """Publish every partner's outbox to its topic, in order, until ``stop``."""
    outboxes = {code: _Outbox(pool, schema, f"kafka:{code}") for code in PARTNERS}
    while not stop.is_set():
        busy = False
        for code, outbox in outboxes.items():
            page = await outbox.next_page(code)
            if not page:
                continue
            busy = True
            topic = settings.topic(outbound_topic(code))
            sent = [
                await producer.send(
                    topic,
                    value=json.dumps(payload, ensure_ascii=False).encode(),
                    key=str(case_id).encode(),
                    headers=[("message-id", str(message_id).encode())],
                )
                for _, message_id, case_id, payload, _ in page
            ]
            await asyncio.gather(*sent)
            await outbox.advance(page[-1])
        if not busy:
            await asyncio.sleep(_IDLE_SECONDS)


async def push_to_endpoint(
    pool: AsyncConnectionPool[Any],
    code: str,
    url: str,
    api_key: str,
    stop: asyncio.Event,
    *,
    schema: str = "partners",
    dead_letters_schema: str = "partner_messages",
    client: httpx.AsyncClient | None = None,
    max_backoff: float = 30.0,
) -> None:
    """POST a partner's outbox to its endpoint, in order, each message until 2xx."""
    outbox = _Outbox(pool, schema, f"http:{code}")
    http = client or httpx.AsyncClient(timeout=10)
    try:
        while not stop.is_set():
            page = await outbox.next_page(code)
            if not page:
                await asyncio.sleep(_IDLE_SECONDS)
                continue
            for row in page:
                _, message_id, case_id, payload, _ = row
                refusal = await _deliver(
                    http,
                    url,
                    api_key=api_key,
                    message_id=message_id,
                    payload=payload,
                    stop=stop,
                    max_backoff=max_backoff,
                )
                if stop.is_set():
                    return
                if refusal is not None:
                    await _park_refused(
                        pool,
                        dead_letters_schema,
                        code=code,
                        case_id=case_id,
                        payload=payload,
                        reason=refusal,
                    )
                await outbox.advance(row)
    finally:
        if client is None:
            await http.aclose()


async def _deliver(
    http: httpx.AsyncClient,
    url: str,
    *,
    api_key: str,
    message_id: uuid.UUID,
    payload: dict[str, Any],
    stop: asyncio.Event,
    max_backoff: float,
) -> str | None:
    """Deliver one message; None when accepted, the reason when refused for good."""
    headers = {"Idempotency-Key": str(message_id), "X-API-Key": api_key}
    backoff = 0.2
    while not stop.is_set():
        try:
            answer = await http.post(url, json=payload, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("push to %s failed (%s); retrying", url, type(exc).__name__)
        else:
            if answer.is_success or answer.status_code == httpx.codes.CONFLICT:
                return None  # 409: the partner already has this idempotency key
            # 401/403: our key is refused (expired, rotated): retried until an
            # operator fixes the configuration, never taken as the message's fault.
            retryable = (
                answer.status_code in {401, 403, 408, 425, 429}
                or answer.is_server_error
            )
            if not retryable:
                return f"partner refused: HTTP {answer.status_code}"
            log.warning("push to %s answered %s; retrying", url, answer.status_code)
        await asyncio.sleep(backoff)
        backoff = min(max_backoff, backoff * 2)
    return None


async def _park_refused(
    pool: AsyncConnectionPool[Any],
    schema: str,
    *,
    code: str,
    case_id: uuid.UUID,
    payload: dict[str, Any],
    reason: str,
) -> None:
    async with pool.connection() as conn:
        await conn.execute(
            sql.SQL(
                "INSERT INTO {}.dead_letters (case_key, event_type, payload, reason, "
                "source, partner, rule) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            ).format(sql.Identifier(schema)),
            (
                str(case_id),
                f"partner.{code}.outbound",
                json.dumps(payload, ensure_ascii=False).encode(),
                reason,
                f"push:{code}",
                code,
                "partner.refused",
            ),
        )
