"""What is stored is what is published: the mapping is total and lossless."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pydantic import ValidationError

from contracts.registry import EVENT_TYPES, parse_stored_data, parse_stored_event
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


def test_a_payload_read_from_json_validates_as_its_json_text_does() -> None:
    for event in SAMPLES:
        raw = event.model_dump_json(exclude={"recorded_at"})
        parsed = parse_stored_data(event.event_type, json.loads(raw))
        assert parsed == parse_stored_event(event.event_type, raw)
        assert parsed.model_dump_json() == event.model_dump_json()


def test_a_payload_the_objects_do_not_pass_is_refused_as_its_text_would_be() -> None:
    event = SAMPLES[0]
    data = json.loads(event.model_dump_json(exclude={"recorded_at"}))
    data["stream_version"] = "not a number"
    with pytest.raises(ValidationError) as from_objects:
        parse_stored_data(event.event_type, data)
    with pytest.raises(ValidationError) as from_text:
        parse_stored_event(event.event_type, json.dumps(data))
    assert from_objects.value.errors() == from_text.value.errors()
