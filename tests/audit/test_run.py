"""How far the report's first pass goes: never more months than the ledger's."""

from __future__ import annotations

import datetime as dt

import pytest

from services.audit.report import AuditRun, month_ends
from services.case_state.subsidies import MAX_MONTHS
from services.common.errors import DomainError
from tests.contracts.samples import KBO


def test_a_far_as_of_counts_at_most_twenty_years_of_month_ends() -> None:
    """An as_of a century away made every case count every month up to it.

    ``month_ends`` feeds both the per-case count and the phase evolution: 1,208
    months for a case of 2026 as of 2126, and the year 9999's last month
    overflowed the calendar (a 500). It gives the last twenty years of months,
    as the ledger section does.
    """
    century = month_ends(dt.date(2026, 5, 4), dt.date(2126, 12, 31))
    assert len(century) == MAX_MONTHS
    assert century[-1] == dt.date(2126, 12, 31)
    last = month_ends(dt.date(2026, 5, 4), dt.date(9999, 12, 31))
    assert len(last) == MAX_MONTHS
    assert last[0] == dt.date(9980, 1, 31)
    # A history shorter than twenty years still starts at its first month.
    assert month_ends(dt.date(2026, 5, 4), dt.date(2026, 8, 15)) == [
        dt.date(2026, 5, 31),
        dt.date(2026, 6, 30),
        dt.date(2026, 7, 31),
        dt.date(2026, 8, 15),
    ]


def test_an_audit_date_outside_the_years_1900_to_2999_is_refused() -> None:
    """A date at the calendar's end left the deadlines after it no room (a 500)."""
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    for day in (dt.date(9999, 12, 31), dt.date(3000, 1, 1), dt.date(1899, 12, 31)):
        with pytest.raises(DomainError) as refused:
            AuditRun.of(KBO, day, None, now)
        assert (refused.value.field, refused.value.rule) == (
            "as_of",
            "audit.as_of_range",
        )
    assert AuditRun.of(KBO, dt.date(2999, 12, 31), None, now).known_at == now
