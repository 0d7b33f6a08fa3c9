"""Kafka plumbing shared by relays and consumers: topics and producers."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from services.common.settings import HubSettings

__all__ = ["BrokerAdmin", "make_producer"]

log = logging.getLogger(__name__)


def make_producer(settings: HubSettings) -> AIOKafkaProducer:
    """A batching producer; idempotence only where the broker supports it (ADR 0003)."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=5,
        max_batch_size=256 * 1024,
        request_timeout_ms=15000,
    )


class BrokerAdmin:
    """Cluster identity and topic creation."""

    def __init__(self, settings: HubSettings) -> None:
        self._settings = settings
        self._client = AIOKafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap_servers, request_timeout_ms=5000
        )

    async def start(self) -> None:
        """Connect."""
        await self._client.start()

    async def close(self) -> None:
        """Disconnect."""
        await self._client.close()

    async def cluster_id(self) -> str:
        """The broker cluster's id; a broker that came back empty has a new one."""
        described = await self._client.describe_cluster()
        return str(described.get("cluster_id") or "")

    async def ensure_topics(self, names: Iterable[str]) -> None:
        """Create missing topics with the configured partitions."""
        wanted = [
            NewTopic(
                name,
                num_partitions=self._settings.kafka_partitions,
                replication_factor=self._settings.kafka_replication_factor,
            )
            for name in names
        ]
        existing = set(await self._client.list_topics())
        missing = [t for t in wanted if t.name not in existing]
        if not missing:
            return
        try:
            await self._client.create_topics(missing)
        except TopicAlreadyExistsError:
            log.debug("topics created concurrently")
