"""The annual social-activation report on the real PostgreSQL.

A replay of the PIIS event store as known at a past time equals what the live
read model said at that time; the rebuild equals the live read model; the API
(scoped to the key's CPAS) and ``hub report social-activation`` serve it. The
PIIS service is not wired: its events are appended to a PIIS event store and
fed to the read model as the consumer would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import httpx
import psycopg
import pytest
from typer.testing import CliRunner

from services.case_state.activation_report import annual_report, as_csv, replay
from services.case_state.service import activation_report_of, create_api, open_pool
from services.cli import app as hub
from services.common.auth import hash_key, parse_api_keys
from services.common.consumer import Envelope
from services.common.eventstore import events_table, read_rows, row_to_event
from services.common.rebuild import build_shadow
from services.common.settings import HubSettings
from services.registry import consumer
from tests.case_state.test_activation_report import (
    CPAS,
    OTHER_CPAS,
    D,
    activation,
    golden_events,
)
from tests.integration.harness import API_KEY, hub_env, table
from tests.integration.stored import published, store_events, unrecorded

pytestmark = pytest.mark.integration

ACTIVATION = consumer("activation")
OTHER_KEY = "test-api-key-other-cpas"


async def consume(settings: HubSettings, batch: list[Envelope]) -> None:
    """Apply a batch to the live read model, as the case-state consumer does."""
    connect = psycopg.AsyncConnection.connect
    async with await connect(settings.database_url, autocommit=True) as conn:
        await ACTIVATION.store().create_tables(conn)
        await ACTIVATION.store().apply(conn, batch)


async def live_report(
    settings: HubSettings, known_at: dt.datetime | None = None
) -> dict[str, Any]:
    async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
        return await activation_report_of(conn, CPAS, 2026, known_at)


def database_now(settings: HubSettings) -> dt.datetime:
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute("SELECT clock_timestamp()").fetchone()
    assert row is not None
    now: dt.datetime = row[0]
    return now


def replayed(settings: HubSettings, known_at: dt.datetime) -> dict[str, Any]:
    """The report from the PIIS event store itself, as known at a time."""
    with psycopg.connect(settings.database_url) as conn:
        events = [
            row_to_event(r) for r in read_rows(conn, events_table("piis", "piis"))
        ]
    return annual_report(replay(events), cpas_kbo=CPAS, year=2026, known_at=known_at)


def without_known_at(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "known_at"}


def test_a_replay_as_known_at_a_past_time_equals_what_the_live_report_said(
    hub_settings: HubSettings,
) -> None:
    events = golden_events().log
    # What was keyed in by a first time, then the rest: the late final
    # measurements and the trajectories of the winter.
    first = [e for e in events if e.occurred_at.date() <= dt.date(2026, 6, 10)]
    later = [e for e in events if e not in first]
    assert first
    assert later
    store_events(hub_settings, "piis", unrecorded(first))
    asyncio.run(consume(hub_settings, published(hub_settings, "piis")))
    said_then = asyncio.run(live_report(hub_settings))
    then = database_now(hub_settings)

    store_events(hub_settings, "piis", unrecorded(later))
    envelopes = published(hub_settings, "piis")
    asyncio.run(consume(hub_settings, envelopes[len(first) :]))
    now = asyncio.run(live_report(hub_settings))
    assert now != said_then
    assert without_known_at(now) == without_known_at(
        replayed(hub_settings, database_now(hub_settings))
    )

    assert without_known_at(replayed(hub_settings, then)) == without_known_at(said_then)
    known_then = asyncio.run(live_report(hub_settings, then))
    assert without_known_at(known_then) == without_known_at(said_then)

    # The rebuild from the store keeps the same trajectories as the live model.
    read, _ = asyncio.run(build_shadow(hub_settings, "activation_check", ACTIVATION))
    assert read == len(events)
    assert table(hub_settings, "activation", "progress", "case_id") == table(
        hub_settings, "activation_check", "progress", "case_id"
    )

    cli = CliRunner().invoke(
        hub,
        ["report", "social-activation", "--cpas", CPAS, "--year", "2026"],
        env=hub_env(hub_settings),
    )
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.output) == now
    as_csv_then = CliRunner().invoke(
        hub,
        [
            "report",
            "social-activation",
            "--cpas",
            CPAS,
            "--year",
            "2026",
            "--known-at",
            then.isoformat(),
            "--format",
            "csv",
        ],
        env=hub_env(hub_settings),
    )
    assert as_csv_then.exit_code == 0, as_csv_then.output
    assert as_csv_then.output == as_csv(known_then)


async def _served(settings: HubSettings) -> dict[str, httpx.Response]:
    keys = {
        **json.loads(settings.api_keys),
        hash_key(OTHER_KEY): {
            "client": "other",
            "scopes": ["cases:read"],
            "cpas": [OTHER_CPAS],
        },
    }
    async with open_pool(settings) as pool:
        api = create_api(pool, parse_api_keys(json.dumps(keys)))
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://case-state"
        ) as client:
            query = {"cpas_kbo": CPAS, "year": "2026"}
            mine = {"X-API-Key": API_KEY}
            return {
                "json": await client.get(
                    "/reports/social-activation", params=query, headers=mine
                ),
                "csv": await client.get(
                    "/reports/social-activation.csv", params=query, headers=mine
                ),
                "other": await client.get(
                    "/reports/social-activation",
                    params=query,
                    headers={"X-API-Key": OTHER_KEY},
                ),
                "bad_year": await client.get(
                    "/reports/social-activation",
                    params={"cpas_kbo": CPAS, "year": "26.5"},
                    headers=mine,
                ),
            }


def test_the_report_is_served_to_the_cpas_of_the_key_only(
    hub_settings: HubSettings,
) -> None:
    # Case 50 ran a trajectory here, then moved to another CPAS and began one
    # there: the first still counts here, the CPAS that recorded its start.
    events = (
        golden_events()
        .started(50, D(2026, 1, 1), D(2026, 6, 30))
        .evaluated(50, D(2026, 6, 30), {"social": 2}, final=True)
        .started(50, D(2026, 8, 1), D(2027, 1, 31), cpas=OTHER_CPAS, trajectory=51)
    )
    store_events(hub_settings, "piis", unrecorded(events.log))
    asyncio.run(consume(hub_settings, published(hub_settings, "piis")))
    answers = asyncio.run(_served(hub_settings))
    live = asyncio.run(live_report(hub_settings))
    assert live == annual_report(replay(events.log), cpas_kbo=CPAS, year=2026)
    assert str(activation(50)) in {x["activation_id"] for x in live["lines"]}
    assert answers["json"].status_code == 200
    assert answers["json"].json() == live
    assert answers["csv"].headers["content-type"].startswith("text/csv")
    assert answers["csv"].text == as_csv(live)
    assert answers["other"].status_code == 403
    assert answers["other"].json()["detail"][0]["type"] == "auth.cpas"
    assert answers["bad_year"].status_code == 422
