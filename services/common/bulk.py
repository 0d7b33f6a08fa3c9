"""Bulk upsert through COPY: thousands of rows in two statements.

``executemany`` costs a round of Python per row; COPY into a temporary table
and one ``INSERT … SELECT … ON CONFLICT`` is what makes batched projections
and rebuilds fast (anchors.md §2.3).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg import sql

__all__ = ["bulk_upsert"]

_COPY_FROM = 200


async def bulk_upsert(
    conn: psycopg.AsyncConnection[Any],
    table: sql.Composable,
    columns: Sequence[str],
    key: str,
    rows: Iterable[Sequence[Any]],
    *,
    only_if: sql.Composable | None = None,
) -> None:
    """Insert rows, updating every other column of rows whose key exists.

    Must run inside a transaction: the staging table is emptied at commit.
    ``only_if`` is a condition on ``{table}`` and ``EXCLUDED`` that an update
    must meet (e.g. a higher version).
    """
    rows = list(rows)
    if not rows:
        return
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    updates = sql.SQL(", ").join(
        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
        for c in columns
        if c != key
    )
    where: sql.Composable = sql.SQL("")
    if only_if is not None:
        where = sql.SQL(" WHERE {}").format(only_if)
    upsert = sql.SQL("ON CONFLICT ({key}) DO UPDATE SET {updates}{where}").format(
        key=sql.Identifier(key), updates=updates, where=where
    )
    async with conn.cursor() as cur:
        if len(rows) < _COPY_FROM:
            # A few rows: one pipelined statement each beats a staging table.
            placeholders = sql.SQL(", ").join([sql.Placeholder()] * len(columns))
            await cur.executemany(
                sql.SQL("INSERT INTO {} ({}) VALUES ({}) {}").format(
                    table, names, placeholders, upsert
                ),
                rows,
            )
            return
        stage = sql.Identifier(f"stage_{abs(hash(table.as_string(None))) % 10**8}")
        await cur.execute(
            sql.SQL(
                "CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {} INCLUDING DEFAULTS) "
                "ON COMMIT DELETE ROWS"
            ).format(stage, table)
        )
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(stage, names)
        async with cur.copy(statement) as copy:
            for row in rows:
                await copy.write_row(row)
        await cur.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} {}").format(
                table, names, names, stage, upsert
            )
        )
        # Emptied for a second upsert in the same transaction (a rebuild's swap).
        await cur.execute(sql.SQL("DELETE FROM {}").format(stage))
