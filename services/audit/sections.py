"""The sections other work computes: the subsidy ledger and the hash chains' verdict.

The ledger is the subsidy ledger's own fold and function (ADR 0022) applied
to each case as the replay yields it, its lines given with the beneficiary
and its sums per month in the section; the chains' verdict is the
verification of every event store (ADR 0020); a process that is not
configured to verify says so and gives no verdict. The report's subsidies
chart is fed from the ledger section only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg

from contracts.envelope import ContractEvent
from services.audit.model import (
    ChainSection,
    ChainStore,
    LedgerLine,
    LedgerMonth,
    LedgerSection,
)
from services.audit.replay import partner_case_ids, replay_named_cases
from services.case_state.subsidies import (
    MAX_MONTHS,
    LedgerRow,
    SubsidyFacts,
    Window,
    case_ledger,
    subsidy_facts,
)
from services.common.chain import ChainReport
from services.common.law import add_months

__all__ = ["LedgerReplay", "LedgerSums", "chain_section"]


@dataclass(frozen=True, slots=True)
class LedgerReplay:
    """What each case's ledger needs besides its own events.

    The partners' facts (a household's PIIS counts for each partner): only
    the cases the CPAS's grants name as partners are read and held, so
    memory follows the number of couples, not the size of the record.
    """

    cpas_kbo: str
    window: Window
    partners: Mapping[uuid.UUID, SubsidyFacts]

    @classmethod
    async def read(
        cls,
        conn: psycopg.AsyncConnection[Any],
        cpas_kbo: str,
        as_of: dt.date,
        known_at: dt.datetime,
    ) -> LedgerReplay:
        """The partners' facts, replayed from the event stores."""
        partners: dict[uuid.UUID, SubsidyFacts] = {}
        named = await partner_case_ids(conn, cpas_kbo, known_at)
        async for record in replay_named_cases(conn, named, known_at):
            facts = subsidy_facts(record.events)
            # As the live ledger of the CPAS reads them: its own cases only.
            if facts is not None and cpas_kbo in facts.cpas_seen:
                partners[record.case_id] = facts
        # The last twenty years of months up to as_of: the most one request
        # gives (from the calendar's first month for an as_of before that).
        months = as_of.year * 12 + as_of.month - 1
        first = (
            add_months(as_of.replace(day=1), 1 - MAX_MONTHS)
            if months >= MAX_MONTHS
            else dt.date.min
        )
        window = Window(as_of=as_of, known_at=known_at, first_month=first)
        return cls(cpas_kbo, window, partners)

    def lines(self, events: Sequence[ContractEvent]) -> tuple[LedgerLine, ...]:
        """One case's ledger lines, by month (none when it is another CPAS's)."""
        facts = subsidy_facts(events)
        if facts is None:
            return ()
        rows = case_ledger(
            facts, self.partners, cpas_kbo=self.cpas_kbo, **self.window.kwargs()
        )
        return tuple(_line(row) for row in rows)


def _line(row: LedgerRow) -> LedgerLine:
    return LedgerLine(
        case_id=row.case_id,
        month=row.month.isoformat()[:7],
        days_in_force=row.days_in_force,
        income_amount=row.income_amount,
        rate_percent=row.rate_percent,
        rate_source=row.rate_source,
        reimbursed_amount=row.reimbursed_amount,
        income_recovered=row.income_recovered,
        reimbursement_recovered=row.reimbursement_recovered,
        piis_code=row.piis_code,
        piis_status=row.piis_status,
        piis_amount=row.piis_amount,
        piis_recovered=row.piis_recovered,
        article_60=row.article_60,
        event_ids=row.event_ids,
    )


@dataclass(slots=True)
class LedgerSums:
    """The ledger section: every beneficiary's lines summed per month."""

    months: dict[str, list[Decimal]] = field(default_factory=dict)

    def add(self, lines: Iterable[LedgerLine]) -> None:
        """Count one beneficiary's lines."""
        for line in lines:
            month = self.months.setdefault(line.month, [Decimal(0)] * 4)
            month[0] += line.reimbursed_amount
            month[1] += line.piis_amount
            month[2] += line.piis_recovered
            month[3] += line.reimbursement_recovered

    def section(self) -> LedgerSection:
        """The sums per month, in month order."""
        return LedgerSection(
            status="computed",
            months=tuple(
                LedgerMonth(
                    month=month,
                    amount=reimbursed - paid_back + piis - recovered,
                    reimbursed=reimbursed,
                    reimbursement_recovered=paid_back,
                    piis_subsidy=piis,
                    piis_recovered=recovered,
                )
                for month, (reimbursed, piis, recovered, paid_back) in sorted(
                    self.months.items()
                )
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
