"""The roster read model on the real PostgreSQL: live equals rebuild, and its API.

The placement service is not wired here: its events are appended to a
placement event store (schema and application "placement", as the read model
expects) and fed to the projection store as the consumer would.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import psycopg
import pytest

from services.case_state.service import create_api, open_pool
from services.common.auth import parse_api_keys
from services.common.consumer import Envelope, decode
from services.common.rebuild import build_shadow, rebuild
from services.common.settings import HubSettings
from services.registry import consumer
from tests.case_state.test_roster import AFTER_D, UP_TO_D, D
from tests.contracts.samples import CASE, KBO, SAMPLES
from tests.integration.harness import HEADERS, table
from tests.integration.stored import published, store_events, unrecorded

pytestmark = pytest.mark.integration

ROSTER = consumer("roster")


async def consume(settings: HubSettings, batches: list[list[Envelope]]) -> None:
    """Apply batches to the live roster, as the case-state consumer does."""
    store = ROSTER.store()
    connect = psycopg.AsyncConnection.connect
    async with await connect(settings.database_url, autocommit=True) as conn:
        await store.create_tables(conn)
        for batch in batches:
            await store.apply(conn, batch)


def test_a_rebuild_without_a_placement_store_is_empty_not_an_error(
    hub_settings: HubSettings,
) -> None:
    read, heads = asyncio.run(build_shadow(hub_settings, "roster_check", ROSTER))
    assert (read, heads) == (0, {})
    assert asyncio.run(rebuild(hub_settings, ROSTER)) == 0
    assert table(hub_settings, "roster", "placement_history", "case_id") == []


def test_the_live_roster_equals_a_rebuild_from_the_store(
    hub_settings: HubSettings,
) -> None:
    store_events(hub_settings, "placement", unrecorded([*UP_TO_D, *AFTER_D]))
    envelopes = published(hub_settings, "placement")
    assert len(envelopes) == len(UP_TO_D) + len(AFTER_D)
    # In batches, with a redelivery of the first batch (at-least-once).
    first, rest = envelopes[:5], envelopes[5:]
    asyncio.run(consume(hub_settings, [first, first, rest]))
    live = table(hub_settings, "roster", "placement_history", "case_id")
    assert len(live) == len({e.case_id for e in UP_TO_D + AFTER_D})

    read, heads = asyncio.run(build_shadow(hub_settings, "roster_check", ROSTER))
    assert read == len(envelopes)
    assert set(heads) == {"placement"}
    assert live == table(hub_settings, "roster_check", "placement_history", "case_id")
    assert table(hub_settings, "roster", "stream_positions", "stream_id") == table(
        hub_settings, "roster_check", "stream_positions", "stream_id"
    )
    # And the CLI's path: rebuild and swap in.
    assert asyncio.run(rebuild(hub_settings, ROSTER)) == len(envelopes)
    assert table(hub_settings, "roster", "placement_history", "case_id") == live


async def _read_api(settings: HubSettings, events: list[Envelope]) -> dict[str, Any]:
    registered = next(e for e in SAMPLES if e.event_type.endswith("registered.v1"))
    case_state = consumer("case-state").store()
    async with open_pool(settings) as pool:
        async with pool.connection() as conn:
            await case_state.apply(
                conn, [decode(str(CASE).encode(), registered.to_json_bytes())]
            )
            if events:
                await ROSTER.store().apply(conn, events)
                await case_state.apply(conn, events)
        api = create_api(pool, parse_api_keys(settings.api_keys))
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://case-state", headers=HEADERS
        ) as client:
            query = {"cpas_kbo": KBO, "as_of": D.isoformat()}
            answers = {
                "roster": await client.get("/placements/roster", params=query),
                "case": await client.get(f"/cases/{CASE}"),
                "bad": await client.get(
                    "/placements/roster", params={"cpas_kbo": "12", "as_of": "x"}
                ),
            }
    return answers


def test_the_roster_and_the_case_view_are_served(hub_settings: HubSettings) -> None:
    # Case A's contract, moved to the sample case registered in the case state.
    case_a = [e for e in UP_TO_D if e.case_id == UP_TO_D[0].case_id]
    moved = [e.model_copy(update={"case_id": CASE}) for e in case_a]
    envelopes = [decode(str(CASE).encode(), e.to_json_bytes()) for e in moved]
    answers = asyncio.run(_read_api(hub_settings, envelopes))

    roster = answers["roster"]
    assert roster.status_code == 200, roster.text
    body = roster.json()
    assert (body["as_of"], body["active"], body["ending_within_30"]) == (
        D.isoformat(),
        1,
        1,
    )
    [entry] = body["entries"]
    assert entry["case_id"] == str(CASE)
    assert entry["user_organisation_name"] == "Commune de Namur"

    case = answers["case"]
    assert case.status_code == 200, case.text
    [contract] = case.json()["placements"]
    assert contract["kind"] == "article_60"
    assert contract["user_organisation_name"] == "Commune de Namur"
    assert "end_reason" not in contract

    assert answers["bad"].status_code == 422
    fields = {tuple(d["loc"]) for d in answers["bad"].json()["detail"]}
    assert fields == {("query", "cpas_kbo"), ("query", "as_of")}


def test_a_case_without_placement_shows_none(hub_settings: HubSettings) -> None:
    answers = asyncio.run(_read_api(hub_settings, []))
    assert answers["case"].json()["placements"] == []
    assert answers["roster"].json()["active"] == 0
