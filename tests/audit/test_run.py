"""How far the report's first pass goes: never more months than the ledger's."""

from __future__ import annotations

import asyncio
import datetime as dt

from services.audit.model import LedgerSection
from services.audit.report import AuditRun, head_of, month_ends
from services.audit.sections import chain_section
from services.case_state.subsidies import MAX_MONTHS
from tests.audit.test_html_report import RUN, a_case


def test_a_far_as_of_counts_at_most_twenty_years_of_month_ends() -> None:
    """An as_of a century away made every case count every month up to it.

    (1,208 months for this one case; the year 9999's last month overflowed the
    calendar, a 500.) The phase evolution gives the last twenty years of
    months, as the ledger section does.
    """
    record = a_case(1, dt.date(2026, 5, 4), [(dt.date(2026, 5, 10), "facilitator")])
    run = AuditRun.of(RUN.cpas_kbo, dt.date(2126, 12, 31), None, RUN.generated_at)
    head = head_of(
        [record],
        run,
        LedgerSection(status="not_computed", reason="not asked for"),
        asyncio.run(chain_section(None)),
    )
    assert len(head.phase_evolution) == MAX_MONTHS
    assert head.phase_evolution[-1].on == dt.date(2126, 12, 31)
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
