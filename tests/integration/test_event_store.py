"""The event store on the real PostgreSQL: a follower never passes a gap."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest

from services.common.eventstore import events_table, read_rows
from services.common.settings import HubSettings
from services.intake.service import create_application
from tests.intake.fakes import bilan, registration

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


def test_a_stale_cached_case_meets_the_version_check_and_the_command_reruns(
    hub_settings: HubSettings,
) -> None:
    first = create_application(hub_settings)
    second = create_application(hub_settings)
    case_id = first.register_beneficiary(registration(1)).case_id
    second.get_beneficiary(case_id)  # cached at version 1 in the second process
    first.record_bilan(bilan(case_id))
    assessment = second.record_bilan(bilan(case_id))
    assert isinstance(assessment, uuid.UUID)
    assert second.get_beneficiary(case_id).version == 3
    assert first.get_beneficiary(case_id).version in (2, 3)
    first.close()
    second.close()
