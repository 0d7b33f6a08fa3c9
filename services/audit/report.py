"""Building the audit report: two passes over the record, one case at a time.

The first pass folds every case into the sums of the sections (the caseload on
``as_of``, the files per phase at each month's end, the verdicts per rule);
the second gives each beneficiary's grid as it goes, so that a writer streams
them after the sections. Each case is folded by the read models' own pure
folds and functions: the statistics' (`StatisticsProjection.fold`,
`isp_statistics`), the case state's (`CaseStateProjection.fold`) and the
grid's (``services/audit/grid.py``) and the subsidy ledger's
(`subsidy_facts`, `case_ledger`). Memory holds one case, the sums, and the
facts of the partners the CPAS's grants name (a household's PIIS counts for
each partner).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import psycopg

from services.audit.grid import control_grid
from services.audit.model import (
    AuditReport,
    Beneficiary,
    Caseload,
    ChainSection,
    PhaseMonth,
    ReportMeta,
    RuleCount,
)
from services.audit.replay import SOURCES, CaseRecord, replay_cases
from services.audit.sections import LedgerReplay, LedgerSums, chain_section
from services.case_state.projection import CaseRow, CaseStateProjection
from services.case_state.roster import known_by
from services.case_state.statistics import (
    ISP_PHASES,
    CaseHistory,
    StatisticsProjection,
    isp_rate,
    isp_statistics,
)
from services.case_state.subsidies import MAX_MONTHS
from services.common.chain import ChainReport
from services.common.errors import DomainError

__all__ = [
    "AuditRun",
    "ReportHead",
    "beneficiaries",
    "beneficiary",
    "head_of",
    "report_head",
    "whole_report",
]

Progress = Callable[[int], None]
# The dates an audit may be asked for (a hub limit: the calendar's last years
# leave no room for the deadlines computed after as_of).
AS_OF_RANGE: Final = (dt.date(1900, 1, 1), dt.date(2999, 12, 31))


class ReportHead(AuditReport):
    """The report without its grids (what comes before them in every format)."""

    beneficiaries: tuple[Beneficiary, ...] = ()


@dataclass(frozen=True, slots=True)
class AuditRun:
    """What one report replays: the CPAS, the date, the recording time."""

    cpas_kbo: str
    as_of: dt.date
    known_at: dt.datetime
    generated_at: dt.datetime
    count_article_60: bool = True

    @classmethod
    def of(
        cls,
        cpas_kbo: str,
        as_of: dt.date,
        known_at: dt.datetime | None,
        now: dt.datetime,
        *,
        count_article_60: bool = True,
    ) -> AuditRun:
        """A run; without ``known_at``, what was known by the end of as_of (or now)."""
        if not AS_OF_RANGE[0] <= as_of <= AS_OF_RANGE[1]:
            raise DomainError(
                "as_of",
                "audit.as_of_range",
                f"an audit date is between {AS_OF_RANGE[0]} and {AS_OF_RANGE[1]}: "
                "the replay counts the months and the law's deadlines around it",
            )
        cutoff = known_by(as_of, known_at, now)
        return cls(cpas_kbo, as_of, cutoff, now, count_article_60)


def month_ends(first: dt.date, as_of: dt.date) -> list[dt.date]:
    """Each month's last day from ``first``'s month to as_of, and as_of itself.

    At most the last ``MAX_MONTHS`` months (the twenty years the ledger
    section gives): a far as_of must not make every case count every month up
    to it. The month's last day is found before the next month is, so a month
    of the year 9999 does not overflow the calendar.
    """
    index = as_of.year * 12 + as_of.month - MAX_MONTHS  # months since year 0
    year, month_index = divmod(index, 12)
    floor = dt.date(year, month_index + 1, 1) if year >= dt.MINYEAR else dt.date.min
    month = max(first.replace(day=1), floor)
    days: list[dt.date] = []
    while True:
        last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
        if last >= as_of:
            break
        days.append(last)
        month = last + dt.timedelta(days=1)
    return [*days, as_of]


def _history(record: CaseRecord) -> CaseHistory | None:
    projection, history = StatisticsProjection(), None
    for event in record.events:
        history = projection.fold(history, event) or history
    return history


def _state(record: CaseRecord) -> CaseRow | None:
    projection, row = CaseStateProjection(), None
    for event in record.events:
        row = projection.fold(row, event) or row
    return row


@dataclass(slots=True)
class _Sums:
    run: AuditRun
    ledger: LedgerReplay
    cases: int = 0
    events: int = 0
    files: Counter[dt.date] = field(default_factory=Counter)
    phases: Counter[tuple[dt.date, str]] = field(default_factory=Counter)
    verdicts: Counter[tuple[str, str]] = field(default_factory=Counter)
    subsidies: LedgerSums = field(default_factory=LedgerSums)

    def add(self, record: CaseRecord) -> None:
        self.cases += 1
        self.events += len(record.events)
        history = _history(record)
        if history is not None:
            self._count(history)
        grid = beneficiary(self.run, record, self.ledger)
        if grid is None:
            return
        for check in grid.checks:
            self.verdicts[check.rule, check.verdict] += 1
        self.subsidies.add(grid.ledger)

    def _count(self, history: CaseHistory) -> None:
        changes = [*history.income, *history.phases]
        if not changes:
            return
        first = min(effective for effective, _, _ in changes)
        if first > self.run.as_of:
            return
        for day in month_ends(first, self.run.as_of):
            figures = isp_statistics(
                [history],
                cpas_kbo=self.run.cpas_kbo,
                as_of=day,
                known_at=self.run.known_at,
                count_article_60=self.run.count_article_60,
            )
            self.files[day] += figures.files
            for phase, n in figures.per_phase.items():
                self.phases[day, phase] += n

    def head(self, chain: ChainSection) -> ReportHead:
        run = self.run
        days = sorted(self.files) if self.files else [run.as_of]
        last = self.month(run.as_of)
        rules = sorted({rule for rule, _ in self.verdicts})
        return ReportHead(
            meta=ReportMeta(
                cpas_kbo=run.cpas_kbo,
                as_of=run.as_of,
                known_at=run.known_at,
                generated_at=run.generated_at,
                sources=tuple(f"{s}.{s}_events" for s in SOURCES),
                cases=self.cases,
                events=self.events,
            ),
            caseload=Caseload(
                files=last.files,
                per_phase=last.per_phase,
                isp_files=last.isp_files,
                rate=last.rate,
            ),
            phase_evolution=tuple(
                self.month(day) for day in month_ends(days[0], run.as_of)
            ),
            ledger=self.subsidies.section(),
            chain=chain,
            findings_by_rule=tuple(
                RuleCount(
                    rule=rule,
                    met=self.verdicts[rule, "met"],
                    finding=self.verdicts[rule, "finding"],
                    to_check=self.verdicts[rule, "to_check"],
                    not_due=self.verdicts[rule, "not_due"],
                )
                for rule in rules
            ),
        )

    def month(self, day: dt.date) -> PhaseMonth:
        per_phase = {p: self.phases[day, p] for p in ISP_PHASES}
        isp = sum(per_phase.values())
        return PhaseMonth(
            on=day,
            files=self.files[day],
            per_phase=per_phase,
            isp_files=isp,
            rate=isp_rate(isp, self.files[day]),
        )


def beneficiary(
    run: AuditRun, record: CaseRecord, ledger: LedgerReplay
) -> Beneficiary | None:
    """One beneficiary's grid and ledger (None: the case is with another CPAS now)."""
    row = _state(record)
    if row is None or row.cpas_kbo != run.cpas_kbo:
        return None
    state = row.state()
    lines = ledger.lines(record.events)
    return Beneficiary(
        case_id=record.case_id,
        dossier_number=state.registration.dossier_number
        if state.registration is not None
        else None,
        phase=_phase_on(_history(record), run),
        checks=tuple(control_grid(record.events, run.as_of, lines)),
        ledger=lines,
    )


def _phase_on(history: CaseHistory | None, run: AuditRun) -> str | None:
    if history is None:
        return None
    phase = history.in_effect(history.phases, run.as_of, run.known_at)
    return None if phase is None else str(phase)


async def report_head(
    conn: psycopg.AsyncConnection[Any],
    run: AuditRun,
    progress: Progress | None = None,
    *,
    verify_chains: Callable[[], ChainReport] | None = None,
) -> ReportHead:
    """The sections of the report (the first pass).

    ``verify_chains``: how the process verifies the stores' hash chains.
    """
    sums = _Sums(run, await _ledger(conn, run))
    async for record in replay_cases(conn, run.cpas_kbo, run.known_at):
        sums.add(record)
        if progress is not None:
            progress(1)
    return sums.head(await chain_section(verify_chains))


async def _ledger(conn: psycopg.AsyncConnection[Any], run: AuditRun) -> LedgerReplay:
    return await LedgerReplay.read(conn, run.cpas_kbo, run.as_of, run.known_at)


def head_of(
    records: Iterable[CaseRecord],
    run: AuditRun,
    ledger: LedgerReplay,
    chain: ChainSection,
) -> ReportHead:
    """The sections from cases already read (the first pass without a database)."""
    sums = _Sums(run, ledger)
    for record in records:
        sums.add(record)
    return sums.head(chain)


async def beneficiaries(
    conn: psycopg.AsyncConnection[Any], run: AuditRun, progress: Progress | None = None
) -> AsyncIterator[Beneficiary]:
    """Each beneficiary's grid and ledger, by case id (the second pass)."""
    ledger = await _ledger(conn, run)
    async for record in replay_cases(conn, run.cpas_kbo, run.known_at):
        found = beneficiary(run, record, ledger)
        if progress is not None:
            progress(1)
        if found is not None:
            yield found


async def whole_report(
    conn: psycopg.AsyncConnection[Any], run: AuditRun
) -> AuditReport:
    """The report in one model (for tests and small CPAS: it holds every grid)."""
    head = await report_head(conn, run)
    grids = [b async for b in beneficiaries(conn, run)]
    return AuditReport(**{**dict(head), "beneficiaries": tuple(grids)})
