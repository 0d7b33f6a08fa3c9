"""The case state on a topic: ``hub.case-state.v1``, compacted, keyed by case id.

The fold raises a case's ``version`` with every event, in its transaction;
the publisher sends every row whose version is above the version it last
published (``cases.published_version``), waits for the broker's
acknowledgements, then records the versions sent: a row committed and not
yet published is published after a crash, at least once. Each message is
the whole state with its ``version`` (events folded in), so a subscriber
keeps the highest version per case and ignores duplicates and older ones
(the embedded broker does not compact).

The topic is a copy, like the service topics (ADR 0013): the publisher keeps
which broker copy it published to (``case_state.topic_copy``) and, when the
broker comes back empty or wiped, publishes every case again (the published
versions set back to 0). A rebuild swaps in a table whose cases were never
published: it publishes them all again.
A state the broker refuses for good (over its message limit) is parked in
``case_state.dead_letters`` (consumer ``case-state-topic``, rule
``unpublishable``) and the others go on (its version counts as sent).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import uuid
from collections.abc import Sequence
from typing import Any, Final

import psycopg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from psycopg import sql
from psycopg_pool import AsyncConnectionPool
from tenacity import RetryCallState

from contracts.case_state import CASE_STATE_TOPIC, CaseStateV1
from contracts.sealing import personal_plan
from services.case_state.projection import FOLDS, CaseRow, row_of
from services.common import metrics
from services.common.kafka import (
    REFUSED_FOR_GOOD,
    BrokerAdmin,
    BrokerClients,
    CopyWatch,
    Outgoing,
    make_producer,
    publish_rounds,
    send_in_batches,
)
from services.common.settings import HubSettings
from services.common.vault import Vault, settings_vault

__all__ = [
    "PUBLISHER",
    "TOPIC_CONFIGS",
    "publish_case_states",
    "read_case_state",
    "sealed_state",
    "send_tombstones",
]

log = logging.getLogger(__name__)

PUBLISHER: Final = "case-state-topic"  # its name in metrics and dead letters
TOPIC_CONFIGS: Final = {"cleanup.policy": "compact"}
_PAGE = 500
_IDLE_SECONDS = 0.2
_CHECK_SECONDS = 1.0


def _trouble(exc: BaseException) -> bool:
    """A failure that passes: the broker or PostgreSQL away; the page is sent again."""
    return isinstance(
        exc, KafkaError | OSError | TimeoutError | psycopg.OperationalError
    )


def _state_aad(case_id: str) -> bytes:
    return f"{CASE_STATE_TOPIC}:{case_id}".encode()


def sealed_state(vault: Vault, state: CaseStateV1) -> bytes:
    """A case state as the topic carries it: its personal data sealed (ADR 0023)."""
    data = state.model_dump(mode="json")
    vault.seal(
        data, personal_plan(CaseStateV1), state.case_id, _state_aad(str(state.case_id))
    )
    return json.dumps(data, separators=(",", ":")).encode()


def read_case_state(vault: Vault, value: bytes | None) -> dict[str, Any] | None:
    """What a subscriber keeps of a message: the state, its box opened.

    None: a tombstone (the person's file was erased; drop the case). Once a
    person is erased their sealed fields stay absent.
    """
    if value is None:
        return None
    data: dict[str, Any] = json.loads(value)
    vault.open(data, _state_aad(str(data.get("case_id"))))
    return data


async def send_tombstones(settings: HubSettings, case_ids: Sequence[uuid.UUID]) -> None:
    """A null value for each erased case on the compacted case-state topic.

    Sent by the case-state consumer when it purges an erased case's rows
    (``CaseStateProjection.erase``), before its transaction commits: sent again
    if that fails. The publisher sends one too for a case whose person is
    erased, on every republish.
    """
    producer = make_producer(settings)
    await producer.start()
    try:
        for case_id in case_ids:
            await producer.send_and_wait(
                settings.topic(CASE_STATE_TOPIC), value=None, key=str(case_id).encode()
            )
    finally:
        await producer.stop()


class _Publisher:
    """Sends the marked cases' latest states; refills a copy the broker lost."""

    def __init__(
        self,
        settings: HubSettings,
        pool: AsyncConnectionPool[Any],
        stop: asyncio.Event,
        *,
        schema: str,
        check_every: float,
    ) -> None:
        self._settings = settings
        self._vault = settings_vault(settings)
        self._pool = pool
        self._stop = stop
        self._check_every = check_every
        self._topic = settings.topic(CASE_STATE_TOPIC)
        self._clients = BrokerClients(settings)
        self._watch = CopyWatch()
        self._cluster_id = ""
        self._checked_at = -math.inf
        s = sql.Identifier(schema)
        self._page = sql.SQL(
            "SELECT case_id, {} FROM {}.cases WHERE version > published_version "
            "ORDER BY updated_at, case_id LIMIT %s"
        ).format(
            sql.SQL(", ").join(
                sql.SQL("{}::text").format(sql.Identifier(service)) for service in FOLDS
            ),
            s,
        )
        # Never lower: a page read before a newer one was sent goes out later.
        self._sent = sql.SQL(
            "UPDATE {}.cases c SET published_version = sent.version "
            "FROM unnest(%s::uuid[], %s::bigint[]) AS sent(case_id, version) "
            "WHERE c.case_id = sent.case_id AND c.published_version < sent.version"
        ).format(s)
        self._publish_all = sql.SQL(
            "UPDATE {}.cases SET published_version = 0 WHERE published_version <> 0"
        ).format(s)
        self._copy = sql.SQL(
            "SELECT cluster_id, acked FROM {}.topic_copy WHERE topic = %s"
        ).format(s)
        self._new_copy = sql.SQL(
            "INSERT INTO {}.topic_copy (topic, cluster_id, acked) VALUES (%s, %s, 0) "
            "ON CONFLICT (topic) DO UPDATE SET cluster_id = EXCLUDED.cluster_id, "
            "acked = 0"
        ).format(s)
        self._acked = sql.SQL(
            "UPDATE {}.topic_copy SET acked = acked + %s "
            "WHERE topic = %s AND cluster_id = %s"
        ).format(s)
        self._park = sql.SQL(
            "INSERT INTO {}.dead_letters (case_key, event_type, payload, reason, "
            "source, consumer, rule) VALUES (%s, %s, %s, %s, %s, %s, 'unpublishable')"
        ).format(s)

    async def run(self) -> None:
        """Publish until ``stop``; a failure that passes is waited out."""
        try:
            await publish_rounds(
                self._round,
                self._stop,
                passes=_trouble,
                after_failure=self._after_failure,
                idle_seconds=_IDLE_SECONDS,
            )
        finally:
            await self._clients.disconnect()

    async def _round(self) -> bool:
        """Check the broker's copy when due, then publish one page of changed cases."""
        _, admin = await self._clients.connect()
        now = asyncio.get_running_loop().time()
        if now - self._checked_at >= self._check_every:
            await self._check_copy(admin)
            self._checked_at = now
        producer, _ = await self._clients.connect()
        async with self._pool.connection() as conn:
            cur = await conn.execute(self._page, (_PAGE,))
            page = [row_of(record) for record in await cur.fetchall()]
        if not page:
            return False
        await self._publish(producer, page)
        if not self._watch.knows_copy:
            self._checked_at = -math.inf  # learn the new copy before a wipe hides
        return True

    async def _publish(self, producer: AIOKafkaProducer, page: list[CaseRow]) -> None:
        """One page, acknowledged; then its versions recorded (refused ones parked).

        The page goes as one record batch per partition (`send_in_batches`):
        one send per case cost the publisher more than the states themselves.
        """
        made: list[tuple[CaseRow, bytes, Outgoing]] = []
        refused: list[tuple[CaseRow, bytes, BaseException]] = []
        erased = self._vault.erased_among(row.case_id for row in page)
        for row in page:
            try:
                # An erased person's case: a tombstone, on every republish too.
                message = (
                    None
                    if row.case_id in erased
                    else sealed_state(self._vault, row.state())
                )
            except Exception as exc:  # noqa: BLE001 - a state that cannot be made
                refused.append((row, b"", exc))
                continue
            headers = [("version", str(row.version).encode())]
            outgoing = Outgoing(str(row.case_id).encode(), message, headers)
            made.append((row, message or b"", outgoing))
        results = await send_in_batches(
            producer,
            self._topic,
            [outgoing for *_, outgoing in made],
            max_message_bytes=self._settings.kafka_max_message_bytes,
        )
        for (row, value, _), result in zip(made, results, strict=True):
            if isinstance(result, REFUSED_FOR_GOOD):
                refused.append((row, value, result))  # e.g. over the broker's limit
            elif isinstance(result, BaseException):
                raise result  # the broker away: the page again, at least once
        await self._record(page, refused)

    async def _record(
        self, page: list[CaseRow], refused: list[tuple[CaseRow, bytes, BaseException]]
    ) -> None:
        """Record the page's versions sent, park what was refused, count the copy's."""
        async with self._pool.connection() as conn, conn.transaction():
            for row, value, error in refused:
                why = type(error).__name__
                log.error("state of case %s parked (%s)", row.case_id, why)
                source = f"{CASE_STATE_TOPIC}:{row.version}"
                await conn.execute(
                    self._park,
                    (
                        str(row.case_id),
                        CASE_STATE_TOPIC,
                        value,
                        f"not published: {why}",
                        source,
                        PUBLISHER,
                    ),
                )
            ids, versions = [r.case_id for r in page], [r.version for r in page]
            await conn.execute(self._sent, (ids, versions))
            delivered = len(page) - len(refused)
            await conn.execute(self._acked, (delivered, self._topic, self._cluster_id))
        metrics.RELAY_PUBLISHED.labels(PUBLISHER).inc(delivered)
        if refused:
            metrics.RELAY_PARKED.labels(PUBLISHER).inc(len(refused))

    async def _check_copy(self, admin: BrokerAdmin) -> None:
        """Whether the broker holds what it acknowledged; else publish all again."""
        cluster_id = await admin.cluster_id()
        async with self._pool.connection() as conn:
            cur = await conn.execute(self._copy, (self._topic,))
            stored = await cur.fetchone()
        if stored is not None and stored[0] == cluster_id:
            lost = await self._watch.lost(admin, self._topic, int(stored[1]))
            if lost is None:
                self._cluster_id = cluster_id
                return
            log.warning("the broker lost %s (%s)", self._topic, lost)
        await admin.ensure_topics([self._topic], configs=TOPIC_CONFIGS)
        if stored is not None:
            log.warning("%s is a new copy; publishing every case again", self._topic)
            metrics.RELAY_REPUBLISHES.labels(PUBLISHER).inc()
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(self._publish_all)
            await conn.execute(self._new_copy, (self._topic, cluster_id))
        self._watch = CopyWatch()
        self._cluster_id = cluster_id
        # A new producer learns the new copy's partitions: one that kept the
        # old copy's could send to a partition the new topic does not have.
        await self._clients.disconnect()

    async def _after_failure(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        metrics.RELAY_ERRORS.labels(PUBLISHER).inc()
        log.warning(
            "case-state publisher failed (%s); the page is sent again",
            type(error).__name__,
        )
        await self._clients.disconnect()
        self._checked_at = -math.inf


async def publish_case_states(
    settings: HubSettings,
    pool: AsyncConnectionPool[Any],
    stop: asyncio.Event,
    *,
    schema: str = "case_state",
    check_every: float = _CHECK_SECONDS,
) -> None:
    """Publish every changed case's state to ``hub.case-state.v1`` until ``stop``."""
    await _Publisher(settings, pool, stop, schema=schema, check_every=check_every).run()
