"""A message as it travels validates against its committed schema.

The stores and the hub's topics carry personal data sealed (absent from the
message, in its ``sealed`` box): a partner's integrator who validates what he
reads against the published schema must not see every message fail.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest

from contracts.case_state import CASE_STATE_TOPIC
from contracts.envelope import ContractEvent
from contracts.export import SCHEMA_DIR, state_schema_path
from contracts.sealing import SEALED_KEY
from services.case_state.projection import CaseStateProjection
from services.case_state.topic import sealed_state
from services.common.eventstore import seal_event
from services.common.vault import LocalMasterKeys, MemoryKeyStore, Vault
from tests.contracts.samples import SAMPLES


def _vault() -> Vault:
    return Vault(MemoryKeyStore(), LocalMasterKeys({"k1": bytes(32)}, "k1"))


def _committed(path: Any) -> Any:
    return jsonschema_rs.validator_for(json.loads(path.read_text()))


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.event_type)
def test_a_sealed_event_validates_against_its_committed_schema(
    event: ContractEvent,
) -> None:
    wire = json.loads(seal_event(_vault(), event))
    validator = _committed(SCHEMA_DIR / f"{event.event_type}.json")
    errors = [str(e) for e in validator.iter_errors(wire)]
    assert errors == []


def test_the_sealed_case_state_validates_against_its_committed_schema() -> None:
    projection, row = CaseStateProjection(), None
    for event in SAMPLES:
        row = projection.fold(row, event) or row
    assert row is not None
    state = row.state()
    assert state.social_activation is not None  # its scores are personal data
    wire = json.loads(sealed_state(_vault(), state))
    assert SEALED_KEY in wire
    assert "baseline" not in wire["social_activation"]
    validator = _committed(state_schema_path(CASE_STATE_TOPIC))
    assert [str(e) for e in validator.iter_errors(wire)] == []


def test_a_sealed_message_would_fail_the_schema_of_the_clear_model() -> None:
    registered = SAMPLES[0]
    clear_schema = type(registered).model_json_schema(mode="serialization")
    wire = json.loads(seal_event(_vault(), registered))
    assert not jsonschema_rs.validator_for(clear_schema).is_valid(wire)
