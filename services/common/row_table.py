"""The table behind a fold projection: one row per case, read and written in batches.

A projection declares its columns, how a row becomes a tuple and back, and
inherits ``create_tables``, ``load`` and ``store`` (the FoldProjection
protocol) plus ``rows_where`` for its read API.

Columns holding personal data are declared ``sealed``: their values are kept
together in one box under the case's key (the vault, ADR 0023), in a
``sealed`` column, and the columns themselves stay empty. A sealed column a
reader looks rows up by (a partner's message names the NISS) is also
``looked_up``: its keyed digest is kept in ``<column>_digest``, indexed, so
the lookup needs no clear value. Once the person's key is destroyed the
sealed columns read as None.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

import psycopg
from psycopg import sql

from services.common.bulk import Upsert
from services.common.vault import Vault, current_vault

__all__ = ["RowReader", "RowTable"]

Row = TypeVar("Row")


class RowTable(ABC, Generic[Row]):
    """Create, load by case ids, upsert: the same for every per-case read model."""

    table: ClassVar[str]
    columns: ClassVar[tuple[tuple[str, str], ...]]  # (name, SQL type); first: key
    indexes: ClassVar[tuple[str, ...]] = ()
    sealed: ClassVar[tuple[str, ...]] = ()  # personal-data columns (text or date)
    looked_up: ClassVar[tuple[str, ...]] = ()  # sealed columns found by digest

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
            for name, kind in self.stored_columns()
        )
        table = self._table(schema)
        await conn.execute(
            sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(table, ddl)
        )
        # Columns added after a table existed: created on old tables too (a
        # NOT NULL one needs a DEFAULT); a rebuild then fills them for past events.
        for name, kind in self.stored_columns()[1:]:
            await conn.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                    table, sql.Identifier(name), sql.SQL(kind)
                )
            )
        for name in self.sealed:
            # A table made before its personal data was sealed had them NOT NULL.
            await conn.execute(
                sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL").format(
                    table, sql.Identifier(name)
                )
            )
        for column in self._indexed():
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
        return {record[0]: self.read(record) for record in await cur.fetchall()}

    async def store(
        self,
        conn: psycopg.AsyncConnection[Any],
        schema: str,
        rows: dict[uuid.UUID, Row],
    ) -> None:
        """Upsert the changed rows."""
        await self._statements(schema)[1].run(conn, map(self.write, rows.values()))

    async def rows_where(
        self, conn: psycopg.AsyncConnection[Any], schema: str, column: str, value: Any
    ) -> list[Row]:
        """Every row whose column equals a value (e.g. a CPAS's), by case id."""
        column, value = self.lookup(column, value)
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
        return [self.read(record) for record in await cur.fetchall()]

    # -- sealed columns -------------------------------------------------------

    @classmethod
    def stored_columns(cls) -> tuple[tuple[str, str], ...]:
        """The table's columns as stored: the sealed box and digests included."""
        if not cls.sealed:
            return cls.columns
        plain = tuple(
            (name, _nullable(kind) if name in cls.sealed else kind)
            for name, kind in cls.columns
        )
        digests = tuple((f"{name}_digest", "text") for name in cls.looked_up)
        return (*plain, ("sealed", "bytea"), *digests)

    def _indexed(self) -> tuple[str, ...]:
        return (*self.indexes, *(f"{name}_digest" for name in self.looked_up))

    @functools.cached_property
    def _sealed_at(self) -> tuple[tuple[int, str, bool], ...]:
        """(position, name, is a date) of each sealed column."""
        kinds = dict(self.columns)
        names = [name for name, _ in self.columns]
        return tuple(
            (names.index(name), name, kinds[name].startswith("date"))
            for name in self.sealed
        )

    def _vault(self) -> Vault:
        return current_vault()

    def _aad(self, key: Any) -> bytes:
        return f"{self.table}:{key}".encode()

    def write(self, row: Row) -> tuple[Any, ...]:
        """The stored column values of a row: `encode`, its personal data sealed."""
        values = self.encode(row)
        if not self.sealed:
            return values
        stored = list(values)
        taken: dict[str, Any] = {}
        for at, name, is_date in self._sealed_at:
            value = stored[at]
            taken[name] = value.isoformat() if is_date and value is not None else value
            stored[at] = None
        vault = self._vault()
        box = vault.seal_bytes(
            values[0], json.dumps(taken).encode(), self._aad(values[0])
        )
        digests = [vault.digest(str(taken[name])) for name in self.looked_up]
        return (*stored, box, *digests)

    def read(self, record: Sequence[Any]) -> Row:
        """A row from its stored column values: `decode`, its box opened."""
        if not self.sealed:
            return self.decode(record)
        values = list(record[: len(self.columns)])
        box = record[len(self.columns)]
        if box is not None:
            opened = self._vault().open_bytes(
                values[0], bytes(box), self._aad(values[0])
            )
            taken = json.loads(opened) if opened is not None else {}
            for at, name, is_date in self._sealed_at:
                value = taken.get(name)
                values[at] = (
                    dt.date.fromisoformat(value) if is_date and value else value
                )
        return self.decode(values)

    def lookup(self, column: str, value: Any) -> tuple[str, Any]:
        """The stored column and value a lookup by ``column`` compares."""
        if column in self.looked_up:
            return f"{column}_digest", self._vault().digest(str(value))
        if column in self.sealed:
            raise ValueError(f"{self.table}.{column} is sealed: not looked up")
        return column, value

    def _table(self, schema: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(
            sql.Identifier(schema), sql.Identifier(self.table)
        )

    def _names(self) -> sql.Composed:
        return sql.SQL(", ").join(
            sql.Identifier(name) for name, _ in self.stored_columns()
        )

    @functools.cache  # noqa: B019 - a few projections, a few schemas, for the process
    def _statements(self, schema: str) -> tuple[sql.Composed, Upsert]:
        names = [name for name, _ in self.stored_columns()]
        select = sql.SQL("SELECT {} FROM {} WHERE {} = ANY(%s)").format(
            self._names(), self._table(schema), sql.Identifier(names[0])
        )
        return select, Upsert(self._table(schema), names, names[0])


def _nullable(kind: str) -> str:
    return kind.replace("NOT NULL", "").strip()


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
        return self.where_any(column, [value])

    def where_any(self, column: str, values: Sequence[Any]) -> list[Row]:
        """The rows whose column equals one of the values, in one query."""
        if not values:
            return []
        looked_up = [self._table.lookup(column, value) for value in values]
        query = sql.SQL("SELECT {} FROM {} WHERE {} = ANY(%s) ORDER BY 1").format(
            self._names, self._source, sql.Identifier(looked_up[0][0])
        )
        return self._fetch(query, ([value for _, value in looked_up],))

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
        return [self._table.read(record) for record in records]
