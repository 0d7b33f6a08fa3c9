"""Tamper evidence on the real PostgreSQL: what is changed in a store is named.

Each test fills the intake store through the application (every append goes
through the append function and its trigger), then changes it directly in
PostgreSQL as someone with database access could, and verifies (ADR 0020).
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from prometheus_client import REGISTRY
from typer.testing import CliRunner

from services.cli import app as hub
from services.common.chain import (
    ChainReport,
    StoreVerdict,
    genesis,
    public_key_pem,
    record_bytes,
    signing_key,
    store_named,
    stores,
    verify_stores,
    write_checkpoint,
)
from services.common.relay import serve_relay
from services.common.settings import HubSettings
from services.intake.service import RELAY_SPEC, create_application
from tests.intake.fakes import bilan, registration
from tests.integration.harness import hub_env, running_in_thread, wait_until

pytestmark = pytest.mark.integration

INTAKE = store_named("intake")


def fill(settings: HubSettings, cases: int, first: int = 1) -> list[int]:
    """Register cases with a bilan each; the store's positions, in order."""
    app = create_application(settings)
    try:
        for n in range(first, first + cases):
            case_id = app.register_beneficiary(registration(n)).case_id
            app.record_bilan(bilan(case_id))
    finally:
        app.close()
    return positions(settings)


def positions(settings: HubSettings) -> list[int]:
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute(
            "SELECT notification_id FROM intake.intake_events ORDER BY 1"
        ).fetchall()
    return [int(r[0]) for r in rows]


def execute(settings: HubSettings, *statements: tuple[str, tuple[Any, ...]]) -> None:
    with psycopg.connect(settings.database_url) as conn:
        for query, params in statements:
            conn.execute(query, params)


def checkpoint(settings: HubSettings) -> int:
    with psycopg.connect(settings.database_url) as conn:
        written = write_checkpoint(conn, INTAKE, signing_key(settings))
    assert written is not None
    return written.position


def verdict(settings: HubSettings, **kwargs: Any) -> StoreVerdict:
    return verify_stores(settings, only=[INTAKE], **kwargs).stores[0]


def test_an_untouched_store_verifies_and_so_does_every_other(
    hub_settings: HubSettings,
) -> None:
    stored = fill(hub_settings, 5)
    signed = checkpoint(hub_settings)
    report = verify_stores(hub_settings)
    assert report.verified
    assert [v.store for v in report.stores] == [s.name for s in stores()]
    [found] = [v for v in report.stores if v.store == INTAKE.name]
    assert (found.records, found.verified_up_to) == (len(stored), stored[-1])
    assert (found.checkpoints, found.signed_up_to) == (1, signed)
    assert found.broken_at is None


def test_the_chain_is_the_documented_hash_of_each_record_as_stored(
    hub_settings: HubSettings,
) -> None:
    fill(hub_settings, 2)
    with psycopg.connect(hub_settings.database_url) as conn:
        rows = conn.execute(
            "SELECT notification_id, e.originator_id, e.originator_version, e.topic, "
            "e.state, e.recorded_at, c.previous, c.digest, c.link "
            "FROM intake.intake_events e "
            "JOIN intake.intake_events_chain c USING (notification_id) "
            "ORDER BY notification_id"
        ).fetchall()
    link, previous = genesis(INTAKE.name), 0
    for position, origin, version, topic, state, at, before, digest, stored in rows:
        record = record_bytes(origin, version, topic, bytes(state), at)
        assert bytes(digest) == hashlib.sha256(record).digest()
        link = hashlib.sha256(link + bytes(digest)).digest()
        assert (before, bytes(stored)) == (previous, link)
        previous = position
    assert len(rows) == 6


def test_chain_record_changed_an_updated_state_is_named_at_its_position(
    hub_settings: HubSettings,
) -> None:
    stored = fill(hub_settings, 4)
    target = stored[3]
    execute(
        hub_settings,
        (
            (
                "UPDATE intake.intake_events SET state = state || ' '::bytea "
                "WHERE notification_id = %s"
            ),
            (target,),
        ),
    )
    found = verdict(hub_settings)
    assert (found.verified, found.broken_at, found.problem) == (
        False,
        target,
        "chain.record_changed",
    )
    assert found.verified_up_to == stored[2]


def test_chain_record_missing_a_deleted_record_is_named(
    hub_settings: HubSettings,
) -> None:
    stored = fill(hub_settings, 4)
    target = stored[4]
    execute(
        hub_settings,
        ("DELETE FROM intake.intake_events WHERE notification_id = %s", (target,)),
    )
    found = verdict(hub_settings)
    assert (found.broken_at, found.problem) == (target, "chain.record_missing")


def test_chain_record_missing_the_last_record_deleted_its_link_kept_is_named(
    hub_settings: HubSettings,
) -> None:
    stored = fill(hub_settings, 4)
    target = stored[-1]  # no later link names it as its previous
    execute(
        hub_settings,
        ("DELETE FROM intake.intake_events WHERE notification_id = %s", (target,)),
    )
    found = verdict(hub_settings)
    assert (found.broken_at, found.problem) == (target, "chain.record_missing")


def test_chain_record_missing_a_record_deleted_with_its_link_is_named(
    hub_settings: HubSettings,
) -> None:
    stored = fill(hub_settings, 4)
    target = stored[5]
    execute(
        hub_settings,
        ("DELETE FROM intake.intake_events WHERE notification_id = %s", (target,)),
        (
            "DELETE FROM intake.intake_events_chain WHERE notification_id = %s",
            (target,),
        ),
    )
    found = verdict(hub_settings)
    assert (found.broken_at, found.problem) == (target, "chain.record_missing")


def test_chain_order_changed_two_records_swapped_are_named(
    hub_settings: HubSettings,
) -> None:
    stored = fill(hub_settings, 4)
    a, b = stored[2], stored[6]
    swap = (
        "UPDATE intake.intake_events SET notification_id = %s "
        "WHERE notification_id = %s"
    )
    execute(hub_settings, (swap, (-1, a)), (swap, (a, b)), (swap, (b, -1)))
    found = verdict(hub_settings)
    assert (found.broken_at, found.problem) == (a, "chain.order_changed")
    assert found.detail is not None
    assert str(b) in found.detail


def test_chain_record_changed_two_states_swapped_name_the_first(
    hub_settings: HubSettings,
) -> None:
    stored = fill(hub_settings, 4)
    a, b = stored[3], stored[5]
    execute(
        hub_settings,
        (
            (
                "UPDATE intake.intake_events t SET state = o.state FROM "
                "intake.intake_events o WHERE (t.notification_id, o.notification_id) "
                "IN ((%s, %s), (%s, %s))"
            ),
            (a, b, b, a),
        ),
    )
    found = verdict(hub_settings)
    assert (found.broken_at, found.problem) == (a, "chain.record_changed")


def test_chain_link_changed_an_altered_link_is_named(
    hub_settings: HubSettings,
) -> None:
    stored = fill(hub_settings, 3)
    target = stored[2]
    execute(
        hub_settings,
        (
            (
                "UPDATE intake.intake_events_chain SET link = sha256(link) "
                "WHERE notification_id = %s"
            ),
            (target,),
        ),
    )
    found = verdict(hub_settings)
    assert (found.broken_at, found.problem) == (target, "chain.link_changed")


def test_chain_link_missing_a_row_inserted_past_the_trigger_is_named(
    hub_settings: HubSettings,
) -> None:
    stored = fill(hub_settings, 2)
    execute(
        hub_settings,
        ("ALTER TABLE intake.intake_events DISABLE TRIGGER USER", ()),
        (
            (
                "INSERT INTO intake.intake_events (originator_id, originator_version, "
                "topic, state) SELECT originator_id, originator_version + 100, topic, "
                "state FROM intake.intake_events WHERE notification_id = %s"
            ),
            (stored[0],),
        ),
        ("ALTER TABLE intake.intake_events ENABLE TRIGGER USER", ()),
    )
    found = verdict(hub_settings)
    assert found.problem == "chain.link_missing"
    assert found.broken_at == positions(hub_settings)[-1]


def test_chain_tail_removed_rows_deleted_with_their_links_are_caught_by_a_checkpoint(
    hub_settings: HubSettings,
) -> None:
    stored = fill(hub_settings, 4)
    signed = checkpoint(hub_settings)
    cut = stored[-3]
    execute(
        hub_settings,
        ("DELETE FROM intake.intake_events WHERE notification_id >= %s", (cut,)),
        ("DELETE FROM intake.intake_events_chain WHERE notification_id >= %s", (cut,)),
    )
    found = verdict(hub_settings)
    assert (found.broken_at, found.problem) == (signed, "chain.tail_removed")
    assert found.verified_up_to == stored[-4]


def test_chain_checkpoint_mismatch_a_rewritten_chain_is_caught_by_a_checkpoint(
    hub_settings: HubSettings,
) -> None:
    stored = fill(hub_settings, 3)
    signed = checkpoint(hub_settings)
    # Someone who changes a record and recomputes every link after it.
    execute(
        hub_settings,
        (
            (
                "UPDATE intake.intake_events SET state = state || ' '::bytea "
                "WHERE notification_id = %s"
            ),
            (stored[1],),
        ),
        ("DELETE FROM intake.intake_events_chain", ()),
        ("SELECT intake.intake_events_chain_all()", ()),
    )
    found = verdict(hub_settings)
    assert (found.broken_at, found.problem) == (signed, "chain.checkpoint_mismatch")


def test_chain_checkpoint_signature_a_forged_checkpoint_is_detected(
    hub_settings: HubSettings,
) -> None:
    fill(hub_settings, 2)
    signed = checkpoint(hub_settings)
    execute(
        hub_settings,
        (
            (
                "UPDATE intake.intake_events_checkpoints SET signature = "
                "sha256(signature) || sha256(signature) WHERE position = %s"
            ),
            (signed,),
        ),
    )
    found = verdict(hub_settings)
    assert (found.broken_at, found.problem) == (signed, "chain.checkpoint_signature")


def test_chain_checkpoint_signature_a_checkpoint_under_another_key_is_detected(
    hub_settings: HubSettings,
) -> None:
    fill(hub_settings, 2)
    signed = checkpoint(hub_settings)
    other = Ed25519PrivateKey.generate().public_key()
    found = verdict(hub_settings, public_keys=[other])
    assert (found.broken_at, found.problem) == (signed, "chain.checkpoint_signature")


def test_rows_stored_before_the_chain_existed_are_chained_once_at_setup(
    hub_settings: HubSettings,
) -> None:
    stored = fill(hub_settings, 3)
    execute(
        hub_settings,
        ("DROP TRIGGER intake_events_chain_append ON intake.intake_events", ()),
        ("DROP TRIGGER intake_events_chain_lock ON intake.intake_events", ()),
        ("DROP TABLE intake.intake_events_chain", ()),
        ("DROP TABLE intake.intake_events_checkpoints", ()),
    )
    create_application(hub_settings).close()
    stored += fill(hub_settings, 1, first=10)[len(stored) :]
    found = verdict(hub_settings)
    assert (found.verified, found.records) == (True, len(stored))


def test_checkpoints_are_signed_periodically_by_the_relay_process(
    hub_settings: HubSettings,
) -> None:
    settings = hub_settings.model_copy(update={"chain_checkpoint_seconds": 0.2})
    first = fill(settings, 1)

    def signed() -> list[int]:
        with psycopg.connect(settings.database_url) as conn:
            rows = conn.execute(
                "SELECT position FROM intake.intake_events_checkpoints ORDER BY 1"
            ).fetchall()
        return [int(r[0]) for r in rows]

    with running_in_thread(
        lambda stop: serve_relay(
            settings, stop, RELAY_SPEC, settings.relay_metrics_port
        )
    ):
        wait_until(lambda: signed() == [first[-1]], 30, "a first checkpoint")
        more = fill(settings, 1, first=5)
        # A tick may fall between the new case's commands: one checkpoint or
        # more after the first, the last at the new head.
        wait_until(lambda: signed()[-1] == more[-1], 30, "a checkpoint of the head")
        moved = signed()
        assert moved[0] == first[-1]
        assert moved == sorted(set(moved))
        asyncio.run(asyncio.sleep(0.6))
        assert signed() == moved  # not signed again unmoved
        # What an operator sees: nothing past the last checkpoint, signed now.
        store = {"store": "intake.intake_events"}
        unsigned = REGISTRY.get_sample_value("hub_chain_unsigned_records", store)
        signed_at = REGISTRY.get_sample_value(
            "hub_chain_last_checkpoint_timestamp_seconds", store
        )
        assert unsigned == 0
        assert signed_at is not None
        assert time.time() - signed_at < 30
    assert verdict(settings).signed_up_to == more[-1]


def test_concurrent_writers_of_two_processes_keep_one_valid_chain(
    hub_settings: HubSettings,
) -> None:
    apps = [create_application(hub_settings) for _ in range(2)]
    writers, per_writer = 6, 15

    def write(writer: int) -> None:
        app = apps[writer % 2]
        for n in range(per_writer):
            case_id = app.register_beneficiary(
                registration(100 + writer * per_writer + n)
            ).case_id
            app.record_bilan(bilan(case_id))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for app in apps:
        app.close()
    found = verdict(hub_settings)
    assert (found.verified, found.records) == (True, writers * per_writer * 3)


def test_concurrent_inserts_past_the_append_function_are_chained_in_id_order(
    hub_settings: HubSettings,
) -> None:
    stored = fill(hub_settings, 1)
    writers, per_writer = 4, 25

    def insert(writer: int) -> None:
        with psycopg.connect(hub_settings.database_url, autocommit=True) as conn:
            for n in range(per_writer):
                conn.execute(
                    "INSERT INTO intake.intake_events (originator_id, "
                    "originator_version, topic, state) SELECT originator_id, "
                    "originator_version + %s, topic, state FROM intake.intake_events "
                    "WHERE notification_id = %s",
                    (1000 + writer * per_writer + n, stored[0]),
                )

    threads = [threading.Thread(target=insert, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    found = verdict(hub_settings)
    assert (found.verified, found.records) == (True, len(stored) + 100)


def test_hub_audit_verify_names_the_first_broken_position_and_exits_1(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    stored = fill(hub_settings, 2)
    env = hub_env(hub_settings)
    runner = CliRunner()
    signed = runner.invoke(hub, ["audit", "checkpoint"], env=env)
    assert signed.exit_code == 0, signed.output
    assert f"intake.intake_events: signed at position {stored[-1]}" in signed.output
    exported = runner.invoke(hub, ["audit", "public-key"], env=env)
    assert exported.exit_code == 0, exported.output
    pem = tmp_path / "hub-chain.pem"
    pem.write_text(exported.stdout)
    auditor = ["audit", "verify", "--public-key", str(pem)]
    clean = runner.invoke(hub, auditor, env=env)
    assert clean.exit_code == 0, clean.output
    assert f"intake.intake_events: verified, {len(stored)} records" in clean.output
    execute(
        hub_settings,
        (
            (
                "UPDATE intake.intake_events SET state = state || ' '::bytea "
                "WHERE notification_id = %s"
            ),
            (stored[1],),
        ),
    )
    broken = runner.invoke(hub, [*auditor, "--store", "intake"], env=env)
    assert broken.exit_code == 1
    assert f"BROKEN at position {stored[1]}: chain.record_changed" in broken.output
    as_json = runner.invoke(hub, [*auditor, "--json"], env=env)
    assert as_json.exit_code == 1
    report = ChainReport.model_validate_json(as_json.stdout)
    assert not report.verified
    [intake] = [v for v in report.stores if v.store == INTAKE.name]
    assert (intake.broken_at, intake.problem) == (stored[1], "chain.record_changed")
    assert [v.verified for v in report.stores if v.store != INTAKE.name] == [True] * 3


def test_hub_audit_verify_refuses_a_key_that_is_not_a_public_key(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    pem = tmp_path / "not-a-key.pem"
    pem.write_bytes(b"nothing")
    result = CliRunner().invoke(
        hub, ["audit", "verify", "--public-key", str(pem)], env=hub_env(hub_settings)
    )
    assert result.exit_code == 2
    assert public_key_pem(signing_key(hub_settings)).startswith(b"-----BEGIN")


def test_a_writer_outside_read_committed_is_refused_rather_than_forking_the_chain(
    hub_settings: HubSettings,
) -> None:
    """A snapshot taken before another writer committed hid the chain's head.

    A REPEATABLE READ transaction that read anything before its insert chained
    its row after the head of its snapshot, not the committed one: an honest
    write broke the chain (chain.link_changed) and hid every later finding.
    The lock trigger refuses such a writer (ADR 0020: a writer runs in READ
    COMMITTED); the chain stays one.
    """
    stored = fill(hub_settings, 1)
    copy = (
        "INSERT INTO intake.intake_events (originator_id, originator_version, "
        "topic, state) SELECT originator_id, originator_version + %s, topic, "
        "state FROM intake.intake_events WHERE notification_id = %s"
    )
    with psycopg.connect(hub_settings.database_url) as late:
        late.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        late.execute("SELECT count(*) FROM intake.intake_events_chain")  # snapshot
        execute(hub_settings, (copy, (100, stored[0])))  # another writer commits
        with pytest.raises(psycopg.Error, match="READ COMMITTED"):
            late.execute(copy, (200, stored[0]))
    found = verdict(hub_settings)
    assert (found.verified, found.records) == (True, len(stored) + 1)


def test_chain_tail_removed_with_the_checkpoints_that_signed_it_is_caught_by_a_kept_one(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    """Someone who can delete rows deletes the tail, its links and its checkpoints.

    What is left is a shorter chain whose every stored checkpoint verifies.
    The auditor kept the JSON report of an earlier `hub audit verify`: its
    last checkpoint, given back with --expect, names the removed tail.
    """
    first = fill(hub_settings, 2)
    checkpoint(hub_settings)
    fill(hub_settings, 2, first=3)
    signed = checkpoint(hub_settings)
    kept = tmp_path / "verified.json"
    verify = ["audit", "verify", "--store", "intake", "--json"]
    earlier = CliRunner().invoke(hub, verify, env=hub_env(hub_settings))
    assert earlier.exit_code == 0, earlier.output
    kept.write_text(earlier.stdout, encoding="utf-8")
    cut = first[-1]
    execute(
        hub_settings,
        ("DELETE FROM intake.intake_events WHERE notification_id > %s", (cut,)),
        ("DELETE FROM intake.intake_events_chain WHERE notification_id > %s", (cut,)),
        ("DELETE FROM intake.intake_events_checkpoints WHERE position > %s", (cut,)),
    )
    # The database alone vouches for what is left...
    assert verdict(hub_settings).verified
    # ...the kept checkpoint does not.
    later = CliRunner().invoke(
        hub, [*verify, "--expect", str(kept)], env=hub_env(hub_settings)
    )
    assert later.exit_code == 1, later.output
    [found] = ChainReport.model_validate_json(later.stdout).stores
    assert (found.problem, found.broken_at) == ("chain.tail_removed", signed)
