"""The vault on PostgreSQL: one key per person, an erasure seen everywhere."""

from __future__ import annotations

import base64
import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from services.common.vault import (
    PostgresKeyStore,
    Vault,
    master_keys_from_file,
    vault_for,
)

pytestmark = pytest.mark.integration


def _process_vault(database_url: str, keys: Path | None = None) -> Vault:
    """A vault as another process would make it (its own cache), caching nothing."""
    store = PostgresKeyStore(database_url)
    if keys is not None:
        vault = Vault(store, master_keys_from_file(keys), cache_seconds=0)
    else:
        reference = vault_for(database_url)
        vault = Vault(store, reference.master, cache_seconds=0)
    return vault


def test_adr_0023_concurrent_first_seals_of_a_person_share_one_key(
    database_url: str,
) -> None:
    person = uuid.uuid4()
    vaults = [_process_vault(database_url) for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        boxes = list(
            pool.map(lambda v: v.seal_bytes(person, b"85073003328", b"a"), vaults)
        )
    assert len(set(boxes)) == 1  # one key: the same message, the same box
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM vault.person_keys").fetchone() == (1,)
        [(wrapped,)] = conn.execute("SELECT wrapped FROM vault.person_keys").fetchall()
    assert b"85073003328" not in bytes(wrapped)


def test_adr_0023_an_erasure_in_one_process_is_seen_by_another(
    database_url: str,
) -> None:
    here, there = _process_vault(database_url), _process_vault(database_url)
    person = uuid.uuid4()
    box = here.seal_bytes(person, b"secret", b"a")
    assert there.open_bytes(person, box, b"a") == b"secret"
    assert here.erase(person)
    assert there.open_bytes(person, box, b"a") is None
    assert there.erased_among([person, uuid.uuid4()]) == {person}


def test_adr_0023_rotation_on_postgresql_rewraps_and_keeps_every_box(
    database_url: str, tmp_path: Path
) -> None:
    old, new = os.urandom(32), os.urandom(32)
    first = tmp_path / "first.json"
    first.write_text(
        json.dumps({"current": "k1", "keys": {"k1": base64.b64encode(old).decode()}})
    )
    both = tmp_path / "both.json"
    both.write_text(
        json.dumps(
            {
                "current": "k2",
                "keys": {
                    "k1": base64.b64encode(old).decode(),
                    "k2": base64.b64encode(new).decode(),
                },
            }
        )
    )
    only_new = tmp_path / "new.json"
    only_new.write_text(
        json.dumps({"current": "k2", "keys": {"k2": base64.b64encode(new).decode()}})
    )
    before = _process_vault(database_url, first)
    persons = [uuid.uuid4() for _ in range(5)]
    boxes = {p: before.seal_bytes(p, p.bytes, b"a") for p in persons}
    assert _process_vault(database_url, both).rotate(page=2) == len(persons)
    after = _process_vault(database_url, only_new)
    assert all(after.open_bytes(p, box, b"a") == p.bytes for p, box in boxes.items())
