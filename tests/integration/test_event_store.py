"""The event store on the real PostgreSQL: a follower never passes a gap."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent

from services.common.eventstore import (
    CONFLICT,
    REUSED,
    STORED,
    AppendRequest,
    HubApplicationRecorder,
    events_table,
    read_rows,
)
from services.common.settings import HubSettings
from services.intake.application import IntakeApplication, WithdrawIncomeRight
from services.intake.domain import Beneficiary
from services.intake.service import create_application
from tests.intake.fakes import bilan, context, grant, registration

pytestmark = pytest.mark.integration


def test_a_follower_of_the_log_sees_every_event_of_concurrent_writers(
    hub_settings: HubSettings,
) -> None:
    app = create_application(hub_settings)
    table = events_table("intake", "intake")
    writers, per_writer = 8, 60
    done = threading.Event()
    seen: list[int] = []

    def follow() -> None:
        # Reads like the relay: strictly after the last id it saw, never back.
        with psycopg.connect(hub_settings.database_url, autocommit=True) as conn:
            last = 0
            while True:
                finished = done.is_set()
                for row in read_rows(conn, table, after=last, page=50):
                    seen.append(row.notification_id)
                    last = row.notification_id
                if finished:
                    return

    def write(writer: int) -> None:
        for n in range(per_writer):
            case_id = app.register_beneficiary(
                registration(writer * per_writer + n + 1)
            ).case_id
            app.record_bilan(bilan(case_id))

    follower = threading.Thread(target=follow)
    follower.start()
    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    follower.join()
    with psycopg.connect(hub_settings.database_url) as conn:
        stored = [r.notification_id for r in read_rows(conn, table)]
        times = [r.recorded_at for r in read_rows(conn, table)]
    app.close()
    assert len(stored) == writers * per_writer * 3
    assert seen == stored
    assert times == sorted(times)


@pytest.fixture
def two_processes(
    hub_settings: HubSettings,
) -> Iterator[tuple[IntakeApplication, IntakeApplication]]:
    """Two intake applications on one store, as in two API processes."""
    first = create_application(hub_settings)
    second = create_application(hub_settings)
    yield first, second
    first.close()
    second.close()


def test_a_stale_cached_case_meets_the_version_check_and_the_command_reruns(
    two_processes: tuple[IntakeApplication, IntakeApplication],
) -> None:
    first, second = two_processes
    case_id = first.register_beneficiary(registration(1)).case_id
    second.get_beneficiary(case_id)  # cached at version 1 in the second process
    first.record_bilan(bilan(case_id))
    assessment = second.record_bilan(bilan(case_id))
    assert isinstance(assessment.result, uuid.UUID)
    assert assessment.stored
    assert second.get_beneficiary(case_id).version == 3
    assert first.get_beneficiary(case_id).version in (2, 3)


def test_a_refusal_read_from_a_stale_cache_is_decided_again_on_the_store(
    two_processes: tuple[IntakeApplication, IntakeApplication],
) -> None:
    first, second = two_processes
    case_id = first.register_beneficiary(registration(1)).case_id
    second.get_beneficiary(case_id)  # cached without a right in the second process
    first.grant_income_right(grant(case_id))
    withdrawal = WithdrawIncomeRight(context(), case_id, dt.date(2026, 10, 31), "work")
    first.withdraw_income_right(withdrawal)
    # The caller's retry reaches the second process: its cache says "no right
    # to withdraw", the store says "already done".
    retried = second.withdraw_income_right(withdrawal)
    assert not retried.stored
    assert len(list(second.events.get(case_id))) == 3


def test_a_retried_registration_racing_its_first_answer_is_told_it_is_stored(
    two_processes: tuple[IntakeApplication, IntakeApplication],
) -> None:
    first, second = two_processes
    command = registration(2)
    real_get = second.get_stream
    reads: list[uuid.UUID] = []

    def read_before_the_first_commits(
        stream_id: uuid.UUID, cls: Any, **options: Any
    ) -> Any:
        if cls is Beneficiary and not reads:
            # The second process reads the case before the first stores it...
            reads.append(stream_id)
            found = real_get(stream_id, cls, **options)
            first.register_beneficiary(command)  # ...which happens right after
            return found
        return real_get(stream_id, cls, **options)

    second.get_stream = read_before_the_first_commits  # type: ignore[method-assign]
    retried = second.register_beneficiary(command)  # sees the file number taken
    assert retried.case_id == reads[0]
    assert not retried.created
    assert len(list(second.events.get(retried.case_id))) == 1


def _event(stream: uuid.UUID, version: int) -> StoredEvent:
    return StoredEvent(stream, version, "test", b"{}")


def test_one_request_refused_in_a_batch_costs_the_others_nothing(
    hub_settings: HubSettings,
) -> None:
    app = create_application(hub_settings)
    recorder = app.recorder
    assert isinstance(recorder, HubApplicationRecorder)
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    known = uuid.uuid4()
    assert recorder.insert_requests(
        [AppendRequest([_event(a, 1), _event(b, 1)], known, "d" * 32)]
    ) == [(STORED, [1, 2])]
    fates = recorder.insert_requests(
        [
            AppendRequest([_event(a, 1)], uuid.uuid4(), "e" * 32),  # version taken
            AppendRequest([_event(c, 2)], uuid.uuid4(), "e" * 32),  # version skipped
            AppendRequest([_event(c, 1)], known, "f" * 32),  # id of another command
            AppendRequest([_event(a, 2)], known, "d" * 32),  # the same, seen again
            AppendRequest([_event(b, 2), _event(c, 1)], uuid.uuid4(), None),
            AppendRequest([_event(b, 2)], uuid.uuid4(), None),  # b again in batch
        ]
    )
    assert [status for status, _ in fates] == [
        CONFLICT,
        CONFLICT,
        REUSED,
        CONFLICT,
        STORED,
        CONFLICT,
    ]
    assert fates[4] == (STORED, [3, 4])
    with psycopg.connect(hub_settings.database_url) as conn:
        rows = conn.execute(
            "SELECT originator_id, originator_version FROM intake.intake_events "
            "ORDER BY notification_id"
        ).fetchall()
    assert rows == [(a, 1), (b, 1), (b, 2), (c, 1)]
    app.close()


def test_two_requests_with_one_new_command_id_store_only_the_first(
    hub_settings: HubSettings,
) -> None:
    app = create_application(hub_settings)
    recorder = app.recorder
    assert isinstance(recorder, HubApplicationRecorder)
    command, stream = uuid.uuid4(), uuid.uuid4()
    fates = recorder.insert_requests(
        [
            AppendRequest([_event(stream, 1)], command, "a" * 32),
            AppendRequest([_event(uuid.uuid4(), 1)], command, "b" * 32),
            # The same digest on another stream is another command.
            AppendRequest([_event(uuid.uuid4(), 1)], command, "a" * 32),
            # On the same stream, a concurrent retry: decided again.
            AppendRequest([_event(stream, 1)], command, "a" * 32),
        ]
    )
    assert [status for status, _ in fates] == [STORED, REUSED, REUSED, CONFLICT]
    app.close()
