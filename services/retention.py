"""``hub purge``: dead letters and outbox rows past their retention (ADR 0027).

A dead letter goes once it was re-driven or discarded and was parked longer
ago than ``HUB_DEAD_LETTER_RETENTION_DAYS``; a parked or held one is the
evidence of a case still stuck and stays, whatever its age. An outbox row goes
once every channel of its partner delivered it (the broker copy, and the push
when the partner has an endpoint) and it is older than
``HUB_OUTBOX_RETENTION_DAYS``; an undelivered one stays. Events are never
touched: the operator's role may not delete one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

import psycopg
from psycopg import sql

from contracts.registry import SERVICE_TOPICS
from services.common.settings import HubSettings
from services.partner_gateway.registry import CHANNELS
from services.registry import CONSUMERS

__all__ = ["RESOLVED", "Purged", "dead_letter_schemas", "purge"]

# The statuses of a dead letter that is done with.
RESOLVED: Final = ("redriven", "discarded")
_OUTBOX_SCHEMA: Final = "partners"
_QUARANTINE: Final = "partner_messages"


@dataclass(frozen=True, slots=True)
class Purged:
    """How many rows went, per table."""

    dead_letters: dict[str, int]
    outbox: int


def dead_letter_schemas() -> tuple[str, ...]:
    """Every schema keeping dead letters: consumers', relays', the gateway's."""
    return tuple(
        sorted(
            {c.schema for c in CONSUMERS}
            | {f"{s}_relay" for s in SERVICE_TOPICS}
            | {_QUARANTINE}
        )
    )


def _exists(conn: psycopg.Connection[Any], schema: str, table: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s)", (f'"{schema}"."{table}"',)).fetchone()
    return row is not None and row[0] is not None


def _channels(settings: HubSettings) -> list[tuple[str, str]]:
    """(channel, partner) of every outbox reader the gateway runs."""
    endpoints = (
        json.loads(settings.partner_endpoints)
        if settings.partner_endpoints.strip()
        else {}
    )
    return [(f"kafka:{code}", code) for code in CHANNELS] + [
        (f"http:{code}", code) for code in CHANNELS if code in endpoints
    ]


_PURGE_OUTBOX = """
WITH expected(channel, partner) AS (SELECT * FROM unnest(%(channels)s::text[],
     %(partners)s::text[]))
DELETE FROM {schema}.outbox o
 WHERE o.created_at < now() - make_interval(days => %(days)s)
   AND EXISTS (SELECT 1 FROM expected e WHERE e.partner = o.partner)
   AND NOT EXISTS (
       SELECT 1 FROM expected e
         LEFT JOIN {schema}.outbox_positions p ON p.channel = e.channel
        WHERE e.partner = o.partner
          AND (p.channel IS NULL OR (p.last_tx, p.last_id) < (o.tx, o.id)))
"""


def purge(conn: psycopg.Connection[Any], settings: HubSettings) -> Purged:
    """Delete what retention lets go, in one transaction; how many rows went."""
    dead: dict[str, int] = {}
    with conn.transaction():
        for schema in dead_letter_schemas():
            if not _exists(conn, schema, "dead_letters"):
                continue
            cur = conn.execute(
                sql.SQL(
                    "DELETE FROM {}.dead_letters WHERE status = ANY(%s) "
                    "AND parked_at < now() - make_interval(days => %s)"
                ).format(sql.Identifier(schema)),
                (list(RESOLVED), settings.dead_letter_retention_days),
            )
            dead[schema] = cur.rowcount
        outbox = 0
        if _exists(conn, _OUTBOX_SCHEMA, "outbox"):
            channels = _channels(settings)
            cur = conn.execute(
                sql.SQL(_PURGE_OUTBOX).format(schema=sql.Identifier(_OUTBOX_SCHEMA)),
                {
                    "channels": [c for c, _ in channels],
                    "partners": [p for _, p in channels],
                    "days": settings.outbox_retention_days,
                },
            )
            outbox = cur.rowcount
    return Purged(dead, outbox)
