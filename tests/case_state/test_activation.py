"""Social-activation progress per person and per CPAS, on the real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import psycopg
import pytest

from contracts.envelope import ContractEvent
from services.case_state.activation import progress_of_cpas
from services.common.consumer import decode
from services.registry import consumer
from tests.contracts.samples import KBO, SAMPLES

STARTED = next(
    s for s in SAMPLES if s.event_type.endswith("social_activation.started.v1")
)
EVALUATED = next(
    s for s in SAMPLES if s.event_type.endswith("social_activation.evaluated.v1")
)


def for_case(
    event: ContractEvent, case: uuid.UUID, version: int, progress: int = 0
) -> ContractEvent:
    changes: dict[str, Any] = {
        "case_id": case,
        "stream_id": case,
        "stream_version": version,
    }
    if hasattr(event, "progress"):
        changes["progress"] = {"social": progress}
    return event.model_copy(update=changes)


async def _progress(database_url: str) -> dict[str, Any]:
    store = consumer("activation").store()
    events = []
    for number, progress in enumerate((10, 20)):
        case = uuid.UUID(int=3000 + number)
        events += [for_case(STARTED, case, 1), for_case(EVALUATED, case, 2, progress)]
    batch = [decode(str(e.case_id).encode(), e.to_json_bytes()) for e in events]
    connect = psycopg.AsyncConnection.connect
    async with await connect(database_url, autocommit=True) as conn:
        await store.create_tables(conn)
        await store.apply(conn, batch)
        return await progress_of_cpas(conn, "activation", KBO)


@pytest.mark.integration
def test_progress_is_kept_per_person_and_averaged_per_cpas(database_url: str) -> None:
    figures = asyncio.run(_progress(database_url))
    assert (figures["people"], figures["ended"]) == (2, 0)
    assert figures["mean_progress"] == {"social": 15.0}
    assert [p["progress"] for p in figures["people_progress"]] == [
        {"social": 10},
        {"social": 20},
    ]
