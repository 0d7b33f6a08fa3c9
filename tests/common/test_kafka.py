"""Kafka helpers against the real broker protocol."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer

from services.common.kafka import BrokerAdmin, LagProbe, make_producer
from services.common.runtime import EmbeddedBroker
from services.common.settings import HubSettings

pytestmark = pytest.mark.integration


async def _lag_before_and_after_consuming(settings: HubSettings) -> tuple[int, int]:
    topic, group = f"lag-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:8]}"
    admin = BrokerAdmin(settings)
    await admin.start()
    await admin.ensure_topics([topic])
    await admin.close()
    producer = make_producer(settings)
    await producer.start()
    for n in range(10):
        await producer.send_and_wait(topic, b"x", key=str(n).encode())
    await producer.stop()
    probe = LagProbe(settings, group, topic)
    await probe.start()
    before = await probe.lag()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    read = 0
    while read < 10:
        batches = await consumer.getmany(timeout_ms=1000)
        read += sum(len(b) for b in batches.values())
    await consumer.commit()
    await consumer.stop()
    after = await probe.lag()
    await probe.close()
    return before, after


def test_the_lag_probe_counts_what_the_group_has_not_committed(
    broker: EmbeddedBroker,
) -> None:
    settings = HubSettings(kafka_bootstrap_servers=broker.bootstrap_servers)
    assert asyncio.run(_lag_before_and_after_consuming(settings)) == (10, 0)
