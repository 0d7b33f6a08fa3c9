"""Wiring a projection store to a topic: the FastStream batch subscriber and its lag.

Every consumer of the hub uses this: batches, ``AckPolicy.NACK_ON_ERROR`` (offsets
are committed only after the PostgreSQL transaction), our own decoding so that
an undecodable message is parked rather than failing its batch forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from aiokafka import ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage
from psycopg import sql
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from contracts.registry import SERVICE_TOPICS
from services.common import metrics
from services.common.consumer import (
    RETRYABLE_RULES,
    Envelope,
    NotYetError,
    ProjectionStore,
    decode,
    redrive,
    stored_after,
)
from services.common.health import record_lag
from services.common.kafka import (
    BrokerAdmin,
    CopyWatch,
    LagProbe,
    broker_security,
)
from services.common.settings import HubSettings
from services.common.vault import current_vault

__all__ = [
    "Delivery",
    "RewindOnAssignment",
    "Rewinds",
    "ensure_topics",
    "follow_copies",
    "new_broker",
    "rewind_replaced_copies",
    "subscribe",
    "subscribe_raw",
    "sweep_dead_letters",
    "watch_lag",
]

log = logging.getLogger(__name__)

_LAG_PERIOD_SECONDS = 5.0


def new_broker(settings: HubSettings) -> KafkaBroker:
    """A FastStream broker for one process's subscribers."""
    # A short metadata age: after a broker comes back empty, the topic is
    # recreated by the relay and the consumer must see its partitions again.
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        logger=None,
        metadata_max_age_ms=3000,
        security=broker_security(settings),
    )


async def _raw_records(msg: StreamMessage[Any]) -> Any:
    raw = msg.raw_message
    return list(raw) if isinstance(raw, tuple) else [raw]


def _batch_subscriber(
    broker: KafkaBroker, settings: HubSettings, topics: Sequence[str], group: str
) -> Callable[[Callable[[list[Any]], Awaitable[None]]], object]:
    """The hub's subscriber settings: batches, offsets committed after success."""
    decorator: Callable[[Callable[[list[Any]], Awaitable[None]]], object]
    listener = RewindOnAssignment(rewinds_of(broker))
    decorator = broker.subscriber(
        *(settings.topic(t) for t in topics),
        listener=listener,
        group_id=settings.topic(group),
        batch=True,
        max_records=settings.consumer_max_records,
        batch_timeout_ms=50,
        fetch_max_wait_ms=5,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_raw_records,
    )
    listener.subscriber = decorator
    return decorator


def subscribe(
    broker: KafkaBroker,
    settings: HubSettings,
    pool: AsyncConnectionPool[Any],
    stores: Sequence[ProjectionStore[Any]],
    *,
    topic: str,
    group: str,
) -> None:
    """Feed a topic to projection stores, batch by batch, exactly once.

    Every store that reads the topic gets the batch in the same PostgreSQL
    transaction, so one consumption and one offset commit serve them all.
    """
    # One order of locks for every transaction of the hub: by read model
    # (schema) here, by case within one (ProjectionStore.apply).
    ordered = sorted(stores, key=lambda store: (store.schema, store.name))
    delivery = Delivery(pool, ordered, attempts=settings.consumer_retry_attempts)
    service = next((s for s, t in SERVICE_TOPICS.items() if t == topic), None)
    if service is not None:
        rewinds_of(broker).reconcilers.setdefault(settings.topic(topic), []).append(
            functools.partial(delivery.reconcile, service)
        )

    @_batch_subscriber(broker, settings, [topic], group)
    async def on_batch(records: list[Any]) -> None:
        # One query for the batch's data keys, off the event loop.
        await asyncio.to_thread(
            current_vault().prefetch_sealed,
            [r.value for r in records if isinstance(r, ConsumerRecord)],
        )
        await delivery.deliver(
            [
                decode(r.key, r.value, source=f"{r.topic}/{r.partition}/{r.offset}")
                for r in records
                if isinstance(r, ConsumerRecord)
            ]
        )


def _connection_lost(exc: BaseException) -> bool:
    """PostgreSQL is unreachable or restarting: no message's fault."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, psycopg.OperationalError):
        return False
    state = exc.sqlstate or ""
    return state == "" or state.startswith(("08", "57P"))


def _worth_retrying(exc: BaseException) -> bool:
    """Failures that pass by themselves: another topic catching up, a lock."""
    return isinstance(
        exc,
        NotYetError
        | psycopg.errors.TransactionRollback
        | psycopg.errors.LockNotAvailable
        | psycopg.errors.QueryCanceled,
    )


class Delivery:
    """Applies a decoded batch to its stores; no single message stops the flow.

    The batch is applied whole (one transaction) while that works. A failure
    that passes by itself (``NotYetError``, a deadlock, a lock timeout) is
    retried with a growing, jittered delay, a bounded number of times; then,
    and at once for any other failure, the batch is applied case by case and
    only the cases that still fail are parked (their dead letters say why).
    Lost connections are waited out: no message is parked for them.
    """

    def __init__(
        self,
        pool: AsyncConnectionPool[Any],
        stores: Sequence[ProjectionStore[Any]],
        *,
        attempts: int,
    ) -> None:
        self._pool = pool
        self._stores = stores
        self._attempts = attempts
        self._name = "+".join(store.name for store in stores)

    async def deliver(self, batch: list[Envelope]) -> None:
        """Apply one batch: whole, or case by case."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(_connection_lost),
            wait=wait_random_exponential(multiplier=0.5, max=10),
            before_sleep=self._log_lost_connection,
            reraise=True,
        ):
            with attempt:
                await self._deliver(batch)

    async def reconcile(self, service: str, *, page: int = 500) -> int:
        """Deliver from a service's event store what its stores have not read.

        After a broker came back empty, the relay refills the topic and the
        consumer reads it again; this is the check against the record that
        nothing the store holds was left out on the way (a message lost by
        the broker, a position it gave back wrong). What arrives later from
        the topic as well is skipped as a duplicate by the stream positions.
        """
        async with self._pool.connection() as conn:
            behind: dict[uuid.UUID, int] = {}
            for store in self._stores:
                for stream, version in (
                    await store.streams_behind(conn, service)
                ).items():
                    behind[stream] = min(version, behind.get(stream, version))
        delivered = 0
        streams = sorted(behind)
        for start in range(0, len(streams), page):
            chunk = {s: behind[s] for s in streams[start : start + page]}
            async with self._pool.connection() as conn:
                batch = await stored_after(conn, service, chunk)
            if batch:
                await self.deliver(batch)
                delivered += len(batch)
        if delivered:
            log.warning(
                "%s: %d stored event(s) of %d stream(s) had not come from the "
                "topic; read from the store",
                self._name,
                delivered,
                len(behind),
            )
        metrics.CONSUMER_RECONCILED.labels(self._name).inc(delivered)
        return delivered

    async def _deliver(self, batch: list[Envelope]) -> None:
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self._attempts),
                retry=retry_if_exception(_worth_retrying),
                wait=wait_random_exponential(multiplier=0.1, max=3),
                reraise=True,
            ):
                with attempt:
                    await self._apply(batch, isolate=False)
        except Exception as exc:
            if _connection_lost(exc):
                raise
            metrics.CONSUMER_ERRORS.labels(self._name).inc()
            log.warning(
                "%s: a batch of %d failed (%s); applying it case by case",
                self._name,
                len(batch),
                type(exc).__name__,
            )
            await self._apply(batch, isolate=True)

    async def _apply(self, batch: list[Envelope], *, isolate: bool) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            for store in self._stores:
                await store.apply(conn, batch, isolate=isolate)

    def _log_lost_connection(self, state: RetryCallState) -> None:
        log.warning(
            "%s: PostgreSQL unreachable; the batch waits (attempt %d)",
            self._name,
            state.attempt_number,
        )


async def sweep_dead_letters(
    pool: AsyncConnectionPool[Any],
    stores: Sequence[ProjectionStore[Any]],
    stop: asyncio.Event,
    *,
    period: float = 2.0,
    max_attempts: int = 12,
) -> None:
    """Re-drive the dead letters that resolve by themselves, with a growing delay.

    A case parked because it was "not yet" possible (e.g. its registration
    had not reached this consumer) is tried again after 1, 2, 4… seconds, up
    to ``max_attempts`` times; after that it waits for an operator
    (``hub dead-letters redrive``).
    """
    while not stop.is_set():
        for store in stores:
            try:
                await _sweep(pool, store, max_attempts)
            except asyncio.CancelledError:
                raise
            except Exception:  # a sweep must never stop the consumer
                log.warning("%s: dead-letter sweep failed", store.name, exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), period)


async def _sweep(
    pool: AsyncConnectionPool[Any], store: ProjectionStore[Any], max_attempts: int
) -> None:
    dead = sql.SQL("{}.dead_letters").format(sql.Identifier(store.schema))
    async with pool.connection() as conn:
        cur = await conn.execute(
            sql.SQL(
                "SELECT id FROM (SELECT DISTINCT ON (case_key, service) id, rule, "
                "retry_at FROM {} WHERE status = 'parked' AND consumer = %s "
                "ORDER BY case_key, service, id) oldest "
                "WHERE rule = ANY(%s) AND retry_at <= now() ORDER BY id LIMIT 100"
            ).format(dead),
            (store.name, sorted(RETRYABLE_RULES)),
        )
        due = [row[0] for row in await cur.fetchall()]
        for dead_letter_id in due:
            _, failure = await redrive(
                conn, store.schema, dead_letter_id, {store.name: store.projection}
            )
            metrics.DEAD_LETTERS_RETRIED.labels(
                store.name, "applied" if failure is None else "failed"
            ).inc()
            if failure is not None:
                await conn.execute(
                    sql.SQL(
                        "UPDATE {} SET retry_at = CASE WHEN attempts < %s THEN "
                        "now() + make_interval(secs => power(2, attempts)) END "
                        "WHERE id = %s"
                    ).format(dead),
                    (max_attempts, dead_letter_id),
                )
            await conn.commit()
        if due:
            await store.refresh_dead_letter_gauge(conn)
            await conn.commit()


def subscribe_raw(
    broker: KafkaBroker,
    settings: HubSettings,
    *,
    topics: Sequence[str],
    group: str,
    handle: Callable[[ConsumerRecord[Any, Any]], Awaitable[None]],
    keep: Callable[[ConsumerRecord[Any, Any], BaseException], Awaitable[None]],
) -> None:
    """Feed a topic of foreign messages (not hub contracts) to a handler, in order.

    The handler must be idempotent and keep what it cannot apply. A record it
    fails on anyway is retried a bounded number of times and then given to
    ``keep`` (a dead letter with the reason): the partition flows on. Lost
    database connections are waited out, the batch redelivered.
    """

    @_batch_subscriber(broker, settings, topics, group)
    async def on_batch(records: list[Any]) -> None:
        for record in records:
            if not isinstance(record, ConsumerRecord):
                continue
            try:
                async for attempt in AsyncRetrying(
                    stop=stop_after_attempt(settings.consumer_retry_attempts),
                    retry=retry_if_exception(
                        lambda exc: _worth_retrying(exc) or _connection_lost(exc)
                    ),
                    wait=wait_random_exponential(multiplier=0.1, max=3),
                    reraise=True,
                ):
                    with attempt:
                        await handle(record)
            except Exception as exc:
                metrics.CONSUMER_ERRORS.labels(group).inc()
                if _connection_lost(exc):
                    log.warning("%s: PostgreSQL unreachable; redelivered", group)
                    raise
                log.warning(
                    "%s: a message failed (%s); kept", group, type(exc).__name__
                )
                await keep(record, exc)


async def ensure_topics(
    settings: HubSettings, *topics: str, configs: Mapping[str, str] | None = None
) -> None:
    """Create the topics a process consumes (it may start before any relay)."""
    admin = BrokerAdmin(settings)
    await admin.start()
    try:
        await admin.ensure_topics([settings.topic(t) for t in topics], configs=configs)
    finally:
        await admin.close()


async def watch_lag(
    settings: HubSettings, *, group: str, topic: str, consumer: str, stop: asyncio.Event
) -> None:
    """Export the group's lag every few seconds until ``stop``."""
    gauge = metrics.CONSUMER_LAG.labels(consumer)
    while not stop.is_set():
        probe = LagProbe(settings, settings.topic(group), settings.topic(topic))
        try:
            await probe.start()
            while not stop.is_set():
                lag = await probe.lag()
                gauge.set(lag)
                record_lag(consumer, lag)
                await asyncio.sleep(_LAG_PERIOD_SECONDS)
        except asyncio.CancelledError:
            raise
        except Exception:  # a metric must never stop the consumer
            log.warning("consumer lag probe failed; retrying", exc_info=True)
            await asyncio.sleep(_LAG_PERIOD_SECONDS)
        finally:
            await probe.close()


_COPY_CHECK_SECONDS = 3.0


async def follow_copies(
    settings: HubSettings,
    broker: KafkaBroker,
    stop: asyncio.Event,
    *,
    every: float = _COPY_CHECK_SECONDS,
) -> None:
    """Read a topic again from the start when the broker holds a new copy of it.

    A broker that came back empty is refilled by its relay from the event
    store, in other offsets. A consumer that kept its position would skip
    what the new copy holds before that position, events it may never have
    read; from the start, what it had read is skipped as a duplicate by the
    stream positions (ADR 0013).
    """
    rewinds = rewinds_of(broker)
    admin: BrokerAdmin | None = None
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
            if stop.is_set():
                return
            try:
                if admin is None:
                    admin = BrokerAdmin(settings)
                    await admin.start()
                await rewind_replaced_copies(admin, broker, rewinds)
            except Exception as exc:  # noqa: BLE001 - the broker away: next round
                away = isinstance(exc, KafkaError | OSError | TimeoutError)
                log.log(
                    logging.DEBUG if away else logging.WARNING,
                    "copy check failed (%s)",
                    type(exc).__name__,
                )
                if admin is not None:
                    with contextlib.suppress(Exception):
                        await admin.close()
                admin = None
            try:
                await rewinds.reconcile_due(time.monotonic())
            except Exception as exc:  # noqa: BLE001 - PostgreSQL away: next round
                log.warning(
                    "reconciliation with the record failed (%s)", type(exc).__name__
                )
    finally:
        if admin is not None:
            with contextlib.suppress(Exception):
                await admin.close()


@dataclass
class Rewinds:
    """Topics a process reads again: since when, partitions not yet sought."""

    watches: dict[str, CopyWatch] = field(default_factory=dict)
    pending: dict[str, tuple[float, set[int]]] = field(default_factory=dict)
    reconcilers: dict[str, list[Callable[[], Awaitable[int]]]] = field(
        default_factory=dict
    )
    reconcile_at: dict[str, list[float]] = field(default_factory=dict)

    def schedule_reconciliation(self, topic: str, now: float) -> None:
        """Check the record after the relay has had time to refill the topic."""
        if topic in self.reconcilers:
            self.reconcile_at[topic] = [now + d for d in _RECONCILE_AFTER_SECONDS]

    async def reconcile_due(self, now: float) -> None:
        """Run the reconciliations that are due (each consumer of the topic)."""
        for topic, times in list(self.reconcile_at.items()):
            if times and times[0] <= now:
                for reconcile in self.reconcilers.get(topic, []):
                    await reconcile()
                times.pop(0)  # every consumer checked: a failure is tried again
            if not times:
                del self.reconcile_at[topic]

    def due(self, assigned: set[TopicPartition], now: float) -> list[TopicPartition]:
        """Of partitions just assigned, those of a topic being read again.

        A consumer that rejoins its group takes the offsets committed for it,
        and a commit sent while it was out of the group (generation reset)
        is taken by a broker whose group is empty: the position of the copy
        that was lost. Each assignment within the window starts again from
        the beginning, however often the group rebalances.
        """
        found: list[TopicPartition] = []
        for tp in assigned:
            since, remaining = self.pending.get(tp.topic, (None, set()))
            if since is not None and now - since <= _REWIND_WAIT_SECONDS:
                found.append(tp)
                remaining.discard(tp.partition)
        return found


_REWINDS: weakref.WeakKeyDictionary[KafkaBroker, Rewinds] = weakref.WeakKeyDictionary()


def rewinds_of(broker: KafkaBroker) -> Rewinds:
    """The one record of rewinds of a process's broker (its subscribers share it)."""
    return _REWINDS.setdefault(broker, Rewinds())


class RewindOnAssignment(ConsumerRebalanceListener):  # type: ignore[misc]
    """Seeks a newly assigned partition of a replaced copy to its beginning."""

    def __init__(self, rewinds: Rewinds) -> None:
        self.rewinds = rewinds
        self.subscriber: object = None

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Nothing to do: offsets are committed after each batch."""

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Seek what is due, before the first fetch of the new assignment."""
        consumer = getattr(self.subscriber, "consumer", None)
        due = self.rewinds.due(assigned, time.monotonic())
        if consumer is not None and due:
            await consumer.seek_to_beginning(*due)


# After a replaced copy, the record is checked this long after (the relay refills
# the topic meanwhile; a check finding nothing missing costs one query).
_RECONCILE_AFTER_SECONDS = (20.0, 60.0, 120.0)

# Partitions the process is not given within this long are another member's
# (each member of a group finds the new copy and rewinds its own); for as
# long, every assignment of the topic is read from the beginning.
_REWIND_WAIT_SECONDS = 120.0


async def rewind_replaced_copies(
    admin: BrokerAdmin, broker: KafkaBroker, rewinds: Rewinds
) -> None:
    """One look at each topic the process reads; a replaced one read from the start.

    A consumer rejoining its group (the broker restarted) holds no partition
    for a moment: what it is given later is sought then.
    """
    subscribers = [s for s in broker.subscribers if getattr(s, "consumer", None)]
    topics = {
        t for s in subscribers for t in getattr(s, "topic_names_for_subscribe", ())
    }
    now = time.monotonic()
    for topic in sorted(topics):
        watch = rewinds.watches.setdefault(topic, CopyWatch())
        lost = await watch.replaced(admin, topic)
        if lost is not None:
            log.warning("%s is a new copy (%s); reading it from the start", topic, lost)
            metrics.CONSUMER_REWINDS.labels(topic).inc()
            ends = await admin.end_offsets(topic) or {}
            partitions = set(map(int, ends)) | set(range(admin.partitions))
            rewinds.pending[topic] = (now, partitions)
            rewinds.schedule_reconciliation(topic, now)
    for topic, (since, remaining) in list(rewinds.pending.items()):
        for subscriber in subscribers:
            consumer = subscriber.consumer  # type: ignore[attr-defined]
            mine = [
                tp
                for tp in consumer.assignment()
                if tp.topic == topic and tp.partition in remaining
            ]
            if mine:
                await consumer.seek_to_beginning(*mine)
                remaining.difference_update(tp.partition for tp in mine)
        if now - since > _REWIND_WAIT_SECONDS:
            del rewinds.pending[topic]
