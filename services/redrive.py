"""Re-driving a kept message through the consumer that parked it.

A consumer's dead letter names its consumer; the registry gives that
consumer's fold, and the commands a policy needs come from the applications
made here. Dead letters parked before they named their consumer are folded by
the schema's consumer of their producing service. Used by
``hub dead-letters redrive``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import psycopg

from services.common.consumer import FoldProjection, redrive
from services.common.settings import HubSettings
from services.registry import CONSUMERS, Applications

__all__ = ["consumer_projections", "redrive_consumer"]


@contextlib.contextmanager
def consumer_projections(
    settings: HubSettings, schema: str
) -> Iterator[Mapping[str, FoldProjection[Any]]]:
    """The fold projections of a consuming schema, by consumer and by service."""
    specs = [c for c in CONSUMERS if c.schema == schema]
    if not specs:
        raise LookupError(f"schema: {schema} has no consumer to re-drive")
    apps = Applications(settings)
    try:
        found: dict[str, FoldProjection[Any]] = {}
        for spec in specs:
            projection = spec.projection(apps)
            found[spec.name] = projection
            for service in spec.services:
                found.setdefault(service, projection)
        yield found
    finally:
        apps.close()


async def redrive_consumer(
    settings: HubSettings, schema: str, dead_letter_id: int
) -> tuple[int, str | None]:
    """Fold a consumer's parked message (and those of its case behind it) again."""
    with consumer_projections(settings, schema) as projections:
        async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
            return await redrive(conn, schema, dead_letter_id, projections)
