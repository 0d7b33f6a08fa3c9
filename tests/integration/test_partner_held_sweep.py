"""Held partner messages are released by the gateway's sweep, not only by the next one.

A message ahead of its turn is held until its predecessor is recorded; the
release runs right after the predecessor's transaction. A gateway that dies in
between left it held until the partner sent something else. The sweep
releases it, in order, and the gauges say how many are held and for how long.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import psycopg
import pytest
from prometheus_client import REGISTRY

from services.common.settings import HubSettings
from services.partner_gateway.application import PartnersApplication
from services.partner_gateway.canonical import InboundKind, RoutingFacts
from services.partner_gateway.inbound import InboundDesk
from services.partner_gateway.quarantine import QUARANTINE, create_quarantine
from services.partner_gateway.registry import PARTNERS
from services.partner_gateway.service import create_application, sweep_held
from tests.integration.harness import wait_until
from tests.partner_gateway.samples import FACTS, inbound_sample

pytestmark = pytest.mark.integration

FACTS_FR = FACTS["forem", "fr"]
KINDS: tuple[InboundKind, ...] = (
    "registration_confirmed",
    "training_enrolled",
    "training_completed",
)


def message(sequence: int) -> bytes:
    """Forem's message ``sequence`` for the sample person."""
    sample = inbound_sample(KINDS[sequence - 1], "forem", "fr")
    return PARTNERS["forem"].render(
        sample.model_copy(
            update={"sequence": sequence, "message_id": f"F-SWEEP-{sequence}"}
        )
    )


@pytest.fixture
def app(hub_settings: HubSettings) -> Iterator[PartnersApplication]:
    application = create_application(hub_settings)
    yield application
    application.close()


def open_desk(settings: HubSettings, app: PartnersApplication) -> InboundDesk:
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        create_quarantine(conn, QUARANTINE)

    def find_case(niss: str, cpas_kbo: str) -> RoutingFacts | None:
        known = (niss, cpas_kbo) == (FACTS_FR.niss, FACTS_FR.cpas_kbo)
        return FACTS_FR if known else None

    return InboundDesk(app, settings.database_url, find_case)


@pytest.fixture
def desk(hub_settings: HubSettings, app: PartnersApplication) -> InboundDesk:
    return open_desk(hub_settings, app)


def kept(settings: HubSettings) -> list[tuple[int, str]]:
    with psycopg.connect(settings.database_url) as conn:
        return conn.execute(
            "SELECT sequence, status FROM partner_messages.dead_letters ORDER BY id"
        ).fetchall()


def recorded(app: PartnersApplication) -> int:
    file = app.get_file(FACTS_FR.case_id, current=True)
    return file.next_sequence("forem") - 1 if file else 0


def held_gauges() -> tuple[float | None, float | None]:
    labels = {"partner": "forem"}
    return (
        REGISTRY.get_sample_value("hub_partner_messages_held", labels),
        REGISTRY.get_sample_value("hub_partner_messages_held_oldest_seconds", labels),
    )


def sweeping(desk: InboundDesk, until: Callable[[], bool]) -> None:
    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(sweep_held(desk, stop, period=0.1))
        try:
            await asyncio.to_thread(wait_until, until, 30, "the sweep")
        finally:
            stop.set()
            await task

    asyncio.run(run())


def test_the_sweep_releases_a_message_whose_predecessor_was_recorded(
    hub_settings: HubSettings, app: PartnersApplication, desk: InboundDesk
) -> None:
    assert desk.receive("forem", message(1), "test").status == "applied"
    assert desk.receive("forem", message(3), "test").status == "held"
    assert held_gauges()[0] == 1
    assert (held_gauges()[1] or 0) >= 0
    # Message 2 recorded by another gateway, which died before it released
    # message 3.
    other = create_application(hub_settings)
    try:
        with psycopg.connect(hub_settings.database_url, autocommit=True) as conn:
            died = open_desk(hub_settings, other)
            receipt = died._receive(conn, "forem", message(2), "test", release=False)
        assert receipt.status == "applied"
        assert recorded(other) == 2  # (read with its own cache, not the sweep's)
    finally:
        other.close()
    assert kept(hub_settings) == [(3, "held")]

    sweeping(desk, lambda: kept(hub_settings) == [(3, "applied")])
    assert recorded(app) == 3
    assert held_gauges() == (0, 0)


def test_the_sweep_settles_a_held_copy_of_a_message_already_recorded(
    hub_settings: HubSettings, app: PartnersApplication, desk: InboundDesk
) -> None:
    assert desk.receive("forem", message(3), "test").status == "held"
    assert desk.receive("forem", message(1), "test").status == "applied"
    assert desk.receive("forem", message(2), "test").status == "applied"
    assert recorded(app) == 3
    # Message 3 was recorded on release, but the gateway died before its
    # held copy was settled.
    with psycopg.connect(hub_settings.database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE partner_messages.dead_letters SET status = 'held' "
            "WHERE sequence = 3"
        )
    sweeping(desk, lambda: kept(hub_settings) == [(3, "duplicate")])
    assert recorded(app) == 3
    assert held_gauges()[0] == 0


def test_adr_0009_a_message_ahead_of_its_turn_is_held_as_sequence_waiting(
    hub_settings: HubSettings, desk: InboundDesk
) -> None:
    receipt = desk.receive("forem", message(2), "test")
    assert (receipt.status, receipt.rule, receipt.field) == (
        "held",
        "sequence.waiting",
        "sequence",
    )
    assert kept(hub_settings) == [(2, "held")]


def test_adr_0012_a_message_the_desk_failed_on_is_kept_as_gateway_failed(
    hub_settings: HubSettings, desk: InboundDesk
) -> None:
    receipt = desk.keep_failed("forem", message(1), "test", RuntimeError("a bug"))
    assert (receipt.status, receipt.rule) == ("parked", "gateway.failed")
    with psycopg.connect(hub_settings.database_url) as conn:
        rows = conn.execute(
            "SELECT rule, status FROM partner_messages.dead_letters"
        ).fetchall()
    assert rows == [("gateway.failed", "parked")]
