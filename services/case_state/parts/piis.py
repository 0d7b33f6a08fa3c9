"""The PIIS part: the PIIS, its follow-up, the phase, activation, open deadlines.

The PIIS with its evaluations, notices and sanctions; the trajectory phase;
social activation; the missed deadlines not met yet.

Missed deadlines are read by their ``kind`` (any kind the watch emits shows,
a kind added later included); what meets one is decided by what it is about
and, for the kinds known here, by the act it asked for (``_MET_BY``). A kind
not listed stays open until the PIIS or the activation it concerns ends.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from contracts.case_state import (
    EvaluationWindow,
    OpenDeadline,
    Piis,
    PiisExemption,
    PiisNotice,
    PiisSanction,
    SocialActivation,
    Trajectory,
)
from contracts.envelope import ContractEvent
from contracts.piis import (
    HearingHeldV1,
    PhaseChangedV1,
    PiisAmendedV1,
    PiisDeadlineMissedV1,
    PiisEndedV1,
    PiisEvaluatedV1,
    PiisExemptionGrantedV1,
    PiisNoticeServedV1,
    PiisProposedV1,
    PiisSanctionDecidedV1,
    PIISSignedV1,
    SocialActivationEvaluatedV1,
    SocialActivationEvaluationOverdueV1,
    SocialActivationStartedV1,
)
from services.case_state.deadlines import ACTIVATION_EVALUATION, MISSED, missed_kind
from services.case_state.parts import Part, PartFold
from services.common.errors import DomainError
from services.common.law import LAW, add_months
from services.piis.trajectory import EXITS

__all__ = [
    "Evaluation",
    "PiisFold",
    "PiisPart",
    "PiisRecord",
    "evaluation_window",
    "next_evaluation_due",
]

# A line the watch writes for a deadline already met, late (the signature's).
_MET_ON_ARRIVAL: Final = frozenset({"piis_signed_late"})


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One evaluation of the PIIS (its outcome, prose about the person, left out)."""

    on: dt.date
    in_person: bool
    next_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class PiisRecord:
    """The PIIS the state shows, with what its derived fields are computed from."""

    piis_id: uuid.UUID
    status: Literal["proposed", "signed", "ended"]
    piis_type: str
    start_date: dt.date
    planned_end_date: dt.date
    proposed_on: dt.date | None = None
    signed_on: dt.date | None = None
    ended_on: dt.date | None = None
    outcome: str | None = None
    caseworker: str | None = None
    plan: tuple[dt.date, ...] = ()
    evaluations: tuple[Evaluation, ...] = ()
    notices: tuple[PiisNotice, ...] = ()
    sanctions: tuple[PiisSanction, ...] = ()


@dataclass(frozen=True, slots=True)
class PiisPart(Part):
    """What the PIIS service's events say of the case."""

    piis: PiisRecord | None = None
    # The caseworker of each draft not signed yet (the signature does not say).
    caseworkers: dict[uuid.UUID, str] = field(default_factory=dict)
    exemption: PiisExemption | None = None
    trajectory: Trajectory | None = None
    activation: SocialActivation | None = None
    deadlines: tuple[OpenDeadline, ...] = ()
    # The PIIS and the activations that ended: what a deadline about them
    # asked for can no longer be done.
    ended: tuple[uuid.UUID, ...] = ()


def evaluation_window(piis: PiisRecord) -> EvaluationWindow | None:
    """The evaluations of the twelve months up to the latest one (none before it).

    The length of the window and the counts required are the law's figures in
    force on the latest evaluation's day (services/common/law.py).
    """
    if not piis.evaluations:
        return None
    last = max(e.on for e in piis.evaluations)
    try:
        months = LAW.value("piis.evaluation_window_months", last, field="evaluated_on")
        required = LAW.value("piis.evaluations_per_window", last, field="evaluated_on")
        in_person = LAW.value("piis.in_person_per_window", last, field="evaluated_on")
    except DomainError:  # a day no version of the law's figures covers
        return None
    start = max(piis.start_date, add_months(last, -months) + dt.timedelta(days=1))
    inside = [e for e in piis.evaluations if start <= e.on <= last]
    return EvaluationWindow(
        window_from=start,
        window_to=last,
        evaluations=len(inside),
        in_person=sum(1 for e in inside if e.in_person),
        required=required,
        required_in_person=in_person,
    )


def next_evaluation_due(piis: PiisRecord) -> dt.date | None:
    """While in force: the date the latest evaluation planned, else the plan's next."""
    if piis.status != "signed":
        return None
    latest = max(piis.evaluations, key=lambda e: e.on, default=None)
    if latest is not None and latest.next_on is not None:
        return latest.next_on
    after = latest.on if latest is not None else None
    return next((d for d in sorted(piis.plan) if after is None or d > after), None)


def _meets_the_window(piis: PiisRecord | None) -> bool:
    window = evaluation_window(piis) if piis is not None else None
    return (
        window is not None
        and window.required is not None
        and window.required_in_person is not None
        and window.evaluations >= window.required
        and window.in_person >= window.required_in_person
    )


Rule = Callable[[OpenDeadline, PiisPart, ContractEvent], bool]

# What meets a missed deadline of a known kind (the part is the one after the event).
_MET_BY: Final[dict[str, Rule]] = {
    # Law of 26 May 2002 art. 11: a signature, or the exemption it allows.
    "piis_not_signed": lambda _d, _p, e: isinstance(
        e, PIISSignedV1 | PiisExemptionGrantedV1
    ),
    # Royal decree of 11 July 2002 art. 11: an evaluation that brings the
    # twelve months before it back to the count the law requires.
    "evaluations_missing": lambda d, p, e: (
        isinstance(e, PiisEvaluatedV1)
        and d.piis_id in {None, e.piis_id}
        and _meets_the_window(p.piis)
    ),
    ACTIVATION_EVALUATION: lambda d, _p, e: (
        isinstance(e, SocialActivationEvaluatedV1)
        and d.activation_id in {None, e.activation_id}
    ),
}


def _met(deadline: OpenDeadline, part: PiisPart, event: ContractEvent) -> bool:
    """Whether a missed deadline is met, or what it is about has ended.

    The part is the one after the event: a PIIS or an activation that ended
    (before the watch flagged it, too) settles every deadline about it.
    """
    if deadline.kind in _MET_ON_ARRIVAL:
        return True
    if deadline.piis_id in part.ended or deadline.activation_id in part.ended:
        return True
    rule = _MET_BY.get(deadline.kind)
    return rule is not None and rule(deadline, part, event)


def _missed(event: ContractEvent) -> OpenDeadline | None:
    """The missed deadline an event reports, whatever its kind (None: not one)."""
    kind = missed_kind(event)
    if kind is None:
        return None
    assert isinstance(event, MISSED)  # noqa: S101 - missed_kind said so
    return OpenDeadline(
        kind=kind,
        due_on=event.due_on,
        detected_on=event.detected_on,
        piis_id=getattr(event, "piis_id", None),
        activation_id=getattr(event, "activation_id", None),
        right_id=getattr(event, "right_id", None),
        caseworker=getattr(event, "caseworker", None),
    )


class PiisFold(PartFold[PiisPart]):
    """Folds the PIIS service's events into the PIIS part."""

    service = "piis"
    part = PiisPart

    def fold(self, part: PiisPart | None, event: ContractEvent) -> PiisPart | None:
        """The part after one PIIS-service event."""
        base = part or PiisPart(cpas_kbo=event.cpas_kbo)
        changes = _changes(base, event)
        if changes is None:
            return None
        ended = _ended(event)
        if ended is not None and ended not in base.ended:
            changes["ended"] = (*base.ended, ended)
        after = dataclasses.replace(base, **changes)
        missed = _missed(event)
        deadlines = list(after.deadlines)
        if missed is not None and missed not in deadlines:
            deadlines.append(missed)
        kept = tuple(d for d in deadlines if not _met(d, after, event))
        return after.evolve(event, deadlines=kept)

    def sections(self, part: PiisPart) -> dict[str, Any]:
        """The PIIS, the exemption, the trajectory, social activation, deadlines."""
        return {
            "piis": None if part.piis is None else _shown(part.piis),
            "piis_exemption": part.exemption,
            "trajectory": part.trajectory,
            "social_activation": part.activation,
            "open_deadlines": tuple(
                sorted(
                    part.deadlines,
                    key=lambda d: (d.due_on, d.kind, str(d.piis_id or "")),
                )
            ),
        }


def _ended(event: ContractEvent) -> uuid.UUID | None:
    """The PIIS or the activation an event ends, if it ends one."""
    if isinstance(event, PiisEndedV1):
        return event.piis_id
    if isinstance(event, SocialActivationEvaluatedV1) and event.final:
        return event.activation_id
    return None


def _shown(piis: PiisRecord) -> Piis:
    return Piis(
        piis_id=piis.piis_id,
        status=piis.status,
        piis_type=piis.piis_type,
        proposed_on=piis.proposed_on,
        signed_on=piis.signed_on,
        start_date=piis.start_date,
        planned_end_date=piis.planned_end_date,
        ended_on=piis.ended_on,
        outcome=piis.outcome,
        caseworker=piis.caseworker,
        evaluations_total=len(piis.evaluations),
        last_evaluated_on=max((e.on for e in piis.evaluations), default=None),
        evaluations_window=evaluation_window(piis),
        next_evaluation_due=next_evaluation_due(piis),
        notices=piis.notices,
        sanctions=piis.sanctions,
    )


def _changes(part: PiisPart, event: ContractEvent) -> dict[str, Any] | None:
    """What one event changes in the part (None: not about the case state)."""
    changes: dict[str, Any] | None
    match event:
        case PiisProposedV1():
            changes = _proposed(part, event)
        case PIISSignedV1():
            changes = _signed(part, event)
        case PiisExemptionGrantedV1():
            changes = {"exemption": PiisExemption(decided_on=event.decided_on)}
        case PhaseChangedV1():
            trajectory = Trajectory(
                trajectory_id=event.trajectory_id,
                phase=event.to_phase,
                since=event.effective_date,
                from_phase=event.from_phase,
                active=event.to_phase not in EXITS,
            )
            changes = {"trajectory": trajectory}
        case SocialActivationStartedV1():
            activation = SocialActivation(
                activation_id=event.activation_id,
                activation_type=event.activation_type,
                status="active",
                starts_on=event.starts_on,
                planned_end_date=event.planned_end_date,
                evaluations=0,
                baseline=dict(event.baseline_scores),
            )
            changes = {"activation": activation}
        case SocialActivationEvaluatedV1():
            changes = {"activation": _activation_evaluated(part.activation, event)}
        case PiisDeadlineMissedV1() | SocialActivationEvaluationOverdueV1():
            changes = {}
        case _ if isinstance(event, _FOLLOW_UP):
            changes = {"piis": _piis_after(part.piis, event)}
        case _:
            changes = None
    return changes


def _proposed(part: PiisPart, event: PiisProposedV1) -> dict[str, Any]:
    changes: dict[str, Any] = {
        "caseworkers": {**part.caseworkers, event.piis_id: event.caseworker}
    }
    if part.piis is None or part.piis.status != "signed":
        # The latest draft shows until one is signed (one in force at a time).
        changes["piis"] = PiisRecord(
            piis_id=event.piis_id,
            status="proposed",
            piis_type=event.piis_type,
            proposed_on=event.proposed_on,
            start_date=event.start_date,
            planned_end_date=event.planned_end_date,
            caseworker=event.caseworker,
            plan=tuple(event.evaluation_plan),
        )
    return changes


def _signed(part: PiisPart, event: PIISSignedV1) -> dict[str, Any]:
    caseworkers = dict(part.caseworkers)
    caseworker = caseworkers.pop(event.piis_id, None)
    if caseworker is None and part.piis is not None:
        caseworker = (
            part.piis.caseworker if part.piis.piis_id == event.piis_id else None
        )
    piis = PiisRecord(
        piis_id=event.piis_id,
        status="signed",
        piis_type=event.piis_type,
        proposed_on=event.reflection_period_start,
        signed_on=event.signed_on,
        start_date=event.start_date,
        planned_end_date=event.planned_end_date,
        caseworker=caseworker,
        plan=tuple(event.evaluation_plan),
    )
    return {"piis": piis, "caseworkers": caseworkers}


# Events that follow up the PIIS shown (they name it by its id).
_FOLLOW_UP: Final = (
    PiisEvaluatedV1,
    PiisAmendedV1,
    PiisEndedV1,
    PiisNoticeServedV1,
    HearingHeldV1,
    PiisSanctionDecidedV1,
)


FollowUp = (
    PiisEvaluatedV1
    | PiisAmendedV1
    | PiisEndedV1
    | PiisNoticeServedV1
    | HearingHeldV1
    | PiisSanctionDecidedV1
)


def _piis_after(piis: PiisRecord | None, event: FollowUp) -> PiisRecord | None:
    """The PIIS after an event of its follow-up (about another PIIS: unchanged)."""
    if piis is None or piis.piis_id != event.piis_id:
        return piis
    changes: dict[str, Any]
    match event:
        case PiisEvaluatedV1():
            evaluation = Evaluation(
                on=event.evaluated_on,
                in_person=event.in_person,
                next_on=event.next_evaluation_on,
            )
            changes = {"evaluations": (*piis.evaluations, evaluation)}
        case PiisAmendedV1():
            changes = {
                "planned_end_date": event.planned_end_date,
                "plan": tuple(event.evaluation_plan),
            }
        case PiisEndedV1():
            changes = {
                "status": "ended",
                "ended_on": event.ended_on,
                "outcome": event.outcome,
            }
        case PiisNoticeServedV1():
            changes = {
                "notices": (*piis.notices, PiisNotice(served_on=event.served_on))
            }
        case HearingHeldV1():
            if not piis.notices:
                return piis
            heard = piis.notices[-1].model_copy(
                update={"hearing_on": event.held_on, "attended": event.attended}
            )
            changes = {"notices": (*piis.notices[:-1], heard)}
        case _:
            assert isinstance(event, PiisSanctionDecidedV1)  # noqa: S101 - _FOLLOW_UP
            sanction = PiisSanction(
                decided_on=event.decided_on,
                months=event.months,
                starts_on=event.starts_on,
                ends_on=event.ends_on,
                repeat=event.repeat,
                extent=event.extent,
                partial_percent=event.partial_percent,
                stay_of_execution=event.stay_of_execution,
            )
            changes = {"sanctions": (*piis.sanctions, sanction)}
    return dataclasses.replace(piis, **changes)


def _activation_evaluated(
    activation: SocialActivation | None, event: SocialActivationEvaluatedV1
) -> SocialActivation | None:
    if activation is None or activation.activation_id != event.activation_id:
        return activation
    last = activation.last_evaluated_on
    return activation.model_copy(
        update={
            "evaluations": activation.evaluations + 1,
            "last_evaluated_on": max(last, event.evaluated_on)
            if last
            else event.evaluated_on,
            "latest": dict(event.scores),
            "progress": dict(event.progress),
            "status": "ended" if event.final else activation.status,
        }
    )
