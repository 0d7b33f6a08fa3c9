"""The chain check's fast pass, alone or shared by processes: the walk's verdict.

ADR 0032: the same verdict as the detailed walk of one process, whatever
was tampered with and wherever.

Each stretch is checked by a process of its own in the snapshot the
verification exported; a stretch starts from the stored link of the row the
stretch before it ends with. Stretches are made small here (one row a
process would do) so that a few dozen events make three.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from hashlib import sha256
from typing import Any

import psycopg
import pytest

from services.common import chain
from services.common.chain_pass import Span, check_span
from services.common.settings import HubSettings
from tests.integration.test_chain import INTAKE, checkpoint, execute, fill, verdict

pytestmark = pytest.mark.integration

WORKERS = 3


@pytest.fixture(params=["compiled", "python"])
def hub_settings(
    hub_settings: HubSettings, request: pytest.FixtureRequest
) -> HubSettings:
    """Every test with each per-row step: the compiled one, and Python's."""
    return hub_settings.model_copy(update={"verify_step": request.param})


@pytest.fixture(autouse=True)
def small_stretches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chain, "_ROWS_PER_WORKER", 1)


def in_parallel(settings: HubSettings) -> HubSettings:
    return settings.model_copy(update={"verify_workers": WORKERS})


def seeds(settings: HubSettings) -> list[int | None]:
    with psycopg.connect(settings.database_url) as conn:
        return [after for after, _ in chain._stretches(conn, INTAKE, WORKERS)]


def fast_pass(settings: HubSettings) -> chain.StoreVerdict | None:
    """The parallel pass alone, before any detailed walk."""
    with psycopg.connect(settings.database_url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            return chain._verified_in_one_pass(
                conn,
                INTAKE,
                chain.own_public_keys(settings),
                chain._checkpoints(conn, INTAKE, ()),
                progress=None,
                parallel=chain.Parallel(settings.database_url, WORKERS),
                step=settings.verify_step,
            )


def test_a_parallel_verification_gives_the_single_passs_verdict(
    hub_settings: HubSettings,
) -> None:
    fill(hub_settings, 6)
    first = checkpoint(hub_settings)
    stored = fill(hub_settings, 6, first=7)
    last = checkpoint(hub_settings)
    cuts = seeds(hub_settings)
    assert len(cuts) == WORKERS
    assert cuts[0] is None
    assert first < last
    fast = fast_pass(hub_settings)
    assert fast is not None  # the fast pass itself, not the walk after it
    assert (fast.records, fast.verified_up_to) == (len(stored), stored[-1])
    one = verdict(hub_settings)
    shared = verdict(in_parallel(hub_settings))
    assert shared == one
    assert shared.verified
    assert (shared.checkpoints, shared.signed_up_to) == (2, last)


Tamper = Callable[[HubSettings, int], None]


def state_changed(settings: HubSettings, target: int) -> None:
    execute(
        settings,
        (
            (
                "UPDATE intake.intake_events SET state = state || ' '::bytea "
                "WHERE notification_id = %s"
            ),
            (target,),
        ),
    )


def record_deleted(settings: HubSettings, target: int) -> None:
    execute(
        settings,
        ("DELETE FROM intake.intake_events WHERE notification_id = %s", (target,)),
    )


def deleted_with_its_link(settings: HubSettings, target: int) -> None:
    record_deleted(settings, target)
    execute(
        settings,
        (
            "DELETE FROM intake.intake_events_chain WHERE notification_id = %s",
            (target,),
        ),
    )


def link_altered(settings: HubSettings, target: int) -> None:
    execute(
        settings,
        (
            (
                "UPDATE intake.intake_events_chain SET link = sha256(link) "
                "WHERE notification_id = %s"
            ),
            (target,),
        ),
    )


TAMPERS: dict[str, tuple[Tamper, str]] = {
    "state changed": (state_changed, "chain.record_changed"),
    "record deleted": (record_deleted, "chain.record_missing"),
    "deleted with its link": (deleted_with_its_link, "chain.record_missing"),
    "link altered": (link_altered, "chain.link_changed"),
}


def _first_stretch(stored: list[int], cuts: list[Any]) -> int:
    return stored[2]


def _where_a_stretch_starts(stored: list[int], cuts: list[Any]) -> int:
    seed: int = cuts[1]
    return seed


def _right_after_it(stored: list[int], cuts: list[Any]) -> int:
    return next(p for p in stored if p > cuts[1])


def _the_last_stretch(stored: list[int], cuts: list[Any]) -> int:
    return stored[-2]


WHERE: dict[str, Callable[[list[int], list[Any]], int]] = {
    "first stretch": _first_stretch,
    "where a stretch starts": _where_a_stretch_starts,
    "right after it": _right_after_it,
    "last stretch": _the_last_stretch,
}


@pytest.mark.parametrize("where", list(WHERE))
@pytest.mark.parametrize("tamper", list(TAMPERS))
def test_a_change_in_any_stretch_is_named_as_one_pass_names_it(
    hub_settings: HubSettings, where: str, tamper: str
) -> None:
    stored = fill(hub_settings, 10)
    target = WHERE[where](stored, seeds(hub_settings))
    change, problem = TAMPERS[tamper]
    change(hub_settings, target)
    assert fast_pass(hub_settings) is None
    shared = verdict(in_parallel(hub_settings))
    assert shared == verdict(hub_settings)
    assert (shared.verified, shared.broken_at, shared.problem) == (
        False,
        target,
        problem,
    )


# -- what a hostile review found the fast pass let through ---------------------


def walk_only(settings: HubSettings, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The detailed walk alone: the fast pass made to give up."""
    with monkeypatch.context() as patched:
        patched.setattr(chain, "_verified_in_one_pass", lambda *_, **__: None)
        return verdict(settings)


COPY_ROW_AT = (
    "INSERT INTO intake.intake_events (notification_id, originator_id, "
    "originator_version, topic, state) SELECT %s, originator_id, "
    "originator_version + 100, topic, state FROM intake.intake_events "
    "WHERE notification_id = %s"
)


@pytest.mark.parametrize("workers", [1, WORKERS])
def test_a_row_forged_at_a_negative_position_is_named(
    hub_settings: HubSettings, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    stored = fill(hub_settings, 6)
    execute(
        hub_settings,
        ("ALTER TABLE intake.intake_events DISABLE TRIGGER USER", ()),
        (COPY_ROW_AT, (-5, stored[0])),
        ("ALTER TABLE intake.intake_events ENABLE TRIGGER USER", ()),
    )
    settings = hub_settings.model_copy(update={"verify_workers": workers})
    found = verdict(settings)
    assert found == walk_only(settings, monkeypatch)
    assert (found.verified, found.broken_at, found.problem) == (
        False,
        -5,
        "chain.link_missing",
    )


@pytest.mark.parametrize("at", [-3, 0, "gap"])
@pytest.mark.parametrize("workers", [1, WORKERS])
def test_a_link_stored_with_no_record_anywhere_is_named(
    hub_settings: HubSettings,
    monkeypatch: pytest.MonkeyPatch,
    at: int | str,
    workers: int,
) -> None:
    stored = fill(hub_settings, 10)
    position = stored[-1] + 50 if isinstance(at, str) else at
    if isinstance(at, str):  # a link in a gap of the positions, records after it
        resume = "SELECT setval('intake.intake_events_notification_id_seq', %s)"
        execute(hub_settings, (resume, (position + 10,)))
        fill(hub_settings, 2, first=11)
    execute(
        hub_settings,
        (
            (
                "INSERT INTO intake.intake_events_chain (notification_id, previous, "
                "digest, link) SELECT %s, previous, digest, link "
                "FROM intake.intake_events_chain WHERE notification_id = %s"
            ),
            (position, stored[1]),
        ),
    )
    settings = hub_settings.model_copy(update={"verify_workers": workers})
    found = verdict(settings)
    assert not found.verified
    assert found == walk_only(settings, monkeypatch)


def test_a_link_with_bytes_appended_is_named(
    hub_settings: HubSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = fill(hub_settings, 4)
    execute(
        hub_settings,
        (
            (
                "UPDATE intake.intake_events_chain "
                "SET link = link || '\\xdeadbeef'::bytea WHERE notification_id = %s"
            ),
            (stored[3],),
        ),
    )
    found = verdict(hub_settings)
    assert (found.verified, found.broken_at) == (False, stored[3])
    assert found == walk_only(hub_settings, monkeypatch)


# A COPY of well-formed rows whose link fails on the server from row ``%d`` on.
FAILING_COPY = (
    b"COPY (WITH RECURSIVE c(g, link) AS (SELECT 1, sha256(sha256(''::bytea)) "
    b"UNION ALL SELECT g + 1, sha256(link || sha256(''::bytea)) FROM c WHERE g < 5) "
    b"SELECT g::bigint, ''::bytea, (g - 1)::bigint, "
    b"CASE WHEN g < %d THEN link ELSE link || (1 / (g - g))::text::bytea END FROM c) "
    b"TO STDOUT (FORMAT BINARY)"
)


@pytest.mark.parametrize("failing_from", [1, 3])
def test_a_server_error_in_the_copy_is_raised_as_the_server_gave_it(
    hub_settings: HubSettings, failing_from: int
) -> None:
    span = Span(
        FAILING_COPY % failing_from,
        sha256(b"").digest(),
        None,
        frozenset(),
        hub_settings.verify_step,
    )
    with psycopg.connect(hub_settings.database_url) as conn:
        with pytest.raises(psycopg.errors.DivisionByZero):
            check_span(conn, span)
        conn.rollback()
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_the_interpreter_runs_other_threads_while_the_copy_waits(
    hub_settings: HubSettings,
) -> None:
    slow = (
        b"COPY (SELECT g::bigint, ''::bytea, (g - 1)::bigint, sha256('a'), "
        b"pg_sleep(0.4) FROM generate_series(1, 3) g) TO STDOUT (FORMAT BINARY)"
    )
    stop, ticks = threading.Event(), [0]

    def spin() -> None:
        while not stop.is_set():
            time.sleep(0.001)
            ticks[0] += 1

    spinner = threading.Thread(target=spin)
    with psycopg.connect(hub_settings.database_url) as conn:
        spinner.start()
        try:
            before = ticks[0]
            check_span(
                conn, Span(slow, bytes(32), None, frozenset(), hub_settings.verify_step)
            )
            during_copy = ticks[0] - before
            before = ticks[0]
            conn.execute("SELECT pg_sleep(1.2)")  # psycopg's own wait
            during_query = ticks[0] - before
        finally:
            stop.set()
            spinner.join()
    assert during_copy > during_query / 3


# Five rows of empty records whose links chain from ``sha256(b"")``, each
# link's previous the row before's position: at positions 1 to 5 (``%s`` is
# ``g``), or the same links at positions going down (``10 - g``).
CHAINED_COPY = (
    b"COPY (WITH RECURSIVE c(g, link) AS ("
    b"SELECT 1, sha256(sha256(''::bytea) || sha256(''::bytea)) "
    b"UNION ALL SELECT g + 1, sha256(link || sha256(''::bytea)) FROM c WHERE g < 5) "
    b"SELECT (%s)::bigint AS n, ''::bytea, "
    b"(lag(%s, 1, 0) OVER (ORDER BY g))::bigint, link FROM c ORDER BY g) "
    b"TO STDOUT (FORMAT BINARY)"
)


@pytest.mark.parametrize(("position", "intact"), [(b"g", True), (b"10 - g", False)])
def test_rows_that_chain_only_in_falling_positions_do_not_pass(
    hub_settings: HubSettings, position: bytes, intact: bool
) -> None:
    span = Span(
        CHAINED_COPY % (position, position),
        sha256(b"").digest(),
        None,
        frozenset(),
        hub_settings.verify_step,
    )
    with psycopg.connect(hub_settings.database_url) as conn:
        found = check_span(conn, span)
    assert found.intact is intact
    assert found.records == (5 if intact else 0)
