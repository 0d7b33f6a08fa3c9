"""A consumer's parked message, re-driven once its cause is fixed, is applied once.

A fold that fails (here: a defect switched on by the test) parks the message,
and the case's later messages wait behind it. Once fixed, `hub dead-letters
redrive` folds them again, in order, exactly once.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Any

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from contracts.envelope import ContractEvent
from contracts.piis import PiisProposedV1, PIISSignedV1
from services.case_state.projection import CaseStateProjection
from services.common.consumer import ProjectionStore, decode
from services.common.settings import HubSettings
from services.common.subscriber import _sweep
from services.registry import consumer
from tests.contracts.samples import SAMPLES
from tests.integration.harness import hub_env

pytestmark = pytest.mark.integration

REGISTERED, BILAN = SAMPLES[0], SAMPLES[1]


class Defective(CaseStateProjection):
    """The case-state fold with a defect in it."""

    def fold(self, row: Any, event: ContractEvent) -> Any:
        if event.event_type == REGISTERED.event_type:
            raise RuntimeError("a defect in this version")
        return super().fold(row, event)


def feed(settings: HubSettings, events: list[ContractEvent]) -> None:
    async def apply() -> None:
        store = ProjectionStore(Defective(), "case_state")
        async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
            await store.create_tables(conn)
            for event in events:
                await store.apply(conn, [decode(None, event.to_json_bytes())])

    asyncio.run(apply())


def kept(settings: HubSettings) -> list[tuple[Any, ...]]:
    with psycopg.connect(settings.database_url) as conn:
        return conn.execute(
            "SELECT id, status, reason FROM case_state.dead_letters ORDER BY id"
        ).fetchall()


def redrive(
    settings: HubSettings, dead_letter_id: int
) -> subprocess.CompletedProcess[str]:
    command = ["dead-letters", "redrive", "case_state", str(dead_letter_id)]
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *command],
        env=hub_env(settings),
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_fixed_fold_applies_the_parked_messages_once_in_order(
    hub_settings: HubSettings,
) -> None:
    feed(hub_settings, [REGISTERED, BILAN])
    (first, status, reason), (second, waiting, _) = kept(hub_settings)
    assert (status, waiting) == ("parked", "parked")
    assert reason == "RuntimeError: a defect in this version"

    out_of_order = redrive(hub_settings, second)
    assert out_of_order.returncode != 0
    assert f"redrive {first} first" in out_of_order.stderr

    # The fixed version (the real projection, as `hub` runs it) re-drives.
    done = redrive(hub_settings, first)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"applied": 2, "still_parked_because": None}
    with psycopg.connect(hub_settings.database_url) as conn:
        row = conn.execute(
            "SELECT (intake->'bilan'->>'count')::int, intake->'bilan'->>'status' "
            "FROM case_state.cases"
        ).fetchone()
    assert row == (1, "completed")
    assert [status for _, status, _ in kept(hub_settings)] == ["redriven", "redriven"]
    assert redrive(hub_settings, first).returncode != 0


def test_a_later_message_still_not_applicable_on_a_sweep_is_swept_again(
    hub_settings: HubSettings,
) -> None:
    """The sweep re-drives the head of a parked chain; one behind it that is
    "not yet" possible becomes the head the sweep tries next (it used to stay
    parked as "waiting", for ever: a partner never got the PIIS signature)."""
    proposed = next(e for e in SAMPLES if isinstance(e, PiisProposedV1))
    signed = next(e for e in SAMPLES if isinstance(e, PIISSignedV1))
    outbound = consumer("partner-outbound").store()

    async def run() -> list[tuple[Any, ...]]:
        async with AsyncConnectionPool(
            hub_settings.database_url, min_size=1, max_size=2, open=False
        ) as pool:
            async with pool.connection() as conn:
                await outbound.create_tables(conn)
                # The PIIS topic ahead of intake's: not yet (no routing facts).
                await outbound.apply(
                    conn,
                    [decode(None, e.to_json_bytes()) for e in (proposed, signed)],
                    isolate=True,
                )
                await conn.execute("UPDATE partners.dead_letters SET retry_at = now()")
            await _sweep(pool, outbound, 12)  # the proposal passes, the signature not
            async with pool.connection() as conn:
                await outbound.apply(conn, [decode(None, REGISTERED.to_json_bytes())])
                await conn.execute(
                    "UPDATE partners.dead_letters SET retry_at = now() "
                    "WHERE status = 'parked'"
                )
            await _sweep(pool, outbound, 12)
            async with pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT event_type, status FROM partners.dead_letters ORDER BY id"
                )
                return list(await cur.fetchall())

    assert asyncio.run(run()) == [
        (proposed.event_type, "redriven"),
        (signed.event_type, "redriven"),
    ]
    with psycopg.connect(hub_settings.database_url) as conn:
        kinds = conn.execute("SELECT kind FROM partners.outbox").fetchall()
    assert kinds == [("integration_contract_signed",)]  # Le Forem is told
