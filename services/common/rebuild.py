"""Rebuilding a consumer's read model from the event stores, and checking one.

Both read PostgreSQL page by page, never Kafka (Kafka's retention is not the
history), so memory stays flat whatever the size of the history. A rebuild
builds into a shadow schema while the live consumer goes on, then swaps it in;
a check builds the shadow and names the first difference with the live tables
(``hub check``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from services.common.consumer import Envelope, ProjectionStore
from services.common.eventstore import (
    StoredRow,
    case_of,
    events_table,
    rows_to_events,
    select_rows_sql,
)
from services.common.privilege import regrant_schema
from services.common.settings import HubSettings
from services.common.vault import Vault, install_vault, settings_vault
from services.registry import ConsumerSpec

__all__ = [
    "Difference",
    "Share",
    "build_shadow",
    "check",
    "rebuild",
    "replay_into",
    "stored_pages",
]

log = logging.getLogger(__name__)

REBUILD_BATCH = 5000


async def stored_pages(
    conn: psycopg.AsyncConnection[Any],
    sources: tuple[tuple[str, str], ...],
    after: dict[str, int] | None = None,
    until: dict[str, int] | None = None,
) -> AsyncIterator[tuple[str, list[StoredRow]]]:
    """Each event store's rows after a position, a page at a time, store by store.

    ``until``: no row past these positions. A store that has recorded nothing
    yet (no table) gives nothing.
    """
    for schema, app_name in sources:
        table = events_table(schema, app_name)
        if not await _exists(conn, table):
            continue  # that service has stored nothing yet
        select = select_rows_sql(table)
        position = (after or {}).get(app_name, 0)
        last = (until or {}).get(app_name)
        while last is None or position < last:
            cur = await conn.execute(select, (position, REBUILD_BATCH))
            rows = [StoredRow(n, t, bytes(s), r) for n, t, s, r in await cur.fetchall()]
            if last is not None:
                rows = [row for row in rows if row.notification_id <= last]
            if not rows:
                break
            yield app_name, rows
            position = rows[-1].notification_id


async def _exists(conn: psycopg.AsyncConnection[Any], table: sql.Composed) -> bool:
    found = await conn.execute("SELECT to_regclass(%s)", (table.as_string(conn),))
    return (await found.fetchone()) != (None,)


async def stored_heads(
    conn: psycopg.AsyncConnection[Any], sources: tuple[tuple[str, str], ...]
) -> dict[str, int]:
    """The last position of each event store now (0: nothing stored)."""
    heads: dict[str, int] = {}
    for schema, app_name in sources:
        table = events_table(schema, app_name)
        heads[app_name] = 0
        if await _exists(conn, table):
            cur = await conn.execute(
                sql.SQL("SELECT coalesce(max(notification_id), 0) FROM {}").format(
                    table
                )
            )
            row = await cur.fetchone()
            heads[app_name] = int(row[0]) if row else 0
    return heads


async def replay_into(
    conn: psycopg.AsyncConnection[Any],
    store: ProjectionStore[Any],
    sources: tuple[tuple[str, str], ...],
    after: dict[str, int],
    vault: Vault | None = None,
    *,
    until: dict[str, int] | None = None,
    share: Share | None = None,
    opened: frozenset[str] | None = None,
) -> tuple[int, dict[str, int]]:
    """Feed the stored events after the given positions through a projection.

    ``share``: only the events of this worker's cases; how many it fed.
    ``opened``: the event types whose boxes are opened (None: every one); the
    projection reads no personal data of the others (`ConsumerSpec`).
    """
    heads = dict(after)
    total = 0
    with rare_collections():
        async for app_name, page in stored_pages(conn, sources, after, until):
            heads[app_name] = page[-1].notification_id
            rows = page if share is None else [r for r in page if share.takes(r)]
            if not rows:
                continue
            envelopes = [
                Envelope(str(event.case_id), row.state, event, None, "rebuild")
                for row, event in zip(
                    rows, rows_to_events(rows, vault, opened=opened), strict=True
                )
            ]
            try:
                await store.apply(conn, envelopes)
            except Exception:  # noqa: BLE001 - a case that fails is parked, not fatal
                log.warning("rebuild of %s: a page failed; case by case", store.name)
                await store.apply(conn, envelopes, isolate=True)
            total += len(rows)
    return total, heads


# A rebuild allocates millions of short-lived objects and keeps a page's
# cases alive: with the default threshold (700) the cycle collector ran so
# often that it took a fifth of a rebuild's time. Those objects are freed by
# their reference counts; cycles, rare here, wait for a later collection.
_REBUILD_GC_THRESHOLD = (50_000, 20, 100)


@contextlib.contextmanager
def rare_collections() -> Iterator[None]:
    """The cycle collector run rarely for the block, then as it was."""
    before = gc.get_threshold()
    gc.set_threshold(*_REBUILD_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)


@dataclass(frozen=True, slots=True)
class Share:
    """One worker's share of a parallel rebuild: the cases whose id falls to it.

    Every event of a case goes to the same worker, in store order, so each
    case's rows are folded as a rebuild by one process folds them; the
    workers' cases never meet (and the case locks keep them apart anyway).
    """

    worker: int
    workers: int

    def takes(self, row: StoredRow) -> bool:
        """Whether the row's case is this worker's (one not read: the first's)."""
        case = case_of(row)
        return (case.int if case else 0) % self.workers == self.worker


def _shadow_store(spec: ConsumerSpec, shadow: str) -> ProjectionStore[Any]:
    if not spec.replayable:
        raise LookupError(
            f"name: {spec.name} reacts with commands; its effects are in the event "
            "store and it is never replayed"
        )
    return ProjectionStore(spec.projection(), shadow)


async def build_shadow(
    settings: HubSettings, shadow: str, spec: ConsumerSpec, *, workers: int = 1
) -> tuple[int, dict[str, int]]:
    """Build a consumer's read model from the event stores into a fresh schema.

    The settings' vault becomes the process's: the read models seal what they
    keep of a person with it, as the live consumer does. ``workers`` > 1:
    that many processes share the cases (`Share`), each reading every store
    up to the heads of the moment it started; the events they fed, and those
    heads.
    """
    vault = install_vault(settings)
    store = _shadow_store(spec, shadow)
    async with await psycopg.AsyncConnection.connect(
        settings.database_url, autocommit=True
    ) as conn:
        await conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(shadow))
        )
        await store.create_tables(conn)
        if workers <= 1:
            return await replay_into(
                conn, store, spec.sources, {}, vault, opened=spec.reads_personal
            )
        heads = await stored_heads(conn, spec.sources)
    loop = asyncio.get_running_loop()
    spawn = multiprocessing.get_context("spawn")  # no state inherited: a clean process
    with ProcessPoolExecutor(workers, mp_context=spawn) as pool:
        fed = await asyncio.gather(
            *(
                loop.run_in_executor(
                    pool,
                    _build_share,
                    settings,
                    shadow,
                    spec.name,
                    Share(n, workers),
                    heads,
                )
                for n in range(workers)
            )
        )
    return sum(fed), heads


def _build_share(
    settings: HubSettings, shadow: str, name: str, share: Share, heads: dict[str, int]
) -> int:
    """One worker of a parallel rebuild, in its own process: the events it fed."""
    from services.registry import consumer  # noqa: PLC0415 - in the worker process

    spec = consumer(name)

    async def run() -> int:
        vault = install_vault(settings)
        store = _shadow_store(spec, shadow)
        async with await psycopg.AsyncConnection.connect(
            settings.database_url, autocommit=True
        ) as conn:
            fed, _ = await replay_into(
                conn,
                store,
                spec.sources,
                {},
                vault,
                until=heads,
                share=share,
                opened=spec.reads_personal,
            )
        return fed

    return asyncio.run(run())


async def rebuild(settings: HubSettings, spec: ConsumerSpec) -> int:
    """Rebuild a read model from the event stores and swap it in; returns events read.

    The new tables are built in a shadow schema while the live consumer goes
    on; the swap locks the live tables, replays what was appended meanwhile and
    renames the schemas, in one transaction. Only a consumer that has its
    schema to itself can be swapped whole; the others are checked instead.
    """
    if not spec.owns_schema:
        raise LookupError(
            f"name: {spec.name} shares schema {spec.schema}; it cannot be swapped "
            "whole (`hub check` compares it with a rebuild)"
        )
    shadow = f"{spec.schema}_rebuild"
    read, heads = await build_shadow(
        settings, shadow, spec, workers=settings.rebuild_workers
    )
    store = _shadow_store(spec, shadow)
    async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
        await ProjectionStore(spec.projection(), spec.schema).create_tables(conn)
        await conn.commit()
        async with conn.transaction():
            live = sql.Identifier(spec.schema)
            # Every live table, readers included: a consumer then waits before
            # its first statement instead of holding locks the swap would need.
            names = await conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (spec.schema,)
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
            more, _ = await replay_into(
                conn,
                store,
                spec.sources,
                heads,
                settings_vault(settings),
                opened=spec.reads_personal,
            )
            # Messages parked from the broker are not in the store: carry them over.
            await conn.execute(
                sql.SQL(
                    "INSERT INTO {}.dead_letters (case_key, event_type, payload, "
                    "reason, source, status, parked_at, consumer, rule, attempts, "
                    "retry_at) SELECT case_key, event_type, payload, reason, source, "
                    "status, parked_at, consumer, rule, attempts, retry_at "
                    "FROM {}.dead_letters WHERE source NOT IN ('rebuild', 'fold')"
                ).format(sql.Identifier(shadow), live)
            )
            retired = sql.Identifier(f"{spec.schema}_retired")
            await conn.execute(
                sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(live, retired)
            )
            await conn.execute(
                sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                    sql.Identifier(shadow), live
                )
            )
            await conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(retired))
            # The new schema is the owner's: its role's grants again (ADR 0027).
            await regrant_schema(conn, spec.schema)
    return read + more


@dataclass(frozen=True, slots=True)
class Difference:
    """Where a live read model and its rebuild part (never values: personal data)."""

    consumer: str
    table: str
    key: str
    what: str

    def __str__(self) -> str:
        return f"{self.consumer}: {self.table} {self.key}: {self.what}"


async def check(settings: HubSettings, spec: ConsumerSpec) -> Difference | None:
    """Compare a consumer's live tables with a rebuild; the first difference."""
    shadow = f"check_{spec.name.replace('-', '_')}"
    await build_shadow(settings, shadow, spec, workers=settings.rebuild_workers)
    try:
        async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
            for table, key, ignored in spec.compared_tables():
                found = await _first_difference(
                    conn, spec.schema, shadow, table=table, key=key, ignored=ignored
                )
                if found is not None:
                    return Difference(spec.name, f"{spec.schema}.{table}", *found)
            return await _positions_difference(conn, spec, shadow)
    finally:
        async with await psycopg.AsyncConnection.connect(
            settings.database_url, autocommit=True
        ) as conn:
            await conn.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(shadow)
                )
            )


async def _columns(
    conn: psycopg.AsyncConnection[Any], schema: str, table: str
) -> list[str]:
    cur = await conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        (schema, table),
    )
    return [row[0] for row in await cur.fetchall()]


async def _first_difference(
    conn: psycopg.AsyncConnection[Any],
    live: str,
    shadow: str,
    *,
    table: str,
    key: str,
    ignored: Sequence[str],
) -> tuple[str, str] | None:
    columns = [c for c in await _columns(conn, shadow, table) if c not in ignored]
    names = sql.SQL(", ").join(map(sql.Identifier, columns))

    keys = [columns.index(name.strip()) for name in key.split(",")]

    async def rows(schema: str) -> dict[Any, tuple[Any, ...]]:
        cur = await conn.execute(
            sql.SQL("SELECT {} FROM {}.{}").format(
                names, sql.Identifier(schema), sql.Identifier(table)
            )
        )
        found = await cur.fetchall()
        if len(keys) == 1:
            return {row[keys[0]]: tuple(row) for row in found}
        return {tuple(row[i] for i in keys): tuple(row) for row in found}

    live_rows, rebuilt = await rows(live), await rows(shadow)
    for k in sorted(set(live_rows) | set(rebuilt), key=str):
        if k not in live_rows:
            return f"{key} {k}", "missing from the live read model"
        if k not in rebuilt:
            return f"{key} {k}", "in the live read model, not in the rebuild"
        for name, one, other in zip(columns, live_rows[k], rebuilt[k], strict=True):
            if one != other:
                return f"{key} {k}", f"column {name} differs"
    return None


async def _positions_difference(
    conn: psycopg.AsyncConnection[Any], spec: ConsumerSpec, shadow: str
) -> Difference | None:
    # The live positions table of a shared schema also holds other consumers'
    # streams: only the streams the rebuild saw are compared.
    cur = await conn.execute(
        sql.SQL(
            "SELECT s.stream_id, s.version, l.version FROM {}.stream_positions s "
            "LEFT JOIN {}.stream_positions l USING (stream_id) "
            "WHERE l.version IS DISTINCT FROM s.version ORDER BY 1 LIMIT 1"
        ).format(sql.Identifier(shadow), sql.Identifier(spec.schema))
    )
    row = await cur.fetchone()
    if row is None:
        return None
    stream, rebuilt, live = row
    return Difference(
        spec.name,
        f"{spec.schema}.stream_positions",
        f"stream {stream}",
        f"live at version {live}, the store at {rebuilt}",
    )
