"""GET /audit/report: the auditor's replay over HTTP, streamed (ADR 0024).

Served by the case-state process, for an auditor's key only (scope
``audit:read``), of a CPAS of its remit. The sections are replayed before the
answer starts (a failure is then an error status, not a cut page); the grids
follow as they are replayed, on a connection the stream holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, Final

from fastapi import FastAPI, Query
from fastapi.responses import StreamingResponse
from psycopg_pool import AsyncConnectionPool

from contracts.wire import Date, DateTime
from services.audit.model import AuditReport
from services.audit.render import FORMATS, MEDIA_TYPES, Format, render
from services.audit.report import AuditRun, beneficiaries, report_head
from services.common.chain import ChainReport
from services.common.journal import JournalledAuditor

__all__ = ["install_audit"]

_KBO: Final = r"^[01]\d{9}$"


def install_audit(
    api: FastAPI,
    pool: AsyncConnectionPool[Any],
    *,
    count_article_60: bool = True,
    verify_chains: Callable[[], ChainReport] | None = None,
) -> None:
    """Add the audit route to an API reading the hub's PostgreSQL.

    ``verify_chains``: the process's verification of the stores' hash chains.
    """

    @api.get(
        "/audit/report",
        summary="The auditor's replay of a CPAS as of a date",
        description="Replays the CPAS's record from PostgreSQL (never Kafka): "
        "the caseload statistics, the files per ISP phase at each month's end, "
        "the subsidy ledger and the hash chains' verdict (each says whether it "
        "was computed), and a control grid per beneficiary, every check with "
        "its rule, law and evidence events (docs/audit/report.md). Only the "
        "events recorded by `known_at` (default: the end of `as_of` in "
        "Brussels). Streamed as JSON (the AuditReport schema), CSV or a "
        "printable HTML page. For an auditor's key, of its remit only.",
        response_class=StreamingResponse,
        responses={
            200: {
                "description": "The report, streamed",
                "model": AuditReport,
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "text/html": {"schema": {"type": "string"}},
                },
            }
        },
    )
    async def audit_report(
        client: JournalledAuditor,
        cpas: Annotated[
            str, Query(pattern=_KBO, max_length=10, description="KBO of the CPAS")
        ],
        as_of: Annotated[Date, Query(description="Date of the figures and checks")],
        known_at: Annotated[
            DateTime | None,
            Query(
                description="Only what the hub had recorded by then (default: "
                "the end of as_of in Brussels, or now if earlier)"
            ),
        ] = None,
        format: Annotated[  # noqa: A002 - the query parameter's name
            Format, Query(description=f"One of {', '.join(FORMATS)}")
        ] = "json",
    ) -> StreamingResponse:
        client.check_remit(cpas)
        run = AuditRun.of(
            cpas,
            as_of,
            known_at,
            dt.datetime.now(dt.UTC),
            count_article_60=count_article_60,
        )
        async with pool.connection() as conn:
            head = await report_head(conn, run, verify_chains=verify_chains)

        async def body() -> AsyncIterator[bytes]:
            async with pool.connection() as conn:
                async for piece in render(head, beneficiaries(conn, run), format):
                    yield piece.encode()

        return StreamingResponse(body(), media_type=MEDIA_TYPES[format])
