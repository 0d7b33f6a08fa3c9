"""The article 60/61 roster of a CPAS: who works under which contract, as of any date.

Every event about an article 60 §7 contract or an article 61 agreement appends a
snapshot of that contract (its whole state after the event) to the case's
history, tagged with the time the hub recorded it. The roster of a date is a
pure function of those histories: for each contract, the last snapshot the hub
knew by the end of that day (in Brussels), unless the caller asks for what was
known at another time. So the roster as of a past date stays what it was on that
date; a correction recorded later (a backdated early end, say) shows only to a
caller who passes a later ``known_at``.

No personal data: the rows hold contract facts and organisation names, never
who the worker is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import psycopg

from contracts.envelope import ContractEvent
from contracts.placement import (
    Article60CancelledV1,
    Article60EndedV1,
    Article60PlacementAgreedV1,
    Article60PlannedV1,
    Article60RequiredPeriodCalculatedV1,
    Article60SignedV1,
    Article60StartedV1,
    Article61AgreementSignedV1,
    Article61EndedV1,
)
from services.common.http import BRUSSELS
from services.common.row_table import RowTable
from services.placement.periods import work_days_between

__all__ = [
    "ENDING_BUCKETS",
    "ContractKind",
    "ContractSnapshot",
    "PlacementHistory",
    "Roster",
    "RosterEntry",
    "RosterProjection",
    "contract_after",
    "contract_id_of",
    "cutoff_of",
    "end_of_day",
    "load_cpas",
    "roster",
]

ContractKind = Literal["article_60", "article_61"]
ENDING_BUCKETS: tuple[int, ...] = (30, 60, 90)
_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)
# Statuses in which a contract is (or was) being worked.
_WORKED: dict[str, frozenset[str]] = {
    "article_60": frozenset({"started", "ended"}),
    "article_61": frozenset({"signed", "ended"}),
}
_DATES = ("start_date", "planned_end_date", "ended_on", "placement_starts_on")


@dataclass(frozen=True, slots=True)
class ContractSnapshot:
    """One article 60 contract or article 61 agreement after one of its events."""

    kind: ContractKind
    contract_id: uuid.UUID
    # article 60: planned, signed, started, ended, cancelled; article 61: signed, ended
    status: str
    start_date: dt.date | None = None  # the planned start while planned
    planned_end_date: dt.date | None = None
    ended_on: dt.date | None = None
    end_reason: str | None = None
    required_work_days: int | None = None  # article 60 only
    weekly_hours: Decimal | None = None  # None: full time
    region_scheme: str | None = None
    user_organisation_kbo: str | None = None  # article 60 placement
    user_organisation_name: str | None = None
    placement_starts_on: dt.date | None = None  # None with a user: from the start
    employer_kbo: str | None = None  # article 61
    employer_name: str | None = None
    subsidy_flags: tuple[str, ...] = ()  # article 61

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (dates ISO, decimals as strings)."""
        return {
            field.name: _jsonable(getattr(self, field.name))
            for field in dataclasses.fields(self)
        }

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> ContractSnapshot:
        """A snapshot from its JSON form."""
        values = dict(item)
        for name in _DATES:
            if values.get(name) is not None:
                values[name] = dt.date.fromisoformat(values[name])
        values["contract_id"] = uuid.UUID(values["contract_id"])
        if values.get("weekly_hours") is not None:
            values["weekly_hours"] = Decimal(values["weekly_hours"])
        values["subsidy_flags"] = tuple(values.get("subsidy_flags", ()))
        return cls(**values)


# (recorded at, the contract after the event): None is "known since ever".
Version = tuple[dt.datetime | None, ContractSnapshot]


@dataclass(frozen=True, slots=True)
class PlacementHistory:
    """Every snapshot of every contract of one case, in the order of its events."""

    case_id: uuid.UUID
    cpas_kbo: str
    versions: tuple[Version, ...] = ()

    def current(self, contract_id: uuid.UUID) -> ContractSnapshot | None:
        """The latest snapshot of a contract, whenever recorded."""
        for _, snapshot in reversed(self.versions):
            if snapshot.contract_id == contract_id:
                return snapshot
        return None

    def known(
        self, known_at: dt.datetime | None
    ) -> dict[uuid.UUID, list[ContractSnapshot]]:
        """The snapshots of each contract recorded by a time (all when None)."""
        contracts: dict[uuid.UUID, list[ContractSnapshot]] = {}
        for recorded, snapshot in self.versions:
            if known_at is not None and (recorded or _NEVER) > known_at:
                continue
            contracts.setdefault(snapshot.contract_id, []).append(snapshot)
        return contracts


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """One contract being worked on the roster's date."""

    kind: ContractKind
    contract_id: uuid.UUID
    case_id: uuid.UUID
    start_date: dt.date
    planned_end_date: dt.date | None
    ended_on: dt.date | None  # known last day, when the end is recorded
    work_days_accrued: int
    required_work_days: int | None
    days_remaining: int | None  # article 60: work days still to reach the right
    ending_within: int | None  # 30, 60 or 90; None: later (or no known end)
    past_planned_end: bool
    region_scheme: str | None
    user_organisation_kbo: str | None
    user_organisation_name: str | None
    employer_kbo: str | None
    employer_name: str | None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (dates ISO, ids as strings)."""
        return {
            field.name: _jsonable(getattr(self, field.name))
            for field in dataclasses.fields(self)
        }


@dataclass(frozen=True, slots=True)
class Roster:
    """The article 60/61 roster of one CPAS on one date."""

    cpas_kbo: str
    as_of: dt.date
    known_at: dt.datetime
    active: int
    ending_within_30: int
    ending_within_60: int
    ending_within_90: int
    article_60: int
    article_61: int
    user_organisations: dict[str, int]  # KBO of the user: workers placed there
    entries: tuple[RosterEntry, ...]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (dates ISO)."""
        return {
            field.name: _jsonable(getattr(self, field.name))
            for field in dataclasses.fields(self)
            if field.name != "entries"
        } | {"entries": [entry.as_dict() for entry in self.entries]}


def end_of_day(day: dt.date) -> dt.datetime:
    """The last instant of a day in Brussels: what the hub knew on that day."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=BRUSSELS)


def known_by(
    as_of: dt.date, known_at: dt.datetime | None, now: dt.datetime
) -> dt.datetime:
    """The time an answer as of a date states it knew things by.

    ``known_at`` when asked, else the end of as_of in Brussels, or now if
    that is earlier: an answer never claims a time still to come, so what
    it states it knew does not change later that day.
    """
    if known_at is not None:
        return cutoff_of(as_of, known_at)
    return min(end_of_day(as_of), now)


def cutoff_of(as_of: dt.date, known_at: dt.datetime | None) -> dt.datetime:
    """What the hub knew: by the end of as_of (Brussels), or by known_at."""
    if known_at is None:
        return end_of_day(as_of)
    if known_at.tzinfo is None:  # a wall-clock time is Brussels time
        return known_at.replace(tzinfo=BRUSSELS)
    return known_at


def _user_organisation(
    snapshots: Sequence[ContractSnapshot], as_of: dt.date
) -> tuple[str | None, str | None]:
    """The user organisation the worker was placed with on a date (if any).

    The last placement that had started by then: a later change of user shows
    only from the day it starts.
    """
    for snapshot in reversed(snapshots):
        placed_on = snapshot.placement_starts_on or snapshot.start_date
        if snapshot.user_organisation_kbo and placed_on and placed_on <= as_of:
            return snapshot.user_organisation_kbo, snapshot.user_organisation_name
    return None, None


def _entry(
    case_id: uuid.UUID, snapshots: Sequence[ContractSnapshot], as_of: dt.date
) -> RosterEntry | None:
    """The roster entry of a contract from its known snapshots (None: not on it)."""
    last = snapshots[-1]
    start = last.start_date
    if last.status not in _WORKED[last.kind] or start is None or start > as_of:
        return None
    if last.ended_on is not None and last.ended_on < as_of:
        return None
    accrued = work_days_between(start, as_of, last.weekly_hours)
    remaining = None
    if last.kind == "article_60" and last.required_work_days is not None:
        remaining = max(0, last.required_work_days - accrued)
    ends_on = last.ended_on or last.planned_end_date
    ending_within = None
    if ends_on is not None:
        left = (ends_on - as_of).days
        ending_within = next((b for b in ENDING_BUCKETS if left <= b), None)
    user_kbo, user_name = (None, None)
    if last.kind == "article_60":
        user_kbo, user_name = _user_organisation(snapshots, as_of)
    return RosterEntry(
        kind=last.kind,
        contract_id=last.contract_id,
        case_id=case_id,
        start_date=start,
        planned_end_date=last.planned_end_date,
        ended_on=last.ended_on,
        work_days_accrued=accrued,
        required_work_days=last.required_work_days,
        days_remaining=remaining,
        ending_within=ending_within,
        past_planned_end=(
            last.planned_end_date is not None and as_of > last.planned_end_date
        ),
        region_scheme=last.region_scheme,
        user_organisation_kbo=user_kbo,
        user_organisation_name=user_name,
        employer_kbo=last.employer_kbo,
        employer_name=last.employer_name,
    )


def roster(
    histories: Iterable[PlacementHistory],
    *,
    cpas_kbo: str,
    as_of: dt.date,
    known_at: dt.datetime | None = None,
) -> Roster:
    """The roster of one CPAS on one date, as the hub knew it then (or at known_at).

    A contract is on it when it is being worked on that date: an article 60
    started (or since ended), an article 61 signed (or since ended), begun by
    then and not ended before. ``ending_within`` uses the recorded last day when
    there is one, else the planned end; past the planned end counts as 30.
    """
    cutoff = cutoff_of(as_of, known_at)
    entries: list[RosterEntry] = []
    for history in histories:
        if history.cpas_kbo != cpas_kbo:
            continue
        for snapshots in history.known(cutoff).values():
            entry = _entry(history.case_id, snapshots, as_of)
            if entry is not None:
                entries.append(entry)
    entries.sort(
        key=lambda e: (
            e.ended_on or e.planned_end_date or dt.date.max,
            str(e.case_id),
            str(e.contract_id),
        )
    )
    buckets = Counter(e.ending_within for e in entries)
    placed: dict[str, set[uuid.UUID]] = {}
    for entry in entries:
        if entry.user_organisation_kbo is not None:
            placed.setdefault(entry.user_organisation_kbo, set()).add(entry.case_id)
    return Roster(
        cpas_kbo=cpas_kbo,
        as_of=as_of,
        known_at=cutoff,
        active=len(entries),
        ending_within_30=buckets[30],
        ending_within_60=buckets[30] + buckets[60],
        ending_within_90=buckets[30] + buckets[60] + buckets[90],
        article_60=sum(1 for e in entries if e.kind == "article_60"),
        article_61=sum(1 for e in entries if e.kind == "article_61"),
        user_organisations={kbo: len(placed[kbo]) for kbo in sorted(placed)},
        entries=tuple(entries),
    )


def _jsonable(value: Any) -> Any:
    match value:
        case dt.date() | dt.datetime():
            return value.isoformat()
        case uuid.UUID() | Decimal():
            return str(value)
        case tuple() | list():
            return [_jsonable(v) for v in value]
        case dict():
            return {str(k): _jsonable(v) for k, v in value.items()}
        case _:
            return value


def _article_60_changes(
    snapshot: ContractSnapshot, event: ContractEvent
) -> dict[str, Any]:
    """What an article 60 event changes in its contract."""
    changes: dict[str, Any]
    match event:
        case Article60PlannedV1():
            changes = {
                "status": "planned",
                "start_date": event.planned_start_date,
                "planned_end_date": event.planned_end_date,
                "required_work_days": event.default_required_work_days,
                "weekly_hours": event.weekly_hours,
                "region_scheme": event.region_scheme,
            }
        case Article60RequiredPeriodCalculatedV1():
            changes = {"required_work_days": event.required_work_days}
        case Article60SignedV1():
            changes = {
                "status": "signed",
                "start_date": event.start_date,
                "planned_end_date": event.planned_end_date,
                "required_work_days": event.required_work_days,
            }
        case Article60StartedV1():
            changes = {
                "status": "started",
                "start_date": event.start_date,
                "planned_end_date": event.planned_end_date,
                "required_work_days": event.required_work_days,
                "region_scheme": event.region_scheme,
            }
            if event.regime == "full_time":
                changes["weekly_hours"] = None
            user = event.user_organisation_kbo
            if user is not None and user != snapshot.user_organisation_kbo:
                # A user named at the start: placed from the first day.
                changes |= {
                    "user_organisation_kbo": user,
                    "user_organisation_name": None,
                    "placement_starts_on": None,
                }
        case Article60PlacementAgreedV1():
            changes = {
                "user_organisation_kbo": event.user_organisation_kbo,
                "user_organisation_name": event.user_organisation_name,
                "placement_starts_on": event.placement_starts_on,
            }
        case Article60EndedV1():
            changes = {
                "status": "ended",
                "ended_on": event.ended_on,
                "end_reason": event.reason,
                "required_work_days": snapshot.required_work_days
                or event.required_work_days,
            }
        case Article60CancelledV1():
            changes = {"status": "cancelled"}
        case _:
            raise TypeError(f"not an article 60 event: {type(event).__name__}")
    return changes


def _article_61_changes(event: ContractEvent) -> dict[str, Any]:
    """What an article 61 event changes in its agreement."""
    changes: dict[str, Any]
    match event:
        case Article61AgreementSignedV1():
            changes = {
                "status": "signed",
                "start_date": event.start_date,
                "planned_end_date": event.planned_end_date,
                "weekly_hours": event.weekly_hours,
                "region_scheme": event.region_scheme,
                "employer_kbo": event.employer_kbo,
                "employer_name": event.employer_name,
                "subsidy_flags": tuple(event.subsidy_flags),
            }
        case Article61EndedV1():
            changes = {
                "status": "ended",
                "ended_on": event.ended_on,
                "end_reason": event.reason,
            }
        case _:
            raise TypeError(f"not an article 61 event: {type(event).__name__}")
    return changes


_ARTICLE_60_EVENTS = (
    Article60PlannedV1,
    Article60RequiredPeriodCalculatedV1,
    Article60SignedV1,
    Article60StartedV1,
    Article60PlacementAgreedV1,
    Article60EndedV1,
    Article60CancelledV1,
)
_ARTICLE_61_EVENTS = (Article61AgreementSignedV1, Article61EndedV1)


def contract_id_of(event: ContractEvent) -> uuid.UUID | None:
    """The article 60 contract or article 61 agreement an event is about, if any."""
    if isinstance(event, _ARTICLE_60_EVENTS):
        return event.contract_id
    if isinstance(event, _ARTICLE_61_EVENTS):
        return event.agreement_id
    return None


def contract_after(
    current: ContractSnapshot | None, event: ContractEvent
) -> ContractSnapshot | None:
    """A contract after one of its events.

    None: not a contract event, or an id a contract of the other article has
    (nothing to fold into).
    """
    if isinstance(event, _ARTICLE_60_EVENTS):
        if current is not None and current.kind != "article_60":
            return None
        base = current or ContractSnapshot("article_60", event.contract_id, "planned")
        return dataclasses.replace(base, **_article_60_changes(base, event))
    if isinstance(event, _ARTICLE_61_EVENTS):
        if current is not None and current.kind != "article_61":
            return None
        base = current or ContractSnapshot("article_61", event.agreement_id, "signed")
        return dataclasses.replace(base, **_article_61_changes(event))
    return None


class RosterProjection(RowTable[PlacementHistory]):
    """Folds the placement events into each case's contract snapshots."""

    name = "roster"
    table = "placement_history"
    columns = (
        ("case_id", "uuid PRIMARY KEY"),
        ("cpas_kbo", "text NOT NULL"),
        ("versions", "jsonb NOT NULL"),
    )
    indexes = ("cpas_kbo",)

    def fold(
        self, row: PlacementHistory | None, event: ContractEvent
    ) -> PlacementHistory | None:
        """The history after one event (None: not a contract event)."""
        contract_id = contract_id_of(event)
        if contract_id is None:
            return None
        # A case may be heard of first through the placement topic: the
        # envelope carries the case and its CPAS.
        history = row or PlacementHistory(event.case_id, event.cpas_kbo)
        snapshot = contract_after(history.current(contract_id), event)
        if snapshot is None:
            return None
        return dataclasses.replace(
            history, versions=(*history.versions, (event.recorded_at, snapshot))
        )

    def encode(self, row: PlacementHistory) -> tuple[Any, ...]:
        """The history's column values (versions as JSON)."""
        versions = [
            {"recorded_at": recorded.isoformat() if recorded else None}
            | snapshot.to_json()
            for recorded, snapshot in row.versions
        ]
        return (row.case_id, row.cpas_kbo, json.dumps(versions))

    def decode(self, record: Sequence[Any]) -> PlacementHistory:
        """A history from its column values."""
        case_id, cpas_kbo, versions = record
        loaded: list[Version] = []
        for item in versions:
            values = dict(item)
            recorded = values.pop("recorded_at")
            loaded.append(
                (
                    dt.datetime.fromisoformat(recorded) if recorded else None,
                    ContractSnapshot.from_json(values),
                )
            )
        return PlacementHistory(case_id, cpas_kbo, tuple(loaded))


async def load_cpas(
    conn: psycopg.AsyncConnection[Any], schema: str, cpas_kbo: str
) -> list[PlacementHistory]:
    """Every placement history of one CPAS."""
    return await RosterProjection().rows_where(conn, schema, "cpas_kbo", cpas_kbo)
