"""The sections other work computes: the subsidy ledger and the hash chains' verdict.

Both are seams (ADR 0024). Until the ledger's replay and the chains'
verification are plugged in here, each section says plainly that it is not
computed and gives no figure; the report's subsidies chart is fed from the
ledger section only, so it stays empty with it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from services.audit.model import ChainSection, LedgerSection

__all__ = ["chain_section", "ledger_section"]


async def ledger_section(
    conn: psycopg.AsyncConnection[Any],
    cpas_kbo: str,
    as_of: dt.date,
    known_at: dt.datetime,
) -> LedgerSection:
    """The CPAS's subsidy ledger as of a date (not computed yet)."""
    del conn, cpas_kbo, as_of, known_at  # for the ledger's replay, once plugged in
    return LedgerSection(
        status="not_computed",
        reason="the subsidy ledger is not replayed by this version of the hub: "
        "no subsidy figure is given",
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
