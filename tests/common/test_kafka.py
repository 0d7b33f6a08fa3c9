"""Kafka helpers against the real broker protocol."""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace
from typing import Any, cast

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaTimeoutError, RecordTooLargeError
from faststream.kafka import KafkaBroker

from services.common.kafka import (
    BrokerAdmin,
    CopyWatch,
    LagProbe,
    Outgoing,
    copy_check,
    make_producer,
    send_in_batches,
)
from services.common.runtime import EmbeddedBroker
from services.common.settings import MIB, HubSettings
from services.common.subscriber import (
    RewindOnAssignment,
    Rewinds,
    rewind_replaced_copies,
)

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


async def _checks(settings: HubSettings) -> list[str | None]:
    topic = f"copy-{uuid.uuid4().hex[:8]}"
    admin = BrokerAdmin(settings)
    await admin.start()
    try:
        gone, _ = await copy_check(admin, topic, 1)
        await admin.ensure_topics([topic])
        empty, _ = await copy_check(admin, topic, 1)
        producer = make_producer(settings)
        await producer.start()
        await producer.send_and_wait(topic, b"x", key=b"k")
        await producer.stop()
        held, _ = await copy_check(admin, topic, 1)
    finally:
        await admin.close()
    return [gone, empty, held]


def test_the_copy_check_finds_a_topic_gone_or_emptied(
    broker: EmbeddedBroker,
) -> None:
    settings = HubSettings(kafka_bootstrap_servers=broker.bootstrap_servers)
    gone, empty, held = asyncio.run(_checks(settings))
    assert gone == "the topic is gone"
    assert empty == "the topic is empty, 1 message(s) were acknowledged"
    assert held is None


async def _publish_one(settings: HubSettings, topic: str, value: bytes) -> None:
    producer = make_producer(settings)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=b"case", partition=0)
    finally:
        await producer.stop()


async def _watch_a_wipe(
    settings: HubSettings, broker: EmbeddedBroker
) -> list[str | None]:
    topic = f"watch-{uuid.uuid4().hex[:8]}"
    watch = CopyWatch()
    admin = BrokerAdmin(settings)
    await admin.start()
    await admin.ensure_topics([topic])
    await _publish_one(settings, topic, b"first")
    learnt = await watch.lost(admin, topic, 1)
    kept = await watch.lost(admin, topic, 1)
    await admin.close()
    broker.restart_empty(same_cluster_id=True)
    # Refilled with as many messages as before before anyone looked.
    admin = BrokerAdmin(settings)
    await admin.start()
    try:
        await admin.ensure_topics([topic])
        await _publish_one(settings, topic, b"after the wipe")
        wiped = await watch.lost(admin, topic, 1)
    finally:
        await admin.close()
    return [learnt, kept, wiped]


def test_the_copy_watch_finds_a_wipe_refilled_before_the_check(
    own_broker: EmbeddedBroker,
) -> None:
    settings = HubSettings(kafka_bootstrap_servers=own_broker.bootstrap_servers)
    learnt, kept, wiped = asyncio.run(_watch_a_wipe(settings, own_broker))
    assert (learnt, kept) == (None, None)
    assert wiped == "the oldest record of partition 0 is another message"


async def _read(consumer: AIOKafkaConsumer, want: int) -> list[bytes]:
    values: list[bytes] = []
    for _ in range(50):
        batches = await consumer.getmany(timeout_ms=200)
        values += [r.value or b"" for rs in batches.values() for r in rs]
        if len(values) >= want:
            break
    return values


async def _reader_across_a_wipe(
    settings: HubSettings, broker: EmbeddedBroker
) -> tuple[list[bytes], list[bytes]]:
    topic = f"follow-{uuid.uuid4().hex[:8]}"
    admin = BrokerAdmin(settings)
    await admin.start()
    await admin.ensure_topics([topic])
    for n in range(5):
        await _publish_one(settings, topic, f"old-{n}".encode())
    reader = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await reader.start()
    reader.assign([TopicPartition(topic, 0)])
    # What follow_copies sees of a process's subscribers.
    process = cast(
        "KafkaBroker",
        SimpleNamespace(
            subscribers=[
                SimpleNamespace(consumer=reader, topic_names_for_subscribe=[topic])
            ]
        ),
    )
    rewinds = Rewinds()
    try:
        before = await _read(reader, 5)
        await rewind_replaced_copies(admin, process, rewinds)  # learns the copy
        await admin.close()
        await asyncio.to_thread(broker.restart_empty, same_cluster_id=True)
        admin = BrokerAdmin(settings)
        await admin.start()
        await admin.ensure_topics([topic])
        # The relay refilled it further than the reader's position.
        for n in range(8):
            await _publish_one(settings, topic, f"new-{n}".encode())
        # Found while the reader holds no partition (its group rejoining)...
        reader.unsubscribe()
        await rewind_replaced_copies(admin, process, rewinds)
        # ...and given back at the position it had: sought at the next look.
        reader.assign([TopicPartition(topic, 0)])
        reader.seek(TopicPartition(topic, 0), 5)
        await rewind_replaced_copies(admin, process, rewinds)
        after = await _read(reader, 8)
        # The group rebalances again: the member takes the offset committed
        # while it was out of the group (the lost copy's position)...
        reader.seek(TopicPartition(topic, 0), 5)
        listener = RewindOnAssignment(rewinds)
        listener.subscriber = process.subscribers[0]
        await listener.on_partitions_assigned({TopicPartition(topic, 0)})
        # ...and still reads the new copy from its beginning.
        assert await _read(reader, 8) == after
    finally:
        await reader.stop()
        await admin.close()
    return before, after


def test_a_reader_of_a_replaced_copy_reads_it_from_the_start(
    own_broker: EmbeddedBroker,
) -> None:
    settings = HubSettings(kafka_bootstrap_servers=own_broker.bootstrap_servers)
    before, after = asyncio.run(_reader_across_a_wipe(settings, own_broker))
    assert before == [f"old-{n}".encode() for n in range(5)]
    assert after == [f"new-{n}".encode() for n in range(8)]


async def _batched_and_single_partitions(
    settings: HubSettings,
) -> tuple[dict[bytes, list[tuple[int, bytes]]], dict[bytes, int]]:
    topic = f"batches-{uuid.uuid4().hex[:8]}"
    admin = BrokerAdmin(settings)
    await admin.start()
    await admin.ensure_topics([topic])
    await admin.close()
    keys = [f"case-{n}".encode() for n in range(40)]
    messages = [
        Outgoing(keys[n % len(keys)], f"{n}".encode(), [("event_type", b"t")])
        for n in range(2000)
    ]
    producer = make_producer(settings)
    await producer.start()
    results = await send_in_batches(producer, topic, messages, max_message_bytes=MIB)
    single = {
        key: (await producer.send_and_wait(topic, b"-", key=key)).partition
        for key in keys
    }
    await producer.stop()
    assert not [r for r in results if isinstance(r, BaseException)]
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen: dict[bytes, list[tuple[int, bytes]]] = {}
    read = 0
    while read < len(messages) + len(keys):
        for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
            for record in records:
                assert record.key is not None
                assert record.value is not None
                seen.setdefault(record.key, []).append((tp.partition, record.value))
                read += 1
    await consumer.stop()
    return seen, single


def test_messages_sent_in_batches_keep_each_keys_order_and_a_single_sends_partition(
    hub_settings: HubSettings,
) -> None:
    seen, single = asyncio.run(_batched_and_single_partitions(hub_settings))
    assert hub_settings.kafka_partitions > 1
    assert len(set(single.values())) > 1  # the keys spread over partitions
    for key, records in seen.items():
        assert {partition for partition, _ in records} == {single[key]}
        values = [value for _, value in records]
        assert values[-1] == b"-"
        numbers = [int(v) for v in values[:-1]]
        assert numbers == sorted(numbers)
        assert len(numbers) == 50


class _RefusingProducer:
    """A producer whose broker refuses any batch holding the value ``b"big"``."""

    def __init__(self, refusal: BaseException) -> None:
        self.refusal = refusal
        self.batches: list[list[bytes]] = []
        self.alone: list[bytes] = []

    async def partitions_for(self, _topic: str) -> set[int]:
        return {0, 1}

    def create_batch(self) -> _Batch:
        return _Batch()

    async def send_batch(self, batch: _Batch, *_: Any, **__: Any) -> Any:
        self.batches.append(batch.values)
        return self._outcome(b"big" in batch.values)

    async def send(self, _topic: str, *, value: bytes, **_: Any) -> Any:
        self.alone.append(value)
        return self._outcome(value == b"big")

    def _outcome(self, refused: bool) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if refused:
            future.set_exception(self.refusal)
        else:
            future.set_result("acked")
        return future


class _Batch:
    def __init__(self) -> None:
        self.values: list[bytes] = []

    def append(self, *, value: bytes, **_: Any) -> object:
        self.values.append(value)
        return object()


def _send_with_one_big(refusal: BaseException) -> tuple[list[Any], _RefusingProducer]:
    producer = _RefusingProducer(refusal)
    messages = [Outgoing(b"k", v, []) for v in (b"a", b"big", b"c")]
    results = asyncio.run(
        send_in_batches(
            cast("AIOKafkaProducer", producer), "t", messages, max_message_bytes=MIB
        )
    )
    return results, producer


def test_a_batch_refused_for_good_is_sent_again_alone_only_its_culprit_refused() -> (
    None
):
    results, producer = _send_with_one_big(RecordTooLargeError())
    assert producer.batches == [[b"a", b"big", b"c"]]
    assert producer.alone == [b"a", b"big", b"c"]
    assert results[0] == results[2] == "acked"
    assert isinstance(results[1], RecordTooLargeError)


def test_a_batch_failed_for_a_passing_reason_gives_the_reason_to_each_message() -> None:
    results, producer = _send_with_one_big(KafkaTimeoutError())
    assert producer.alone == []  # the broker's fault: the round is tried again
    assert all(isinstance(result, KafkaTimeoutError) for result in results)


def test_a_message_over_the_producers_limit_is_refused_unsent_as_send_refuses_it(
    broker: EmbeddedBroker,
) -> None:
    settings = HubSettings(kafka_bootstrap_servers=broker.bootstrap_servers)

    async def run() -> list[Any]:
        topic = f"limits-{uuid.uuid4().hex[:8]}"
        admin = BrokerAdmin(settings)
        await admin.start()
        await admin.ensure_topics([topic])
        await admin.close()
        headers = [("event_type", b"t")]
        messages = [
            Outgoing(b"a", b"x" * 100, headers),
            Outgoing(b"b", b"x" * 1000, headers),  # far over
            Outgoing(b"c", b"x" * 930, headers),  # over only with its framing
            Outgoing(b"d", b"x" * 100, headers),
        ]
        producer = make_producer(settings)
        await producer.start()
        try:
            return await send_in_batches(
                producer, topic, messages, max_message_bytes=1000
            )
        finally:
            await producer.stop()

    results = asyncio.run(run())
    assert [type(r).__name__ for r in results[1:3]] == ["MessageSizeTooLargeError"] * 2
    assert not isinstance(results[0], BaseException)
    assert not isinstance(results[3], BaseException)
