"""The subsidy ledger's read API: one case's, or a CPAS's over a range of months.

Both read the live read model (``subsidies.subsidy_facts``) and compute the
rows with ``services.case_state.subsidies.ledger``: as of a date, from what the
hub had recorded by the end of it (or by ``known_at``), so the answer for a
past date never changes, and ``replay_ledger`` gives it again from the event
stores (docs/decisions/0022-subsidy-ledger.md).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Query
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, ConfigDict, Field

from contracts.wire import Date, DateTime, Uuid
from services.case_state.roster import cutoff_of, known_by
from services.case_state.subsidies import (
    LedgerRow,
    Window,
    ledger,
    ledger_of_cpas,
    load_case,
    load_cpas,
)
from services.common.journal import JournalledReader
from services.common.refusals import Refused

__all__ = ["SubsidyLedger", "SubsidyRow", "subsidies_of", "subsidy_router"]

_KBO = r"^[01]\d{9}$"
_MONTH = r"^[1-9]\d{3}-(0[1-9]|1[0-2])$"


class SubsidyRow(BaseModel):
    """One beneficiary-month of the subsidy ledger (amounts in euro, as text)."""

    model_config = ConfigDict(frozen=True)

    case_id: uuid.UUID = Field(description="The beneficiary's case.")
    cpas_kbo: str = Field(description="KBO of the CPAS the case is with.")
    month: str = Field(description="The month of reference, YYYY-MM.")
    right_id: uuid.UUID = Field(description="The income right in force.")
    category: int = Field(description="Its category at the month's last day in force.")
    days_in_force: int = Field(description="Days of the month with the right in force.")
    income_amount: str = Field(
        description="Income granted in the month: the amount granted (the category's "
        "or less, such as an article 60 worker's complementary income), pro rata "
        "of the days, less suspensions without stay."
    )
    rate_percent: int = Field(
        description="The State's reimbursement rate in the month (law of 26 May "
        "2002 art. 32)."
    )
    rate_basis: str = Field(
        description="What the rate follows: the CPAS's size band or a 100% case."
    )
    rate_source: str = Field(description="The rate's source, in words.")
    reimbursed_amount: str = Field(description="What the State reimburses.")
    income_recovered: str = Field(
        description="Income of this month of reference the CPAS decided to "
        "recover (law of 26 May 2002 art. 24 ff.; form D)."
    )
    reimbursement_recovered: str = Field(
        description="The State's share of it, paid back: the recovered income at "
        "the month's rate."
    )
    piis_code: str | None = Field(
        description="Form B PIIS code: 11 first year, 17 prolongation; null: none."
    )
    piis_status: str = Field(
        description="Why the month has that PIIS subsidy (a rule code of "
        "docs/rules.md, area subsidy)."
    )
    piis_base: str = Field(description="Income the 10% is computed on.")
    piis_amount: str = Field(description="The PIIS subsidy (law of 21 July 2016).")
    piis_recovered: str = Field(
        description="The part of it recovered: a compulsory PIIS of the household "
        "is missing."
    )
    article_60: bool = Field(description="An article 60 §7 contract was worked.")
    event_ids: list[uuid.UUID] = Field(description="The events that justify the row.")


class SubsidyLedger(BaseModel):
    """The subsidy ledger of a case or a CPAS, as the hub knew it then."""

    model_config = ConfigDict(frozen=True)

    as_of: dt.date = Field(description="The day asked for.")
    known_at: dt.datetime = Field(description="What the hub had recorded by then.")
    rows: list[SubsidyRow] = Field(description="By case, then month.")


def _ledger(rows: Sequence[LedgerRow], asked: Window) -> SubsidyLedger:
    return SubsidyLedger(
        as_of=asked.as_of,
        known_at=cutoff_of(asked.as_of, asked.known_at),
        rows=[SubsidyRow(**row.as_dict()) for row in rows],
    )


def _month(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(f"{value}-01")


def window(
    as_of: Annotated[Date, Query(description="Date of the ledger")],
    known_at: Annotated[
        DateTime | None,
        Query(
            description="Only what the hub had recorded by then (audit; default: "
            "the end of as_of in Brussels, or now if earlier)"
        ),
    ] = None,
    from_month: Annotated[
        str | None,
        Query(pattern=_MONTH, max_length=7, description="First month, YYYY-MM"),
    ] = None,
    to_month: Annotated[
        str | None,
        Query(pattern=_MONTH, max_length=7, description="Last month, YYYY-MM"),
    ] = None,
) -> Window:
    """The ledger asked for: as of a date, as known at a time, which months."""
    known = known_by(as_of, known_at, dt.datetime.now(dt.UTC))
    return Window(as_of, known, _month(from_month), _month(to_month))


Asked = Annotated[Window, Depends(window)]


def subsidy_router(pool: AsyncConnectionPool[Any], schema: str) -> APIRouter:
    """The ledger's routes, over the read model in ``schema``."""
    router = APIRouter(tags=["subsidies"])

    @router.get(
        "/cases/{case_id}/subsidies",
        summary="The subsidy ledger of one case, as the hub knew it on a date",
        description="Per month of income: the income granted, the State's "
        "reimbursement at the month's rate and its source, the PIIS subsidy "
        "(form B code 11 or 17) or its recovery, and the events that justify "
        "each row; from what the hub had recorded by the end of as_of "
        "(Brussels), or by known_at. Months up to as_of's.",
        response_model=SubsidyLedger,
    )
    async def case_subsidies(
        case_id: Uuid, client: JournalledReader, asked: Asked
    ) -> SubsidyLedger:
        async with pool.connection() as conn:
            case, partners = await load_case(conn, schema, case_id)
        unknown = Refused(
            404,
            ("path", "case_id"),
            "case.unknown",
            "no case with this id in the subsidy ledger",
        )
        if case is None:
            raise unknown
        client.check_case(case.cpas_kbo, unknown)
        return _ledger(ledger(case, partners, **asked.kwargs()), asked)

    @router.get(
        "/subsidies",
        summary="The subsidy ledger of a CPAS over a range of months",
        description="Every case's ledger rows (as GET /cases/{id}/subsidies), "
        "by case then month.",
        response_model=SubsidyLedger,
    )
    async def cpas_subsidies(
        client: JournalledReader,
        cpas_kbo: Annotated[
            str, Query(pattern=_KBO, max_length=10, description="KBO of the CPAS")
        ],
        asked: Asked,
    ) -> SubsidyLedger:
        client.check_cpas(cpas_kbo)
        async with pool.connection() as conn:
            rows = await subsidies_of(conn, schema, cpas_kbo, asked)
        return _ledger(rows, asked)

    return router


async def subsidies_of(
    conn: psycopg.AsyncConnection[Any], schema: str, cpas_kbo: str, asked: Window
) -> tuple[LedgerRow, ...]:
    """The subsidy ledger of one CPAS, from the live read model."""
    histories = await load_cpas(conn, schema, cpas_kbo)
    return ledger_of_cpas(histories, cpas_kbo=cpas_kbo, **asked.kwargs())
