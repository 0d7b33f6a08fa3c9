"""The vault and the sealed form (docs/decisions/0023-envelope-encryption.md)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.envelope import ContractEvent
from contracts.sealing import SEALED_KEY, personal_plan, split_personal
from services.common.eventstore import (
    StoredRow,
    open_event,
    published_form,
    relay_form,
    row_to_event,
    seal_event,
)
from services.common.vault import (
    LocalMasterKeys,
    MemoryKeyStore,
    PersonErasedError,
    Vault,
    VaultError,
    master_keys_from_file,
)
from tests.contracts.samples import SAMPLES

PERSONAL = [e for e in SAMPLES if personal_plan(type(e))]
PLAIN = [e for e in SAMPLES if not personal_plan(type(e))]


def _vault(*ids: str) -> Vault:
    keys = {key_id: os.urandom(32) for key_id in ids or ("k1",)}
    return Vault(MemoryKeyStore(), LocalMasterKeys(keys, next(iter(keys))))


def _leaves(value: object) -> list[str]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list | tuple):
        return [leaf for v in value for leaf in _leaves(v)]
    return [str(value)] if isinstance(value, str) and len(value) > 3 else []


@pytest.mark.parametrize("event", PERSONAL, ids=lambda e: e.event_type)
def test_adr_0023_a_sealed_event_holds_no_personal_value_and_opens_whole(
    event: ContractEvent,
) -> None:
    vault = _vault()
    stored = seal_event(vault, event)
    taken = json.loads(type(event).model_dump_json(event))

    personal = split_personal(taken, personal_plan(type(event)))
    for leaf in _leaves(personal):
        assert leaf.encode() not in stored
    assert SEALED_KEY.encode() in stored
    back = open_event(vault, event.event_type, stored)
    assert back == event.model_copy(update={"recorded_at": None})


@pytest.mark.parametrize("event", PLAIN, ids=lambda e: e.event_type)
def test_adr_0023_an_event_without_personal_data_is_stored_as_before(
    event: ContractEvent,
) -> None:
    stored = seal_event(_vault(), event)
    assert stored == event.model_dump_json(exclude={"recorded_at"}).encode()


@pytest.mark.parametrize("event", PERSONAL, ids=lambda e: e.event_type)
def test_adr_0023_an_erased_persons_event_decodes_without_its_personal_data(
    event: ContractEvent,
) -> None:
    vault = _vault()
    stored = seal_event(vault, event)
    vault.erase(event.case_id)
    back = open_event(vault, event.event_type, stored)
    for name, node in personal_plan(type(event)).items():
        if node is True:
            assert getattr(back, name) is None
    assert back.event_id == event.event_id
    with pytest.raises(PersonErasedError):
        seal_event(vault, event)


def test_adr_0023_a_box_moved_to_another_event_does_not_open() -> None:
    vault = _vault()
    first, second = (
        PERSONAL[0],
        PERSONAL[0].model_copy(update={"event_id": uuid.uuid4()}),
    )
    moved = json.loads(seal_event(vault, second))
    moved[SEALED_KEY] = json.loads(seal_event(vault, first))[SEALED_KEY]
    with pytest.raises(VaultError):
        open_event(vault, second.event_type, json.dumps(moved))


@given(st.binary(max_size=2000), st.binary(max_size=64))
def test_adr_0023_the_same_message_gives_the_same_box_and_opens(
    data: bytes, aad: bytes
) -> None:
    vault = _vault()
    person = uuid.UUID(int=7)
    box = vault.seal_bytes(person, data, aad)
    assert box == vault.seal_bytes(person, data, aad)
    assert vault.open_bytes(person, box, aad) == data
    assert data not in box[12:] or len(data) < 8


def test_adr_0023_rotation_rewraps_every_key_and_no_box_changes(tmp_path: Path) -> None:
    store = MemoryKeyStore()
    old = {"k1": os.urandom(32)}
    before = Vault(store, LocalMasterKeys(old, "k1"))
    persons = [uuid.UUID(int=n) for n in range(1, 20)]
    boxes = {p: before.seal_bytes(p, b"niss", b"aad") for p in persons}
    both = {**old, "k2": os.urandom(32)}
    rotating = Vault(store, LocalMasterKeys(both, "k2"))
    assert rotating.rotate(page=7) == len(persons)
    assert rotating.rotate() == 0
    after = Vault(store, LocalMasterKeys({"k2": both["k2"]}, "k2"))
    for person, box in boxes.items():
        assert after.open_bytes(person, box, b"aad") == b"niss"


def test_adr_0023_a_bad_master_key_file_is_named_never_its_keys(tmp_path: Path) -> None:
    secret = base64.b64encode(os.urandom(31)).decode()
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"current": "a", "keys": {"a": secret}}))
    with pytest.raises(ValueError, match="HUB_MASTER_KEYS_FILE") as refused:
        master_keys_from_file(path)
    assert secret not in str(refused.value)
    good = base64.b64encode(os.urandom(32)).decode()
    path.write_text(json.dumps({"current": "a", "keys": {"a": good}}))
    assert master_keys_from_file(path).current_id == "a"


_NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def _published_both_ways(event: ContractEvent, state: bytes, vault: Vault) -> None:
    row = StoredRow(1, event.event_type, state, _NOW)
    case_id, value = relay_form(vault, row)
    opened = row_to_event(row, vault)
    assert case_id == event.case_id
    assert json.loads(value) == json.loads(published_form(vault, row, opened))


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.event_type)
def test_the_relay_publishes_a_stored_row_as_opening_it_would_without_opening_it(
    event: ContractEvent,
) -> None:
    vault = _vault()
    _published_both_ways(event, seal_event(vault, event), vault)


@pytest.mark.parametrize("event", PERSONAL, ids=lambda e: e.event_type)
def test_the_relay_seals_a_row_stored_in_clear_and_sends_an_erased_ones_box_closed(
    event: ContractEvent,
) -> None:
    vault = _vault()
    clear = event.model_dump_json(exclude={"recorded_at"}).encode()
    _published_both_ways(event, clear, vault)
    _, value = relay_form(vault, StoredRow(1, event.event_type, clear, _NOW))
    assert SEALED_KEY.encode() in value
    sealed = seal_event(vault, event)
    vault.erase(event.case_id)
    _published_both_ways(event, sealed, vault)
