"""The report as JSON, CSV or HTML, written as it is built (flat memory).

Every format writes the sections first and then each beneficiary's grid as
the second pass yields it. The JSON is the `AuditReport` model's own
(``AuditReport.model_validate_json`` reads it back); the CSV has one row per
month of the phase evolution, one per month of the subsidies, and per
beneficiary one per ledger month and one per finding (or line to check); the
HTML is a jinja2 template (autoescaped) with print CSS and inline SVG charts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Final, Literal

import jinja2

from services.audit.charts import PHASE_COLOURS, phase_chart, subsidy_chart
from services.audit.model import Beneficiary
from services.audit.report import ReportHead
from services.case_state.statistics import ISP_PHASES

__all__ = ["FORMATS", "MEDIA_TYPES", "Format", "render"]

Format = Literal["json", "csv", "html"]
FORMATS: Final = ("json", "csv", "html")
MEDIA_TYPES: Final = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
}
# Verdicts a CSV row or the HTML's list of findings shows.
SHOWN: Final = ("finding", "to_check")

_TEMPLATE: Final = "report.html.j2"
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    enable_async=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


async def render(
    head: ReportHead, grids: AsyncIterator[Beneficiary], form: Format
) -> AsyncIterator[str]:
    """The report's text in pieces, the grids as they come."""
    if form == "json":
        pieces = _json(head, grids)
    elif form == "csv":
        pieces = _csv(head, grids)
    else:
        pieces = _html(head, grids)
    async for piece in pieces:
        yield piece


async def _json(
    head: ReportHead, grids: AsyncIterator[Beneficiary]
) -> AsyncIterator[str]:
    text = head.model_dump_json(exclude={"beneficiaries"})
    yield text[:-1] + ',"beneficiaries":['
    first = True
    async for grid in grids:
        yield ("" if first else ",") + grid.model_dump_json()
        first = False
    yield "]}"


_COLUMNS: Final = (
    "record",
    "on",
    "files",
    *ISP_PHASES,
    "isp_files",
    "rate",
    "case_id",
    "dossier_number",
    "rule",
    "verdict",
    "check",
    "subject",
    "detail",
    "law",
    "doc",
    "evidence",
    "income",
    "reimbursed",
    "paid_back",
    "piis_code",
    "piis_subsidy",
    "piis_recovered",
    "subsidies",
)


# Text cells a spreadsheet would run as a formula if they began so (an
# inspector opens the CSV in one): prefixed with an apostrophe. Figures and
# ids never begin so; they are left as they are.
_TEXT_COLUMNS: Final = frozenset(
    {"dossier_number", "rule", "check", "subject", "detail", "law", "doc"}
)
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def _cell(column: str, value: object) -> object:
    text = column in _TEXT_COLUMNS and isinstance(value, str)
    if text and str(value).startswith(_FORMULA_START):
        return f"'{value}"
    return value


def _line(row: dict[str, object]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, _COLUMNS, lineterminator="\r\n")
    writer.writerow({column: _cell(column, value) for column, value in row.items()})
    return out.getvalue()


async def _csv(
    head: ReportHead, grids: AsyncIterator[Beneficiary]
) -> AsyncIterator[str]:
    yield ",".join(_COLUMNS) + "\r\n"
    for month in head.phase_evolution:
        yield _line(
            {
                "record": "month",
                "on": month.on.isoformat(),
                "files": month.files,
                **month.per_phase,
                "isp_files": month.isp_files,
                "rate": str(month.rate),
            }
        )
    for subsidies in head.ledger.months:
        yield _line(
            {
                "record": "subsidies",
                "on": subsidies.month,
                "reimbursed": str(subsidies.reimbursed),
                "paid_back": str(subsidies.reimbursement_recovered),
                "piis_subsidy": str(subsidies.piis_subsidy),
                "piis_recovered": str(subsidies.piis_recovered),
                "subsidies": str(subsidies.amount),
            }
        )
    async for grid in grids:
        for line in grid.ledger:
            yield _line(
                {
                    "record": "ledger",
                    "on": line.month,
                    "case_id": str(grid.case_id),
                    "dossier_number": grid.dossier_number or "",
                    "rule": line.piis_status,
                    "rate": str(line.rate_percent),
                    "law": line.rate_source,
                    "evidence": " ".join(str(e) for e in line.event_ids),
                    "income": str(line.income_amount),
                    "reimbursed": str(line.reimbursed_amount),
                    "paid_back": str(line.reimbursement_recovered),
                    "piis_code": line.piis_code or "",
                    "piis_subsidy": str(line.piis_amount),
                    "piis_recovered": str(line.piis_recovered),
                }
            )
        for check in grid.checks:
            if check.verdict not in SHOWN:
                continue
            yield _line(
                {
                    "record": "finding",
                    "on": head.meta.as_of.isoformat(),
                    "case_id": str(grid.case_id),
                    "dossier_number": grid.dossier_number or "",
                    "rule": check.rule,
                    "verdict": check.verdict,
                    "check": check.check,
                    "subject": check.subject or "",
                    "detail": check.detail,
                    "law": check.law,
                    "doc": check.doc or "",
                    "evidence": " ".join(str(e) for e in check.evidence),
                }
            )


async def _html(
    head: ReportHead, grids: AsyncIterator[Beneficiary]
) -> AsyncIterator[str]:
    template = _ENV.get_template(_TEMPLATE)
    async for piece in template.generate_async(
        head=head,
        grids=grids,
        phases=ISP_PHASES,
        colours=PHASE_COLOURS,
        phase_chart=phase_chart(head.phase_evolution),
        subsidy_chart=subsidy_chart(head.ledger),
        shown=SHOWN,
    ):
        yield piece
