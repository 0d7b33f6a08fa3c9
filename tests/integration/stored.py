"""A service's events appended to its own event store and read back as published.

For read-model tests that do not run the service: the events go into the store
(schema and application named after the service, as the read models expect),
PostgreSQL gives each its ``recorded_at``, and they come back as the relay
would publish them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

import psycopg

from contracts.envelope import ContractEvent
from services.common.aggregate import CommandContext
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
from services.demo import make_niss
from services.intake.application import (
    GrantIncomeRight,
    IntakeApplication,
    RegisterBeneficiary,
)

__all__ = ["published", "register_and_grant", "store_events", "unrecorded"]


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


def register_and_grant(
    intake: IntakeApplication, n: int, cpas: str, day: dt.date, first_birth: dt.date
) -> uuid.UUID:
    """The n-th person registered with ``cpas`` and granted an income; the case id."""
    birth = first_birth + dt.timedelta(days=n)
    at = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    case_id = intake.register_beneficiary(
        RegisterBeneficiary(
            CommandContext(uuid.uuid4(), at),
            cpas,
            make_niss(birth, 1),
            birth,
            "Case",
            str(n),
            "fr",
            "1080",
            f"M{n}",
            day,
        )
    ).case_id
    intake.grant_income_right(
        GrantIncomeRight(
            CommandContext(uuid.uuid4(), at), case_id, "RIS", 2, day, day, day
        )
    )
    return case_id
