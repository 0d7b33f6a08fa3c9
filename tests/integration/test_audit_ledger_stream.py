"""The report's ledger, case by case, is the ledger of the whole record.

The audit report computes each beneficiary's subsidy ledger as the replay
yields the case, with only the facts of the partners its grants name read
beforehand. A record of couples (a partner's case sorting before or after
the holder's, a partner with and without a PIIS) and single files is stored
in the intake and PIIS event tables; the report's lines and monthly sums
equal the ledger replayed from the whole record at once (``replay_ledger``,
the same fold and function as the live read model).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from contracts.envelope import ContractEvent
from contracts.income import PartnerPiisObligation
from contracts.intake import BeneficiaryRegisteredV1
from services.audit.report import AuditRun, beneficiaries, report_head
from services.audit.sections import LedgerReplay
from services.case_state.subsidies import MAX_MONTHS, Window, replay_ledger
from services.common.law import add_months
from tests.case_state.test_subsidies import CPAS, event, grant, signed
from tests.contracts.samples import SAMPLES

pytestmark = pytest.mark.integration

AS_OF = dt.date(2026, 6, 30)
KNOWN_AT = dt.datetime(2026, 7, 1, 12, tzinfo=dt.UTC)


_REGISTRATION = next(s for s in SAMPLES if isinstance(s, BeneficiaryRegisteredV1))
_ENVELOPE = set(ContractEvent.model_fields)


def registered(case: uuid.UUID, day: dt.date) -> ContractEvent:
    fields = _REGISTRATION.model_dump(exclude=_ENVELOPE)
    made: ContractEvent = event(
        BeneficiaryRegisteredV1, case, day - dt.timedelta(days=5), **fields
    )
    return made


def _couple(n: int) -> list[ContractEvent]:
    holder = uuid.UUID(int=(n + 1) << 64)
    # Even couples: the partner's case sorts before the holder's, odd after.
    partner = uuid.UUID(int=((n + 1) << 64) + (-1 if n % 2 == 0 else 1))
    day = dt.date(2025, 1 + n % 12, 1 + n % 20)
    events = [
        registered(holder, day),
        registered(partner, day),
        grant(
            holder,
            day,
            category=3,
            partners=(
                PartnerPiisObligation(
                    position=1,
                    partner_case_id=partner,
                    piis_obligation="compulsory_new_beneficiary",
                ),
            ),
        ),
        signed(holder, day + dt.timedelta(days=10)),
    ]
    if n % 3:  # the partner signed one too (the subsidy is not doubled)
        events.append(signed(partner, day + dt.timedelta(days=15)))
    return events


def _single(n: int) -> list[ContractEvent]:
    case = uuid.UUID(int=(900 + n) << 64)
    day = dt.date(2025, 2 + n % 10, 3)
    events = [registered(case, day), grant(case, day)]
    if n % 2:
        events.append(signed(case, day + dt.timedelta(days=20)))
    return events


def _store(conn: psycopg.Connection[Any], events: Iterable[ContractEvent]) -> None:
    for service in ("intake", "piis"):
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {service}")
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {service}.{service}_events (notification_id "
            "bigserial PRIMARY KEY, topic text NOT NULL, state bytea NOT NULL, "
            "recorded_at timestamptz NOT NULL)"
        )
    for stored in events:
        service = stored.event_type.split(".")[1]
        conn.execute(
            f"INSERT INTO {service}.{service}_events (topic, state, recorded_at) "
            "VALUES (%s, %s, %s)",
            (
                stored.event_type,
                stored.model_dump_json(exclude={"recorded_at"}).encode(),
                stored.recorded_at,
            ),
        )


def test_the_reports_ledger_case_by_case_is_the_ledger_of_the_whole_record(
    database_url: str,
) -> None:
    record = [e for n in range(12) for e in _couple(n)]
    record += [e for n in range(8) for e in _single(n)]
    with psycopg.connect(database_url) as conn:
        _store(conn, sorted(record, key=lambda e: e.recorded_at or KNOWN_AT))
    run = AuditRun(CPAS, AS_OF, KNOWN_AT, KNOWN_AT)
    first = add_months(AS_OF.replace(day=1), 1 - MAX_MONTHS)

    async def both() -> tuple[list[dict[str, object]], list[dict[str, object]], int]:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            head = await report_head(conn, run)
            lines = [
                line.model_dump(mode="json")
                async for grid in beneficiaries(conn, run)
                for line in grid.ledger
            ]
            whole = await replay_ledger(
                conn, CPAS, Window(as_of=AS_OF, known_at=KNOWN_AT, first_month=first)
            )
            partners = await LedgerReplay.read(conn, CPAS, AS_OF, KNOWN_AT)
        sums: dict[str, Decimal] = {}
        for row in whole:
            month = row.month.isoformat()[:7]
            sums[month] = (
                sums.get(month, Decimal(0))
                + row.reimbursed_amount
                + row.piis_amount
                - row.piis_recovered
            )
        assert [(m.month, m.amount) for m in head.ledger.months] == sorted(sums.items())
        assert len(lines) == len(whole)
        expected = [
            {key: value for key, value in row.as_dict().items() if key in line}
            for row, line in zip(whole, lines, strict=True)
        ]
        return lines, expected, len(partners.partners)

    lines, expected, partners = asyncio.run(both())
    assert len(lines) > 100
    assert lines == expected
    # Only the partners named on grants were read besides the stream: all
    # twelve (those without a PIIS have no fact, and are not held).
    assert partners == 8
