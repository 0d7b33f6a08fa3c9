"""The replay holds one case at a time: four times the record, not the memory.

A store of many cases (a registration and a grant each, the shape of the
intake store's rows) is replayed whole for the report's first pass, under
tracemalloc; the peak with four times the cases stays about the same.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tracemalloc
import uuid

import psycopg
import pytest

from contracts.envelope import ContractEvent
from contracts.income import IncomeRightGrantedV1
from contracts.intake import BeneficiaryRegisteredV1
from services.audit import replay
from services.audit.report import AuditRun, report_head
from tests.contracts.samples import KBO, SAMPLES

pytestmark = pytest.mark.integration

RECORDED = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)


def _rows(cases: range) -> list[tuple[str, bytes]]:
    templates: list[ContractEvent] = [
        next(s for s in SAMPLES if isinstance(s, kind))
        for kind in (BeneficiaryRegisteredV1, IncomeRightGrantedV1)
    ]
    rows = []
    for n in cases:
        case = uuid.UUID(int=10_000 + n)
        for version, template in enumerate(templates, 1):
            event = template.model_copy(
                update={
                    "case_id": case,
                    "stream_id": case,
                    "stream_version": version,
                    "event_id": uuid.uuid5(case, str(version)),
                }
            )
            state = event.model_dump_json(exclude={"recorded_at"}).encode()
            rows.append((event.event_type, state))
    return rows


def _store(database_url: str, cases: range) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS intake")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS intake.intake_events (notification_id "
            "bigserial PRIMARY KEY, topic text NOT NULL, state bytea NOT NULL, "
            "recorded_at timestamptz NOT NULL)"
        )
        with conn.cursor().copy(
            "COPY intake.intake_events (topic, state, recorded_at) FROM STDIN"
        ) as copy:
            for topic, state in _rows(cases):
                copy.write_row((topic, state, RECORDED))


def _peak(database_url: str) -> tuple[int, int]:
    run = AuditRun(KBO, dt.date(2026, 12, 31), RECORDED, RECORDED)

    async def first_pass() -> int:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            head = await report_head(conn, run)
        # The ledger is part of the pass: every month of income summed.
        assert head.ledger.status == "computed"
        assert head.ledger.months
        return head.meta.cases

    tracemalloc.start()
    try:
        cases = asyncio.run(first_pass())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return cases, peak


def test_four_times_the_record_is_replayed_in_about_the_same_memory(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages of the server-side cursor smaller than either record.
    monkeypatch.setattr(replay, "_CURSOR_ROWS", 200)
    _store(database_url, range(400))
    small_cases, small = _peak(database_url)
    _store(database_url, range(400, 1600))
    large_cases, large = _peak(database_url)
    assert (small_cases, large_cases) == (400, 1600)
    assert large < small * 1.5, (small, large)
