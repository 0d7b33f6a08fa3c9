"""Bulk upsert: pipelined statements for a few rows, COPY for many.

``executemany`` costs a round of Python per row; COPY into a temporary table
and one ``INSERT … SELECT … ON CONFLICT`` is what makes batched projections
and rebuilds fast (PostgreSQL's COPY is an order of magnitude faster than
row-by-row inserts). The statements are composed once, not per
batch: composing SQL cost more than running it for small batches.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg import sql

__all__ = ["Upsert"]

_COPY_FROM = 200
_stage_numbers = itertools.count()


class Upsert:
    """Insert rows into a table, updating the other columns of existing keys."""

    def __init__(
        self,
        table: sql.Composable,
        columns: Sequence[str],
        key: str | tuple[str, ...],
        *,
        only_if: sql.Composable | None = None,
    ) -> None:
        """Compose the statements.

        Args:
            table: The qualified table.
            columns: Its columns, in the order of the rows given to ``run``.
            key: The conflict column (or columns: a composite key).
            only_if: A condition on the table and ``EXCLUDED`` that an update
                must meet (e.g. a higher version).
        """
        names = sql.SQL(", ").join(map(sql.Identifier, columns))
        keys = (key,) if isinstance(key, str) else key
        updates = sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
            for c in columns
            if c not in keys
        )
        where: sql.Composable = sql.SQL("")
        if only_if is not None:
            where = sql.SQL(" WHERE {}").format(only_if)
        upsert = sql.SQL("ON CONFLICT ({}) DO UPDATE SET {}{}").format(
            sql.SQL(", ").join(map(sql.Identifier, keys)), updates, where
        )
        stage = sql.Identifier(f"hub_stage_{next(_stage_numbers)}")
        placeholders = sql.SQL(", ").join([sql.Placeholder()] * len(columns))
        self._insert = sql.SQL("INSERT INTO {} ({}) VALUES ({}) {}").format(
            table, names, placeholders, upsert
        )
        self._create_stage = sql.SQL(
            "CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {} INCLUDING DEFAULTS) "
            "ON COMMIT DELETE ROWS"
        ).format(stage, table)
        self._copy = sql.SQL("COPY {} ({}) FROM STDIN").format(stage, names)
        self._merge = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} {}").format(
            table, names, names, stage, upsert
        )
        self._empty_stage = sql.SQL("DELETE FROM {}").format(stage)

    async def run(
        self, conn: psycopg.AsyncConnection[Any], rows: Iterable[Sequence[Any]]
    ) -> None:
        """Upsert the rows (inside the caller's transaction)."""
        rows = list(rows)
        if not rows:
            return
        async with conn.cursor() as cur:
            if len(rows) < _COPY_FROM:
                await cur.executemany(self._insert, rows)
                return
            await cur.execute(self._create_stage)
            async with cur.copy(self._copy) as copy:
                for row in rows:
                    await copy.write_row(row)
            await cur.execute(self._merge)
            # Emptied for a second upsert in one transaction (a rebuild's swap).
            await cur.execute(self._empty_stage)
