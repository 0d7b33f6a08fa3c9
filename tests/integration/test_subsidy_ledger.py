"""The subsidy ledger on the real PostgreSQL: live equals rebuild and replay.

Intake's and the PIIS service's events are appended to their event stores
(the store sets the recording time), fed to the live read model as the
consumer would, read over HTTP, and replayed from the stores for the audit:
as known at a past time, the replay gives what the live read model gave.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from contracts.envelope import ContractEvent
from services.case_state.service import create_api, open_pool
from services.case_state.subsidies import Window, replay_ledger
from services.case_state.subsidies_api import subsidies_of
from services.common.application import HubApplication
from services.common.auth import parse_api_keys
from services.common.consumer import Envelope, decode
from services.common.eventstore import (
    events_table,
    eventstore_env,
    read_rows,
    row_to_event,
    schema_setup,
)
from services.common.http import BRUSSELS
from services.common.rebuild import build_shadow
from services.common.settings import HubSettings
from services.registry import consumer
from tests.case_state.test_subsidies import CPAS, evaluated, grant, signed
from tests.integration.harness import HEADERS, table

pytestmark = pytest.mark.integration

SUBSIDIES = consumer("subsidies")
CASE = uuid.UUID(int=0x5B5)
# The ledger as of today (Brussels) reads what was recorded by its end, and
# this test records its events now: a fixed date would leave them after it.
TODAY = dt.datetime.now(BRUSSELS).date()


def store(settings: HubSettings, service: str, events: list[ContractEvent]) -> None:
    """Append one stream's events as the service would, versions from 1."""

    class Store(HubApplication):
        name = service

    env = eventstore_env(settings.database_url, app_name=service, schema=service)
    stream = uuid.uuid5(CASE, service)
    with schema_setup(settings.database_url, service):
        app = Store(env)
    try:
        app.recorder.insert_events(
            [
                app.mapper.to_stored_event(
                    e.model_copy(
                        update={
                            "recorded_at": None,
                            "stream_id": stream,
                            "stream_version": n + before(settings, service),
                        }
                    )
                )
                for n, e in enumerate(events, 1)
            ]
        )
    finally:
        app.close()


def before(settings: HubSettings, service: str) -> int:
    with psycopg.connect(settings.database_url) as conn:
        try:
            return len(list(read_rows(conn, events_table(service, service))))
        except psycopg.errors.UndefinedTable:
            return 0


def published(settings: HubSettings, service: str) -> list[Envelope]:
    with psycopg.connect(settings.database_url) as conn:
        rows = list(read_rows(conn, events_table(service, service)))
    return [
        decode(str(e.case_id).encode(), e.to_json_bytes(), source="test")
        for e in map(row_to_event, rows)
    ]


async def _scenario(settings: HubSettings) -> dict[str, Any]:
    piis = uuid.uuid4()
    store(settings, "intake", [grant(CASE, dt.date(2025, 3, 1))])
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    between: dt.datetime = row[0]
    store(
        settings,
        "piis",
        [
            signed(CASE, dt.date(2025, 3, 5), piis),
            evaluated(CASE, dt.date(2026, 2, 10), piis, "a second year"),
        ],
    )
    live_store = SUBSIDIES.store()
    found: dict[str, Any] = {}
    async with open_pool(settings) as pool:
        async with pool.connection() as conn:
            # The PIIS topic first, then intake's, the first batch twice.
            piis_batch = published(settings, "piis")
            for batch in (piis_batch, piis_batch, published(settings, "intake")):
                await live_store.apply(conn, batch)
            for name, known_at in (("now", None), ("between", between)):
                window = Window(TODAY, known_at, last_month=dt.date(2026, 4, 1))
                found[f"live_{name}"] = await subsidies_of(
                    conn, SUBSIDIES.schema, CPAS, window
                )
                found[f"replay_{name}"] = await replay_ledger(conn, CPAS, window)
        api = create_api(pool, parse_api_keys(settings.api_keys))
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://case-state", headers=HEADERS
        ) as client:
            query = {"as_of": TODAY.isoformat(), "to_month": "2026-04"}
            found["case"] = await client.get(f"/cases/{CASE}/subsidies", params=query)
            found["cpas"] = await client.get(
                "/subsidies", params=query | {"cpas_kbo": CPAS}
            )
            found["unknown"] = await client.get(
                f"/cases/{uuid.uuid4()}/subsidies", params=query
            )
            found["bad"] = await client.get(
                f"/cases/{CASE}/subsidies", params={"as_of": "x", "to_month": "2026-13"}
            )
    return found


def test_the_ledger_live_equals_its_rebuild_and_its_replay_as_known_then(
    hub_settings: HubSettings,
) -> None:
    found = asyncio.run(_scenario(hub_settings))
    live = found["live_now"]
    assert [r.piis_code for r in live if r.month.year == 2025][:2] == ["11", "11"]
    assert live[-1].piis_code == "17"  # motivated, PIIS in force on 28 Feb 2026
    assert found["replay_now"] == live
    # As the hub knew it before the PIIS was recorded: no subsidy, both ways.
    assert {r.piis_code for r in found["live_between"]} == {None}
    assert found["replay_between"] == found["live_between"]
    # A rebuild from the stores equals the live table.
    asyncio.run(build_shadow(hub_settings, "subsidies_check", SUBSIDIES))
    assert table(hub_settings, "subsidies", "subsidy_facts", "case_id") == table(
        hub_settings, "subsidies_check", "subsidy_facts", "case_id"
    )

    case = found["case"]
    assert case.status_code == 200, case.text
    body = case.json()
    assert [r["month"] for r in body["rows"]][-1] == "2026-04"
    assert body["rows"] == [r.as_dict() for r in live]
    assert found["cpas"].json()["rows"] == body["rows"]
    assert found["unknown"].status_code == 404
    assert found["bad"].status_code == 422
    fields = {tuple(d["loc"]) for d in found["bad"].json()["detail"]}
    assert fields == {("query", "as_of"), ("query", "to_month")}
