"""Outbound: hub events become partner messages in an outbox, then leave the hub.

The gateway consumes the intake, PIIS and placement topics through the consumer
framework. Its fold keeps each case's routing facts and, for the events a
partner must hear of, writes the partner's message (translated, allow-listed)
into ``partners.outbox`` in the same transaction as the consumer's positions:
a redelivered event finds its message id there and adds nothing. It also
follows the gateway's own topic: each form submitted to SPP IS
(``FederalFormSubmittedV1``) puts the form's wire JSON, the payload whose
SHA-256 the event keeps, in the same outbox under the form's id, for
``partner.spp_is.outbound.v1`` (ADR 0021).

Publishers then follow the outbox: one per partner to
``partner.<code>.outbound.v1`` (keyed by case), and one per partner endpoint
configured for an HTTPS push (retries with backoff, the message id as
``Idempotency-Key``). Each records its position only after the broker's ack or
the partner's 2xx. The topic is a copy of the outbox: a broker that came back
empty, or lost the topic, gets the partner's outbox again from the start. A
message the broker refuses for good (``partner.unpublishable``) and a
partner's permanent refusal (4xx, ``partner.refused``) park the message in
``partner_messages.dead_letters`` with its id and the reason, and the
publisher moves on; ``redrive_outbound`` sends a parked one again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx
import psycopg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from psycopg import sql
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_result,
    stop_after_attempt,
    wait_exponential,
)

from contracts.envelope import ContractEvent
from contracts.federal_reporting import FederalFormSubmittedV1
from contracts.income import IncomeRightGrantedV1
from contracts.intake import BeneficiaryRegisteredV1, CaseErasedV1
from contracts.piis import PhaseChangedV1, PIISSignedV1
from contracts.placement import Article60EndedV1, Article60StartedV1
from services.common import metrics
from services.common.consumer import NotYetError
from services.common.erasure import erase_row_table
from services.common.kafka import (
    REFUSED_FOR_GOOD,
    BrokerAdmin,
    BrokerClients,
    CopyWatch,
    make_producer,
    pause,
    publish_rounds,
)
from services.common.settings import HubSettings
from services.common.vault import Vault, current_vault
from services.partner_gateway.canonical import RoutingFacts
from services.partner_gateway.facts import RoutingFactsTable, routing_facts
from services.partner_gateway.partners import spp_is
from services.partner_gateway.quarantine import QUARANTINE, refresh_gauges_async
from services.partner_gateway.registry import CHANNELS, PARTNERS
from services.partner_gateway.routing import FACT_EVENTS, route

__all__ = [
    "ERASURE_NOTICE",
    "OUTBOUND_RULES",
    "GatewayCase",
    "OutboundProjection",
    "OutboxEntry",
    "is_outbound",
    "outbound_topic",
    "partner_topic_configs",
    "publish_to_broker",
    "push_to_endpoint",
    "redrive_outbound",
    "seal_kept",
]

log = logging.getLogger(__name__)

# The events partners hear of (services/partner_gateway/canonical.py maps them).
PARTNER_EVENTS: Final = (
    IncomeRightGrantedV1,
    PIISSignedV1,
    PhaseChangedV1,
    Article60StartedV1,
    Article60EndedV1,
    CaseErasedV1,
)
ERASURE_NOTICE: Final = "case_erased"
"""The kind of the outbox rows that tell a partner of an erasure (kept by it)."""
_IDLE_SECONDS = 0.2
_PAGE = 500
_BROKER_CHECK_SECONDS = 1.0
_REDRIVE_ATTEMPTS = 3
# The rules of the outbound messages kept (the others are partners' messages).
OUTBOUND_RULES: Final = ("partner.refused", "partner.unpublishable")


def outbound_topic(code: str) -> str:
    """The topic a partner reads its messages from (without the prefix)."""
    return f"partner.{code}.outbound.v1"


def partner_topic_configs(settings: HubSettings) -> dict[str, str]:
    """The settings of a partner's topics: a bounded retention (ADR 0023)."""
    return {"retention.ms": str(settings.partner_topic_retention_hours * 3_600_000)}


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
        if isinstance(event, FederalFormSubmittedV1):
            return _with_form(row, event)
        if isinstance(event, BeneficiaryRegisteredV1):
            outbox = row.outbox if row else ()
            return GatewayCase(routing_facts(event), outbox, facts_changed=True)
        if not isinstance(event, PARTNER_EVENTS + FACT_EVENTS):
            return None
        if row is None or row.facts is None:
            if isinstance(event, CaseErasedV1):
                # Its registration came first on intake's topic and was parked:
                # no partner was told of the file; the purge (erase) still runs.
                return None
            # Intake's registration has not reached the gateway yet.
            raise NotYetError(str(event.case_id))
        facts, messages = route(event, row.facts)
        if not messages and facts == row.facts:
            return None
        entries = []
        for message, addressed in messages:
            translator = PARTNERS[addressed.partner]
            entries.append(
                OutboxEntry(
                    message_id=message.message_id,
                    partner=translator.code,
                    case_id=event.case_id,
                    kind=message.kind,
                    payload=translator.translate(message, addressed),
                )
            )
        return GatewayCase(
            facts,
            (*row.outbox, *entries),
            facts_changed=row.facts_changed or facts != row.facts,
        )

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
        # Kafka channels: the broker copy they publish to, what it acknowledged.
        await conn.execute(
            sql.SQL(
                "ALTER TABLE {}.outbox_positions ADD COLUMN IF NOT EXISTS "
                "cluster_id text, ADD COLUMN IF NOT EXISTS acked_messages bigint "
                "NOT NULL DEFAULT 0"
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
        vault = current_vault()
        async with conn.cursor() as cur:
            await cur.executemany(
                sql.SQL(
                    "INSERT INTO {}.outbox (message_id, partner, case_id, kind, "
                    "payload) VALUES (%s, %s, %s, %s, %s) "
                    "ON CONFLICT (message_id) DO NOTHING"
                ).format(sql.Identifier(schema)),
                [
                    (
                        e.message_id,
                        e.partner,
                        e.case_id,
                        e.kind,
                        # The partner's message names the person: sealed (ADR 0023).
                        Jsonb(
                            vault.seal_document(
                                _sealed_for(e), e.payload, e.message_id.bytes
                            )
                        ),
                    )
                    for e in entries
                ],
            )

    async def erase(
        self,
        conn: psycopg.AsyncConnection[Any],
        schema: str,
        case_ids: Sequence[uuid.UUID],
    ) -> dict[str, int]:
        """The gateway's purge of erased cases (services/common/erasure.py).

        The routing facts' sealed columns emptied, the outbox rows deleted but
        the erasure notices (sealed under keys of their own, they name no
        personal data and the partners are still to be told: routing.py),
        the dead letters of the gateway's schemas deleted.
        """
        purged = await erase_row_table(conn, schema, self._facts, case_ids)
        cur = await conn.execute(
            sql.SQL(
                "DELETE FROM {}.outbox WHERE case_id = ANY(%s) AND kind <> %s"
            ).format(sql.Identifier(schema)),
            (list(case_ids), ERASURE_NOTICE),
        )
        return purged | {f"{schema}.outbox": cur.rowcount}


def _sealed_for(entry: OutboxEntry) -> uuid.UUID:
    """The person whose key seals an outbox row: the case's, but for a notice.

    An erasure notice is written when the case's key is destroyed (or about
    to be): it is sealed under a key of its own, which the erasure keeps.
    """
    if entry.kind == ERASURE_NOTICE:
        return _notice_person(entry.message_id)
    return entry.case_id


def seal_kept(
    vault: Vault, case_id: uuid.UUID, message_id: uuid.UUID, payload: Any
) -> dict[str, Any]:
    """A refused message's payload sealed for its dead letter, as in the outbox.

    Under the case's key, but an erasure notice under its own (the outbox
    sealed it so: its key exists), which the case's erasure keeps.
    """
    notice = _notice_person(message_id)
    person = notice if notice in vault.store.fetch([notice]) else case_id
    return vault.seal_document(person, payload, message_id.bytes)


def _notice_person(message_id: uuid.UUID) -> uuid.UUID:
    """The key of an erasure notice: its own (the sealed box names it)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"cpas-hub:erasure-notice:{message_id}")


def _with_form(row: GatewayCase | None, event: FederalFormSubmittedV1) -> GatewayCase:
    """The case with a submitted form for SPP IS added to its outbox.

    The form's id is the message id: the event redelivered, or replayed by a
    rebuild, adds nothing. SPP IS hears of every case, so no routing fact is
    needed (the form names the person and the CPAS itself).
    """
    entry = OutboxEntry(
        message_id=event.form_id,
        partner=spp_is.CODE,
        case_id=event.case_id,
        kind=f"formulaire_{event.form_kind.lower()}",
        payload=spp_is.sent_payload(event),
    )
    if row is None:
        return GatewayCase(None, (entry,))
    return dataclasses.replace(row, outbox=(*row.outbox, entry))


@dataclass(frozen=True, slots=True)
class _Copy:
    """Which copy of its topic a Kafka channel publishes to."""

    cluster_id: str | None  # None: recorded before copies were kept
    acked: int  # messages this copy acknowledged
    delivered: bool  # whether the channel has moved from the start


class _Outbox:
    """Reads a partner's outbox after a channel's position; moves the position.

    Three consumers write the outbox in concurrent transactions, so ids do not
    commit in order. Rows are read in (transaction, id) order and only from
    transactions older than every one still running: a row that commits later
    always sorts after the position, so none is skipped.

    A Kafka channel also keeps which copy of its topic it publishes to (the
    broker's cluster id) and how many messages that copy acknowledged, so that
    a broker that came back empty is noticed (``CopyWatch``) and refilled.
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
        # Guarded by the copy: what a replaced broker acknowledged must not
        # overwrite the restart from the beginning.
        self._advance = sql.SQL(
            "INSERT INTO {}.outbox_positions AS p (channel, last_tx, last_id, "
            "cluster_id, acked_messages) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (channel) DO UPDATE SET last_tx = EXCLUDED.last_tx, "
            "last_id = EXCLUDED.last_id, "
            "acked_messages = p.acked_messages + EXCLUDED.acked_messages "
            "WHERE p.cluster_id IS NOT DISTINCT FROM EXCLUDED.cluster_id"
        ).format(ident)
        self._copy = sql.SQL(
            "SELECT cluster_id, acked_messages, last_id > 0 "
            "FROM {}.outbox_positions WHERE channel = %s"
        ).format(ident)
        self._restart = sql.SQL(
            "INSERT INTO {}.outbox_positions (channel, last_tx, last_id, "
            "cluster_id, acked_messages) VALUES (%s, '0', 0, %s, 0) "
            "ON CONFLICT (channel) DO UPDATE SET last_tx = '0', last_id = 0, "
            "cluster_id = EXCLUDED.cluster_id, acked_messages = 0"
        ).format(ident)
        self._adopt = sql.SQL(
            "UPDATE {}.outbox_positions SET cluster_id = %s "
            "WHERE channel = %s AND cluster_id IS NULL"
        ).format(ident)

    async def next_page(self, partner: str) -> list[tuple[Any, ...]]:
        """The next rows (id, message id, case id, payload opened, tx).

        A row whose person was erased meanwhile is passed over (erasure
        removes such rows; a page of nothing else moves the position on).
        """
        async with self._pool.connection() as conn:
            cur = await conn.execute(self._select, (partner, self._channel, _PAGE))
            rows = list(await cur.fetchall())
        vault = current_vault()
        page = []
        for row_id, message_id, case_id, payload, tx in rows:
            opened = vault.open_document(payload, message_id.bytes)
            if opened is not None:
                page.append((row_id, message_id, case_id, opened, tx))
        if rows and not page:
            await self.advance(rows[-1])
        return page

    async def advance(
        self, row: tuple[Any, ...], *, cluster_id: str | None = None, acked: int = 0
    ) -> None:
        """Record a row (id, …, tx) as delivered on this channel."""
        async with self._pool.connection() as conn:
            await conn.execute(
                self._advance, (self._channel, row[-1], row[0], cluster_id, acked)
            )

    async def copy(self) -> _Copy | None:
        """The copy this channel publishes to and what it acknowledged, if any."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(self._copy, (self._channel,))
            row = await cur.fetchone()
        return None if row is None else _Copy(row[0], int(row[1]), bool(row[2]))

    async def restart(self, cluster_id: str) -> None:
        """Deliver everything again, from the start, to this copy."""
        async with self._pool.connection() as conn:
            await conn.execute(self._restart, (self._channel, cluster_id))

    async def adopt(self, cluster_id: str) -> None:
        """Take a position recorded before copies were kept as this copy's."""
        async with self._pool.connection() as conn:
            await conn.execute(self._adopt, (cluster_id, self._channel))


class _Kept:
    """Parks the outbound messages a partner or the broker refused for good.

    In the gateway's dead-letter table with the message id (the push's
    ``Idempotency-Key``), once per channel and message: refused again after
    a republish, it is the same row.
    """

    def __init__(self, pool: AsyncConnectionPool[Any], schema: str) -> None:
        self._pool = pool
        self._schema = schema
        self._park = sql.SQL(
            "INSERT INTO {}.dead_letters (case_key, event_type, payload, reason, "
            "source, partner, rule, message_id, dedupe_key) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (dedupe_key) DO UPDATE SET reason = EXCLUDED.reason, "
            "status = 'parked'"
        ).format(sql.Identifier(schema))

    async def park(
        self, channel: str, code: str, row: tuple[Any, ...], rule: str, reason: str
    ) -> None:
        _, message_id, case_id, payload, _ = row
        sealed = seal_kept(current_vault(), case_id, message_id, payload)
        async with self._pool.connection() as conn:
            await conn.execute(
                self._park,
                (
                    str(case_id),
                    f"partner.{code}.outbound",
                    _encode(sealed),
                    reason,
                    f"{channel}:{code}",
                    code,
                    rule,
                    str(message_id),
                    f"{channel}:{code}:{message_id}",
                ),
            )
            await refresh_gauges_async(conn, self._schema)
        log.warning("partner %s message %s parked (%s)", code, message_id, rule)


def _encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


async def _send(
    producer: AIOKafkaProducer,
    topic: str,
    *,
    message_id: uuid.UUID | str,
    case_key: str,
    value: bytes,
) -> asyncio.Future[Any]:
    """Hand one message to the producer; the future of its acknowledgement."""
    future: asyncio.Future[Any] = await producer.send(
        topic,
        value=value,
        key=case_key.encode(),
        headers=[("message-id", str(message_id).encode())],
    )
    return future


def _broker_trouble(exc: BaseException) -> bool:
    """A failure of the broker or of the way to it: it passes, the page is resent."""
    return isinstance(exc, KafkaError | OSError | TimeoutError)


class _BrokerPublisher:
    """Publishes every partner's outbox to its topic; refills a copy the broker lost.

    Like the hub's relays (``services/common/relay.py``): the broker's cluster
    id and, per topic, the messages its copy acknowledged are checked every
    ``check_every`` seconds and after every failure. A new cluster id, or the
    same one with the topic gone, emptied or its end offsets lower than at the
    last check (``CopyWatch``), restarts that partner's channel
    from the start of the outbox (``hub_relay_republish_total`` with the
    topic as ``service``). A message the broker refuses for good is parked
    (``partner.unpublishable``) and the others go on; any other failure
    sends the page again, after a growing pause.
    """

    def __init__(
        self,
        settings: HubSettings,
        pool: AsyncConnectionPool[Any],
        stop: asyncio.Event,
        *,
        schema: str,
        dead_letters_schema: str,
        check_every: float,
    ) -> None:
        self._settings = settings
        self._stop = stop
        self._check_every = check_every
        self._outboxes = {
            code: _Outbox(pool, schema, f"kafka:{code}") for code in CHANNELS
        }
        self._kept = _Kept(pool, dead_letters_schema)
        self._clients = BrokerClients(settings)
        self._cluster_id = ""
        self._watches: dict[str, CopyWatch] = {}  # each topic's copy at the last check
        self._checked_at = -math.inf

    async def run(self) -> None:
        """Publish until ``stop``."""
        try:
            await publish_rounds(
                self._round,
                self._stop,
                passes=_broker_trouble,
                after_failure=self._after_failure,
                idle_seconds=_IDLE_SECONDS,
            )
        finally:
            await self._clients.disconnect()

    async def _round(self) -> bool:
        """Check the broker's copies when due, then publish a page per partner."""
        producer, admin = await self._clients.connect()
        now = asyncio.get_running_loop().time()
        if now - self._checked_at >= self._check_every:
            await self._check_copies(admin)
            self._checked_at = now
        busy = False
        for code, outbox in self._outboxes.items():
            page = await outbox.next_page(code)
            if page:
                busy = True
                await self._publish(producer, code, outbox, page)
                if not self._watches.get(code, CopyWatch()).knows_copy:
                    self._checked_at = -math.inf
        return busy

    async def _check_copies(self, admin: BrokerAdmin) -> None:
        cluster_id = await admin.cluster_id()
        for code, outbox in self._outboxes.items():
            topic = self._settings.topic(outbound_topic(code))
            stored = await outbox.copy()
            if stored is not None and stored.cluster_id in {None, cluster_id}:
                # A position recorded before copies were kept was acknowledged
                # by a copy: this one, unless its topic is gone or empty.
                acked = stored.acked if stored.cluster_id else int(stored.delivered)
                watch = self._watches.setdefault(code, CopyWatch())
                lost = await watch.lost(admin, topic, acked)
                if lost is None:
                    await outbox.adopt(cluster_id)
                    continue
                log.warning("broker lost messages of %s (%s)", topic, lost)
            await admin.ensure_topics(
                [topic], configs=partner_topic_configs(self._settings)
            )
            if stored is not None and stored.delivered:
                log.warning("broker of %s is a new copy; republishing", topic)
                metrics.RELAY_REPUBLISHES.labels(outbound_topic(code)).inc()
            await outbox.restart(cluster_id)
            self._watches.pop(code, None)
        self._cluster_id = cluster_id

    async def _publish(
        self,
        producer: AIOKafkaProducer,
        code: str,
        outbox: _Outbox,
        page: list[tuple[Any, ...]],
    ) -> None:
        """One page, acknowledged, then the position; refused ones parked."""
        topic = self._settings.topic(outbound_topic(code))
        sent: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        refused: list[tuple[tuple[Any, ...], BaseException]] = []
        for row in page:
            _, message_id, case_id, payload, _ = row
            try:
                future = await _send(
                    producer,
                    topic,
                    message_id=message_id,
                    case_key=str(case_id),
                    value=_encode(payload),
                )
            except REFUSED_FOR_GOOD as exc:  # e.g. larger than the broker takes
                refused.append((row, exc))
            else:
                sent.append((row, future))
        results = await asyncio.gather(*(f for _, f in sent), return_exceptions=True)
        for (row, _), result in zip(sent, results, strict=True):
            if isinstance(result, REFUSED_FOR_GOOD):
                refused.append((row, result))
            elif isinstance(result, BaseException):
                raise result  # the whole page again, from the last position
        for row, error in sorted(refused, key=lambda r: int(r[0][0])):
            reason = f"the broker refused it: {type(error).__name__}"
            await self._kept.park(
                "kafka", code, row, rule="partner.unpublishable", reason=reason
            )
        await outbox.advance(
            page[-1], cluster_id=self._cluster_id, acked=len(page) - len(refused)
        )

    async def _after_failure(self, state: RetryCallState) -> None:
        """Start again with new connections and a fresh look at the broker."""
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "partner publisher failed (%s); retrying from the last acknowledgement",
            type(error).__name__,
        )
        await self._clients.disconnect()
        self._checked_at = -math.inf


async def publish_to_broker(
    settings: HubSettings,
    pool: AsyncConnectionPool[Any],
    stop: asyncio.Event,
    *,
    schema: str = "partners",
    dead_letters_schema: str = QUARANTINE,
    check_every: float = _BROKER_CHECK_SECONDS,
) -> None:
    """Publish every partner's outbox to its topic, in order, until ``stop``."""
    await _BrokerPublisher(
        settings,
        pool,
        stop,
        schema=schema,
        dead_letters_schema=dead_letters_schema,
        check_every=check_every,
    ).run()


async def push_to_endpoint(
    pool: AsyncConnectionPool[Any],
    code: str,
    url: str,
    api_key: str,
    stop: asyncio.Event,
    *,
    schema: str = "partners",
    dead_letters_schema: str = QUARANTINE,
    client: httpx.AsyncClient | None = None,
    max_backoff: float = 30.0,
) -> None:
    """POST a partner's outbox to its endpoint, in order, each message until 2xx."""
    outbox = _Outbox(pool, schema, f"http:{code}")
    kept = _Kept(pool, dead_letters_schema)
    http = client or httpx.AsyncClient(timeout=10)
    retrying = AsyncRetrying(
        # Until it is taken or refused for good (or the gateway stops).
        retry=retry_if_result(lambda answer: answer.retry and not stop.is_set()),
        wait=wait_exponential(multiplier=0.2, max=max_backoff),
        sleep=lambda seconds: pause(stop, seconds),
        before_sleep=_log_retry(code),
    )
    try:
        while not stop.is_set():
            page = await outbox.next_page(code)
            if not page:
                await pause(stop, _IDLE_SECONDS)
                continue
            for row in page:
                _, message_id, _, payload, _ = row
                answer: _Answer = await retrying(
                    _post,
                    http,
                    url,
                    api_key=api_key,
                    message_id=message_id,
                    payload=payload,
                )
                if stop.is_set():
                    return
                if not answer.accepted:
                    await kept.park(
                        "push", code, row, rule="partner.refused", reason=answer.reason
                    )
                await outbox.advance(row)
    finally:
        if client is None:
            await http.aclose()


@dataclass(frozen=True, slots=True)
class _Answer:
    """What a partner's endpoint made of one message."""

    accepted: bool
    retry: bool = False
    reason: str = ""


async def _post(
    http: httpx.AsyncClient,
    url: str,
    *,
    api_key: str,
    message_id: uuid.UUID | str,
    payload: dict[str, Any],
) -> _Answer:
    """POST one message once, with its id as ``Idempotency-Key``."""
    headers = {"Idempotency-Key": str(message_id), "X-API-Key": api_key}
    try:
        answer = await http.post(url, json=payload, headers=headers)
    except httpx.HTTPError as exc:
        reason = f"no answer from the partner: {type(exc).__name__}"
        return _Answer(accepted=False, retry=True, reason=reason)
    if answer.is_success or answer.status_code == httpx.codes.CONFLICT:
        return _Answer(accepted=True)  # 409: the partner has this key already
    # 401/403: our key is refused (expired, rotated): retried until an
    # operator fixes the configuration, never taken as the message's fault.
    retry = answer.status_code in {401, 403, 408, 425, 429} or answer.is_server_error
    verb = "answered" if retry else "refused"
    return _Answer(
        accepted=False, retry=retry, reason=f"partner {verb}: HTTP {answer.status_code}"
    )


def _log_retry(code: str) -> Callable[[RetryCallState], None]:
    def log_retry(state: RetryCallState) -> None:
        answer = state.outcome.result() if state.outcome else None
        reason = answer.reason if isinstance(answer, _Answer) else "no answer"
        log.warning("push to partner %s failed (%s); retrying", code, reason)

    return log_retry


def is_outbound(
    conn: psycopg.Connection[Any], schema: str, dead_letter_id: int
) -> bool:
    """Whether a partner dead letter is an outbound message (a push or the topic)."""
    row = conn.execute(
        sql.SQL("SELECT rule FROM {}.dead_letters WHERE id = %s").format(
            sql.Identifier(schema)
        ),
        (dead_letter_id,),
    ).fetchone()
    return row is not None and row[0] in OUTBOUND_RULES


async def redrive_outbound(
    settings: HubSettings,
    dead_letter_id: int,
    *,
    endpoints: Mapping[str, Mapping[str, str]],
    schema: str = QUARANTINE,
    outbox_schema: str = "partners",
    client: httpx.AsyncClient | None = None,
) -> str | None:
    """Send a parked outbound message again, where it was refused.

    A push goes to the partner's endpoint with the same ``Idempotency-Key``
    (the message id): a 2xx or a 409 marks the dead letter ``redriven``. A
    message the broker refused goes to the partner's topic again. Returns
    None when it was taken, else why it stays parked (its new reason).
    """
    async with (
        await psycopg.AsyncConnection.connect(settings.database_url) as conn,
        conn.transaction(),
    ):
        cur = await conn.execute(
            _kept_outbound(schema, outbox_schema),
            (dead_letter_id, list(OUTBOUND_RULES)),
        )
        row = await cur.fetchone()
        if row is None:
            raise LookupError(f"id: no outbound partner dead letter {dead_letter_id}")
        code, case_key, kept, status, source, message_id = row
        if status != "parked":
            raise LookupError(f"id: dead letter {dead_letter_id} is {status}")
        if message_id is None:
            raise LookupError(f"id: dead letter {dead_letter_id} names no message")
        document = current_vault().open_document(
            json.loads(bytes(kept)), uuid.UUID(message_id).bytes
        )
        if document is None:
            raise LookupError(f"id: dead letter {dead_letter_id}: the person is erased")
        payload = _encode(document)
        if str(source).startswith("push:"):
            endpoint = endpoints.get(code)
            if endpoint is None:
                raise LookupError(
                    f"code: no endpoint for {code} in HUB_PARTNER_ENDPOINTS"
                )
            reason = await _push_again(endpoint, message_id, document, client)
        else:
            reason = await _publish_again(settings, code, case_key, message_id, payload)
        await conn.execute(
            sql.SQL(
                "UPDATE {}.dead_letters SET status = CASE WHEN %(reason)s::text IS "
                "NULL THEN 'redriven' ELSE status END, reason = coalesce("
                "%(reason)s, reason), message_id = %(message_id)s WHERE id = %(id)s"
            ).format(sql.Identifier(schema)),
            {"reason": reason, "message_id": message_id, "id": dead_letter_id},
        )
        await refresh_gauges_async(conn, schema)
    return reason


def _kept_outbound(schema: str, outbox_schema: str) -> sql.Composed:
    """A parked outbound message, locked, and its message id.

    A dead letter parked before they kept the message id gets the id of the
    outbox's message of the same partner, case and body.
    """
    return sql.SQL(
        "SELECT d.partner, d.case_key, d.payload, d.status, d.source, "
        "coalesce(d.message_id, (SELECT o.message_id::text FROM {}.outbox o "
        "WHERE o.partner = d.partner AND o.case_id::text = d.case_key AND "
        "o.payload = convert_from(d.payload, 'UTF8')::jsonb ORDER BY o.id LIMIT 1)) "
        "FROM {}.dead_letters d WHERE d.id = %s AND d.rule = ANY(%s) "
        "FOR UPDATE OF d"
    ).format(sql.Identifier(outbox_schema), sql.Identifier(schema))


async def _push_again(
    endpoint: Mapping[str, str],
    message_id: str,
    payload: dict[str, Any],
    client: httpx.AsyncClient | None,
) -> str | None:
    """One delivery (a passing failure tried a few times): None when taken."""
    retrying = AsyncRetrying(
        retry=retry_if_result(lambda answer: answer.retry),
        stop=stop_after_attempt(_REDRIVE_ATTEMPTS),
        wait=wait_exponential(multiplier=0.5, max=5),
        retry_error_callback=lambda state: (
            state.outcome.result() if state.outcome else None
        ),
    )
    http = client or httpx.AsyncClient(timeout=10)
    try:
        answer: _Answer = await retrying(
            _post,
            http,
            endpoint["url"],
            api_key=endpoint.get("api_key", ""),
            message_id=message_id,
            payload=payload,
        )
    finally:
        if client is None:
            await http.aclose()
    return None if answer.accepted else answer.reason


async def _publish_again(
    settings: HubSettings, code: str, case_key: str, message_id: str, value: bytes
) -> str | None:
    """Publish one message to the partner's topic: None when acknowledged."""
    producer = make_producer(settings)
    await producer.start()
    try:
        future = await _send(
            producer,
            settings.topic(outbound_topic(code)),
            message_id=message_id,
            case_key=case_key,
            value=value,
        )
        await future
    except REFUSED_FOR_GOOD as exc:
        return f"the broker refused it: {type(exc).__name__}"
    except KafkaError as exc:
        return f"the broker did not take it: {type(exc).__name__}"
    finally:
        await producer.stop()
    return None
