"""The printable report in headless Chromium: its structure, charts equal to the JSON.

A CPAS's history of a few files moving through the ISP phases over months is
made into the report's sections by the report's own first pass (no database:
`head_of`), rendered as JSON and as HTML, and the HTML is opened in Chromium:
a screenshot is taken and the DOM Chromium built is read back. Every bar of
the phase chart carries the figure the JSON gives for its month and phase;
the subsidies chart carries the ledger section's months, which are the sums
of the beneficiaries' ledger lines.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterable
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from contracts.envelope import ContractEvent
from contracts.income import IncomeRightGrantedV1
from contracts.intake import BeneficiaryRegisteredV1, BilanCompletedV1
from contracts.piis import PhaseChangedV1, PIISSignedV1
from services.audit.model import AuditReport, Beneficiary
from services.audit.render import Format, render
from services.audit.replay import CaseRecord
from services.audit.report import AuditRun, ReportHead, beneficiary, head_of
from services.audit.sections import LedgerReplay, chain_section
from services.case_state.subsidies import Window
from tests.contracts.samples import KBO, SAMPLES

RECORDED = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
RUN = AuditRun(KBO, dt.date(2026, 12, 31), RECORDED + dt.timedelta(hours=1), RECORDED)


def sample(kind: type[ContractEvent]) -> Any:
    return next(s for s in SAMPLES if isinstance(s, kind))


def a_case(n: int, granted: dt.date, phases: list[tuple[dt.date, str]]) -> CaseRecord:
    """A file granted the income on a day, then moving through phases."""
    case = uuid.UUID(int=1000 + n)
    made: list[ContractEvent] = []

    def add(event: ContractEvent, **fields: Any) -> None:
        version = len(made) + 1
        made.append(
            event.model_copy(
                update={
                    "case_id": case,
                    "stream_id": case,
                    "stream_version": version,
                    "event_id": uuid.uuid5(case, str(version)),
                    "recorded_at": RECORDED + dt.timedelta(seconds=version),
                    **fields,
                }
            )
        )

    add(sample(BeneficiaryRegisteredV1), dossier_number=f"LG2026{n:03d}")
    add(sample(BilanCompletedV1), completed_on=granted)
    add(
        sample(IncomeRightGrantedV1),
        right_id=uuid.uuid5(case, "right"),
        decision_date=granted,
        effective_date=granted,
    )
    if n % 2:
        add(sample(PIISSignedV1), signed_on=granted + dt.timedelta(days=20))
    before = None
    for day, phase in phases:
        add(
            sample(PhaseChangedV1),
            from_phase=before,
            to_phase=phase,
            effective_date=day,
        )
        before = phase
    return CaseRecord(case, tuple(made))


def history() -> list[CaseRecord]:
    d = dt.date
    return [
        a_case(
            1,
            d(2026, 5, 4),
            [(d(2026, 5, 10), "facilitator"), (d(2026, 8, 3), "employment")],
        ),
        a_case(
            2,
            d(2026, 6, 1),
            [(d(2026, 6, 15), "literacy"), (d(2026, 10, 1), "studies_training")],
        ),
        a_case(
            3,
            d(2026, 7, 1),
            [(d(2026, 7, 20), "facilitator"), (d(2026, 9, 14), "article_60")],
        ),
        a_case(4, d(2026, 8, 17), []),
        a_case(5, d(2026, 9, 1), [(d(2026, 9, 2), "employment")]),
    ]


async def _each(items: Iterable[Beneficiary]) -> AsyncIterator[Beneficiary]:
    for item in items:
        yield item


def rendered(head: ReportHead, grids: list[Beneficiary], form: Format) -> str:
    async def collect() -> str:
        return "".join([p async for p in render(head, _each(grids), form)])

    return asyncio.run(collect())


# The records' cases have no partner: the ledger needs no other case.
LEDGER = LedgerReplay(KBO, Window(as_of=RUN.as_of, known_at=RUN.known_at), {})


def report() -> tuple[ReportHead, list[Beneficiary]]:
    records = history()
    head = head_of(records, RUN, LEDGER, asyncio.run(chain_section(None)))
    grids = [g for r in records if (g := beneficiary(RUN, r, LEDGER)) is not None]
    return head, grids


class Dom(HTMLParser):
    """What the test reads of the DOM: headings, tables, charts' bars, sections."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[tuple[str, str]] = []
        self.tables = 0
        self.bars: dict[str, list[dict[str, str]]] = {}
        self.svgs: list[str] = []
        self.statuses: list[str] = []
        self.external: list[str] = []
        self._heading: str | None = None
        self._svg: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag in {"h1", "h2", "h3"}:
            self._heading = tag
            self.headings.append((tag, ""))
        if tag == "table":
            self.tables += 1
        if tag == "svg":
            self._svg = found.get("id", "")
            self.svgs.append(self._svg)
        if tag == "rect" and "bar" in found.get("class", "") and self._svg:
            self.bars.setdefault(self._svg, []).append(found)
        if "data-status" in found:
            self.statuses.append(found["data-status"])
        for name in ("src", "href"):
            if found.get(name):
                self.external.append(found[name])

    def handle_endtag(self, tag: str) -> None:
        if tag == self._heading:
            self._heading = None
        if tag == "svg":
            self._svg = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            tag, text = self.headings[-1]
            self.headings[-1] = (tag, text + data)


def open_in_chromium(chromium: Path, page: Path, tmp: Path) -> tuple[Path, str]:
    common = [
        str(chromium),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    shot = tmp / "report.png"
    subprocess.run(
        [
            *common,
            f"--user-data-dir={tmp / 'profile-shot'}",
            f"--screenshot={shot}",
            "--window-size=1200,1600",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    dom = subprocess.run(
        [
            *common,
            f"--user-data-dir={tmp / 'profile-dom'}",
            "--dump-dom",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return shot, dom.stdout


def test_the_html_report_opens_in_chromium_and_its_charts_are_the_json_reports(
    chromium: Path, tmp_path: Path
) -> None:
    head, grids = report()
    as_json = AuditReport.model_validate_json(rendered(head, grids, "json"))
    page = tmp_path / "report.html"
    page.write_text(rendered(head, grids, "html"), encoding="utf-8")
    shot, text = open_in_chromium(chromium, page, tmp_path)
    # A PNG of the page as Chromium drew it.
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000

    dom = Dom()
    dom.feed(text)
    assert dom.headings[0] == ("h1", f"Audit report: CPAS {KBO}")
    assert [t for tag, t in dom.headings if tag == "h2"] == [
        "Caseload on 2026-12-31",
        "Phase evolution: files per ISP phase at each month's end",
        "Subsidy ledger: subsidies per month",
        "Integrity of the record (hash chains)",
        "Verdicts per rule",
        "Control grids per beneficiary",
    ]
    files = [t for tag, t in dom.headings if tag == "h3"]
    assert files == [
        f"File LG2026{n:03d}, case {uuid.UUID(int=1000 + n)}" + p
        for n, p in (
            (1, ", phase employment"),
            (2, ", phase studies_training"),
            (3, ", phase article_60"),
            (4, ""),
            (5, ", phase employment"),
        )
    ]
    # meta, caseload, phase table, ledger, verdicts, and one grid and one
    # ledger per file.
    assert dom.tables == 5 + 2 * len(as_json.beneficiaries)
    assert dom.svgs == ["phase-chart", "subsidy-chart"]
    assert dom.external == []  # nothing loaded from elsewhere, no link out

    charted = {
        (b["data-key"], b["data-series"]): int(b["data-value"])
        for b in dom.bars["phase-chart"]
    }
    expected = {
        (m.on.isoformat(), phase): n
        for m in as_json.phase_evolution
        for phase, n in m.per_phase.items()
    }
    assert charted == expected
    assert [m.on for m in as_json.phase_evolution][:2] == [
        dt.date(2026, 5, 31),
        dt.date(2026, 6, 30),
    ]
    assert as_json.phase_evolution[-1].on == RUN.as_of
    assert as_json.phase_evolution[-1].per_phase == as_json.caseload.per_phase
    assert as_json.caseload.files == 5
    assert as_json.caseload.isp_files == 4

    # The subsidies chart is the ledger section's months, themselves the
    # sums of the beneficiaries' lines; the chains are not verified here.
    assert as_json.ledger.status == "computed"
    charted_subsidies = [
        (b["data-key"], Decimal(b["data-value"])) for b in dom.bars["subsidy-chart"]
    ]
    assert charted_subsidies == [(m.month, m.amount) for m in as_json.ledger.months]
    assert len(charted_subsidies) >= 7  # May to December 2026
    assert dom.statuses == ["not_computed"]


def test_the_ledger_section_sums_every_beneficiarys_lines() -> None:
    head, grids = report()
    sums: dict[str, Decimal] = {}
    for grid in grids:
        assert grid.ledger, grid.case_id  # every file had a grant
        for line in grid.ledger:
            assert line.case_id == grid.case_id
            sums[line.month] = (
                sums.get(line.month, Decimal(0))
                + line.reimbursed_amount
                + line.piis_amount
                - line.piis_recovered
            )
    assert [(m.month, m.amount) for m in head.ledger.months] == sorted(sums.items())


def test_the_csv_has_a_row_per_month_and_per_finding() -> None:
    head, grids = report()
    rows = rendered(head, grids, "csv").splitlines()
    months = [r for r in rows if r.startswith("month,")]
    findings = [r for r in rows if r.startswith("finding,")]
    assert len(months) == len(head.phase_evolution)
    shown = [c for g in grids for c in g.checks if c.verdict in {"finding", "to_check"}]
    assert len(findings) == len(shown) > 0
    # The subsidies per month, then every beneficiary's ledger month.
    table = list(csv.DictReader(io.StringIO(rendered(head, grids, "csv"))))
    subsidies = [r for r in table if r["record"] == "subsidies"]
    assert [(r["on"], Decimal(r["subsidies"])) for r in subsidies] == [
        (m.month, m.amount) for m in head.ledger.months
    ]
    ledger = [r for r in table if r["record"] == "ledger"]
    lines = [(str(g.case_id), line) for g in grids for line in g.ledger]
    assert len(ledger) == len(lines) > 0
    for row, (case, line) in zip(ledger, lines, strict=True):
        assert (row["case_id"], row["on"]) == (case, line.month)
        assert Decimal(row["reimbursed"]) == line.reimbursed_amount
        assert row["evidence"].split() == [str(e) for e in line.event_ids]


def test_a_csv_text_cell_that_a_spreadsheet_would_run_is_neutralised() -> None:
    head, grids = report()
    grid = grids[0]
    hostile = grid.model_copy(
        update={
            "dossier_number": '=HYPERLINK("http://x")',
            "checks": tuple(
                c.model_copy(update={"detail": "@SUM(A1:A9)", "verdict": "finding"})
                for c in grid.checks
            ),
        }
    )
    table = list(csv.DictReader(io.StringIO(rendered(head, [hostile], "csv"))))
    findings = [r for r in table if r["record"] == "finding"]
    assert findings
    for row in findings:
        assert row["dossier_number"] == '\'=HYPERLINK("http://x")'
        assert row["detail"] == "'@SUM(A1:A9)"
    # Figures stay figures.
    assert all(not r["reimbursed"].startswith("'") for r in table if r["reimbursed"])
