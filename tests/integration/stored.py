"""A service's events appended to its own event store and read back as published.

For read-model tests that do not run the service: the events go into the store
(schema and application named after the service, as the read models expect),
PostgreSQL gives each its ``recorded_at``, and they come back as the relay
would publish them.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg

from contracts.envelope import ContractEvent
from services.common.application import HubApplication
from services.common.consumer import Envelope, decode
from services.common.eventstore import (
    events_table,
    eventstore_env,
    read_rows,
    row_to_event,
    schema_setup,
)
from services.common.settings import HubSettings

__all__ = ["published", "store_events", "unrecorded"]


def store_events(
    settings: HubSettings, service: str, events: Iterable[ContractEvent]
) -> None:
    """Append events as the service would (the store sets recorded_at)."""
    store = type(f"{service.title()}Store", (HubApplication,), {"name": service})
    env = eventstore_env(settings.database_url, app_name=service, schema=service)
    with schema_setup(settings.database_url, service):
        app = store(env)
    try:
        app.recorder.insert_events([app.mapper.to_stored_event(e) for e in events])
    finally:
        app.close()


def published(settings: HubSettings, service: str) -> list[Envelope]:
    """The stored events as the relay publishes them (with their store time)."""
    with psycopg.connect(settings.database_url) as conn:
        rows = list(read_rows(conn, events_table(service, service)))
    return [
        decode(str(e.case_id).encode(), e.to_json_bytes(), source="test")
        for e in map(row_to_event, rows)
    ]


def unrecorded(events: Iterable[ContractEvent]) -> list[ContractEvent]:
    """The events with store times cleared: PostgreSQL sets its own."""
    return [e.model_copy(update={"recorded_at": None}) for e in events]
