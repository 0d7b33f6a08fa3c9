"""The table behind a fold projection: one row per case, read and written in batches.

A projection declares its columns, how a row becomes a tuple and back, and
inherits ``create_tables``, ``load`` and ``store`` (the FoldProjection
protocol) plus ``rows_where`` for its read API.
"""

from __future__ import annotations

import functools
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

import psycopg
from psycopg import sql

from services.common.bulk import Upsert

__all__ = ["RowReader", "RowTable"]

Row = TypeVar("Row")


class RowTable(ABC, Generic[Row]):
    """Create, load by case ids, upsert: the same for every per-case read model."""

    table: ClassVar[str]
    columns: ClassVar[tuple[tuple[str, str], ...]]  # (name, SQL type); first: key
    indexes: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def encode(self, row: Row) -> tuple[Any, ...]:
        """A row as the tuple of its column values."""

    @abstractmethod
    def decode(self, record: Sequence[Any]) -> Row:
        """A row from the tuple of its column values."""

    async def create_tables(
        self, conn: psycopg.AsyncConnection[Any], schema: str
    ) -> None:
        """Create the table (and its indexes) in a schema."""
        ddl = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind))
            for name, kind in self.columns
        )
        table = self._table(schema)
        await conn.execute(
            sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(table, ddl)
        )
        # Columns added after a table existed: created on old tables too (a
        # NOT NULL one needs a DEFAULT); a rebuild then fills them for past events.
        for name, kind in self.columns[1:]:
            await conn.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                    table, sql.Identifier(name), sql.SQL(kind)
                )
            )
        for column in self.indexes:
            await conn.execute(
                sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                    sql.Identifier(f"{self.table}_{column}"),
                    table,
                    sql.Identifier(column),
                )
            )

    async def load(
        self, conn: psycopg.AsyncConnection[Any], schema: str, keys: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Row]:
        """The rows of some cases, by case id."""
        if not keys:
            return {}
        cur = await conn.execute(self._statements(schema)[0], (list(keys),))
        return {record[0]: self.decode(record) for record in await cur.fetchall()}

    async def store(
        self,
        conn: psycopg.AsyncConnection[Any],
        schema: str,
        rows: dict[uuid.UUID, Row],
    ) -> None:
        """Upsert the changed rows."""
        await self._statements(schema)[1].run(conn, map(self.encode, rows.values()))

    async def rows_where(
        self, conn: psycopg.AsyncConnection[Any], schema: str, column: str, value: Any
    ) -> list[Row]:
        """Every row whose column equals a value (e.g. a CPAS's), by case id."""
        condition = sql.SQL("{} = %s").format(sql.Identifier(column))
        return await self.rows_matching(conn, schema, condition, (value,))

    async def rows_matching(
        self,
        conn: psycopg.AsyncConnection[Any],
        schema: str,
        condition: sql.Composable,
        params: Sequence[Any],
    ) -> list[Row]:
        """Every row meeting a SQL condition (its values as parameters), by key."""
        query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY 1").format(
            self._names(), self._table(schema), condition
        )
        cur = await conn.execute(query, params)
        return [self.decode(record) for record in await cur.fetchall()]

    def _table(self, schema: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(
            sql.Identifier(schema), sql.Identifier(self.table)
        )

    def _names(self) -> sql.Composed:
        return sql.SQL(", ").join(sql.Identifier(name) for name, _ in self.columns)

    @functools.cache  # noqa: B019 - a few projections, a few schemas, for the process
    def _statements(self, schema: str) -> tuple[sql.Composed, Upsert]:
        names = [name for name, _ in self.columns]
        select = sql.SQL("SELECT {} FROM {} WHERE {} = ANY(%s)").format(
            self._names(), self._table(schema), sql.Identifier(names[0])
        )
        return select, Upsert(self._table(schema), names, names[0])


class RowReader(Generic[Row]):
    """Reads a read model's rows synchronously: a command handler's own facts table."""

    def __init__(self, table: RowTable[Row], database_url: str, schema: str) -> None:
        self._table = table
        self._url = database_url
        names = self._names = table._names()  # noqa: SLF001 - same class family
        source = self._source = table._table(schema)  # noqa: SLF001
        key = sql.Identifier(table.columns[0][0])
        self._select = sql.SQL("SELECT {} FROM {} WHERE {} = %s").format(
            names, source, key
        )
        self._select_all = sql.SQL("SELECT {} FROM {} ORDER BY 1").format(names, source)

    def __call__(self, key: uuid.UUID) -> Row | None:
        """The row of a case, None when the events have not told of it."""
        rows = self._fetch(self._select, (key,))
        return rows[0] if rows else None

    def all(self) -> list[Row]:
        """Every row (e.g. for a deadline watch)."""
        return self._fetch(self._select_all, ())

    def where(self, column: str, value: Any) -> list[Row]:
        """The rows whose column equals a value (an indexed column, preferably)."""
        query = sql.SQL("SELECT {} FROM {} WHERE {} = %s ORDER BY 1").format(
            self._names, self._source, sql.Identifier(column)
        )
        return self._fetch(query, (value,))

    def containing(self, column: str, value: Any) -> list[Row]:
        """The rows whose array column holds a value."""
        query = sql.SQL("SELECT {} FROM {} WHERE %s = ANY({}) ORDER BY 1").format(
            self._names, self._source, sql.Identifier(column)
        )
        return self._fetch(query, (value,))

    def _fetch(self, query: sql.Composed, params: tuple[Any, ...]) -> list[Row]:
        with psycopg.connect(self._url) as conn:
            try:
                records = conn.execute(query, params).fetchall()
            except psycopg.errors.UndefinedTable:
                return []
        return [self._table.decode(record) for record in records]
