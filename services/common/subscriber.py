"""Wiring a projection store to a topic: the FastStream batch subscriber and its lag.

Every consumer of the hub uses this: batches, ``AckPolicy.NACK_ON_ERROR`` (offsets
are committed only after the PostgreSQL transaction), our own decoding so that
an undecodable message is parked rather than failing its batch forever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage
from psycopg_pool import AsyncConnectionPool

from services.common import metrics
from services.common.consumer import ProjectionStore, decode
from services.common.kafka import BrokerAdmin, LagProbe
from services.common.settings import HubSettings

__all__ = ["ensure_topics", "new_broker", "subscribe", "subscribe_raw", "watch_lag"]

log = logging.getLogger(__name__)

_LAG_PERIOD_SECONDS = 5.0


def new_broker(settings: HubSettings) -> KafkaBroker:
    """A FastStream broker for one process's subscribers."""
    # A short metadata age: after a broker comes back empty, the topic is
    # recreated by the relay and the consumer must see its partitions again.
    return KafkaBroker(
        settings.kafka_bootstrap_servers, logger=None, metadata_max_age_ms=3000
    )


async def _raw_records(msg: StreamMessage[Any]) -> Any:
    raw = msg.raw_message
    return list(raw) if isinstance(raw, tuple) else [raw]


def _batch_subscriber(
    broker: KafkaBroker, settings: HubSettings, topics: Sequence[str], group: str
) -> Callable[[Callable[[list[Any]], Awaitable[None]]], object]:
    """The hub's subscriber settings: batches, offsets committed after success."""
    decorator: Callable[[Callable[[list[Any]], Awaitable[None]]], object]
    decorator = broker.subscriber(
        *(settings.topic(t) for t in topics),
        group_id=settings.topic(group),
        batch=True,
        max_records=settings.consumer_max_records,
        batch_timeout_ms=50,
        fetch_max_wait_ms=5,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_raw_records,
    )
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
    name = "+".join(store.projection.name for store in stores)

    @_batch_subscriber(broker, settings, [topic], group)
    async def on_batch(records: list[Any]) -> None:
        batch = [
            decode(r.key, r.value, source=f"{r.topic}/{r.partition}/{r.offset}")
            for r in records
            if isinstance(r, ConsumerRecord)
        ]
        try:
            async with pool.connection() as conn, conn.transaction():
                for store in stores:
                    await store.apply(conn, batch)
        except Exception:
            metrics.CONSUMER_ERRORS.labels(name).inc()
            log.exception(
                "%s: batch of %d failed; it will be redelivered", name, len(batch)
            )
            raise


def subscribe_raw(
    broker: KafkaBroker,
    settings: HubSettings,
    *,
    topics: Sequence[str],
    group: str,
    handle: Callable[[ConsumerRecord[Any, Any]], Awaitable[None]],
) -> None:
    """Feed a topic of foreign messages (not hub contracts) to a handler, in order.

    The handler must be idempotent and keep what it cannot apply: the offset is
    committed after the batch, so a failure redelivers it.
    """

    @_batch_subscriber(broker, settings, topics, group)
    async def on_batch(records: list[Any]) -> None:
        try:
            for record in records:
                if isinstance(record, ConsumerRecord):
                    await handle(record)
        except Exception:
            metrics.CONSUMER_ERRORS.labels(group).inc()
            log.exception("%s: batch failed; it will be redelivered", group)
            raise


async def ensure_topics(settings: HubSettings, *topics: str) -> None:
    """Create the topics a process consumes (it may start before any relay)."""
    admin = BrokerAdmin(settings)
    await admin.start()
    try:
        await admin.ensure_topics([settings.topic(t) for t in topics])
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
                gauge.set(await probe.lag())
                await asyncio.sleep(_LAG_PERIOD_SECONDS)
        except asyncio.CancelledError:
            raise
        except Exception:  # a metric must never stop the consumer
            log.warning("consumer lag probe failed; retrying", exc_info=True)
            await asyncio.sleep(_LAG_PERIOD_SECONDS)
        finally:
            await probe.close()
