"""The sections other work computes: the subsidy ledger and the hash chains' verdict.

The ledger is the subsidy ledger's own replay (ADR 0022). Until the chains'
verification is plugged in here, its section says plainly that it is not
computed and gives no verdict; the report's subsidies chart is fed from the
ledger section only.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import psycopg

from services.audit.model import ChainSection, LedgerLine, LedgerMonth, LedgerSection
from services.case_state.subsidies import MAX_MONTHS, Window, replay_ledger
from services.common.law import add_months

__all__ = ["chain_section", "ledger_section"]


async def ledger_section(
    conn: psycopg.AsyncConnection[Any],
    cpas_kbo: str,
    as_of: dt.date,
    known_at: dt.datetime,
) -> LedgerSection:
    """The CPAS's subsidy ledger as of a date, replayed from the event stores.

    The same fold and function as the live ledger (ADR 0022), over the last
    twenty years of months up to as_of (the most one request gives).
    """
    first = add_months(as_of.replace(day=1), 1 - MAX_MONTHS)
    rows = await replay_ledger(
        conn, cpas_kbo, Window(as_of=as_of, known_at=known_at, first_month=first)
    )
    sums: dict[str, list[Decimal]] = {}
    for row in rows:
        month = sums.setdefault(row.month.isoformat()[:7], [Decimal(0)] * 3)
        month[0] += row.reimbursed_amount
        month[1] += row.piis_amount
        month[2] += row.piis_recovered
    return LedgerSection(
        status="computed",
        months=tuple(
            LedgerMonth(
                month=month,
                amount=reimbursed + piis - recovered,
                reimbursed=reimbursed,
                piis_subsidy=piis,
                piis_recovered=recovered,
            )
            for month, (reimbursed, piis, recovered) in sorted(sums.items())
        ),
        lines=tuple(
            LedgerLine(
                case_id=row.case_id,
                month=row.month.isoformat()[:7],
                days_in_force=row.days_in_force,
                income_amount=row.income_amount,
                rate_percent=row.rate_percent,
                rate_source=row.rate_source,
                reimbursed_amount=row.reimbursed_amount,
                piis_code=row.piis_code,
                piis_status=row.piis_status,
                piis_amount=row.piis_amount,
                piis_recovered=row.piis_recovered,
                article_60=row.article_60,
                event_ids=row.event_ids,
            )
            for row in rows
        ),
    )


async def chain_section(
    conn: psycopg.AsyncConnection[Any], cpas_kbo: str, known_at: dt.datetime
) -> ChainSection:
    """Whether every hash chain of the record verified (not computed yet)."""
    del conn, cpas_kbo, known_at  # for the chains' verification, once plugged in
    return ChainSection(
        status="not_computed",
        reason="the record's hash chains are not verified by this version of "
        "the hub: the report says nothing of their integrity",
    )
