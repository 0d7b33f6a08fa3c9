"""The sections other work computes: the subsidy ledger and the hash chains' verdict.

The ledger is the subsidy ledger's own replay (ADR 0022), the chains' verdict
the verification of every event store (ADR 0020); a process that is not
configured to verify says so and gives no verdict. The report's subsidies
chart is fed from the ledger section only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import psycopg

from services.audit.model import (
    ChainSection,
    ChainStore,
    LedgerLine,
    LedgerMonth,
    LedgerSection,
)
from services.case_state.subsidies import MAX_MONTHS, Window, replay_ledger
from services.common.chain import ChainReport
from services.common.law import add_months

__all__ = ["chain_section", "ledger_section"]


async def ledger_section(
    conn: psycopg.AsyncConnection[Any],
    cpas_kbo: str,
    as_of: dt.date,
    known_at: dt.datetime,
    *,
    asked: bool,
) -> LedgerSection:
    """The CPAS's subsidy ledger as of a date, replayed from the event stores.

    The same fold and function as the live ledger (ADR 0022), over the last
    twenty years of months up to as_of (the most one request gives). It
    holds every case of the CPAS in memory (a household's PIIS counts for
    each partner), so it is computed only when asked for.
    """
    if not asked:
        return LedgerSection(
            status="not_computed",
            reason="not asked for (ledger=true, or --ledger): the ledger's "
            "replay holds the CPAS's cases in memory, the rest of the report "
            "streams case by case",
        )
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


async def chain_section(verify: Callable[[], ChainReport] | None) -> ChainSection:
    """Whether every hash chain of the record verified (ADR 0020).

    ``verify``: the process's verification of every store (it reads the
    stores whole, whichever CPAS is audited); None where none is configured.
    """
    if verify is None:
        return ChainSection(
            status="not_computed",
            reason="this process is not configured to verify the hash chains",
        )
    report = await asyncio.to_thread(verify)
    return ChainSection(
        status="computed",
        verified=report.verified,
        stores=tuple(
            ChainStore(
                store=v.store,
                verified=v.verified,
                records=v.records,
                verified_up_to=v.verified_up_to,
                signed_up_to=v.signed_up_to,
                signed_at=v.signed_at,
                broken_at=v.broken_at,
                problem=v.problem,
            )
            for v in report.stores
        ),
    )
