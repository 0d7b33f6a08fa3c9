"""Kafka plumbing shared by relays and consumers: topics and producers."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    CorruptRecordException,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    TopicAlreadyExistsError,
)
from aiokafka.helpers import create_ssl_context
from aiokafka.partitioner import murmur2
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from faststream.security import (
    BaseSecurity,
    SASLPlaintext,
    SASLScram256,
    SASLScram512,
)
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    wait_random_exponential,
)

from services.common.settings import HubSettings

__all__ = [
    "REFUSED_FOR_GOOD",
    "BrokerAdmin",
    "BrokerClients",
    "CopyWatch",
    "FirstRecord",
    "LagProbe",
    "Outgoing",
    "copy_check",
    "make_producer",
    "pause",
    "publish_rounds",
    "send_in_batches",
]

log = logging.getLogger(__name__)

# Errors that sending the same bytes again cannot cure.
REFUSED_FOR_GOOD = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    RecordListTooLargeError,
    CorruptRecordException,
)


_BATCH_BYTES = 256 * 1024


def client_security(settings: HubSettings) -> dict[str, Any]:
    """The authentication options of an aiokafka client (ADR 0027).

    PLAINTEXT (the embedded broker): none. SASL_PLAINTEXT or SASL_SSL: the
    process's principal and password, with the configured SCRAM mechanism.
    """
    if settings.kafka_security_protocol == "PLAINTEXT":
        return {}
    options: dict[str, Any] = {
        "security_protocol": settings.kafka_security_protocol,
        "sasl_mechanism": settings.kafka_sasl_mechanism,
        "sasl_plain_username": settings.kafka_sasl_username,
        "sasl_plain_password": settings.kafka_sasl_password,
    }
    if settings.kafka_security_protocol == "SASL_SSL":
        options["ssl_context"] = create_ssl_context()
    return options


def broker_security(settings: HubSettings) -> BaseSecurity | None:
    """The same authentication for a FastStream broker (its subscribers)."""
    if settings.kafka_security_protocol == "PLAINTEXT":
        return None
    scram = {"SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}
    kind = scram.get(settings.kafka_sasl_mechanism)
    use_ssl = settings.kafka_security_protocol == "SASL_SSL"
    if kind is None:
        return SASLPlaintext(
            settings.kafka_sasl_username, settings.kafka_sasl_password, use_ssl=use_ssl
        )
    return kind(
        settings.kafka_sasl_username, settings.kafka_sasl_password, use_ssl=use_ssl
    )


def make_producer(settings: HubSettings) -> AIOKafkaProducer:
    """A batching producer; idempotence only where the broker supports it (ADR 0003).

    A message may be as large as ``kafka_max_message_bytes`` (a larger one is
    refused before it is sent). A batch is never larger than that either: a
    message bigger than a batch travels alone, and smaller ones are batched
    up to the smaller of the two sizes, so the broker takes every batch.
    """
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=5,
        max_batch_size=min(_BATCH_BYTES, settings.kafka_max_message_bytes),
        max_request_size=settings.kafka_max_message_bytes,
        request_timeout_ms=15000,
        **client_security(settings),
    )


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to publish: its key, value and headers."""

    key: bytes
    value: bytes | None
    headers: list[tuple[str, bytes]]


async def send_in_batches(
    producer: AIOKafkaProducer,
    topic: str,
    messages: Sequence[Outgoing],
    *,
    max_message_bytes: int,
) -> list[Any]:
    """Publish messages in order; each one's acknowledgement or error.

    The messages go as one record batch per partition (``send_batch``), not
    one ``send`` each: a message sent alone cost the relay more than reading,
    framing and acknowledging it together. Partitions are chosen as the
    producer's own partitioner chooses them (murmur2 of the key, as the Java
    client), so a case lands where a single send would put it. A batch the
    broker refuses for good is sent again one message at a time: only the
    message at fault gets the refusal, not the others of its batch. A
    message over ``max_message_bytes`` (the producer's request size) gets the
    refusal ``send`` would give it, unsent: a batch would carry it to a broker
    whose own limit may be larger.
    """
    if not messages:
        return []
    partitions = sorted(await producer.partitions_for(topic))
    batches: list[tuple[int, Any, list[int]]] = []
    open_batch: dict[int, tuple[Any, list[int]]] = {}
    results: list[Any] = [None] * len(messages)
    for index, message in enumerate(messages):
        too_large = _too_large(message, max_message_bytes)
        if too_large is not None:  # refused as send() refuses it, never sent
            results[index] = too_large
            continue
        partition = partitions[(_key_hash(message.key) & 0x7FFFFFFF) % len(partitions)]
        current = open_batch.get(partition)
        if current is None or not _append(current[0], message):
            current = (producer.create_batch(), [])
            _append(current[0], message)  # the first message of a batch always fits
            open_batch[partition] = current
            batches.append((partition, *current))
        current[1].append(index)
    futures = [
        await producer.send_batch(builder, topic, partition=partition)
        for partition, builder, _ in batches
    ]
    outcomes = await asyncio.gather(*futures, return_exceptions=True)
    for (_, _, members), outcome in zip(batches, outcomes, strict=True):
        if isinstance(outcome, REFUSED_FOR_GOOD) and len(members) > 1:
            for i in members:
                results[i] = await _send_alone(producer, topic, messages[i])
            continue
        for i in members:
            results[i] = outcome
    return results


# The producer's partitioner (DefaultPartitioner: murmur2 of the key, as the
# Java client) is pure Python and cost the relay a seventh of its time; a
# case's events share a key, so the hash of a recent key is kept.
_key_hash: Final = functools.lru_cache(maxsize=1 << 16)(murmur2)


async def _send_alone(producer: AIOKafkaProducer, topic: str, message: Outgoing) -> Any:
    """One message's acknowledgement or error; a refusal raised at once included."""
    try:
        future = await producer.send(
            topic, value=message.value, key=message.key, headers=message.headers
        )
        return await future
    except KafkaError as error:  # its own outcome, as a batch's is
        return error


def _too_large(message: Outgoing, limit: int) -> MessageSizeTooLargeError | None:
    """The refusal ``send`` gives a message over the producer's request size.

    A batch would carry it to the broker, whose own limit may be larger:
    the producer's size is the hub's (``HUB_KAFKA_MAX_MESSAGE_BYTES``).
    """
    rough = len(message.key) + len(message.value or b"")
    rough += sum(len(k) + len(v) for k, v in message.headers)
    if rough + _MOST_OVERHEAD + 10 * len(message.headers) <= limit:
        return None  # the common case: well under, no estimate made
    size = DefaultRecordBatchBuilder.estimate_size_in_bytes(
        message.key, message.value, message.headers
    )
    if size <= limit:
        return None
    return MessageSizeTooLargeError(
        f"the message is {size} bytes, over the producer's limit of {limit}"
    )


# More than a record's batch header, record overhead and length prefixes.
_MOST_OVERHEAD: Final = 256


def _append(builder: Any, message: Outgoing) -> bool:
    """Whether the batch took the message (False: it is full)."""
    taken = builder.append(
        timestamp=None, key=message.key, value=message.value, headers=message.headers
    )
    return taken is not None


class BrokerAdmin:
    """Cluster identity and topic creation."""

    def __init__(self, settings: HubSettings) -> None:
        self._settings = settings
        self._client = AIOKafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            request_timeout_ms=5000,
            **client_security(settings),
        )
        self._reader: AIOKafkaConsumer | None = None  # no group: offsets, records

    async def _reading(self) -> AIOKafkaConsumer:
        if self._reader is None:
            reader = AIOKafkaConsumer(
                bootstrap_servers=self._settings.kafka_bootstrap_servers,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_partition_fetch_bytes=self._settings.kafka_max_message_bytes,
                metadata_max_age_ms=3000,
                **client_security(settings=self._settings),
            )
            await reader.start()
            self._reader = reader
        return self._reader

    async def start(self) -> None:
        """Connect."""
        await self._client.start()

    async def close(self) -> None:
        """Disconnect."""
        reader, self._reader = self._reader, None
        if reader is not None:
            await reader.stop()
        await self._client.close()

    @property
    def partitions(self) -> int:
        """How many partitions the hub gives a topic it creates."""
        return self._settings.kafka_partitions

    async def cluster_id(self) -> str:
        """The broker cluster's id; a broker that came back empty has a new one."""
        described = await self._client.describe_cluster()
        return str(described.get("cluster_id") or "")

    async def end_offsets(self, topic: str) -> dict[str, int] | None:
        """The next offset of each partition of a topic; None when it is missing."""
        if topic not in set(await self._client.list_topics()):
            return None
        consumer = await self._reading()
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            await consumer.topics()
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        ends = await consumer.end_offsets(tps) if tps else {}
        return {str(tp.partition): int(end) for tp, end in ends.items()}

    async def first_record(self, topic: str, partition: int) -> FirstRecord | None:
        """The oldest record the broker holds in a partition; None when it has none."""
        consumer = await self._reading()
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        try:
            await consumer.seek_to_beginning(tp)
            batch = await consumer.getmany(tp, timeout_ms=2000, max_records=1)
        finally:
            consumer.unsubscribe()
        for record in batch.get(tp, []):
            fingerprint = hashlib.sha256()
            for part in (record.key or b"", record.value or b""):
                fingerprint.update(len(part).to_bytes(8, "big") + part)
            fingerprint.update(str(record.timestamp).encode())
            return FirstRecord(partition, int(record.offset), fingerprint.hexdigest())
        return None

    async def ensure_topics(
        self, names: Iterable[str], *, configs: Mapping[str, str] | None = None
    ) -> None:
        """Create missing topics with the configured partitions and message size.

        Apache Kafka enforces ``max.message.bytes``; the embedded broker
        accepts it and leaves the limit to the producer. ``configs`` adds
        settings (e.g. ``cleanup.policy=compact``); a broker that refuses them
        (an invalid configuration, a policy) gets the topic without them, said
        in the log. A topic that exists already keeps its configuration.
        """
        existing = set(await self._client.list_topics())
        missing = [name for name in names if name not in existing]
        if not missing:
            return
        refused = await self._create(missing, configs or {})
        if refused:
            log.warning(
                "the broker refused the settings %s of %s; created without them",
                sorted(configs or {}),
                refused,
            )
            await self._create(refused, {})

    async def _create(self, names: list[str], configs: Mapping[str, str]) -> list[str]:
        """Create topics; the ones refused for their settings."""
        wanted = [
            NewTopic(
                name,
                num_partitions=self._settings.kafka_partitions,
                replication_factor=self._settings.kafka_replication_factor,
                topic_configs={
                    "max.message.bytes": str(self._settings.kafka_max_message_bytes),
                    **configs,
                },
            )
            for name in names
        ]
        try:
            answer = await self._client.create_topics(wanted)
        except TopicAlreadyExistsError:
            log.debug("topics created concurrently")
            return []
        errors = getattr(answer, "topic_errors", ())
        return [
            str(error[0])
            for error in errors
            if configs and error[1] in _REFUSED_SETTINGS
        ]


# Kafka's answers to a topic's settings it does not take: INVALID_CONFIG (40),
# POLICY_VIOLATION (44).
_REFUSED_SETTINGS = frozenset({40, 44})


class BrokerClients:
    """A publisher's producer and admin client, made when first needed.

    Dropped after a failure: the next round starts with new connections.
    """

    def __init__(self, settings: HubSettings) -> None:
        self._settings = settings
        self._producer: AIOKafkaProducer | None = None
        self._admin: BrokerAdmin | None = None

    async def connect(self) -> tuple[AIOKafkaProducer, BrokerAdmin]:
        """The producer and the admin client, connected."""
        if self._producer is None:
            producer = make_producer(self._settings)
            await producer.start()
            self._producer = producer
        if self._admin is None:
            admin = BrokerAdmin(self._settings)
            await admin.start()
            self._admin = admin
        return self._producer, self._admin

    async def disconnect(self) -> None:
        """Drop both (a failure to close is no failure of the publisher)."""
        producer, admin = self._producer, self._admin
        self._producer = self._admin = None
        if producer is not None:
            with contextlib.suppress(Exception):
                await producer.stop()
        if admin is not None:
            with contextlib.suppress(Exception):
                await admin.close()


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Wait a while, or until ``stop``."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def publish_rounds(
    publish_round: Callable[[], Awaitable[bool]],
    stop: asyncio.Event,
    *,
    passes: Callable[[BaseException], bool],
    after_failure: Callable[[RetryCallState], Awaitable[None]],
    idle_seconds: float,
) -> None:
    """A publisher's loop: rounds until ``stop``, a pause when one had nothing to do.

    A round that fails for a reason that ``passes`` (the broker away) is tried
    again after ``after_failure`` and a growing pause; any other failure ends
    the loop (its process stops and is restarted).
    """
    retrying = AsyncRetrying(
        retry=retry_if_exception(passes),
        wait=wait_random_exponential(multiplier=0.2, max=10),
        stop=lambda _: stop.is_set(),
        sleep=lambda seconds: pause(stop, seconds),
        before_sleep=after_failure,
        reraise=True,
    )
    while not stop.is_set():
        try:
            busy: bool = await retrying(publish_round)
        except Exception:
            if stop.is_set():
                return
            raise
        if not busy:
            await pause(stop, idle_seconds)


@dataclass(frozen=True, slots=True)
class FirstRecord:
    """The oldest record of a partition: its offset and a digest of its bytes."""

    partition: int
    offset: int
    fingerprint: str


@dataclass
class CopyWatch:
    """What a publisher saw of its topic's copy at its last check.

    A broker wiped under the same cluster id that got new messages before
    the check is neither gone nor empty (`copy_check`). The oldest record of
    a partition does not change on a copy that kept its messages (retention
    only moves it to a later offset); on a wiped one the record at that
    offset is another message, or there is none.
    """

    ends: dict[str, int] = field(default_factory=dict)
    first: FirstRecord | None = None

    @property
    def knows_copy(self) -> bool:
        """Whether it holds a record to recognise the copy by.

        A publisher checks again right after publishing to a copy it does
        not know yet: a wipe before that check would go unnoticed.
        """
        return self.first is not None

    async def lost(
        self, admin: BrokerAdmin, topic: str, acknowledged: int
    ) -> str | None:
        """Why the broker no longer holds what it acknowledged of ``topic``, if so."""
        lost, ends = await copy_check(admin, topic, acknowledged)
        first = self.first
        if lost is None and acknowledged:
            if first is None:
                first = await _oldest_record(admin, topic, ends)
            else:
                now = await admin.first_record(topic, first.partition)
                lost = _first_record_changed(first, now)
                first = now
        if lost is None:
            self.ends, self.first = ends, first
        else:
            self.ends, self.first = {}, None
        return lost

    async def replaced(self, admin: BrokerAdmin, topic: str) -> str | None:
        """For a reader of the topic: why the copy it knew is gone, if it is.

        The first look, and the first after a loss, learns the copy.
        """
        if self.first is None:
            self.ends = await admin.end_offsets(topic) or {}
            self.first = await _oldest_record(admin, topic, self.ends)
            return None
        return await self.lost(admin, topic, 1)


async def _oldest_record(
    admin: BrokerAdmin, topic: str, ends: Mapping[str, int]
) -> FirstRecord | None:
    """The oldest record of the first partition that holds any."""
    partition = next((int(p) for p, end in sorted(ends.items()) if end), None)
    return None if partition is None else await admin.first_record(topic, partition)


def _first_record_changed(before: FirstRecord, now: FirstRecord | None) -> str | None:
    where = f"partition {before.partition}"
    if now is None:
        return f"{where} holds no record any more"
    if now.offset < before.offset:
        return f"{where} went back to earlier offsets"
    if now.offset == before.offset and now.fingerprint != before.fingerprint:
        return f"the oldest record of {where} is another message"
    return None


async def copy_check(
    admin: BrokerAdmin, topic: str, acknowledged: int
) -> tuple[str | None, dict[str, int]]:
    """Whether the broker lost what it acknowledged of a topic, and its end offsets.

    A broker wiped and restarted under the same cluster id looks the same as
    before but for its content: a topic it acknowledged messages on that is
    gone, or has nothing in any partition, was lost (the hub's publishers are
    the only writers of their topics). End offsets are not compared, neither
    with the count of acknowledged messages (the embedded broker counts a
    batch as one offset) nor with earlier ends (it was seen to answer lower
    ends for a moment after a restart); `CopyWatch` compares the oldest
    record instead.
    """
    if not acknowledged:
        return None, {}
    ends = await admin.end_offsets(topic)
    if ends is None:
        return "the topic is gone", {}
    if not any(ends.values()):
        return f"the topic is empty, {acknowledged} message(s) were acknowledged", ends
    return None, ends


class LagProbe:
    """Consumer lag of a group on a topic: end offsets minus committed offsets.

    FastStream does not export it, and it is what an operator
    reads first when a projection falls behind.
    """

    def __init__(self, settings: HubSettings, group: str, topic: str) -> None:
        self._topic = topic
        # A member of the group that never subscribes: it may read the group's
        # committed offsets without joining (and so without a rebalance).
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            group_id=group,
            enable_auto_commit=False,
            **client_security(settings),
        )

    async def start(self) -> None:
        """Connect."""
        await self._consumer.start()

    async def close(self) -> None:
        """Disconnect."""
        await self._consumer.stop()

    async def lag(self) -> int:
        """Messages not yet committed by the group, over all partitions."""
        await self._consumer.topics()  # refreshes the metadata of every topic
        partitions = self._consumer.partitions_for_topic(self._topic) or set()
        tps = [TopicPartition(self._topic, p) for p in sorted(partitions)]
        if not tps:
            return 0
        ends = await self._consumer.end_offsets(tps)
        total = 0
        for tp in tps:
            done = await self._consumer.committed(tp)
            total += ends[tp] - (done or 0)
        return max(0, total)
