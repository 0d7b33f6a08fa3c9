"""The annual social-activation report of a CPAS: a pure function of the history.

The 2015 social-activation conventions (royal decree of 27 March 2015) had each
CPAS report a calendar year: the people in a social-activation trajectory framed
by a PIIS, the evaluations held, for how many there was progress (a positive
difference between the baseline of the bilan that opened the trajectory and the
measure on 31 December or at the end), and the qualitative objectives as
recorded. The counting rules are those of
docs/domain/trajectory-and-activation.md#annual-social-activation-report.

Every trajectory keeps its start and each of its evaluations with the time the
hub recorded them, so the report "known at" a past time is the one the hub gave
then: what was recorded later is left out. The same fold serves the read model
(``services.case_state.activation``) and a replay from the event store
(``replay``), so both give one report. No scores and no names: per trajectory,
ids, dates, the difference and what the CPAS recorded with the final measurement.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from contracts.envelope import ContractEvent
from contracts.piis import (
    ActivationAim,
    ActivationType,
    SocialActivationEvaluatedV1,
    SocialActivationStartedV1,
)
from services.common.http import BRUSSELS

__all__ = [
    "Basis",
    "Measurement",
    "Outcome",
    "Trajectory",
    "annual_report",
    "as_csv",
    "as_json",
    "known_cutoff",
    "replay",
    "trajectories_after",
]

Basis = Literal["end", "31_december"]
Outcome = Literal["positive", "zero", "negative", "missing"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
AIMS: tuple[str, ...] = (*get_args(ActivationAim), "not_recorded")
_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True, slots=True)
class Measurement:
    """One evaluation of a trajectory, as recorded (no scores: the difference)."""

    evaluated_on: dt.date
    recorded_at: dt.datetime | None
    progress: Mapping[str, int]
    final: bool
    objective_achieved: bool | None = None
    partnerships: tuple[str, ...] = ()
    failure_reason: str | None = None

    @property
    def difference(self) -> int:
        """The sum over the baseline's domains of score minus baseline."""
        return sum(self.progress.values())

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            **dataclasses.asdict(self),
            "evaluated_on": self.evaluated_on.isoformat(),
            "recorded_at": _iso(self.recorded_at),
            "progress": dict(self.progress),
            "partnerships": list(self.partnerships),
        }

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> Measurement:
        """The measurement from its JSON form."""
        return cls(
            dt.date.fromisoformat(item["evaluated_on"]),
            _time(item["recorded_at"]),
            dict(item["progress"]),
            item["final"],
            item["objective_achieved"],
            tuple(item["partnerships"]),
            item["failure_reason"],
        )


@dataclass(frozen=True, slots=True)
class Trajectory:
    """One social-activation trajectory: its start and every evaluation."""

    activation_id: uuid.UUID
    case_id: uuid.UUID
    cpas_kbo: str
    activation_type: str
    starts_on: dt.date
    planned_end_date: dt.date
    recorded_at: dt.datetime | None
    piis_id: uuid.UUID | None = None
    aim: str | None = None
    evaluations: tuple[Measurement, ...] = ()

    def known(self, cutoff: dt.datetime | None) -> Trajectory | None:
        """The trajectory as the hub knew it at a time (None: not yet started)."""
        if cutoff is None:
            return self
        if (self.recorded_at or _NEVER) > cutoff:
            return None
        kept = tuple(e for e in self.evaluations if (e.recorded_at or _NEVER) <= cutoff)
        return dataclasses.replace(self, evaluations=kept)

    @property
    def final(self) -> Measurement | None:
        """The final measurement, if recorded."""
        return next((e for e in self.evaluations if e.final), None)

    @property
    def ends_on(self) -> dt.date:
        """The planned end, or the final measurement when that comes first."""
        final = self.final
        if final is None:
            return self.planned_end_date
        return min(final.evaluated_on, self.planned_end_date)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "activation_id": str(self.activation_id),
            "case_id": str(self.case_id),
            "cpas_kbo": self.cpas_kbo,
            "activation_type": self.activation_type,
            "starts_on": self.starts_on.isoformat(),
            "planned_end_date": self.planned_end_date.isoformat(),
            "recorded_at": _iso(self.recorded_at),
            "piis_id": str(self.piis_id) if self.piis_id else None,
            "aim": self.aim,
            "evaluations": [e.to_json() for e in self.evaluations],
        }

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> Trajectory:
        """The trajectory from its JSON form."""
        return cls(
            uuid.UUID(item["activation_id"]),
            uuid.UUID(item["case_id"]),
            item["cpas_kbo"],
            item["activation_type"],
            dt.date.fromisoformat(item["starts_on"]),
            dt.date.fromisoformat(item["planned_end_date"]),
            _time(item["recorded_at"]),
            uuid.UUID(item["piis_id"]) if item["piis_id"] else None,
            item["aim"],
            tuple(Measurement.from_json(e) for e in item["evaluations"]),
        )


def trajectories_after(
    trajectories: tuple[Trajectory, ...], event: ContractEvent
) -> tuple[Trajectory, ...] | None:
    """A case's trajectories after one event (None: the event is not about them).

    An evaluation of a trajectory the history does not hold (one started before
    the history was kept) changes nothing; a rebuild fills it in.
    """
    match event:
        case SocialActivationStartedV1():
            if any(t.activation_id == event.activation_id for t in trajectories):
                return trajectories
            started = Trajectory(
                event.activation_id,
                event.case_id,
                event.cpas_kbo,
                event.activation_type,
                event.starts_on,
                event.planned_end_date,
                event.recorded_at,
                event.piis_id,
                event.aim,
            )
            return (*trajectories, started)
        case SocialActivationEvaluatedV1():
            measured = Measurement(
                event.evaluated_on,
                event.recorded_at,
                dict(event.progress),
                event.final,
                event.objective_achieved,
                tuple(event.partnerships),
                event.failure_reason,
            )
            return tuple(
                dataclasses.replace(t, evaluations=(*t.evaluations, measured))
                if t.activation_id == event.activation_id
                else t
                for t in trajectories
            )
        case _:
            return None


def replay(events: Iterable[ContractEvent]) -> list[Trajectory]:
    """Every trajectory folded from events in their order (e.g. the event store)."""
    per_case: dict[uuid.UUID, tuple[Trajectory, ...]] = {}
    for event in events:
        after = trajectories_after(per_case.get(event.case_id, ()), event)
        if after is not None:
            per_case[event.case_id] = after
    return [t for case in per_case.values() for t in case]


def known_cutoff(known_at: dt.datetime | None) -> dt.datetime | None:
    """The time to read up to: a wall-clock time is Brussels time."""
    if known_at is not None and known_at.tzinfo is None:
        return known_at.replace(tzinfo=BRUSSELS)
    return known_at


def _measure(
    trajectory: Trajectory, last_day: dt.date
) -> tuple[Basis, Measurement | None]:
    """Measured at the end (ended by 31 December) or at 31 December."""
    if trajectory.ends_on <= last_day:
        return "end", trajectory.final
    before = [e for e in trajectory.evaluations if e.evaluated_on <= last_day]
    return "31_december", max(before, key=lambda e: e.evaluated_on, default=None)


def _outcome(measure: Measurement | None) -> Outcome:
    if measure is None:
        return "missing"
    if measure.difference > 0:
        return "positive"
    return "zero" if measure.difference == 0 else "negative"


def _line(trajectory: Trajectory, year: int) -> dict[str, Any]:
    last_day = dt.date(year, 12, 31)
    basis, measure = _measure(trajectory, last_day)
    final = trajectory.final if basis == "end" else None
    return {
        "activation_id": str(trajectory.activation_id),
        "case_id": str(trajectory.case_id),
        "activation_type": trajectory.activation_type,
        "aim": trajectory.aim,
        "starts_on": trajectory.starts_on.isoformat(),
        "ends_on": trajectory.ends_on.isoformat(),
        "framed_by_piis": trajectory.piis_id is not None,
        "piis_id": str(trajectory.piis_id) if trajectory.piis_id else None,
        "evaluations_in_year": sum(
            1 for e in trajectory.evaluations if e.evaluated_on.year == year
        ),
        "measured": basis,
        "measured_on": measure.evaluated_on.isoformat() if measure else None,
        "difference": measure.difference if measure else None,
        "progress": _outcome(measure),
        "objective_achieved": final.objective_achieved if final else None,
        "partnerships": list(final.partnerships) if final else [],
        "failure_reason": final.failure_reason if final else None,
    }


def _progress(lines: list[dict[str, Any]]) -> dict[str, int]:
    counted = Counter(line["progress"] for line in lines)
    return {outcome: counted.get(outcome, 0) for outcome in OUTCOMES}


def _qualitative(lines: list[dict[str, Any]]) -> dict[str, Any]:
    at_end = [line for line in lines if line["measured"] == "end"]
    partnerships: Counter[str] = Counter(
        p for line in at_end for p in line["partnerships"]
    )
    achieved = Counter(line["objective_achieved"] for line in at_end)
    return {
        "measured_at_end": len(at_end),
        "achieved": achieved.get(True, 0),
        "not_achieved": achieved.get(False, 0),
        "not_recorded": achieved.get(None, 0),
        "with_failure_reason": sum(1 for line in at_end if line["failure_reason"]),
        "partnerships": dict(sorted(partnerships.items())),
    }


def annual_report(
    trajectories: Iterable[Trajectory],
    *,
    cpas_kbo: str,
    year: int,
    known_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The social-activation report of one CPAS for one calendar year.

    ``known_at``: only what the hub had recorded by then (a wall-clock time is
    Brussels time); None: everything recorded so far.
    """
    first_day, last_day = dt.date(year, 1, 1), dt.date(year, 12, 31)
    cutoff = known_cutoff(known_at)
    mine = [
        known
        for t in trajectories
        if t.cpas_kbo == cpas_kbo and (known := t.known(cutoff)) is not None
    ]
    in_year = sorted(
        (t for t in mine if t.starts_on <= last_day and t.ends_on >= first_day),
        key=lambda t: (t.starts_on, str(t.activation_id)),
    )
    lines = [_line(t, year) for t in in_year]
    framed = [line for line in lines if line["framed_by_piis"]]
    held = [
        e
        for t in mine
        for e in t.evaluations
        if first_day <= e.evaluated_on <= last_day
    ]
    types = Counter(line["activation_type"] for line in lines)
    return {
        "cpas_kbo": cpas_kbo,
        "year": year,
        "period": {"from": first_day.isoformat(), "to": last_day.isoformat()},
        "known_at": _iso(cutoff),
        "participants": {
            "all": len({line["case_id"] for line in lines}),
            "framed_by_piis": len({line["case_id"] for line in framed}),
        },
        "trajectories": {
            "all": len(lines),
            "framed_by_piis": len(framed),
            "by_type": {k: types.get(k, 0) for k in get_args(ActivationType)},
        },
        "evaluations_held": {
            "all": len(held),
            "final": sum(1 for e in held if e.final),
        },
        "measured": {
            basis: sum(1 for line in lines if line["measured"] == basis)
            for basis in get_args(Basis)
        },
        "progress": {"all": _progress(lines), "framed_by_piis": _progress(framed)},
        "progress_by_aim": {
            aim: _progress(
                [line for line in lines if (line["aim"] or "not_recorded") == aim]
            )
            for aim in AIMS
        },
        "qualitative_objectives": _qualitative(lines),
        "lines": lines,
    }


def as_json(report: Mapping[str, Any]) -> str:
    """The report as indented JSON (one trailing newline)."""
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def _flatten(prefix: str, value: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield from _flatten(f"{prefix}.{key}" if prefix else str(key), inner)
    else:
        yield prefix, "" if value is None else value


def as_csv(report: Mapping[str, Any]) -> str:
    """The report's figures, one ``indicator,value`` a line (no trajectory lines)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("indicator", "value"))
    figures = {k: v for k, v in report.items() if k != "lines"}
    writer.writerows(_flatten("", figures))
    return out.getvalue()
