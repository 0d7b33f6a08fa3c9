"""No update is lost between two topics: one case's intake and PIIS events at once.

For a thousand cases an income grant (intake topic) and the trajectory's first
phase (PIIS topic) arrive together, consumed by two consumer groups of the
case-state process in concurrent transactions (delivered straight to the
consumers' code, so that the two batches of the same cases surely meet; the
broker's timing would make that a matter of luck). The statistics read model,
fed by both, must hold both for every case; every read model equals its
rebuild from the event stores.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import psycopg
import pytest

from services.case_state.service import open_pool
from services.common.aggregate import CommandContext
from services.common.command_service import process_stores
from services.common.consumer import Envelope, decode
from services.common.eventstore import (
    events_table,
    eventstore_env,
    read_rows,
    row_to_event,
    schema_setup,
)
from services.common.rebuild import check
from services.common.settings import HubSettings
from services.common.subscriber import Delivery
from services.demo import make_kbo
from services.intake.service import create_application
from services.piis.application import PiisApplication, StartTrajectory
from services.piis.domain import CaseFacts
from services.registry import Applications, consumers_of
from tests.integration.stored import register_and_grant

pytestmark = pytest.mark.integration

CASES = 1000
BATCH_CASES = 100
CPAS = make_kbo(2123499)
DAY = dt.date(2026, 11, 2)


def context() -> CommandContext:
    return CommandContext(uuid.uuid4(), dt.datetime(2026, 11, 2, tzinfo=dt.UTC))


def record_history(settings: HubSettings) -> None:
    """Each case registered, granted, and its trajectory opened: in two stores."""
    intake = create_application(settings)
    facts: dict[uuid.UUID, CaseFacts] = {}
    env = eventstore_env(settings.database_url, app_name="piis", schema="piis")
    with schema_setup(settings.database_url, "piis"):
        piis = PiisApplication(env, facts=facts.get, id_secret=settings.id_secret)
    try:
        for n in range(CASES):
            case_id = register_and_grant(intake, n, CPAS, DAY, dt.date(1960, 1, 1))
            facts[case_id] = CaseFacts(case_id, CPAS, f"M{n}")
            piis.start_trajectory(
                StartTrajectory(context(), case_id, "facilitator", DAY, "bilan", "sw")
            )
    finally:
        intake.close()
        piis.close()


def stored(settings: HubSettings, service: str) -> dict[uuid.UUID, list[Envelope]]:
    """A service's stored events as its topic carries them, by case."""
    by_case: dict[uuid.UUID, list[Envelope]] = {}
    with psycopg.connect(settings.database_url) as conn:
        for row in read_rows(conn, events_table(service, service)):
            event = row_to_event(row)
            envelope = decode(str(event.case_id).encode(), event.to_json_bytes())
            by_case.setdefault(event.case_id, []).append(envelope)
    return by_case


def test_an_intake_and_a_piis_event_of_one_case_at_once_lose_nothing(
    hub_settings: HubSettings,
) -> None:
    record_history(hub_settings)
    intake, piis = stored(hub_settings, "intake"), stored(hub_settings, "piis")
    cases = sorted(intake)

    async def consume() -> None:
        async with open_pool(hub_settings) as pool:
            stores = process_stores("case-state", Applications(hub_settings))
            topics = {
                service: Delivery(pool, stores[service], attempts=5)
                for service in ("intake", "piis")
            }
            # The two topics' batches of the same cases, delivered together,
            # as the case-state process's two consumer groups would.
            for start in range(0, len(cases), BATCH_CASES):
                chunk = cases[start : start + BATCH_CASES]
                await asyncio.gather(
                    topics["intake"].deliver([e for c in chunk for e in intake[c]]),
                    topics["piis"].deliver([e for c in chunk for e in piis[c]]),
                )

    asyncio.run(consume())
    with psycopg.connect(hub_settings.database_url) as conn:
        both = conn.execute(
            "SELECT count(*) FROM statistics.case_history "
            "WHERE jsonb_array_length(income) > 0 AND jsonb_array_length(phases) > 0"
        ).fetchone()
    assert both == (CASES,)
    for spec in consumers_of("case-state"):
        assert asyncio.run(check(hub_settings, spec)) is None, spec.name
