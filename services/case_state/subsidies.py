"""The subsidy ledger: per beneficiary and month, what the State owes the CPAS.

For every month a case has an income right in force, the ledger says
(docs/domain/federal-reporting.md#subsidy-ledger):

* the **income granted** in the month (the category's amount, or the smaller
  amount granted after resources, such as an article 60 §7 worker's
  complementary income), pro rata of the days in force, less the days of a
  suspension without stay;
* the **State's reimbursement** of it at the rate of the month of reference
  (law of 26 May 2002 art. 32: 55, 65 or 70% by the CPAS's size, 100% for the
  foreigners' register and a homeless person taking up a dwelling), with the
  rate's source (#reimbursement-rates);
* the **PIIS subsidy** (law of 21 July 2016: 10% of the income granted,
  #piis-10-percent-subsidy): form B code 11 for twelve months from the month
  of the signature (from the grant's first day when both fall in one month),
  then code 17 for a prolongation only with a PIIS in force on the last day of
  the period before and a written motivation given in it; lost after an
  interruption of the income of more than three months until a new PIIS is
  signed; recovered when a compulsory PIIS of the household is missing; once
  for a household whose partners both have one (households.md#couples-the-
  10-percent-subsidy-is-not-doubled); computed on what is granted, so on the
  complementary income of an article 60 §7 worker (placements.md);
* the **ids of the events** that justify the row.

The ledger is a pure function of a case's facts (one per relevant event,
with its event id and recording time) and its partners': ``ledger`` takes the
facts the hub had recorded by the end of ``as_of`` (or by ``known_at``), so
the ledger as of a past date is what the hub showed that day, whether read
from the live read model or replayed from the event stores
(``replay_ledger``). Figures come from ``services/common/law.py`` by date.
"""

from __future__ import annotations

import bisect
import calendar
import dataclasses
import datetime as dt
import itertools
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final, Literal

import psycopg
from psycopg import sql

from contracts.envelope import ContractEvent
from contracts.income import (
    IncomePaymentSuspendedV1,
    IncomeRecoveryDecidedV1,
    IncomeRightGrantedV1,
    IncomeRightModifiedV1,
    IncomeRightWithdrawnV1,
)
from contracts.intake import CaseTransferredV1
from contracts.piis import (
    PiisDeadlineMissedV1,
    PiisEndedV1,
    PiisEvaluatedV1,
    PiisExemptionGrantedV1,
    PIISSignedV1,
)
from contracts.placement import Article60EndedV1, Article60StartedV1
from services.case_state.roster import cutoff_of
from services.common.errors import DomainError
from services.common.eventstore import row_to_event
from services.common.law import LAW, add_months
from services.common.rebuild import stored_pages
from services.common.row_table import RowTable

__all__ = [
    "MAX_MONTHS",
    "SUBSIDY_RULES",
    "CodePeriod",
    "Fact",
    "LedgerRow",
    "SubsidyFacts",
    "SubsidyProjection",
    "Window",
    "case_ledger",
    "fact_of",
    "ledger",
    "ledger_of_cpas",
    "load_case",
    "load_cpas",
    "partner_ids",
    "period_on",
    "piis_code_periods",
    "replay_ledger",
    "subsidy_facts",
]

# What a month's PIIS subsidy is, as the ledger says it (docs/rules.md).
SUBSIDY_RULES: Final = {
    "first": "subsidy.piis_first_year",
    "prolongation": "subsidy.piis_prolongation",
    "none": "subsidy.no_piis",
    "not_in_force": "subsidy.prolongation_no_piis_on_last_day",
    "unmotivated": "subsidy.prolongation_without_motivation",
    "ended": "subsidy.prolongation_piis_ended",
    "lost": "subsidy.lost_after_interruption",
    "missing": "subsidy.compulsory_piis_missing",
}
MAX_MONTHS: Final = 240
"""Most months one case's ledger gives at once (a hub limit, not the law's)."""
CENT: Final = Decimal("0.01")
ONE_DAY: Final = dt.timedelta(days=1)
_NEVER: Final = dt.datetime.min.replace(tzinfo=dt.UTC)
_BASE: Final = "cpas_base"

FactKind = Literal[
    "grant",
    "modified",
    "suspended",
    "withdrawn",
    "signed",
    "ended",
    "motivated",
    "exempted",
    "missed",
    "article60_started",
    "article60_ended",
    "recovered",
]


@dataclass(frozen=True, slots=True)
class Fact:
    """One event the ledger needs: its kind, id, recording time and values (JSON)."""

    kind: FactKind
    event_id: uuid.UUID
    recorded_at: dt.datetime | None
    values: Mapping[str, Any]
    # service, stream and version: the facts are kept in this order, so the
    # live fold (topics interleaved) and a rebuild (store by store) agree.
    position: str = ""

    def day(self, key: str) -> dt.date | None:
        """A date value."""
        found = self.values.get(key)
        return None if found is None else dt.date.fromisoformat(found)

    def on(self, key: str) -> dt.date:
        """A date value that is always there."""
        return dt.date.fromisoformat(self.values[key])

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "kind": self.kind,
            "event_id": str(self.event_id),
            "recorded_at": self.recorded_at.isoformat() if self.recorded_at else None,
            "values": dict(self.values),
            "position": self.position,
        }

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> Fact:
        """A fact from its JSON form."""
        recorded = item["recorded_at"]
        return cls(
            item["kind"],
            uuid.UUID(item["event_id"]),
            dt.datetime.fromisoformat(recorded) if recorded else None,
            item["values"],
            item.get("position", ""),
        )


@dataclass(frozen=True, slots=True)
class SubsidyFacts:
    """The facts of one case, in the order of its events (per producing service)."""

    case_id: uuid.UUID
    cpas_kbo: str  # the CPAS the case is with now
    facts: tuple[Fact, ...] = ()
    # Each transfer to another CPAS: recorded at, from, to (ADR 0017).
    transfers: tuple[tuple[dt.datetime | None, str, str], ...] = ()

    def cpas_at(self, cutoff: dt.datetime | None) -> str:
        """The CPAS the case was with at a time, as the hub had recorded it."""
        if not self.transfers:
            return self.cpas_kbo
        found = self.transfers[0][1]
        for recorded, _, to in self.transfers:
            if cutoff is None or (recorded or _NEVER) <= cutoff:
                found = to
        return found

    @property
    def cpas_seen(self) -> list[str]:
        """Every CPAS the case was with."""
        return sorted(
            {self.cpas_kbo} | {c for _, *pair in self.transfers for c in pair}
        )

    def known(self, cutoff: dt.datetime | None) -> tuple[Fact, ...]:
        """The facts recorded by a time (all when None)."""
        if cutoff is None:
            return self.facts
        return tuple(f for f in self.facts if (f.recorded_at or _NEVER) <= cutoff)


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One beneficiary-month of the ledger."""

    case_id: uuid.UUID
    cpas_kbo: str
    month: dt.date  # its first day
    right_id: uuid.UUID
    category: int
    days_in_force: int
    income_amount: Decimal
    rate_percent: int
    rate_basis: str
    rate_source: str
    reimbursed_amount: Decimal
    income_recovered: Decimal  # decided recovered for this month of reference
    reimbursement_recovered: Decimal  # the State's share of it, paid back
    piis_code: str | None  # form B: 11 first year, 17 prolongation
    piis_status: str  # one of SUBSIDY_RULES
    piis_base: Decimal
    piis_amount: Decimal
    piis_recovered: Decimal
    article_60: bool
    event_ids: tuple[uuid.UUID, ...]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (amounts as strings, never floats)."""
        out: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            match value:
                case dt.date():
                    out[field.name] = value.isoformat()
                case uuid.UUID() | Decimal():
                    out[field.name] = str(value)
                case tuple():
                    out[field.name] = [str(v) for v in value]
                case _:
                    out[field.name] = value
        out["month"] = self.month.isoformat()[:7]
        return out


# --------------------------------------------------------------------------
# The fold: one fact per event the ledger reads (never free text).


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _amounts(event: IncomeRightGrantedV1 | IncomeRightModifiedV1) -> dict[str, Any]:
    granted = event.granted_monthly_amount
    return {
        "right_id": str(event.right_id),
        "effective_date": event.effective_date.isoformat(),
        "category": event.category,
        "monthly_amount": str(event.monthly_amount),
        "granted_monthly_amount": None if granted is None else str(granted),
        "basis": event.reimbursement_basis,
    }


def _values(event: ContractEvent) -> tuple[FactKind, dict[str, Any]] | None:  # noqa: C901, PLR0911, PLR0912 - one case per event
    match event:
        case IncomeRightGrantedV1():
            partners = [
                [str(p.partner_case_id), p.piis_obligation]
                for p in event.partner_piis_obligations
                if p.partner_case_id is not None
            ]
            return "grant", _amounts(event) | {
                "decision_date": event.decision_date.isoformat(),
                "obligation": event.piis_obligation,
                "partners": partners,
            }
        case IncomeRightModifiedV1():
            return "modified", _amounts(event)
        case IncomePaymentSuspendedV1():
            return "suspended", {
                "period_start": event.period_start.isoformat(),
                "period_end": event.period_end.isoformat(),
                "percent": 100
                if event.extent == "full"
                else event.partial_percent or 100,
                "stay": event.stay_of_execution,
            }
        case IncomeRightWithdrawnV1():
            return "withdrawn", {
                "right_id": str(event.right_id),
                "effective_date": event.effective_date.isoformat(),
            }
        case PIISSignedV1():
            return "signed", {
                "piis_id": str(event.piis_id),
                "signed_on": event.signed_on.isoformat(),
                "start_date": event.start_date.isoformat(),
            }
        case PiisEndedV1():
            return "ended", {
                "piis_id": str(event.piis_id),
                "ended_on": event.ended_on.isoformat(),
            }
        case PiisEvaluatedV1() if event.subsidy_prolongation_motivation:
            # That a motivation was written, and when: never its text.
            return "motivated", {"evaluated_on": event.evaluated_on.isoformat()}
        case PiisExemptionGrantedV1():
            return "exempted", {"decided_on": event.decided_on.isoformat()}
        case PiisDeadlineMissedV1(kind="piis_not_signed"):
            right = None if event.right_id is None else str(event.right_id)
            return "missed", {"due_on": event.due_on.isoformat(), "right_id": right}
        case Article60StartedV1():
            return "article60_started", {
                "contract_id": str(event.contract_id),
                "start_date": event.start_date.isoformat(),
            }
        case Article60EndedV1():
            return "article60_ended", {
                "contract_id": str(event.contract_id),
                "ended_on": event.ended_on.isoformat(),
            }
        case IncomeRecoveryDecidedV1():
            return "recovered", {
                "right_id": str(event.right_id),
                "months": [
                    [m.month.replace(day=1).isoformat(), str(m.amount)]
                    for m in event.months
                ],
            }
        case _:
            return None


def fact_of(event: ContractEvent) -> Fact | None:
    """The fact an event gives the ledger (None: one it does not read)."""
    found = _values(event)
    if found is None:
        return None
    kind, values = found
    service = event.event_type.split(".")[1]
    position = f"{service}:{event.stream_id}:{event.stream_version:012d}"
    return Fact(kind, event.event_id, event.recorded_at, values, position)


class SubsidyProjection(RowTable[SubsidyFacts]):
    """Folds intake, PIIS and placement events into each case's ledger facts."""

    name = "subsidies"
    table = "subsidy_facts"
    columns = (
        ("case_id", "uuid PRIMARY KEY"),
        ("cpas_kbo", "text NOT NULL"),
        ("facts", "jsonb NOT NULL"),
        ("transfers", "jsonb NOT NULL DEFAULT '[]'"),
        ("cpas_seen", "text[] NOT NULL DEFAULT '{}'"),
    )
    indexes = ("cpas_kbo",)

    def fold(
        self, row: SubsidyFacts | None, event: ContractEvent
    ) -> SubsidyFacts | None:
        """The facts after one event (events of any service, in any order)."""
        if isinstance(event, CaseTransferredV1):
            row = row or SubsidyFacts(event.case_id, event.cpas_kbo)
            moves = sorted(
                {
                    *row.transfers,
                    (event.recorded_at, event.from_cpas_kbo, event.cpas_kbo),
                },
                key=lambda m: m[0] or _NEVER,
            )
            return dataclasses.replace(
                row, cpas_kbo=moves[-1][2], transfers=tuple(moves)
            )
        fact = fact_of(event)
        if fact is None:
            return None
        current = row or SubsidyFacts(event.case_id, event.cpas_kbo)
        facts = list(current.facts)
        bisect.insort(facts, fact, key=lambda f: f.position)
        return dataclasses.replace(current, facts=tuple(facts))

    def encode(self, row: SubsidyFacts) -> tuple[Any, ...]:
        """The row's column values (facts as JSON)."""
        return (
            row.case_id,
            row.cpas_kbo,
            json.dumps([f.to_json() for f in row.facts]),
            json.dumps(
                [[r.isoformat() if r else None, a, b] for r, a, b in row.transfers]
            ),
            row.cpas_seen,
        )

    def decode(self, record: Sequence[Any]) -> SubsidyFacts:
        """A row from its column values."""
        case_id, cpas_kbo, facts, transfers, _ = record
        return SubsidyFacts(
            case_id,
            cpas_kbo,
            tuple(map(Fact.from_json, facts)),
            tuple(
                (dt.datetime.fromisoformat(r) if r else None, a, b)
                for r, a, b in transfers
            ),
        )


# --------------------------------------------------------------------------
# The ledger: a pure function of the facts known.


@dataclass(frozen=True, slots=True)
class Window:
    """Which ledger: as of a date (as known then, or at known_at), which months."""

    as_of: dt.date
    known_at: dt.datetime | None = None
    first_month: dt.date | None = None
    last_month: dt.date | None = None

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``ledger`` and ``ledger_of_cpas``."""
        return {field: getattr(self, field) for field in self.__slots__}


@dataclass(frozen=True, slots=True)
class _Amount:
    """The amount of one right from a day: a grant or a modification, or nothing."""

    effective: dt.date
    fact: Fact | None  # None: withdrawn from that day
    right: str  # the right it is of: a withdrawal ends that right only


@dataclass(frozen=True, slots=True)
class _Piis:
    """A PIIS of the household: signed, in force from its start to its end."""

    signed_on: dt.date
    start: dt.date
    ended_on: dt.date | None
    ids: tuple[uuid.UUID, ...]

    def in_force(self, day: dt.date) -> bool:
        return self.start <= day and (self.ended_on is None or day <= self.ended_on)


@dataclass(frozen=True, slots=True)
class _Segment:
    """Days of one subsidy status: from, to (both included), code, why."""

    start: dt.date
    end: dt.date
    code: str | None
    status: str
    ids: tuple[uuid.UUID, ...]


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    for offset in range((last - first).days + 1):
        yield first + dt.timedelta(days=offset)


def _timeline(facts: Sequence[Fact]) -> list[_Amount]:
    """The amount records by effective day (a later event of the same day wins)."""
    records: list[_Amount] = []
    for fact in facts:
        if fact.kind in ("grant", "modified"):
            records.append(
                _Amount(fact.on("effective_date"), fact, fact.values["right_id"])
            )
        elif fact.kind == "withdrawn":
            records.append(
                _Amount(fact.on("effective_date"), None, fact.values["right_id"])
            )
    records.sort(key=lambda r: r.effective)  # stable: event order within a day
    return records


def _in_force(records: Sequence[_Amount], day: dt.date) -> Fact | None:
    """The record in force on a day: of the right granted last, if not withdrawn.

    A withdrawal ends the right it names only: an old right withdrawn from a
    day after a new right took effect does not end the new one.
    """
    rights: dict[str, Fact | None] = {}
    for record in records:
        if record.effective > day:
            break
        rights[record.right] = record.fact
    return next((f for f in reversed(rights.values()) if f is not None), None)


def _intervals(records: Sequence[_Amount]) -> list[tuple[dt.date, dt.date | None]]:
    """The periods with a right in force: first day, first day without (or open)."""
    spans: list[tuple[dt.date, dt.date | None]] = []
    opened: dt.date | None = None
    rights: dict[str, Fact | None] = {}
    for record in records:
        rights[record.right] = record.fact
        held = any(f is not None for f in rights.values())
        if held and opened is None:
            opened = record.effective
        elif not held and opened is not None:
            spans.append((opened, record.effective))
            opened = None
    if opened is not None:
        spans.append((opened, None))
    return spans


def _interruptions(
    spans: Sequence[tuple[dt.date, dt.date | None]],
) -> list[dt.date]:
    """First days without income of interruptions longer than the law's months."""
    found = []
    for (_, stopped), (resumed, _) in itertools.pairwise(spans):
        if stopped is None:
            continue
        months = LAW.value("subsidy.piis.interruption_months", stopped, field="month")
        if resumed > add_months(stopped, months):
            found.append(stopped)
    return found


def _household_piis(facts: Iterable[Fact]) -> list[_Piis]:
    """Every PIIS signed in the facts, with its end when known."""
    ends = {
        f.values["piis_id"]: (f.on("ended_on"), f.event_id)
        for f in facts
        if f.kind == "ended"
    }
    found = []
    for fact in facts:
        if fact.kind != "signed":
            continue
        end = ends.get(fact.values["piis_id"])
        found.append(
            _Piis(
                fact.on("signed_on"),
                fact.on("start_date"),
                None if end is None else end[0],
                (fact.event_id,) if end is None else (fact.event_id, end[1]),
            )
        )
    found.sort(key=lambda p: p.signed_on)
    return found


def _first_day_of_law() -> dt.date:
    return LAW.versions("subsidy.piis.percent")[0].valid_from


def _lineages(
    piis: Sequence[_Piis],
    motivations: Sequence[Fact],
    spans: Sequence[tuple[dt.date, dt.date | None]],
    losses: Sequence[dt.date],
) -> list[_Segment]:
    """The subsidy's periods: first years, prolongations, and why one stopped."""
    segments: list[_Segment] = []
    barrier = dt.date.min  # a new first year needs a PIIS signed from then on
    for opening in piis:
        if opening.signed_on < barrier:
            continue
        # From the month of signature, or the grant's first day in that month
        # (or later, when the income starts after the signature).
        start = max(opening.signed_on.replace(day=1), _first_day_of_law())
        after = [s for s, stop in spans if stop is None or stop > opening.signed_on]
        if after:
            start = max(start, after[0])
        code, status, ids = "11", SUBSIDY_RULES["first"], opening.ids
        name = "subsidy.piis.first_months"
        while True:
            months = LAW.value(name, start, field="month")
            end = _month_end(add_months(start.replace(day=1), months - 1))
            loss = next((d for d in losses if start < d <= end), None)
            if loss is not None:
                segments.append(_Segment(start, loss - ONE_DAY, code, status, ids))
                segments.append(
                    _Segment(loss, dt.date.max, None, SUBSIDY_RULES["lost"], ids)
                )
                barrier = loss
                break
            segments.append(_Segment(start, end, code, status, ids))
            held = [p for p in piis if p.in_force(end)]
            said = [m for m in motivations if start <= m.on("evaluated_on") <= end]
            if not held or not said:
                why = SUBSIDY_RULES["not_in_force" if not held else "unmotivated"]
                later = next((d for d in losses if d > end), None)
                segments.append(_Segment(end + ONE_DAY, dt.date.max, None, why, ids))
                barrier = dt.date.max if later is None else later
                break
            start = end + ONE_DAY
            code, status = "17", SUBSIDY_RULES["prolongation"]
            ids = (*held[-1].ids, said[-1].event_id)
            name = "subsidy.piis.prolongation_months"
        if barrier == dt.date.max:
            break
    return segments


def _persons(
    own: tuple[Fact, ...],
    partners: Mapping[uuid.UUID, SubsidyFacts],
    cutoff: dt.datetime | None,
) -> dict[str, tuple[Fact, ...]]:
    """The household's facts: the case's (key ""), each partner's on its grants."""
    person_facts: dict[str, tuple[Fact, ...]] = {"": own}
    for grant in own:
        if grant.kind != "grant":
            continue
        for partner, _ in grant.values["partners"]:
            found = partners.get(uuid.UUID(partner))
            person_facts[partner] = () if found is None else found.known(cutoff)
    return person_facts


def _subsidy_periods(
    records: Sequence[_Amount], person_facts: Mapping[str, tuple[Fact, ...]]
) -> tuple[list[_Piis], list[_Segment]]:
    """The household's PIIS and the subsidy's segments (``_lineages``)."""
    household = [f for facts in person_facts.values() for f in facts]
    piis = _household_piis(household)
    motivations = [f for f in household if f.kind == "motivated"]
    spans = _intervals(records)
    return piis, _lineages(piis, motivations, spans, _interruptions(spans))


def _code_on(
    segments: Sequence[_Segment], piis: Sequence[_Piis], day: dt.date
) -> tuple[str | None, str, tuple[uuid.UUID, ...]]:
    """A day's form-B code, status and evidence, as the ledger reads them."""
    segment = _segment_on(segments, day)
    if segment is None:
        return None, SUBSIDY_RULES["none"], ()
    if segment.code == "17" and not any(p.in_force(day) for p in piis):
        return None, SUBSIDY_RULES["ended"], segment.ids
    return segment.code, segment.status, segment.ids


@dataclass(frozen=True, slots=True)
class CodePeriod:
    """From a day on (until the next period), a case's PIIS code of form B."""

    start: dt.date
    code: str | None  # "11" first year, "17" prolongation, None: no PIIS subsidy
    status: str  # one of SUBSIDY_RULES: why
    ids: tuple[uuid.UUID, ...]


def piis_code_periods(
    case: SubsidyFacts,
    partners: Mapping[uuid.UUID, SubsidyFacts],
    *,
    known_at: dt.datetime | None = None,
) -> tuple[CodePeriod, ...]:
    """From which day which PIIS code form B carries: the ledger's own periods.

    The same segments the ledger reads month by month (``_lineages``: code 11
    for the first year, 17 for a prolongation with a PIIS of the household in
    force on the last day of the period before and a written motivation given
    in it, none after it stops), as step changes: the first period is the
    first with a code; each next one changes the code. A code 17 day without
    a PIIS of the household in force has none, as in the ledger. Facts
    recorded by ``known_at`` only (all when None). Pure.
    """
    own = case.known(known_at)
    records = _timeline(own)
    if not records:
        return ()
    piis, segments = _subsidy_periods(records, _persons(own, partners, known_at))
    changes = {s.start for s in segments}
    changes |= {s.end + ONE_DAY for s in segments if s.end < dt.date.max}
    changes |= {p.start for p in piis}
    changes |= {p.ended_on + ONE_DAY for p in piis if p.ended_on is not None}
    periods: list[CodePeriod] = []
    for day in sorted(changes):
        code, status, ids = _code_on(segments, piis, day)
        if (periods[-1].code if periods else None) != code:
            periods.append(CodePeriod(day, code, status, ids))
    return tuple(periods)


def period_on(periods: Sequence[CodePeriod], day: dt.date) -> CodePeriod | None:
    """The period a day falls in (None before the first)."""
    found = None
    for period in periods:
        if period.start > day:
            break
        found = period
    return found


def _segment_on(segments: Sequence[_Segment], day: dt.date) -> _Segment | None:
    found = None
    for segment in segments:  # later segments override earlier ones
        if segment.start <= day <= segment.end:
            found = segment
    return found


@dataclass(frozen=True, slots=True)
class _Missing:
    """A compulsory PIIS of the household missing for a grant: its right, why."""

    right_id: str
    ids: tuple[uuid.UUID, ...]


def _missing(
    grant: Fact,
    person_facts: Mapping[str, tuple[Fact, ...]],
    own: Sequence[Fact],
    as_of: dt.date,
) -> _Missing | None:
    """Whether a compulsory PIIS of the grant's household is missing on as_of.

    Each person whose PIIS the grant makes compulsory (the beneficiary, each
    partner with a case at the CPAS) must have signed one, or been exempted,
    by the deadline of law of 26 May 2002 art. 11; one missing once the
    deadline has passed is enough (SPP IS: the 10% is recovered).
    """
    decided = grant.on("decision_date")
    due = add_months(
        decided, LAW.value("piis.sign_months", decided, field="decision_date")
    )
    if due >= as_of:
        return None
    right = grant.values["right_id"]
    withdrawn = [
        f.on("effective_date")
        for f in own
        if f.kind == "withdrawn" and f.values["right_id"] == right
    ]
    if any(w <= due for w in withdrawn):
        return None
    persons = [("", grant.values["obligation"])] + [
        (case, obligation) for case, obligation in grant.values["partners"]
    ]
    for person, obligation in persons:
        if not obligation.startswith("compulsory"):
            continue
        facts = person_facts.get(person, ())
        met = any(
            (f.kind == "signed" and decided <= f.on("signed_on") <= as_of)
            or (f.kind == "exempted" and decided <= f.on("decided_on") <= as_of)
            for f in facts
        )
        if not met:
            flagged = tuple(
                f.event_id
                for f in own
                if f.kind == "missed" and f.values.get("right_id") in (right, None)
            )
            return _Missing(right, (grant.event_id, *flagged))
    return None


def _rate(basis: str, month: dt.date) -> tuple[int, str]:
    version = LAW.version(f"subsidy.reimbursement.{basis}", month, field="month")
    return version.value, version.source


def _article_60(facts: Sequence[Fact], first: dt.date, last: dt.date) -> list[Fact]:
    ends = {f.values["contract_id"]: f for f in facts if f.kind == "article60_ended"}
    worked = []
    for fact in facts:
        if fact.kind != "article60_started" or fact.on("start_date") > last:
            continue
        end = ends.get(fact.values["contract_id"])
        if end is None or end.on("ended_on") >= first:
            worked.append(fact)
            if end is not None:
                worked.append(end)
    return worked


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def ledger(  # noqa: C901, PLR0912, PLR0915 - one month's sums, said once
    case: SubsidyFacts,
    partners: Mapping[uuid.UUID, SubsidyFacts],
    *,
    as_of: dt.date,
    known_at: dt.datetime | None = None,
    first_month: dt.date | None = None,
    last_month: dt.date | None = None,
) -> tuple[LedgerRow, ...]:
    """The ledger rows of one case, months of its income up to as_of's month.

    ``partners``: the facts of the partners' cases named on its grants (their
    PIIS counts for the household). Only what the hub had recorded by the end
    of ``as_of`` (Brussels) is read, or by ``known_at`` when given.
    """
    cutoff = cutoff_of(as_of, known_at)
    own = case.known(cutoff)
    records = _timeline(own)
    if not records:
        return ()
    grants = [f for f in own if f.kind == "grant"]
    person_facts = _persons(own, partners, cutoff)
    piis, segments = _subsidy_periods(records, person_facts)
    missing = {
        m.right_id: m
        for m in (_missing(g, person_facts, own, as_of) for g in grants)
        if m is not None
    }
    suspensions = [f for f in own if f.kind == "suspended" and not f.values["stay"]]
    recoveries = _recovered_by_month(own)

    month = records[0].effective.replace(day=1)
    if first_month is not None:
        month = max(month, first_month.replace(day=1))
    last = as_of.replace(day=1)
    if last_month is not None:
        last = min(last, last_month.replace(day=1))
    if (last.year - month.year) * 12 + last.month - month.month >= MAX_MONTHS:
        raise DomainError(
            "from_month",
            "subsidy.too_many_months",
            f"a ledger gives at most {MAX_MONTHS} months of a case at once; ask "
            "for a range of months (from_month, to_month)",
        )
    rows: list[LedgerRow] = []
    while month <= last:
        month_end = _month_end(month)
        length = Decimal(month_end.day)
        income = reimbursed = base = recovered_base = Decimal(0)
        days = 0
        ids: set[uuid.UUID] = set()
        code: str | None = None
        status = SUBSIDY_RULES["none"]
        in_force: Fact | None = None
        rate, source, basis = 0, "", _BASE
        for day in _days(month, month_end):
            record = _in_force(records, day)
            if record is None:
                continue
            in_force, days = record, days + 1
            ids.add(record.event_id)
            basis = record.values["basis"] or _BASE
            rate, source = _rate(basis, month)
            amount = Decimal(
                record.values["granted_monthly_amount"]
                or record.values["monthly_amount"]
            )
            share = 0
            for suspension in suspensions:
                if suspension.on("period_start") <= day <= suspension.on("period_end"):
                    share = max(share, suspension.values["percent"])
                    ids.add(suspension.event_id)
            daily = amount * (100 - share) / 100 / length
            income += daily
            reimbursed += daily * rate / 100
            day_code, day_status, day_ids = _code_on(segments, piis, day)
            if day_ids:
                status = day_status
                ids.update(day_ids)
                if day_status == SUBSIDY_RULES["ended"]:
                    continue
                if day_code is not None:
                    code = day_code
                    base += daily
                    # Every PIIS of the household in force: one subsidy for all.
                    ids.update(p.ids[0] for p in piis if p.in_force(day))
                    gap = missing.get(record.values["right_id"])
                    if gap is not None:
                        recovered_base += daily
                        ids.update(gap.ids)
            gap = missing.get(record.values["right_id"])
            if gap is not None:
                ids.update(gap.ids)
        if in_force is not None:
            if any(m.right_id == in_force.values["right_id"] for m in missing.values()):
                status = SUBSIDY_RULES["missing"]
            percent = 0
            if base and LAW.versions("subsidy.piis.percent")[0].valid_from <= month:
                percent = LAW.value("subsidy.piis.percent", month, field="month")
            worked = _article_60(own, month, month_end)
            ids.update(f.event_id for f in worked)
            piis_amount = _cents(base * percent / 100)
            income_recovered, recovery_ids = recoveries.get(month, (Decimal(0), ()))
            ids.update(recovery_ids)
            rows.append(
                LedgerRow(
                    case_id=case.case_id,
                    cpas_kbo=case.cpas_at(cutoff),
                    month=month,
                    right_id=uuid.UUID(in_force.values["right_id"]),
                    category=in_force.values["category"],
                    days_in_force=days,
                    income_amount=_cents(income),
                    rate_percent=rate,
                    rate_basis=basis,
                    rate_source=source,
                    reimbursed_amount=_cents(reimbursed),
                    income_recovered=income_recovered,
                    # At the rate of the month of reference (form D type 01;
                    # a 100 % basis gives the 100 % types).
                    reimbursement_recovered=_cents(income_recovered * rate / 100),
                    piis_code=code,
                    piis_status=status,
                    piis_base=_cents(base),
                    piis_amount=piis_amount,
                    piis_recovered=_cents(recovered_base * percent / 100),
                    article_60=bool(worked),
                    event_ids=tuple(sorted(ids, key=str)),
                )
            )
        if month_end == dt.date.max:
            break  # the calendar's last month: no month follows it
        month = month_end + ONE_DAY
    return tuple(rows)


def _recovered_by_month(
    facts: Sequence[Fact],
) -> dict[dt.date, tuple[Decimal, tuple[uuid.UUID, ...]]]:
    """Income recovered per month of reference, with the decisions behind it."""
    found: dict[dt.date, tuple[Decimal, tuple[uuid.UUID, ...]]] = {}
    for fact in facts:
        if fact.kind != "recovered":
            continue
        for month, amount in fact.values["months"]:
            day = dt.date.fromisoformat(month)
            total, ids = found.get(day, (Decimal(0), ()))
            found[day] = (total + Decimal(amount), (*ids, fact.event_id))
    return found


def partner_ids(facts: SubsidyFacts) -> set[uuid.UUID]:
    """The partners' cases a case's grants name (their PIIS count for it)."""
    return {
        uuid.UUID(partner)
        for fact in facts.facts
        if fact.kind == "grant"
        for partner, _ in fact.values["partners"]
    }


def case_ledger(
    case: SubsidyFacts,
    cases: Mapping[uuid.UUID, SubsidyFacts],
    *,
    cpas_kbo: str,
    as_of: dt.date,
    known_at: dt.datetime | None = None,
    first_month: dt.date | None = None,
    last_month: dt.date | None = None,
) -> tuple[LedgerRow, ...]:
    """One case's rows if it was with the CPAS then (``cases``: its partners')."""
    if case.cpas_at(cutoff_of(as_of, known_at)) != cpas_kbo:
        return ()  # with another CPAS then
    partners = {p: cases[p] for p in partner_ids(case) if p in cases}
    return ledger(
        case,
        partners,
        as_of=as_of,
        known_at=known_at,
        first_month=first_month,
        last_month=last_month,
    )


def ledger_of_cpas(
    histories: Iterable[SubsidyFacts],
    *,
    cpas_kbo: str,
    as_of: dt.date,
    known_at: dt.datetime | None = None,
    first_month: dt.date | None = None,
    last_month: dt.date | None = None,
) -> tuple[LedgerRow, ...]:
    """Every ledger row of one CPAS's cases, by case then month."""
    by_case = {h.case_id: h for h in histories}
    rows: list[LedgerRow] = []
    for case_id in sorted(by_case, key=str):
        rows.extend(
            case_ledger(
                by_case[case_id],
                by_case,
                cpas_kbo=cpas_kbo,
                as_of=as_of,
                known_at=known_at,
                first_month=first_month,
                last_month=last_month,
            )
        )
    return tuple(rows)


def subsidy_facts(events: Iterable[ContractEvent]) -> SubsidyFacts | None:
    """One case's facts folded from its events (the read model's own fold)."""
    projection, facts = SubsidyProjection(), None
    for event in events:
        facts = projection.fold(facts, event) or facts
    return facts


# --------------------------------------------------------------------------
# Reading: the live read model, and the replay from the event stores.


async def load_cpas(
    conn: psycopg.AsyncConnection[Any], schema: str, cpas_kbo: str
) -> list[SubsidyFacts]:
    """Every case's facts that was ever with one CPAS (partners are of the same)."""
    condition = sql.SQL("%s = ANY({})").format(sql.Identifier("cpas_seen"))
    return await SubsidyProjection().rows_matching(conn, schema, condition, (cpas_kbo,))


async def load_case(
    conn: psycopg.AsyncConnection[Any], schema: str, case_id: uuid.UUID
) -> tuple[SubsidyFacts | None, dict[uuid.UUID, SubsidyFacts]]:
    """One case's facts and its partners'."""
    projection = SubsidyProjection()
    found = (await projection.load(conn, schema, [case_id])).get(case_id)
    if found is None:
        return None, {}
    partners = await projection.load(conn, schema, sorted(partner_ids(found), key=str))
    return found, partners


async def replay_ledger(
    conn: psycopg.AsyncConnection[Any],
    cpas_kbo: str,
    window: Window,
    sources: tuple[tuple[str, str], ...] = (
        ("intake", "intake"),
        ("piis", "piis"),
        ("placement", "placement"),
    ),
) -> tuple[LedgerRow, ...]:
    """The ledger of a CPAS replayed from the event stores (PostgreSQL, not Kafka).

    The same fold and the same function as the live read model: as of a past
    date it returns what the live read model returned on that date. It holds
    the CPAS's cases in memory, so the audit report does not use it (it
    computes each case's ledger as its replay reads the case,
    ``services/audit/sections.py``); it is the whole-record reference the
    tests hold the live ledger and the report's to. It folds the cases that
    were ever with the CPAS only (a first pass finds them), as the live read
    reads them (``load_cpas``): a partner's case never with it is not judged
    here when it is not live.
    """
    ours: set[uuid.UUID] = set()
    async for _, page in stored_pages(conn, sources):
        for stored in page:
            event = row_to_event(stored)
            moved_from = getattr(event, "from_cpas_kbo", None)
            if cpas_kbo in (event.cpas_kbo, moved_from):
                ours.add(event.case_id)
    projection = SubsidyProjection()
    rows: dict[uuid.UUID, SubsidyFacts] = {}
    async for _, page in stored_pages(conn, sources):
        for stored in page:
            event = row_to_event(stored)
            if event.case_id not in ours:
                continue
            folded = projection.fold(rows.get(event.case_id), event)
            if folded is not None:
                rows[event.case_id] = folded
    return ledger_of_cpas(rows.values(), cpas_kbo=cpas_kbo, **window.kwargs())
