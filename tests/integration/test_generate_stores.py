"""`hub generate` on the real stores: a new process replays, or resumes, alike.

A second run in a new process (new applications, the same PostgreSQL)
finds every command handled in every store; a run interrupted half way
and run again in a new process gives the forms an uninterrupted run gives
(the federal policy keeps the facts of the events it replays).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import psycopg
import pytest

from services.common.runtime import create_database
from services.common.settings import HubSettings
from services.generate import Generator, HistorySpec, stored_hub

pytestmark = pytest.mark.integration

SPEC = HistorySpec(cases=80, years=2, seed=3)
STORES = ("intake", "piis", "placement", "partners")


def events_per_store(settings: HubSettings) -> dict[str, int]:
    with psycopg.connect(settings.database_url) as conn:
        counted = {}
        for store in STORES:
            row = conn.execute(
                f"SELECT count(*) FROM {store}.{store}_events"
            ).fetchone()
            counted[store] = int(row[0]) if row else 0
        return counted


def forms_per_case(settings: HubSettings) -> dict[int, list[Any]]:
    """Every case's SPP IS forms: kind, date, content but the NISS, fate."""
    with stored_hub(settings) as hub:
        cases = Generator(hub, SPEC).cases
        return {
            case.index: [
                (
                    f.kind,
                    f.effective_date,
                    f.content.model_dump(exclude={"niss"}),
                    f.fate,
                )
                for f in hub.partners.federal_forms(case.case_id)
            ]
            for case in cases
        }


def test_a_second_run_in_a_new_process_stores_nothing_in_any_store(
    hub_settings: HubSettings,
) -> None:
    with stored_hub(hub_settings) as hub:
        first = Generator(hub, SPEC)
        first.run()
    assert first.tally.stored["federal:form_B"] > 0
    before = events_per_store(hub_settings)
    with stored_hub(hub_settings) as hub:
        again = Generator(hub, SPEC)
        again.run()
    assert events_per_store(hub_settings) == before
    assert sum(again.tally.stored.values()) == 0
    assert again.tally.handled["federal:form_B"] == first.tally.stored["federal:form_B"]


def test_a_run_resumed_in_a_new_process_submits_the_forms_of_one_run(
    hub_settings: HubSettings, postgres_admin_url: str
) -> None:
    whole = hub_settings.model_copy(
        update={
            "database_url": create_database(
                postgres_admin_url, f"t_{uuid.uuid4().hex[:16]}"
            )
        }
    )
    with stored_hub(whole) as hub:
        Generator(hub, SPEC).run()
    with stored_hub(hub_settings) as hub:
        Generator(hub, SPEC).run(SPEC.until - dt.timedelta(days=365))
    with stored_hub(hub_settings) as hub:
        resumed = Generator(hub, SPEC)
        resumed.run()
    assert sum(resumed.tally.stored.values()) > 0
    assert forms_per_case(hub_settings) == forms_per_case(whole)
