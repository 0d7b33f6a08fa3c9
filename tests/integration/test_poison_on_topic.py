"""A forged message on a hub topic parks its case; the other cases keep flowing.

Oversized, deeply nested and NUL-carrying messages are put on the intake topic
for one registered case, between the events of others. The case-state
process's consumers park them (for that case only: its later events wait
behind them) while the other cases' events reach the read models meanwhile.
"""

from __future__ import annotations

import asyncio
import json

import psycopg
import pytest
from aiokafka import AIOKafkaProducer

from contracts.registry import SERVICE_TOPICS
from services.common.settings import HubSettings
from services.intake.service import create_application
from tests.intake.fakes import bilan, registration
from tests.integration.harness import pipeline, projected_cases, wait_until

pytestmark = pytest.mark.integration

OTHERS = 60


def forged(case_id: str, stored: dict[str, object]) -> list[bytes]:
    """Three messages a consumer cannot apply, keyed as the case's own."""
    registered = {**stored, "stream_version": 2}
    return [
        json.dumps({**registered, "family_name": "x" * 900_000}).encode(),
        b'{"event_type": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
        json.dumps({**registered, "family_name": "Nul\u0000"}).encode(),
    ]


def parked(settings: HubSettings, case_id: str) -> list[tuple[str, str]]:
    with psycopg.connect(settings.database_url) as conn:
        return conn.execute(
            "SELECT rule, status FROM case_state.dead_letters WHERE case_key = %s "
            "ORDER BY id",
            (case_id,),
        ).fetchall()


def test_forged_messages_park_their_case_while_the_others_flow(
    hub_settings: HubSettings,
) -> None:
    app = create_application(hub_settings)
    victim = app.register_beneficiary(registration(1)).case_id
    [first] = [e for e in app.events.get(victim) if e.originator_version == 1]
    template = json.loads(first.model_dump_json())  # type: ignore[attr-defined]

    async def run() -> None:
        async with pipeline(hub_settings):
            await asyncio.to_thread(
                wait_until, lambda: projected_cases(hub_settings) == 1, 60, "case 1"
            )
            producer = AIOKafkaProducer(
                bootstrap_servers=hub_settings.kafka_bootstrap_servers,
                max_request_size=hub_settings.kafka_max_message_bytes,
            )
            await producer.start()
            try:
                for payload in forged(str(victim), template):
                    await producer.send_and_wait(
                        hub_settings.topic(SERVICE_TOPICS["intake"]),
                        payload,
                        str(victim).encode(),
                    )
            finally:
                await producer.stop()
            # The victim's own next event, behind the forged ones, and others.
            await asyncio.to_thread(app.record_bilan, bilan(victim))
            for n in range(OTHERS):
                await asyncio.to_thread(app.register_beneficiary, registration(n + 2))
            await asyncio.to_thread(
                wait_until,
                lambda: projected_cases(hub_settings) == OTHERS + 1,
                120,
                "the other cases",
            )

    asyncio.run(run())
    app.close()
    rules = parked(hub_settings, str(victim))
    assert [rule for rule, _ in rules[:3]] == ["decode", "decode", "decode"], rules
    # The victim's bilan waits behind them; the others went on meanwhile.
    assert rules[3:] == [("waiting", "parked")], rules
    with psycopg.connect(hub_settings.database_url) as conn:
        row = conn.execute(
            "SELECT (intake->'bilan'->>'count')::int FROM case_state.cases "
            "WHERE case_id = %s",
            (victim,),
        ).fetchone()
    assert row == (0,)
