"""The case-state process: the consumer that keeps the projection, and its read API."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

import psycopg
from fastapi import FastAPI, HTTPException, Query
from faststream.kafka import KafkaBroker
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from contracts.registry import SERVICE_TOPICS
from contracts.text import Identifier
from services.case_state.activation import progress_of_cpas
from services.case_state.deadlines import overdue_for
from services.case_state.read_models import READ_MODELS, ReadModel
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
from services.common.consumer import Envelope, ProjectionStore
from services.common.eventstore import (
    StoredRow,
    events_table,
    row_to_event,
    select_rows_sql,
)
from services.common.http import BRUSSELS, serve_until, service_api
from services.common.settings import MIB, HubSettings
from services.common.subscriber import ensure_topics, new_broker, subscribe, watch_lag

__all__ = ["SCHEMA", "create_api", "create_broker", "rebuild", "serve"]

log = logging.getLogger(__name__)

SCHEMA = "case_state"
CASE_STATE = READ_MODELS["case-state"]
GROUP = "case-state"
_KBO = r"^[01]\d{9}$"


def make_store(schema: str = SCHEMA) -> ProjectionStore[Any]:
    """The projection store of the case state in a schema."""
    return CASE_STATE.store(schema)


def create_broker(settings: HubSettings, pool: AsyncConnectionPool[Any]) -> KafkaBroker:
    """The broker with one subscriber per topic, feeding every read model of it."""
    broker = new_broker(settings)
    for service in SERVICE_TOPICS:
        stores = [m.store() for m in READ_MODELS.values() if service in m.services]
        if stores:
            subscribe(
                broker,
                settings,
                pool,
                stores,
                topic=SERVICE_TOPICS[service],
                group=consumer_group(service),
            )
    return broker


def consumer_group(service: str) -> str:
    """The case-state process's consumer group on one service's topic."""
    return GROUP if service == "intake" else f"{GROUP}-{service}"


def consumed_services() -> list[str]:
    """The services whose topic some read model of this process consumes."""
    models = READ_MODELS.values()
    return [s for s in SERVICE_TOPICS if any(s in m.services for m in models)]


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
    async def get_case(case_id: uuid.UUID, client: Reader) -> dict[str, Any]:
        rows = await _select(pool, sql.SQL("case_id = %s"), (case_id,), limit=1)
        if rows:
            client.check_cpas(rows[0]["cpas_kbo"])
        if not rows:
            raise HTTPException(
                404, detail=f"case_id: no case {case_id} in the case state"
            )
        async with pool.connection() as conn:
            history = await load_case(conn, READ_MODELS["roster"].schema, case_id)
        today = dt.datetime.now(BRUSSELS).date()
        return {**rows[0], "placement": placement_summary(history, as_of=today)}

    @api.get("/cases", summary="Cases of a CPAS")
    async def list_cases(
        cpas_kbo: Annotated[
            str, Query(pattern=_KBO, max_length=10, description="KBO of the CPAS")
        ],
        client: Reader,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        client.check_cpas(cpas_kbo)
        return await _select(pool, sql.SQL("cpas_kbo = %s"), (cpas_kbo,), limit=limit)

    @api.get("/statistics/isp", summary="ISP statistics of a CPAS as of a date")
    async def isp(
        client: Reader,
        cpas_kbo: Annotated[
            str, Query(pattern=_KBO, max_length=10, description="KBO of the CPAS")
        ],
        as_of: Annotated[dt.date, Query(description="Date of the figures")],
        known_at: Annotated[
            dt.datetime | None,
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
        as_of: Annotated[dt.date, Query(description="Date of the roster")],
        known_at: Annotated[
            dt.datetime | None,
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
            return await progress_of_cpas(
                conn, READ_MODELS["activation"].schema, cpas_kbo
            )

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
            return await overdue_for(
                conn, READ_MODELS["deadlines"].schema, cpas_kbo, caseworker
            )

    return api


async def statistics_of(
    conn: psycopg.AsyncConnection[Any],
    cpas_kbo: str,
    as_of: dt.date,
    known_at: dt.datetime | None = None,
    *,
    count_article_60: bool = True,
) -> IspStatistics:
    """The seed 002 figures of one CPAS, from the statistics read model."""
    histories = await load_cpas(conn, READ_MODELS["statistics"].schema, cpas_kbo)
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
    histories = await load_roster(conn, READ_MODELS["roster"].schema, cpas_kbo)
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
    """A connection pool with the projection's tables created."""
    async with AsyncConnectionPool(
        settings.database_url, min_size=1, max_size=4, open=False
    ) as pool:
        async with pool.connection() as conn:
            for model in READ_MODELS.values():
                await model.store().create_tables(conn)
        yield pool


async def serve(settings: HubSettings, stop: asyncio.Event) -> None:
    """Consume and serve until ``stop`` is set."""
    async with open_pool(settings) as pool:
        await ensure_topics(settings, *SERVICE_TOPICS.values())
        broker = create_broker(settings, pool)
        await broker.start()
        # One lag per consumer group (intake's keeps its name, "case-state").
        lags = [
            asyncio.create_task(
                watch_lag(
                    settings,
                    group=consumer_group(service),
                    topic=SERVICE_TOPICS[service],
                    consumer=consumer_group(service),
                    stop=stop,
                )
            )
            for service in consumed_services()
        ]
        try:
            await serve_until(
                create_api(
                    pool,
                    parse_api_keys(settings.api_keys),
                    count_article_60=settings.stats_count_article_60,
                    max_request_bytes=settings.max_request_bytes,
                ),
                settings.host,
                settings.case_state_port,
                stop,
            )
        finally:
            for lag in lags:
                lag.cancel()
            await broker.stop()


REBUILD_BATCH = 5000


async def replay_into(
    conn: psycopg.AsyncConnection[Any],
    store: ProjectionStore[Any],
    sources: tuple[tuple[str, str], ...],
    after: dict[str, int],
) -> tuple[int, dict[str, int]]:
    """Feed the stored events after the given positions through a projection.

    Reads PostgreSQL page by page (never Kafka, architecture.md §3.6), so memory
    stays flat whatever the size of the history.
    """
    heads = dict(after)
    total = 0
    for schema, app_name in sources:
        table = events_table(schema, app_name)
        exists = await conn.execute("SELECT to_regclass(%s)", (table.as_string(conn),))
        if (await exists.fetchone()) == (None,):
            continue  # that service has stored nothing yet
        select = select_rows_sql(table)
        position = after.get(app_name, 0)
        while True:
            cur = await conn.execute(select, (position, REBUILD_BATCH))
            rows = [StoredRow(n, t, bytes(s), r) for n, t, s, r in await cur.fetchall()]
            if not rows:
                break
            envelopes = []
            for row in rows:
                event = row_to_event(row)
                envelopes.append(
                    Envelope(str(event.case_id), row.state, event, None, "rebuild")
                )
            await store.apply(conn, envelopes)
            position = rows[-1].notification_id
            total += len(rows)
        heads[app_name] = position
    return total, heads


async def build_shadow(
    settings: HubSettings, shadow: str, model: ReadModel = CASE_STATE
) -> tuple[int, dict[str, int]]:
    """Build a read model from the event stores into a fresh schema."""
    store = model.store(shadow)
    async with await psycopg.AsyncConnection.connect(
        settings.database_url, autocommit=True
    ) as conn:
        await conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(shadow))
        )
        await store.create_tables(conn)
        return await replay_into(conn, store, model.sources, {})


async def rebuild(settings: HubSettings, model: ReadModel = CASE_STATE) -> int:
    """Rebuild a read model from the event stores and swap it in; returns events read.

    The new tables are built in a shadow schema while the live consumer goes
    on; the swap locks the live tables, replays what was appended meanwhile and
    renames the schemas, in one transaction.
    """
    shadow = f"{model.schema}_rebuild"
    read, heads = await build_shadow(settings, shadow, model)
    store = model.store(shadow)
    async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
        await model.store().create_tables(conn)
        await conn.commit()
        async with conn.transaction():
            live = sql.Identifier(model.schema)
            # Every live table, readers included: a consumer then waits before
            # its first statement instead of holding locks the swap would need.
            names = await conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (model.schema,)
            )
            tables = [
                sql.SQL("{}.{}").format(live, sql.Identifier(name))
                for (name,) in await names.fetchall()
            ]
            await conn.execute(
                sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
                    sql.SQL(", ").join(tables)
                )
            )
            more, _ = await replay_into(conn, store, model.sources, heads)
            # Messages parked from the broker are not in the store: carry them over.
            await conn.execute(
                sql.SQL(
                    "INSERT INTO {}.dead_letters "
                    "(case_key, event_type, payload, reason, "
                    "source, status, parked_at) SELECT case_key, event_type, payload, "
                    "reason, source, status, parked_at FROM {}.dead_letters "
                    "WHERE source NOT IN ('rebuild', 'fold')"
                ).format(sql.Identifier(shadow), live)
            )
            retired = sql.Identifier(f"{model.schema}_retired")
            await conn.execute(
                sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(live, retired)
            )
            await conn.execute(
                sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                    sql.Identifier(shadow), live
                )
            )
            await conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(retired))
    return read + more
