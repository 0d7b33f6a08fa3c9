"""The chain's walk, without a database: wherever a store is changed, that is named."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from services.common.chain import (
    ChainStore,
    Checkpoint,
    Link,
    Row,
    genesis,
    key_id,
    link_of,
    load_public_key,
    own_public_keys,
    public_key_pem,
    run_checkpoints,
    signing_key,
    walk,
)
from services.common.settings import HubSettings

STORE = "intake.intake_events"
KEY = Ed25519PrivateKey.generate()
AT = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def chained(count: int) -> tuple[list[Row], list[Link]]:
    """A store of ``count`` records at positions with gaps (ids may skip)."""
    rows: list[Row] = []
    links: list[Link] = []
    link, previous = genesis(STORE), 0
    for n in range(count):
        position = 3 * n + 1
        record = f"record {n}".encode()
        digest = hashlib.sha256(record).digest()
        link = link_of(link, digest)
        rows.append((position, record))
        links.append((position, previous, digest, link))
        previous = position
    return rows, links


def signed(link: Link) -> Checkpoint:
    message = Checkpoint.message(STORE, link[0], link[3], AT)
    return Checkpoint(STORE, link[0], link[3], AT, key_id(KEY), KEY.sign(message))


def verdict(
    rows: list[Row], links: list[Link], checkpoints: Sequence[Checkpoint] = ()
) -> tuple[int | None, str | None]:
    found = walk(STORE, rows, links, checkpoints, keys=[KEY.public_key()])
    return found.broken_at, found.problem


def test_an_untouched_chain_verifies_with_its_checkpoints() -> None:
    rows, links = chained(5)
    found = walk(
        STORE,
        rows,
        links,
        [signed(links[1]), signed(links[4])],
        keys=[KEY.public_key()],
    )
    assert (found.verified, found.records, found.verified_up_to) == (True, 5, 13)
    assert (found.checkpoints, found.signed_up_to) == (2, 13)


def test_two_stores_with_the_same_records_have_different_chains() -> None:
    assert genesis("intake.intake_events") != genesis("piis.piis_events")


@given(st.integers(2, 40), st.data())
def test_chain_record_changed_wherever_a_record_changes_it_is_named(
    count: int, data: st.DataObject
) -> None:
    rows, links = chained(count)
    n = data.draw(st.integers(0, count - 1))
    rows[n] = (rows[n][0], (rows[n][1] or b"") + b" ")
    assert verdict(rows, links) == (rows[n][0], "chain.record_changed")


@given(st.integers(2, 40), st.data())
def test_chain_record_missing_wherever_a_record_goes_it_is_named(
    count: int, data: st.DataObject
) -> None:
    rows, links = chained(count)
    n = data.draw(st.integers(0, count - 1))
    with_link = data.draw(st.booleans()) and n < count - 1
    position = rows.pop(n)[0]
    if with_link:
        links.pop(n)
    assert verdict(rows, links) == (position, "chain.record_missing")


@given(st.integers(2, 40), st.data())
def test_chain_order_changed_two_records_swapped_name_the_first(
    count: int, data: st.DataObject
) -> None:
    rows, links = chained(count)
    a, b = sorted(data.draw(st.sets(st.integers(0, count - 1), min_size=2, max_size=2)))
    rows[a], rows[b] = (rows[a][0], rows[b][1]), (rows[b][0], rows[a][1])
    assert verdict(rows, links) == (rows[a][0], "chain.order_changed")


@given(st.integers(2, 40), st.data())
def test_chain_link_changed_wherever_a_link_changes_it_is_named(
    count: int, data: st.DataObject
) -> None:
    rows, links = chained(count)
    n = data.draw(st.integers(0, count - 1))
    position, previous, digest, link = links[n]
    links[n] = (position, previous, digest, hashlib.sha256(link).digest())
    assert verdict(rows, links) == (position, "chain.link_changed")


@given(st.integers(2, 40), st.data())
def test_chain_tail_removed_a_tail_cut_with_its_links_is_named_by_the_checkpoint(
    count: int, data: st.DataObject
) -> None:
    rows, links = chained(count)
    checkpoint = signed(links[-1])
    cut = data.draw(st.integers(0, count - 1))
    assert verdict(rows[:cut], links[:cut], [checkpoint]) == (
        checkpoint.position,
        "chain.tail_removed",
    )


def test_chain_checkpoint_mismatch_a_recomputed_chain_is_named_by_the_checkpoint() -> (
    None
):
    rows, links = chained(6)
    checkpoint = signed(links[4])
    rows[2] = (rows[2][0], b"rewritten")
    # Every link recomputed from the changed record on: only the signature holds.
    link, recomputed = links[1][3], links[:2]
    for (position, record), (_, previous, _, _) in zip(
        rows[2:], links[2:], strict=True
    ):
        digest = hashlib.sha256(record or b"").digest()
        link = link_of(link, digest)
        recomputed.append((position, previous, digest, link))
    assert verdict(rows, recomputed, [checkpoint]) == (13, "chain.checkpoint_mismatch")


def test_chain_checkpoint_signature_a_forged_or_foreign_signature_is_named() -> None:
    rows, links = chained(4)
    good = signed(links[2])
    forged = Checkpoint(
        STORE, good.position, good.link, good.signed_at, good.key_id, bytes(64)
    )
    assert verdict(rows, links, [forged]) == (7, "chain.checkpoint_signature")
    other = Ed25519PrivateKey.generate()
    found = walk(STORE, rows, links, [good], keys=[other.public_key()])
    assert (found.broken_at, found.problem) == (7, "chain.checkpoint_signature")


def test_chain_link_missing_a_record_without_its_link_is_named() -> None:
    rows, links = chained(4)
    del links[2]
    assert verdict(rows, links) == (7, "chain.link_missing")
    rows, links = chained(4)
    del links[3]
    assert verdict(rows, links) == (10, "chain.link_missing")


def test_without_a_key_here_checkpoints_cannot_be_trusted(tmp_path: Path) -> None:
    settings = HubSettings(data_dir=tmp_path)
    assert own_public_keys(settings) == []
    assert not (tmp_path / "chain-signing-key.pem").exists()
    key = signing_key(settings)
    assert (tmp_path / "chain-signing-key.pem").stat().st_mode & 0o777 == 0o600
    assert key_id(signing_key(settings)) == key_id(key)  # generated once
    [public] = own_public_keys(settings)
    assert key_id(public) == key_id(key)
    assert load_public_key(public_key_pem(key)) == public


def test_a_process_without_the_signing_key_verifies_with_the_configured_public_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The case-state API serving the audit report holds no signing key: it
    # is given the relays' public keys, never a key of its own.
    relay_key = signing_key(HubSettings(data_dir=tmp_path / "relay"))
    published = tmp_path / "relay.pub.pem"
    published.write_bytes(public_key_pem(relay_key))
    monkeypatch.setenv("HUB_CHAIN_PUBLIC_KEY_FILES", json.dumps([str(published)]))
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path / "case-state"))
    [public] = own_public_keys(HubSettings())
    assert key_id(public) == key_id(relay_key)
    assert not (tmp_path / "case-state").exists()


def test_a_checkpoint_that_cannot_be_signed_is_counted_for_the_operator(
    tmp_path: Path,
) -> None:
    # PostgreSQL away: each tick fails, is counted, and the relay goes on.
    settings = HubSettings(
        data_dir=tmp_path,
        database_url="postgresql://hub@127.0.0.1:9/hub",
        database_wait_seconds=1,
        chain_checkpoint_seconds=0.05,
    )
    store = ChainStore("intake", "intake_events")
    labels = {"store": store.name}
    before = REGISTRY.get_sample_value("hub_chain_checkpoint_failures_total", labels)

    async def two_ticks() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(run_checkpoints(settings, store, stop))
        for _ in range(100):
            await asyncio.sleep(0.05)
            now = REGISTRY.get_sample_value(
                "hub_chain_checkpoint_failures_total", labels
            )
            if (now or 0) - (before or 0) >= 2:
                break
        stop.set()
        await task

    asyncio.run(two_ticks())
    after = REGISTRY.get_sample_value("hub_chain_checkpoint_failures_total", labels)
    assert (after or 0) - (before or 0) >= 2
