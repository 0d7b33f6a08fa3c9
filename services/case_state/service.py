"""The case-state process: the consumer that keeps the projection, and its read API."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

import psycopg
from fastapi import FastAPI, Query
from faststream.kafka import KafkaBroker
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from contracts.text import Identifier
from contracts.wire import AS_INTEGER_TEXT, Date, DateTime, Uuid
from services.case_state.activation import progress_of_cpas
from services.case_state.deadlines import overdue_for
from services.case_state.roster import (
    Roster,
    load_case,
    placement_summary,
    roster,
)
from services.case_state.roster import load_cpas as load_roster
from services.case_state.statistics import IspStatistics, isp_statistics, load_cpas
from services.common.auth import (
    ApiClient,
    Reader,
    parse_api_keys,
)
from services.common.command_service import (
    process_stores,
    serve_with_consumers,
    subscribe_process,
)
from services.common.http import BRUSSELS, service_api
from services.common.refusals import Refused
from services.common.settings import MIB, HubSettings
from services.common.subscriber import new_broker
from services.registry import Applications, consumer, consumers_of

__all__ = ["PROCESS", "SCHEMA", "create_api", "create_broker", "serve"]

log = logging.getLogger(__name__)

PROCESS = "case-state"
SCHEMA = consumer("case-state").schema
ROSTER = consumer("roster").schema
STATISTICS = consumer("statistics").schema
ACTIVATION = consumer("activation").schema
DEADLINES = consumer("deadlines").schema
_KBO = r"^[01]\d{9}$"


def create_broker(settings: HubSettings, pool: AsyncConnectionPool[Any]) -> KafkaBroker:
    """The broker with one subscriber per topic, feeding every read model of it."""
    broker = new_broker(settings)
    stores = process_stores(PROCESS, Applications(settings))
    subscribe_process(broker, settings, pool, PROCESS, stores)
    return broker


def create_api(
    pool: AsyncConnectionPool[Any],
    keys: Mapping[str, ApiClient],
    *,
    count_article_60: bool = True,
    max_request_bytes: int = MIB,
) -> FastAPI:
    """HTTP read access to the case state (bodies capped, 413 beyond)."""
    api = service_api(
        "case state",
        "Current state of each case, rebuilt from the event log. No personal "
        "data: ask intake for identity.",
        keys,
        max_request_bytes=max_request_bytes,
    )

    @api.get("/cases/{case_id}", summary="One case's current state")
    async def get_case(case_id: Uuid, client: Reader) -> dict[str, Any]:
        rows = await _select(pool, sql.SQL("case_id = %s"), (case_id,), limit=1)
        if rows:
            client.check_cpas(rows[0]["cpas_kbo"])
        if not rows:
            raise Refused(
                404,
                ("path", "case_id"),
                "case.unknown",
                "no case with this id in the case state",
            )
        async with pool.connection() as conn:
            history = await load_case(conn, ROSTER, case_id)
        today = dt.datetime.now(BRUSSELS).date()
        return {**rows[0], "placement": placement_summary(history, as_of=today)}

    @api.get("/cases", summary="Cases of a CPAS")
    async def list_cases(
        cpas_kbo: Annotated[
            str, Query(pattern=_KBO, max_length=10, description="KBO of the CPAS")
        ],
        client: Reader,
        limit: Annotated[int, Query(ge=1, le=1000), AS_INTEGER_TEXT] = 100,
    ) -> list[dict[str, Any]]:
        client.check_cpas(cpas_kbo)
        return await _select(pool, sql.SQL("cpas_kbo = %s"), (cpas_kbo,), limit=limit)

    @api.get("/statistics/isp", summary="ISP statistics of a CPAS as of a date")
    async def isp(
        client: Reader,
        cpas_kbo: Annotated[
            str, Query(pattern=_KBO, max_length=10, description="KBO of the CPAS")
        ],
        as_of: Annotated[Date, Query(description="Date of the figures")],
        known_at: Annotated[
            DateTime | None,
            Query(description="Only what the hub had recorded by then (audit)"),
        ] = None,
    ) -> dict[str, Any]:
        client.check_cpas(cpas_kbo)
        async with pool.connection() as conn:
            stats = await statistics_of(
                conn, cpas_kbo, as_of, known_at, count_article_60=count_article_60
            )
        return stats.as_dict()

    @api.get(
        "/placements/roster",
        summary="Article 60/61 roster of a CPAS as of a date",
        description="Contracts being worked on the date, ending within 30/60/90 "
        "days, work days remaining and user organisations, as the hub knew them "
        "at the end of that day (Brussels) unless known_at says otherwise.",
    )
    async def placements_roster(
        client: Reader,
        cpas_kbo: Annotated[
            str, Query(pattern=_KBO, max_length=10, description="KBO of the CPAS")
        ],
        as_of: Annotated[Date, Query(description="Date of the roster")],
        known_at: Annotated[
            DateTime | None,
            Query(
                description="Only what the hub had recorded by then (default: "
                "the end of as_of in Brussels)"
            ),
        ] = None,
    ) -> dict[str, Any]:
        client.check_cpas(cpas_kbo)
        async with pool.connection() as conn:
            found = await roster_of(conn, cpas_kbo, as_of, known_at)
        return found.as_dict()

    @api.get(
        "/statistics/social-activation",
        summary="Social-activation progress of a CPAS, per person and on average",
    )
    async def activation(
        client: Reader,
        cpas_kbo: Annotated[
            str, Query(pattern=_KBO, max_length=10, description="KBO of the CPAS")
        ],
    ) -> dict[str, Any]:
        client.check_cpas(cpas_kbo)
        async with pool.connection() as conn:
            return await progress_of_cpas(conn, ACTIVATION, cpas_kbo)

    @api.get("/deadlines", summary="Missed PIIS deadlines of a CPAS")
    async def deadlines(
        client: Reader,
        cpas_kbo: Annotated[
            str, Query(pattern=_KBO, max_length=10, description="KBO of the CPAS")
        ],
        caseworker: Annotated[
            Identifier | None, Query(description="Only this caseworker's")
        ] = None,
    ) -> list[dict[str, Any]]:
        client.check_cpas(cpas_kbo)
        async with pool.connection() as conn:
            return await overdue_for(conn, DEADLINES, cpas_kbo, caseworker)

    return api


async def statistics_of(
    conn: psycopg.AsyncConnection[Any],
    cpas_kbo: str,
    as_of: dt.date,
    known_at: dt.datetime | None = None,
    *,
    count_article_60: bool = True,
) -> IspStatistics:
    """The Molenbeek figures of one CPAS, from the statistics read model."""
    histories = await load_cpas(conn, STATISTICS, cpas_kbo)
    return isp_statistics(
        histories,
        cpas_kbo=cpas_kbo,
        as_of=as_of,
        known_at=known_at,
        count_article_60=count_article_60,
    )


async def roster_of(
    conn: psycopg.AsyncConnection[Any],
    cpas_kbo: str,
    as_of: dt.date,
    known_at: dt.datetime | None = None,
) -> Roster:
    """The article 60/61 roster of one CPAS, from the roster read model."""
    histories = await load_roster(conn, ROSTER, cpas_kbo)
    return roster(histories, cpas_kbo=cpas_kbo, as_of=as_of, known_at=known_at)


async def _select(
    pool: AsyncConnectionPool[Any],
    where: sql.Composable,
    params: Sequence[Any],
    *,
    limit: int,
) -> list[dict[str, Any]]:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            sql.SQL("SELECT * FROM {}.cases WHERE {} ORDER BY case_id LIMIT %s").format(
                sql.Identifier(SCHEMA), where
            ),
            (*params, limit),
        )
        return list(await cur.fetchall())


@asynccontextmanager
async def open_pool(settings: HubSettings) -> AsyncIterator[AsyncConnectionPool[Any]]:
    """A connection pool with the read models' tables created."""
    async with AsyncConnectionPool(
        settings.database_url, min_size=1, max_size=4, open=False
    ) as pool:
        async with pool.connection() as conn:
            for spec in consumers_of(PROCESS):
                await spec.store().create_tables(conn)
        yield pool


async def serve(settings: HubSettings, stop: asyncio.Event) -> None:
    """Consume and serve until ``stop`` is set."""
    async with open_pool(settings) as pool:
        api = create_api(
            pool,
            parse_api_keys(settings.api_keys),
            count_article_60=settings.stats_count_article_60,
            max_request_bytes=settings.max_request_bytes,
        )
        await serve_with_consumers(
            settings,
            stop,
            api,
            settings.case_state_port,
            process=PROCESS,
            apps=Applications(settings),
            pool=pool,
        )
