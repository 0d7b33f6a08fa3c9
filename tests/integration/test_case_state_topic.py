"""The case-state topic: nothing committed is lost, a lost copy is refilled.

The case-state consumer's store is fed directly (as its subscriber would) and
the publisher runs in this event loop against the real broker and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from prometheus_client import REGISTRY
from psycopg_pool import AsyncConnectionPool

from contracts.case_state import CASE_STATE_TOPIC
from contracts.envelope import ContractEvent
from contracts.income import IncomePaymentSuspendedV1, IncomeRightGrantedV1
from services.case_state import topic
from services.case_state.projection import load_state
from services.common.consumer import decode
from services.common.runtime import EmbeddedBroker
from services.common.settings import HubSettings
from services.registry import consumer
from tests.contracts.samples import SAMPLES
from tests.integration.harness import read_topic, running_in_thread, wait_until
from tests.integration.test_case_state_whole import newest_states

pytestmark = pytest.mark.integration

REGISTERED, BILAN = SAMPLES[0], SAMPLES[1]
SAMPLES_BY_TYPE = {
    "granted": next(e for e in SAMPLES if isinstance(e, IncomeRightGrantedV1)),
    "suspended": next(e for e in SAMPLES if isinstance(e, IncomePaymentSuspendedV1)),
}
CASES = [uuid.UUID(int=7000 + n) for n in range(3)]


def of_case(event: ContractEvent, case: uuid.UUID) -> ContractEvent:
    return event.model_copy(update={"case_id": case, "stream_id": case})


def fold(settings: HubSettings, events: list[ContractEvent]) -> None:
    """Apply events to the live case state, as its consumer does."""

    async def apply() -> None:
        store = consumer("case-state").store()
        async with await psycopg.AsyncConnection.connect(
            settings.database_url, autocommit=True
        ) as conn:
            await store.create_tables(conn)
            await store.apply(
                conn,
                [decode(str(e.case_id).encode(), e.to_json_bytes()) for e in events],
            )

    asyncio.run(apply())


def marked(settings: HubSettings) -> int:
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM case_state.cases WHERE version > published_version"
        ).fetchone()
    return int(row[0]) if row else -1


def stored_states(settings: HubSettings) -> dict[str, Any]:
    async def load() -> dict[str, Any]:
        async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
            found = {}
            for case in CASES:
                state = await load_state(conn, "case_state", case)
                assert state is not None
                found[str(case)] = state.model_dump(mode="json")
            return found

    return asyncio.run(load())


@contextlib.contextmanager
def publishing(settings: HubSettings) -> Iterator[None]:
    """The publisher, in a thread's event loop, while the block runs."""

    async def work(stop: asyncio.Event) -> None:
        async with AsyncConnectionPool(
            settings.database_url, min_size=1, max_size=2, open=False
        ) as pool:
            await topic.publish_case_states(settings, pool, stop, check_every=0.5)

    with running_in_thread(work):
        yield


def on_the_topic(settings: HubSettings, versions: dict[str, int]) -> dict[str, Any]:
    def complete(records: list[Any]) -> bool:
        newest = newest_states(records)
        return all(newest.get(c, {}).get("version") == v for c, v in versions.items())

    return newest_states(read_topic(settings, CASE_STATE_TOPIC, 0, 60, until=complete))


def republished() -> float:
    """How often the publisher found its topic's copy lost (this process's)."""
    found = REGISTRY.get_sample_value(
        "hub_relay_republish_total", {"service": topic.PUBLISHER}
    )
    return found or 0.0


class Crash(BaseException):
    """The process dies: after the broker acknowledged, before the marks clear."""


def test_a_state_committed_but_not_published_is_published_after_a_crash(
    hub_settings: HubSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    fold(hub_settings, [of_case(e, c) for c in CASES for e in (REGISTERED, BILAN)])
    assert marked(hub_settings) == len(CASES)  # to publish, committed with the fold

    async def crash(*_: Any) -> None:
        raise Crash

    async def publish_then_crash() -> None:
        async with AsyncConnectionPool(
            hub_settings.database_url, min_size=1, max_size=2, open=False
        ) as pool:
            run = topic.publish_case_states(hub_settings, pool, asyncio.Event())
            await asyncio.wait_for(run, 60)

    with monkeypatch.context() as patched:
        patched.setattr(topic._Publisher, "_record", crash)
        with pytest.raises(Crash):
            asyncio.run(publish_then_crash())
    assert len(read_topic(hub_settings, CASE_STATE_TOPIC, len(CASES))) == len(CASES)
    assert marked(hub_settings) == len(CASES)  # sent, but not known to be sent

    with publishing(hub_settings):
        wait_until(lambda: marked(hub_settings) == 0, 60, "the marks cleared")
    records = read_topic(hub_settings, CASE_STATE_TOPIC, 2 * len(CASES))
    assert len(records) == 2 * len(CASES)  # at least once: each case twice
    expected = stored_states(hub_settings)
    assert on_the_topic(hub_settings, dict.fromkeys(expected, 2)) == expected

    # A later change: a higher version, which a subscriber keeps.
    fold(
        hub_settings,
        [of_case(BILAN.model_copy(update={"stream_version": 3}), CASES[0])],
    )
    with publishing(hub_settings):
        wait_until(lambda: marked(hub_settings) == 0, 60, "the change published")
    newest = on_the_topic(hub_settings, {str(CASES[0]): 3})
    assert newest[str(CASES[0])]["bilan"]["count"] == 2
    assert newest == stored_states(hub_settings)


def test_the_topic_is_created_compacted(hub_settings: HubSettings) -> None:
    fold(hub_settings, [of_case(REGISTERED, CASES[0])])
    with publishing(hub_settings):
        wait_until(lambda: marked(hub_settings) == 0, 60, "the state published")

    async def config() -> dict[str, str]:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=hub_settings.kafka_bootstrap_servers
        )
        await admin.start()
        try:
            [answer] = await admin.describe_configs(
                [
                    ConfigResource(
                        ConfigResourceType.TOPIC, hub_settings.topic(CASE_STATE_TOPIC)
                    )
                ]
            )
        finally:
            await admin.close()
        [resource] = answer.resources
        return {entry[0]: entry[1] for entry in resource[4]}

    assert asyncio.run(config())["cleanup.policy"] == "compact"


def test_a_broker_that_comes_back_empty_gets_every_case_again(
    hub_settings: HubSettings, own_broker: EmbeddedBroker
) -> None:
    settings = hub_settings.model_copy(
        update={"kafka_bootstrap_servers": own_broker.bootstrap_servers}
    )
    fold(settings, [of_case(REGISTERED, c) for c in CASES])
    expected = stored_states(settings)
    with publishing(settings):
        wait_until(lambda: marked(settings) == 0, 60, "the states published")
        assert on_the_topic(settings, dict.fromkeys(expected, 1)) == expected
        before = republished()
        own_broker.restart_empty(same_cluster_id=True)  # wiped, the same id
        # (Read only once the publisher made the topic again: the embedded
        # broker creates a topic a reader asks for, with its own partitions.)
        wait_until(lambda: republished() > before, 60, "the loss noticed")
        wait_until(lambda: marked(settings) == 0, 60, "every case published again")
    assert on_the_topic(settings, dict.fromkeys(expected, 1)) == expected


def test_a_state_the_broker_cannot_carry_is_parked_and_the_others_go_on(
    hub_settings: HubSettings,
) -> None:
    # A limit that a case with a bilan exceeds and a bare registration does not.
    settings = hub_settings.model_copy(update={"kafka_max_message_bytes": 1000})
    big, small = CASES[0], CASES[1]
    granted, suspended = SAMPLES_BY_TYPE["granted"], SAMPLES_BY_TYPE["suspended"]
    suspensions = [
        of_case(suspended, big).model_copy(update={"stream_version": 4 + n})
        for n in range(4)
    ]
    fold(
        settings,
        [
            *(of_case(e, big) for e in (REGISTERED, BILAN, granted)),
            *suspensions,
            of_case(REGISTERED, small),
        ],
    )
    with publishing(settings):
        wait_until(lambda: marked(settings) == 0, 60, "the page handled")
    with psycopg.connect(settings.database_url) as conn:
        kept = conn.execute(
            "SELECT case_key, consumer, rule, status FROM case_state.dead_letters"
        ).fetchall()
    assert kept == [(str(big), topic.PUBLISHER, "unpublishable", "parked")]
    [record] = read_topic(settings, CASE_STATE_TOPIC, 1)
    assert record.key.decode() == str(small)
