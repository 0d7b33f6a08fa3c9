"""A rebuild shared by several processes builds what one process builds.

Each worker takes the cases whose id falls to it (`Share`), every event of a
case in store order; the read models and stream positions they write
together must equal those of a rebuild by one process, for every replayable
read model, on a generated history that touches every service.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import psycopg
import pytest
from psycopg import sql

from services.common.eventstore import StoredRow, case_of
from services.common.rebuild import Share, _first_difference, build_shadow
from services.common.settings import HubSettings
from services.generate import Generator, HistorySpec, stored_hub
from services.registry import CONSUMERS, ConsumerSpec

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

    async def differences() -> list[tuple[str, tuple[str, str]]]:
        found = []
        async with await psycopg.AsyncConnection.connect(
            hub_settings.database_url
        ) as conn:
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

    assert asyncio.run(differences()) == []
