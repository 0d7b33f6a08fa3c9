"""The consumer framework on the real PostgreSQL: once, in order, and nothing lost."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import psycopg
import pytest

from contracts.envelope import ContractEvent
from contracts.intake import CaseErasedV1
from services.common.consumer import BatchOutcome, Envelope, decode
from services.common.settings import HubSettings
from services.intake.service import create_application
from services.registry import consumer
from tests.contracts.samples import SAMPLES, envelope
from tests.intake.fakes import bilan, registration

pytestmark = pytest.mark.integration

REGISTERED, BILAN = SAMPLES[0], SAMPLES[1]


def on(event: ContractEvent) -> Envelope:
    return decode(str(event.case_id).encode(), event.to_json_bytes(), source="test")


def another_case(event: ContractEvent, case: uuid.UUID) -> ContractEvent:
    return event.model_copy(update={"case_id": case, "stream_id": case})


async def _apply(database_url: str, *batches: list[Envelope]) -> list[BatchOutcome]:
    store = consumer("case-state").store()
    async with await psycopg.AsyncConnection.connect(
        database_url, autocommit=True
    ) as conn:
        await store.create_tables(conn)
        return [await store.apply(conn, batch) for batch in batches]


def apply(database_url: str, *batches: list[Envelope]) -> list[BatchOutcome]:
    return asyncio.run(_apply(database_url, *batches))


def rows(database_url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query).fetchall()


def test_a_redelivered_batch_changes_nothing(database_url: str) -> None:
    batch = [on(REGISTERED), on(BILAN)]
    first, again = apply(database_url, batch, batch)
    assert (first.applied, first.duplicates) == (2, 0)
    assert (again.applied, again.duplicates) == (0, 2)
    assert rows(
        database_url, "SELECT (intake->'bilan'->>'count')::int FROM case_state.cases"
    ) == [(1,)]


def test_a_version_ahead_of_its_predecessor_gets_it_from_the_store(
    hub_settings: HubSettings,
) -> None:
    intake = create_application(hub_settings)
    case_id = intake.register_beneficiary(registration()).case_id
    intake.record_bilan(bilan(case_id))
    stored = [e for e in intake.events.get(case_id) if isinstance(e, ContractEvent)]
    intake.close()
    # The registration never reached the topic (a relay parked it, a broker
    # lost it): the bilan arrives first, and the store fills the gap.
    [outcome] = apply(hub_settings.database_url, [on(stored[-1])])
    assert (outcome.gaps, outcome.healed, outcome.applied) == (1, 1, 2)
    assert rows(
        hub_settings.database_url,
        "SELECT (intake->'bilan'->>'count')::int FROM case_state.cases",
    ) == [(1,)]


def test_a_version_whose_predecessors_are_in_no_store_is_parked(
    database_url: str,
) -> None:
    [outcome] = apply(database_url, [on(BILAN)])
    assert (outcome.gaps, outcome.healed, outcome.parked) == (1, 0, 1)
    [(rule, reason)] = rows(
        database_url, "SELECT rule, reason FROM case_state.dead_letters"
    )
    assert rule == "gap"
    assert "not in the event store" in reason


def test_an_undecodable_message_is_parked_and_its_case_waits_behind_it(
    database_url: str,
) -> None:
    other = uuid.UUID(int=4242)
    poison = Envelope(str(REGISTERED.case_id), b"{not json", None, "payload: bad", "t")
    [outcome] = apply(
        database_url, [poison, on(REGISTERED), on(another_case(REGISTERED, other))]
    )
    assert (outcome.parked, outcome.applied) == (2, 1)
    parked = rows(
        database_url, "SELECT case_key, reason FROM case_state.dead_letters ORDER BY id"
    )
    assert parked[0] == (str(REGISTERED.case_id), "payload: bad")
    assert parked[1][1].startswith("waiting behind")
    assert rows(database_url, "SELECT case_id FROM case_state.cases") == [(other,)]


def test_an_event_the_projection_cannot_fold_is_parked_with_its_reason(
    database_url: str,
) -> None:
    orphan = BILAN.model_copy(update=envelope(1, uuid.UUID(int=77)))
    [outcome] = apply(database_url, [on(orphan)])
    assert outcome.parked == 1
    [(reason,)] = rows(database_url, "SELECT reason FROM case_state.dead_letters")
    assert "never registered" in reason


def test_a_message_of_an_unknown_type_is_parked_naming_the_type(
    database_url: str,
) -> None:
    unknown = decode(b"k", b'{"event_type": "hub.x.y.z.v1"}')
    assert unknown.event is None
    assert unknown.error is not None
    assert "hub.x.y.z.v1" in unknown.error
    [outcome] = apply(database_url, [unknown])
    assert outcome.parked == 1


def test_a_schema_violation_names_the_fields_not_the_values() -> None:
    body = REGISTERED.model_dump(mode="json") | {"niss": "123"}
    import json

    bad = decode(b"k", json.dumps(body).encode())
    assert bad.error is not None
    assert "niss" in bad.error
    assert "123" not in bad.error


def test_a_large_batch_is_applied_in_one_transaction(database_url: str) -> None:
    cases = [uuid.UUID(int=10_000 + n) for n in range(600)]
    batch = [on(another_case(REGISTERED, case)) for case in cases]
    batch += [on(another_case(BILAN, case)) for case in cases]
    [outcome] = apply(database_url, batch)
    assert outcome.applied == 1200
    assert rows(
        database_url,
        "SELECT count(*), sum((intake->'bilan'->>'count')::int) FROM case_state.cases",
    ) == [(600, 600)]
    again = apply(database_url, batch[:300])
    assert again[0].duplicates == 300


def test_an_erasure_waits_behind_no_dead_letter_and_purges_its_cases_rows(
    database_url: str,
) -> None:
    """ADR 0023: the case state's purge runs in the fold of the erasure event."""
    other = uuid.UUID(int=4243)
    [erasure] = [e for e in SAMPLES if isinstance(e, CaseErasedV1)]
    erasure = erasure.model_copy(update=envelope(3))
    poison = Envelope(str(REGISTERED.case_id), b"{not json", None, "payload: bad", "t")
    *_, waiting, erased, again = apply(
        database_url,
        [on(REGISTERED), on(another_case(REGISTERED, other))],
        [poison],
        [on(BILAN)],
        [on(erasure)],
        [on(erasure)],
    )
    assert (waiting.parked, erased.applied, erased.erased) == (1, 1, [erasure.case_id])
    assert (again.applied, again.duplicates, again.erased) == (0, 1, [])
    assert rows(database_url, "SELECT case_id FROM case_state.cases") == [(other,)]
    assert rows(database_url, "SELECT DISTINCT case_id FROM case_state.case_days") == [
        (other,)
    ]
    assert rows(database_url, "SELECT count(*) FROM case_state.dead_letters") == [(0,)]
