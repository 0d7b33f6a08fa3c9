"""A partner's topics keep their messages for a bounded time (ADR 0023).

They carry each message in the partner's format, personal data in clear, so
an erasure cannot reach what the broker still holds: the broker drops it
after ``HUB_PARTNER_TOPIC_RETENTION_HOURS``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from services.common.settings import HubSettings
from services.partner_gateway.outbound import outbound_topic
from services.partner_gateway.registry import CHANNELS
from services.partner_gateway.service import inbound_topic
from tests.integration.harness import component, wait_until

pytestmark = pytest.mark.integration


async def _configs(settings: HubSettings, topics: list[str]) -> dict[str, str | None]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [t for t in topics if t in existing]
        found: dict[str, str | None] = dict.fromkeys(topics)
        if not wanted:
            return found
        [answer] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, t) for t in wanted]
        )
        for resource in answer.resources:
            entries = {entry[0]: entry[1] for entry in resource[4]}
            found[resource[3]] = entries.get("retention.ms")
        return found
    finally:
        await admin.close()


def test_the_gateway_creates_every_partner_topic_with_the_configured_retention(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    topics = [
        hub_settings.topic(name(code))
        for code in CHANNELS
        for name in (inbound_topic, outbound_topic)
    ]
    with component(
        hub_settings,
        "partner-gateway",
        tmp_path / "gateway.log",
        extra_env={"HUB_PARTNER_TOPIC_RETENTION_HOURS": "36"},
    ):
        wait_until(
            lambda: None not in asyncio.run(_configs(hub_settings, topics)).values(),
            60,
            "the partner topics created",
        )
    assert set(asyncio.run(_configs(hub_settings, topics)).values()) == {
        str(36 * 3_600_000)
    }
