"""What a service purges of an erased person's file, in its own rows (ADR 0023).

``hub.intake.case.erased.v1`` reaches every service that keeps data of the
person through the consumer that folds intake's events into its read model
(services/registry.py). A projection that keeps such data is ``Erasing``: the
consumer framework calls its ``erase`` in the transaction that folds the
erasure (services/common/consumer.py), so each service purges its own rows
under its own database role (ADR 0027), after every earlier event of the case
that consumer folded. Every step deletes or empties rows: run again (a
redelivery, a re-drive, a rebuild) it finds nothing more to do.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

import psycopg
from psycopg import sql

from services.common.privilege import ROLES
from services.common.row_table import RowTable

__all__ = [
    "ErasableRowTable",
    "Erasing",
    "empty_sealed",
    "erase_row_table",
    "purge_dead_letters",
    "schemas_of_role",
]

Row = TypeVar("Row")


@runtime_checkable
class Erasing(Protocol):
    """A projection that purges its service's rows of erased cases."""

    async def erase(
        self,
        conn: psycopg.AsyncConnection[Any],
        schema: str,
        case_ids: Sequence[uuid.UUID],
    ) -> dict[str, int]:
        """Purge the cases' rows (in the fold's transaction); how many, per table."""
        ...


def schemas_of_role(schema: str) -> tuple[str, ...]:
    """The schemas of the role that keeps ``schema`` (just it, for a shadow)."""
    for role in ROLES:
        mine = (*role.stores, *role.own)
        if schema in mine:
            return mine
    return (schema,)


async def purge_dead_letters(
    conn: psycopg.AsyncConnection[Any],
    schemas: Sequence[str],
    case_ids: Sequence[uuid.UUID],
) -> dict[str, int]:
    """Delete the cases' dead letters in those of ``schemas`` that keep some."""
    cur = await conn.execute(
        "SELECT s FROM unnest(%s::text[]) AS s "
        "WHERE to_regclass(quote_ident(s) || '.dead_letters') IS NOT NULL ORDER BY 1",
        (list(schemas),),
    )
    keys = [str(case) for case in case_ids]
    purged: dict[str, int] = {}
    for (schema,) in await cur.fetchall():
        deleted = await conn.execute(
            sql.SQL("DELETE FROM {}.dead_letters WHERE case_key = ANY(%s)").format(
                sql.Identifier(schema)
            ),
            (keys,),
        )
        purged[f"{schema}.dead_letters"] = deleted.rowcount
    return purged


async def empty_sealed(
    conn: psycopg.AsyncConnection[Any],
    schema: str,
    table: RowTable[Any],
    case_ids: Sequence[uuid.UUID],
) -> dict[str, int]:
    """Set a row table's sealed columns (box and digests) of the cases to null.

    The row stays with what is not personal data (the CPAS, the file number,
    the partner): a partner's erasure notice is made from it.
    """
    stored = dict(table.stored_columns())
    emptied = [*table.sealed, "sealed", *(f"{n}_digest" for n in table.looked_up)]
    cur = await conn.execute(
        sql.SQL("UPDATE {}.{} SET {} WHERE {} = ANY(%s)").format(
            sql.Identifier(schema),
            sql.Identifier(table.table),
            sql.SQL(", ").join(
                sql.SQL("{} = NULL").format(sql.Identifier(n))
                for n in emptied
                if n in stored
            ),
            sql.Identifier(table.columns[0][0]),
        ),
        (list(case_ids),),
    )
    return {f"{schema}.{table.table}": cur.rowcount}


async def erase_row_table(
    conn: psycopg.AsyncConnection[Any],
    schema: str,
    table: RowTable[Any],
    case_ids: Sequence[uuid.UUID],
) -> dict[str, int]:
    """A row table's purge: its sealed columns emptied, its role's dead letters."""
    purged = await empty_sealed(conn, schema, table, case_ids) if table.sealed else {}
    return purged | await purge_dead_letters(conn, schemas_of_role(schema), case_ids)


class ErasableRowTable(RowTable[Row]):
    """A row table whose service purges it of an erased case (``erase_row_table``)."""

    async def erase(
        self,
        conn: psycopg.AsyncConnection[Any],
        schema: str,
        case_ids: Sequence[uuid.UUID],
    ) -> dict[str, int]:
        """The sealed columns emptied, the dead letters of the role's schemas."""
        return await erase_row_table(conn, schema, self, case_ids)
