"""A partner's topic is a copy of its outbox: refilled when the broker loses it.

The broker comes back empty with a new cluster id, then wiped under the same
cluster id (only its content tells): each time, every message of the outbox
is on the partner's topic again. A message larger than the broker takes is
parked with its id, the partner's later messages flow on, and a re-drive
publishes it once the limit allows it.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from prometheus_client import REGISTRY
from psycopg_pool import AsyncConnectionPool

from services.common.kafka import make_producer
from services.common.runtime import EmbeddedBroker
from services.common.settings import HubSettings
from services.common.subscriber import ensure_topics
from services.partner_gateway.outbound import outbound_topic, publish_to_broker
from tests.integration.harness import (
    hub_env,
    read_topic,
    running_in_thread,
    wait_until,
)
from tests.integration.outbox import add_to_outbox, partner_dead_letters, prepare_outbox

pytestmark = pytest.mark.integration

TOPIC = outbound_topic("forem")


@contextmanager
def publishing(settings: HubSettings) -> Iterator[None]:
    """The gateway's broker publisher, in a thread of its own."""

    async def run(stop: asyncio.Event) -> None:
        async with AsyncConnectionPool(
            settings.database_url, min_size=1, max_size=2, open=False
        ) as pool:
            await publish_to_broker(settings, pool, stop, check_every=0.5)

    with running_in_thread(run):
        yield


def message_ids(settings: HubSettings, want: int) -> set[str]:
    """The distinct message ids on the partner's topic (at least once each)."""
    records = read_topic(settings, TOPIC, want, timeout=5)
    return {dict(r.headers)["message-id"].decode() for r in records}


def republished() -> float:
    value = REGISTRY.get_sample_value(
        "hub_relay_republish_total", {"service": outbound_topic("forem")}
    )
    return value or 0.0


def test_the_partner_topic_is_refilled_after_the_broker_comes_back_empty(
    hub_settings: HubSettings, own_broker: EmbeddedBroker
) -> None:
    settings = hub_settings.model_copy(
        update={"kafka_bootstrap_servers": own_broker.bootstrap_servers}
    )
    prepare_outbox(settings)
    ids = [uuid.uuid4() for _ in range(30)]
    add_to_outbox(settings, ids[:20])
    before = republished()
    with publishing(settings):
        wait_until(
            lambda: message_ids(settings, 20) == {str(i) for i in ids[:20]},
            60,
            "the outbox on the topic",
        )
        own_broker.restart_empty()  # a new cluster id
        wait_until(
            lambda: message_ids(settings, 20) == {str(i) for i in ids[:20]},
            60,
            "the outbox on the new broker",
        )
        add_to_outbox(settings, ids[20:25])
        wait_until(lambda: len(message_ids(settings, 25)) == 25, 60, "the new ones")
        own_broker.restart_empty(same_cluster_id=True)  # wiped, same id
        add_to_outbox(settings, ids[25:])
        # Everything again, not only what came after the wipe.
        wait_until(
            lambda: message_ids(settings, 30) == {str(i) for i in ids},
            60,
            "the whole outbox on the wiped broker",
        )
    assert republished() - before == 2


def test_a_message_the_broker_refuses_is_parked_and_the_rest_flows(
    hub_settings: HubSettings, own_broker: EmbeddedBroker
) -> None:
    small = hub_settings.model_copy(
        update={
            "kafka_bootstrap_servers": own_broker.bootstrap_servers,
            "kafka_max_message_bytes": 4096,
        }
    )
    prepare_outbox(small)
    first, large, last = (uuid.uuid4() for _ in range(3))
    add_to_outbox(small, [first])
    add_to_outbox(small, [large], padding=20_000)
    add_to_outbox(small, [last])
    taken = {str(first), str(last)}
    with publishing(small):
        wait_until(
            lambda: message_ids(small, 2) == taken, 60, "the messages the broker takes"
        )
        wait_until(lambda: bool(partner_dead_letters(small)), 30, "the parked one")
        [(dead_letter_id, rule, status, source, message_id, reason)] = (
            partner_dead_letters(small)
        )
        assert (rule, status, source, message_id) == (
            "partner.unpublishable",
            "parked",
            "kafka:forem",
            str(large),
        )
        assert reason == "the broker refused it: MessageSizeTooLargeError"
        # Republished from the start, it is refused again: the same dead letter.
        own_broker.restart_empty()
        wait_until(lambda: message_ids(small, 2) == taken, 60, "the refill")
    assert len(partner_dead_letters(small)) == 1

    # The limit raised (the re-drive runs with the default of 1 MiB), a
    # re-drive publishes it.
    done = redrive(small, dead_letter_id)
    assert done.returncode == 0, done.stderr
    assert partner_dead_letters(small)[0][2] == "redriven"
    assert str(large) in message_ids(small, 5)
    assert redrive(small, dead_letter_id).returncode != 0  # not parked any more


def redrive(settings: HubSettings, dead_letter_id: int) -> Any:
    command = ["dead-letters", "redrive", "partner_messages", str(dead_letter_id)]
    env = {**hub_env(settings), "HUB_LOG_LEVEL": "ERROR"}
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *command],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_positions_recorded_before_copies_were_kept_are_taken_or_refilled(
    hub_settings: HubSettings,
) -> None:
    prepare_outbox(hub_settings)
    forem = [uuid.uuid4() for _ in range(3)]
    vdab = [uuid.uuid4() for _ in range(2)]
    add_to_outbox(hub_settings, forem)
    add_to_outbox(hub_settings, vdab, partner="vdab")
    # Forem's first two are on its topic; VDAB's topic was lost meanwhile.
    asyncio.run(send_to(hub_settings, TOPIC, forem[:2]))
    with psycopg.connect(hub_settings.database_url, autocommit=True) as conn:
        for partner, upto in (("forem", forem[1]), ("vdab", vdab[1])):
            conn.execute(
                "INSERT INTO partners.outbox_positions (channel, last_tx, last_id) "
                "SELECT %s, tx, id FROM partners.outbox WHERE message_id = %s",
                (f"kafka:{partner}", upto),
            )
    with publishing(hub_settings):
        wait_until(lambda: len(message_ids(hub_settings, 3)) == 3, 60, "Forem's third")
        wait_until(
            lambda: (
                {dict(r.headers)["message-id"].decode() for r in
                 read_topic(hub_settings, outbound_topic("vdab"), 2, timeout=5)}
                == {str(i) for i in vdab}
            ),
            60,
            "VDAB's outbox again",
        )  # fmt: skip
    # Forem's position was this copy's: nothing sent twice.
    assert len(read_topic(hub_settings, TOPIC, 4, timeout=3)) == 3
    with psycopg.connect(hub_settings.database_url) as conn:
        rows = conn.execute(
            "SELECT count(*) FROM partners.outbox_positions WHERE cluster_id IS NULL"
        ).fetchone()
    assert rows == (0,)


async def send_to(settings: HubSettings, topic: str, ids: list[uuid.UUID]) -> None:
    await ensure_topics(settings, topic)
    producer = make_producer(settings)
    await producer.start()
    try:
        for message_id in ids:
            await producer.send_and_wait(
                settings.topic(topic),
                value=b"{}",
                key=b"case",
                headers=[("message-id", str(message_id).encode())],
            )
    finally:
        await producer.stop()
