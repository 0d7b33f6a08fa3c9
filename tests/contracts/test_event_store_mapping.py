"""What is stored is what is published: the mapping is total and lossless."""

from __future__ import annotations

import datetime as dt

from contracts.registry import EVENT_TYPES
from services.common.eventstore import ContractMapper, StoredRow, row_to_event
from tests.contracts.samples import SAMPLES


def test_every_event_type_has_a_sample() -> None:
    assert {s.event_type for s in SAMPLES} == set(EVENT_TYPES)


def test_stored_then_published_equals_the_event_with_its_store_time() -> None:
    mapper = ContractMapper()
    recorded_at = dt.datetime(2026, 3, 2, 9, 30, 1, tzinfo=dt.UTC)
    for event in SAMPLES:
        stored = mapper.to_stored_event(event)
        assert stored.topic == event.event_type
        assert stored.originator_id == event.stream_id
        assert stored.originator_version == event.stream_version
        assert b"recorded_at" not in stored.state
        published = row_to_event(StoredRow(1, stored.topic, stored.state, recorded_at))
        assert published == event.model_copy(update={"recorded_at": recorded_at})
        assert mapper.to_domain_event(stored) == event


def test_published_json_round_trips_through_the_contract() -> None:
    for event in SAMPLES:
        wire = event.to_json_bytes()
        assert type(event).model_validate_json(wire) == event
