"""How far the report's first pass goes: never more months than the ledger's."""

from __future__ import annotations

import datetime as dt

from services.audit.report import month_ends
from services.case_state.subsidies import MAX_MONTHS


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
