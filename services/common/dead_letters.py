"""The dead letters of every consumer and of the partner gateway, for operators.

Each schema that consumes keeps a ``dead_letters`` table (the consumer
framework's, with extra columns for partner messages); this reads them all.
Listings never show payloads (they hold personal data); ``show`` does, for
the operator who must see what was wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

__all__ = [
    "kept_for_case",
    "list_dead_letters",
    "schemas_with_dead_letters",
    "show_dead_letter",
]

_COLUMNS = ("id", "case_key", "event_type", "reason", "source", "status", "parked_at")


def schemas_with_dead_letters(conn: psycopg.Connection[Any]) -> list[str]:
    """The schemas that have a dead-letter table."""
    rows = conn.execute(
        "SELECT table_schema FROM information_schema.tables "
        "WHERE table_name = 'dead_letters' ORDER BY 1"
    ).fetchall()
    return [row[0] for row in rows]


def list_dead_letters(
    conn: psycopg.Connection[Any],
    *,
    schema: str | None = None,
    status: str | None = None,
    partner: str | None = None,
) -> list[dict[str, Any]]:
    """Dead letters (no payloads), oldest first, of one schema or of all.

    ``partner``: only the messages of that partner (a schema with the
    gateway's ``partner`` column, such as ``partner_messages``).
    """
    found: list[dict[str, Any]] = []
    wanted = {"status": status, "partner": partner}
    where = [
        sql.SQL("{} = %s").format(sql.Identifier(k)) for k, v in wanted.items() if v
    ]
    params = tuple(v for v in wanted.values() if v)
    for name in [schema] if schema else schemas_with_dead_letters(conn):
        query = sql.SQL("SELECT {} FROM {}.dead_letters {} ORDER BY id").format(
            sql.SQL(", ").join(map(sql.Identifier, _COLUMNS)),
            sql.Identifier(name),
            sql.SQL("WHERE ") + sql.SQL(" AND ").join(where) if where else sql.SQL(""),
        )
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(query, params).fetchall()
        found += [{"schema": name, **row} for row in rows]
    return found


def show_dead_letter(
    conn: psycopg.Connection[Any], schema: str, dead_letter_id: int
) -> dict[str, Any]:
    """One dead letter with its payload (as text)."""
    query = sql.SQL("SELECT * FROM {}.dead_letters WHERE id = %s").format(
        sql.Identifier(schema)
    )
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(query, (dead_letter_id,)).fetchone()
    if row is None:
        raise LookupError(f"id: no dead letter {dead_letter_id} in {schema}")
    payload = bytes(row.pop("payload"))
    return {"schema": schema, **row, "payload": payload.decode(errors="replace")}


async def kept_for_case(
    conn: psycopg.AsyncConnection[Any], case_key: str, schemas: Sequence[str]
) -> list[tuple[str, str, str, int]]:
    """A case's messages kept parked or held: (schema, rule, status, how many).

    Of the given schemas that have a dead-letter table; the rule is the hub's
    code for why (``decode``, ``gap``, ``unpublishable``…), never the message.
    """
    cur = await conn.execute(
        "SELECT table_schema FROM information_schema.tables "
        "WHERE table_name = 'dead_letters' AND table_schema = ANY(%s) ORDER BY 1",
        (list(schemas),),
    )
    present = [row[0] for row in await cur.fetchall()]
    if not present:
        return []
    query = sql.SQL(" UNION ALL ").join(
        sql.SQL(
            "(SELECT {}::text, coalesce(rule, 'unknown'), status, count(*) "
            "FROM {}.dead_letters WHERE case_key = %s "
            "AND status IN ('parked', 'held') GROUP BY 2, 3)"
        ).format(sql.Literal(name), sql.Identifier(name))
        for name in present
    )
    cur = await conn.execute(
        sql.SQL("{} ORDER BY 1, 2, 3").format(query), [case_key] * len(present)
    )
    return [(s, r, st, int(n)) for s, r, st, n in await cur.fetchall()]
