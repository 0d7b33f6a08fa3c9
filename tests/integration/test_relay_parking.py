"""One event the broker cannot carry parks its case, not the relay.

A 2 MB bilan already in a store (recorded before input was bounded) used to
make the relay retry that row forever: no later event of any CPAS left. Now
the relay parks that case (its later events behind it), the other cases flow,
a restart goes on past it, the case-state consumer reads the parked event from
the store when the case's next event arrives, and a re-drive releases the case.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent

from contracts.envelope import ContractEvent
from contracts.registry import SERVICE_TOPICS
from services.common.eventstore import AppendRequest, HubApplicationRecorder
from services.common.kafka import BrokerAdmin
from services.common.relay import Relay, relay_schema, request_redrive
from services.common.runtime import EmbeddedBroker
from services.common.settings import HubSettings
from services.intake.application import IntakeApplication
from services.intake.service import RELAY_SPEC, create_application
from tests.intake.fakes import bilan, registration
from tests.integration.harness import read_topic, running_in_thread, wait_until

pytestmark = pytest.mark.integration

OTHERS = 20


def oversized_bilan(app: IntakeApplication, case_id: uuid.UUID) -> None:
    """A stored bilan of 2 MB, as the hub accepted them before limits existed."""
    outcome = app.record_bilan(bilan(case_id))
    case = app.get_beneficiary(case_id, current=True)
    [last] = [
        e for e in app.events.get(case_id) if e.originator_version == case.version
    ]
    # Made as the store makes it (sealed), without the bounds of today.
    assert isinstance(last, ContractEvent)
    oversized = last.model_copy(
        update={
            "event_id": uuid.uuid4(),
            "stream_version": case.version + 1,
            "assessment_id": uuid.uuid4(),
            "needs": ("x" * 2_000_000,),
            "causation_id": uuid.uuid4(),
        }
    )
    state = json.loads(app.mapper.to_stored_event(oversized).state)
    recorder = app.recorder
    assert isinstance(recorder, HubApplicationRecorder)
    [(status, _)] = recorder.insert_requests(
        [
            AppendRequest(
                [
                    StoredEvent(
                        case_id,
                        case.version + 1,
                        last.event_type,
                        json.dumps(state).encode(),
                    )
                ]
            )
        ]
    )
    assert status == "stored"
    assert outcome.stored
    app.forget(case_id)


@contextmanager
def relay_running(settings: HubSettings) -> Iterator[None]:
    async def run(stop: asyncio.Event) -> None:
        await Relay(settings, RELAY_SPEC).run(stop)

    with running_in_thread(run):
        yield


def dead_letters(settings: HubSettings) -> list[tuple[str, str, str]]:
    with psycopg.connect(settings.database_url) as conn:
        try:
            return conn.execute(
                f"SELECT case_key, rule, status FROM {relay_schema(RELAY_SPEC)}"
                ".dead_letters ORDER BY id"
            ).fetchall()
        except psycopg.errors.UndefinedTable:
            return []


def test_an_event_the_broker_cannot_carry_parks_its_case_and_the_rest_flows(
    hub_settings: HubSettings,
) -> None:
    app = create_application(hub_settings)
    stuck = app.register_beneficiary(registration(1)).case_id
    oversized_bilan(app, stuck)
    app.record_bilan(bilan(stuck))  # behind the parked one: waits
    others = [
        app.register_beneficiary(registration(n + 2)).case_id for n in range(OTHERS)
    ]
    topic = SERVICE_TOPICS["intake"]
    # Registrations 2 per case (case + file number), the stuck case's first 2
    # events (registration, claim) and its normal bilan before the big one.
    expected = 2 * OTHERS + 3
    with relay_running(hub_settings):
        wait_until(lambda: len(dead_letters(hub_settings)) == 2, 60, "the parked case")
        published = read_topic(hub_settings, topic, expected)
    assert len(published) == expected
    assert {r.key.decode() for r in published} == {str(c) for c in [stuck, *others]}
    assert [(k, rule) for k, rule, _ in dead_letters(hub_settings)] == [
        (str(stuck), "unpublishable"),
        (str(stuck), "waiting"),
    ]

    # A restart goes on past the parked row instead of stopping at it again.
    later = app.register_beneficiary(registration(OTHERS + 5)).case_id
    with relay_running(hub_settings):
        found = read_topic(hub_settings, topic, expected + 2)
    assert str(later) in {r.key.decode() for r in found}
    assert len(dead_letters(hub_settings)) == 2

    # Released: the big event stays in the store (consumers read it there),
    # the one behind it is published.
    with psycopg.connect(hub_settings.database_url, autocommit=True) as conn:
        first_id = conn.execute(
            f"SELECT min(id) FROM {relay_schema(RELAY_SPEC)}.dead_letters"
        ).fetchone()
        assert first_id is not None
        request_redrive(conn, relay_schema(RELAY_SPEC), first_id[0])
    with relay_running(hub_settings):
        wait_until(
            lambda: (
                [s for _, _, s in dead_letters(hub_settings)]
                == ["unpublishable", "redriven"]
            ),
            60,
            "the re-drive",
        )
        found = read_topic(hub_settings, topic, expected + 3)
    stuck_events = [r for r in found if r.key.decode() == str(stuck)]
    assert len(stuck_events) == 4
    app.close()


def distinct(records: list[Any]) -> int:
    """Events on a topic, each once (at least once: a round cut short is resent)."""
    return len({json.loads(r.value)["event_id"] for r in records})


async def topic_holds(settings: HubSettings, topic: str) -> bool:
    admin = BrokerAdmin(settings)
    await admin.start()
    try:
        ends = await admin.end_offsets(settings.topic(topic))
    finally:
        await admin.close()
    return bool(ends and any(ends.values()))


def test_a_broker_wiped_under_the_same_cluster_id_is_refilled(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    broker = EmbeddedBroker(log_path=tmp_path / "broker.log")
    broker.start()
    settings = hub_settings.model_copy(
        update={"kafka_bootstrap_servers": broker.bootstrap_servers}
    )
    try:
        app = create_application(settings)
        for n in range(10):
            app.register_beneficiary(registration(n + 1))
        topic = SERVICE_TOPICS["intake"]
        with relay_running(settings):
            assert len(read_topic(settings, topic, 20)) == 20
            broker.restart_empty(same_cluster_id=True)
            app.register_beneficiary(registration(50))
            wait_until(
                lambda: asyncio.run(topic_holds(settings, topic)),
                60,
                "the topic refilled",
            )
            # Everything again, not only what came after the wipe.
            wait_until(
                lambda: distinct(read_topic(settings, topic, 10_000, timeout=3)) == 22,
                60,
                "every event on the refilled broker",
            )
        app.close()
    finally:
        broker.stop()
