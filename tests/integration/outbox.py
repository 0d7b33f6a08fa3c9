"""A partner's outbox filled by hand, for the tests of its publishers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from services.common.consumer import ProjectionStore
from services.common.settings import HubSettings
from services.partner_gateway.outbound import OutboundProjection
from services.partner_gateway.quarantine import QUARANTINE, create_quarantine

CASE = uuid.UUID(int=900)


def prepare_outbox(settings: HubSettings) -> None:
    """The outbox, its positions and the gateway's dead letters."""

    async def create() -> None:
        async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
            await ProjectionStore(OutboundProjection(), "partners").create_tables(conn)
            await conn.commit()

    asyncio.run(create())
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        create_quarantine(conn, QUARANTINE)


def add_to_outbox(
    settings: HubSettings,
    message_ids: Iterable[uuid.UUID],
    *,
    partner: str = "forem",
    padding: int = 0,
) -> None:
    """One message per id, in order (``padding`` characters make one large)."""
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        for message_id in message_ids:
            conn.execute(
                "INSERT INTO partners.outbox (message_id, partner, case_id, "
                "kind, payload) VALUES (%s, %s, %s, 'phase_changed', %s)",
                (message_id, partner, CASE, Jsonb(payload(message_id, padding))),
            )


def payload(message_id: uuid.UUID, padding: int = 0) -> dict[str, Any]:
    """The body of a hand-made message."""
    body: dict[str, Any] = {"identifiant_message": str(message_id)}
    if padding:
        body["remarque"] = "x" * padding
    return body


def partner_dead_letters(settings: HubSettings) -> list[tuple[Any, ...]]:
    """(id, rule, status, source, message id, reason) of every kept message."""
    with psycopg.connect(settings.database_url) as conn:
        return conn.execute(
            "SELECT id, rule, status, source, message_id, reason "
            "FROM partner_messages.dead_letters ORDER BY id"
        ).fetchall()
