"""The case-state process: the consumer that keeps the projection, and its read API."""

from __future__ import annotations

import asyncio
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
from services.case_state.projection import CaseStateProjection
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
from services.common.http import serve_until, service_api
from services.common.settings import HubSettings
from services.common.subscriber import ensure_topics, new_broker, subscribe, watch_lag

__all__ = ["SCHEMA", "create_api", "create_broker", "rebuild", "serve"]

log = logging.getLogger(__name__)

SCHEMA = "case_state"
GROUP = "case-state"
SOURCES: tuple[tuple[str, str], ...] = (("intake", "intake"),)  # (schema, app name)


def make_store(schema: str = SCHEMA) -> ProjectionStore[Any]:
    """The projection store of the case state in a schema."""
    return ProjectionStore(CaseStateProjection(), schema)


def create_broker(settings: HubSettings, pool: AsyncConnectionPool[Any]) -> KafkaBroker:
    """The broker with the case-state subscriber."""
    broker = new_broker(settings)
    subscribe(
        broker,
        settings,
        pool,
        make_store(),
        topic=SERVICE_TOPICS["intake"],
        group=GROUP,
    )
    return broker


def create_api(
    pool: AsyncConnectionPool[Any], keys: Mapping[str, ApiClient]
) -> FastAPI:
    """HTTP read access to the case state."""
    api = service_api(
        "case state",
        "Current state of each case, rebuilt from the event log. No personal "
        "data: ask intake for identity.",
        keys,
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
        return rows[0]

    @api.get("/cases", summary="Cases of a CPAS")
    async def list_cases(
        cpas_kbo: Annotated[
            str, Query(pattern=r"^[01]\d{9}$", description="KBO of the CPAS")
        ],
        client: Reader,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        client.check_cpas(cpas_kbo)
        return await _select(pool, sql.SQL("cpas_kbo = %s"), (cpas_kbo,), limit=limit)

    return api


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
            await make_store().create_tables(conn)
        yield pool


async def serve(settings: HubSettings, stop: asyncio.Event) -> None:
    """Consume and serve until ``stop`` is set."""
    async with open_pool(settings) as pool:
        await ensure_topics(settings, SERVICE_TOPICS["intake"])
        broker = create_broker(settings, pool)
        await broker.start()
        lag = asyncio.create_task(
            watch_lag(
                settings,
                group=GROUP,
                topic=SERVICE_TOPICS["intake"],
                consumer=CaseStateProjection.name,
                stop=stop,
            )
        )
        try:
            await serve_until(
                create_api(pool, parse_api_keys(settings.api_keys)),
                settings.host,
                settings.case_state_port,
                stop,
            )
        finally:
            lag.cancel()
            await broker.stop()


REBUILD_BATCH = 5000


async def replay_into(
    settings: HubSettings,
    conn: psycopg.AsyncConnection[Any],
    store: ProjectionStore[Any],
    after: dict[str, int],
) -> tuple[int, dict[str, int]]:
    """Feed the stored events after the given positions through the projection.

    Reads PostgreSQL page by page (never Kafka, architecture.md §3.6), so memory
    stays flat whatever the size of the history.
    """
    heads = dict(after)
    total = 0
    for schema, app_name in SOURCES:
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
    del settings
    return total, heads


async def build_shadow(
    settings: HubSettings, shadow: str
) -> tuple[int, dict[str, int]]:
    """Build the case state from the event store into a fresh schema."""
    store = make_store(shadow)
    async with await psycopg.AsyncConnection.connect(
        settings.database_url, autocommit=True
    ) as conn:
        await conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(shadow))
        )
        await store.create_tables(conn)
        return await replay_into(settings, conn, store, {})


async def rebuild(settings: HubSettings) -> int:
    """Rebuild the case state from the event stores and swap it in; returns events read.

    The new tables are built in a shadow schema while the live consumer goes
    on; the swap locks the live tables, replays what was appended meanwhile and
    renames the schemas, in one transaction.
    """
    shadow = f"{SCHEMA}_rebuild"
    read, heads = await build_shadow(settings, shadow)
    store = make_store(shadow)
    async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
        await make_store().create_tables(conn)
        await conn.commit()
        async with conn.transaction():
            live = sql.Identifier(SCHEMA)
            await conn.execute(
                sql.SQL(
                    "LOCK TABLE {}.cases, {}.stream_positions IN EXCLUSIVE MODE"
                ).format(live, live)
            )
            more, _ = await replay_into(settings, conn, store, heads)
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
            retired = sql.Identifier(f"{SCHEMA}_retired")
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
