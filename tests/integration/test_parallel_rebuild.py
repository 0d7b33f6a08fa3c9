"""A rebuild shared by several processes builds what one process builds.

Each worker takes the cases whose id falls to it (`Share`), every event of a
case in store order; the read models and stream positions they write
together must equal those of a rebuild by one process, for every replayable
read model, on a generated history that touches every service.

A rebuild that opens only the boxes of the event types its fold reads
(``ConsumerSpec.reads_personal``) must build what one opening every box
builds: a fold that starts reading another personal field fails here until
its event type is declared.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import uuid

import psycopg
import pytest
from psycopg import sql

from contracts.registry import event_class
from contracts.sealing import personal_plan
from services.common.eventstore import StoredRow, case_of, events_table
from services.common.rebuild import Share, _first_difference, build_shadow
from services.common.settings import HubSettings
from services.generate import Generator, HistorySpec, stored_hub
from services.registry import CONSUMERS, ConsumerSpec
from tests.case_state.test_activation_report import golden_events
from tests.integration.stored import store_events, unrecorded

pytestmark = pytest.mark.integration

REPLAYED = [spec for spec in CONSUMERS if spec.replayable]


def test_every_case_falls_to_exactly_one_worker() -> None:
    at = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
    rows = [
        StoredRow(n, "t", b'{"case_id":"%s"}' % str(uuid.uuid4()).encode(), at)
        for n in range(1, 200)
    ]
    rows.append(StoredRow(200, "t", b"not json", at))
    for workers in (2, 3):
        shares = [Share(n, workers) for n in range(workers)]
        for row in rows:
            assert sum(share.takes(row) for share in shares) == 1
    assert case_of(rows[-1]) is None


@pytest.mark.parametrize("spec", REPLAYED, ids=[s.name for s in REPLAYED])
def test_a_rebuild_by_two_workers_equals_the_rebuild_by_one(
    hub_settings: HubSettings, spec: ConsumerSpec
) -> None:
    with stored_hub(hub_settings) as generated:
        Generator(generated, HistorySpec(cases=30, years=2, seed=5)).run()
    one, two = "rebuilt_by_one", "rebuilt_by_two"
    read_one, heads_one = asyncio.run(build_shadow(hub_settings, one, spec))
    read_two, heads_two = asyncio.run(build_shadow(hub_settings, two, spec, workers=2))
    assert read_two == read_one > 0
    assert heads_two == heads_one

    assert differences(hub_settings, spec, one, two) == []


def differences(
    settings: HubSettings, spec: ConsumerSpec, one: str, two: str
) -> list[tuple[str, tuple[str, str]]]:
    """Where two rebuilds of a consumer part, table by table (none: alike)."""

    async def compare() -> list[tuple[str, tuple[str, str]]]:
        found = []
        async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
            tables = [*spec.compared_tables(), ("stream_positions", "stream_id", ())]
            for table, key, ignored in tables:
                counted = await conn.execute(
                    sql.SQL("SELECT count(*) FROM {}.{}").format(
                        sql.Identifier(two), sql.Identifier(table)
                    )
                )
                assert (await counted.fetchone()) is not None
                difference = await _first_difference(
                    conn, one, two, table=table, key=key, ignored=ignored
                )
                if difference is not None:
                    found.append((table, difference))
        return found

    return asyncio.run(compare())


LEAN = [spec for spec in REPLAYED if spec.reads_personal is not None]


def sealed_types_stored(settings: HubSettings, spec: ConsumerSpec) -> set[str]:
    """The event types with personal data among a consumer's stored events."""
    with psycopg.connect(settings.database_url) as conn:
        return {
            topic
            for schema, app in spec.sources
            for (topic,) in conn.execute(
                sql.SQL("SELECT DISTINCT topic FROM {}").format(
                    events_table(schema, app)
                )
            ).fetchall()
            if personal_plan(event_class(topic))
        }


@pytest.mark.parametrize("spec", LEAN, ids=[s.name for s in LEAN])
def test_a_rebuild_opening_only_the_boxes_its_fold_reads_equals_one_opening_all(
    hub_settings: HubSettings, spec: ConsumerSpec
) -> None:
    with stored_hub(hub_settings) as generated:
        Generator(generated, HistorySpec(cases=40, years=2, seed=7)).run()
    # The generator writes no social activation: the activation report's year.
    store_events(hub_settings, "piis", unrecorded(golden_events().log))
    sealed = sealed_types_stored(hub_settings, spec)
    # The history holds every declared type, and others whose boxes stay shut.
    assert spec.reads_personal is not None
    assert spec.reads_personal <= sealed
    assert sealed - spec.reads_personal
    every_box = dataclasses.replace(spec, reads_personal=None)
    read_all, _ = asyncio.run(build_shadow(hub_settings, "opened_all", every_box))
    read_lean, _ = asyncio.run(build_shadow(hub_settings, "opened_lean", spec))
    assert read_lean == read_all > 0
    assert differences(hub_settings, spec, "opened_all", "opened_lean") == []
