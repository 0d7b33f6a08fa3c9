"""Where the gateway keeps the partner messages it could not apply or deliver.

One table, ``partner_messages.dead_letters`` (the consumer framework's columns
plus the partner's), for both directions: inbound messages parked or held by
the desk, outbound messages a partner or the broker refused for good. Its
gauges: ``hub_dead_letters_parked{consumer="partner-desk"}`` and, per partner,
how many messages are held and how long the oldest has waited.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql

from services.common import metrics
from services.common.privilege import create_schema_sql
from services.partner_gateway.registry import PARTNERS

__all__ = [
    "DESK",
    "QUARANTINE",
    "create_quarantine",
    "refresh_gauges",
    "refresh_gauges_async",
]

# The partner messages kept aside live in their own schema: a consumer treats
# any parked row of a case in its schema as a reason to hold the case's later
# events, and a partner's bad message must not stop the hub's own events.
QUARANTINE = "partner_messages"
# The consumer label of the gateway's parked messages in hub_dead_letters_parked.
DESK = "partner-desk"

_EXTRA_COLUMNS = (
    ("partner", "text"),
    ("rule", "text"),
    ("field", "text"),
    ("sequence", "integer"),
    ("dedupe_key", "text"),
    ("message_id", "text"),  # an outbound message's id (its Idempotency-Key)
)


def create_quarantine(conn: psycopg.Connection[Any], schema: str) -> None:
    """The dead-letter table of the consumer framework, with the partner columns."""
    ident = sql.Identifier(schema)
    conn.execute(create_schema_sql(schema))
    conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.dead_letters (id bigserial PRIMARY KEY, "
            "case_key text NOT NULL, event_type text NOT NULL, payload bytea NOT NULL, "
            "reason text NOT NULL, source text NOT NULL, status text NOT NULL "
            "DEFAULT 'parked', parked_at timestamptz NOT NULL DEFAULT now())"
        ).format(ident)
    )
    for name, kind in _EXTRA_COLUMNS:
        conn.execute(
            sql.SQL(
                "ALTER TABLE {}.dead_letters ADD COLUMN IF NOT EXISTS {} {}"
            ).format(ident, sql.Identifier(name), sql.SQL(kind))
        )
    conn.execute(
        sql.SQL(
            "CREATE UNIQUE INDEX IF NOT EXISTS dead_letters_dedupe "
            "ON {}.dead_letters (dedupe_key)"
        ).format(ident)
    )
    conn.execute(
        sql.SQL(
            "CREATE INDEX IF NOT EXISTS dead_letters_held ON {}.dead_letters "
            "(case_key, partner, sequence) WHERE status = 'held'"
        ).format(ident)
    )
    refresh_gauges(conn, schema)


def _counts(schema: str) -> sql.Composed:
    return sql.SQL(
        "SELECT partner, count(*) FILTER (WHERE status = 'parked'), "
        "count(*) FILTER (WHERE status = 'held'), coalesce(extract(epoch FROM "
        "now() - min(parked_at) FILTER (WHERE status = 'held')), 0)::float8 "
        "FROM {}.dead_letters WHERE status IN ('parked', 'held') GROUP BY partner"
    ).format(sql.Identifier(schema))


def _export(rows: Sequence[tuple[Any, ...]]) -> None:
    metrics.DEAD_LETTERS.labels(DESK).set(sum(int(row[1]) for row in rows))
    held = {row[0]: (int(row[2]), float(row[3])) for row in rows}
    for code in PARTNERS:  # every partner, 0 when none: a series per partner
        count, age = held.get(code, (0, 0.0))
        metrics.PARTNER_HELD.labels(code).set(count)
        metrics.PARTNER_HELD_AGE.labels(code).set(age)


def refresh_gauges(conn: psycopg.Connection[Any], schema: str) -> None:
    """Export what the gateway keeps: parked messages, held ones per partner."""
    _export(conn.execute(_counts(schema)).fetchall())


async def refresh_gauges_async(conn: psycopg.AsyncConnection[Any], schema: str) -> None:
    """``refresh_gauges`` on an asynchronous connection."""
    cur = await conn.execute(_counts(schema))
    _export(await cur.fetchall())
