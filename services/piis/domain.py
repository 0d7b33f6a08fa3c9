"""The PIIS domain: a case's integration contracts, their signature and exemptions."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from contracts.envelope import ContractEvent
from contracts.piis import (
    HearingHeldV1,
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
from services.common.aggregate import Aggregate, CommandContext
from services.common.errors import ConflictError, DomainError
from services.common.law import LAW, add_months, first_of_month_after
from services.common.sanctions import check_extent, effect_date, limit_for
from services.piis.calendar import add_working_days
from services.piis.case_facts import Bilan, CaseFacts, IncomeGrant
from services.piis.deadlines import (
    Deadline,
    PiisLife,
    Signature,
    evaluation_deadlines,
    signature_deadlines,
)

__all__ = [
    "Bilan",
    "CaseFacts",
    "Deadline",
    "DomainError",
    "IncomeGrant",
    "PiisFile",
]

ONE_DAY = dt.timedelta(days=1)
SanctionExtent = Literal["full", "partial"]


@dataclass(eq=False)
class PiisFile(Aggregate):
    """Every PIIS of one case (one stream), so that only one is active at a time.

    Every figure of the law comes from the table of ``services.common.law``,
    in the version in force on the day the rule judges: the signature for the
    reflection time, the decision for a sanction, the start of a window for
    the evaluations, the start of a social-activation trajectory.
    """

    creates: ClassVar[Mapping[type[ContractEvent], str]] = {
        PiisProposedV1: "piis_id",
        SocialActivationStartedV1: "activation_id",
        PiisSanctionDecidedV1: "sanction_id",
    }

    proposals: dict[uuid.UUID, PiisProposedV1] = field(default_factory=dict)
    signed: dict[uuid.UUID, PIISSignedV1] = field(default_factory=dict)
    ended: dict[uuid.UUID, dt.date] = field(default_factory=dict)
    active: uuid.UUID | None = None
    exemptions: list[PiisExemptionGrantedV1] = field(default_factory=list)
    open_notice: PiisNoticeServedV1 | None = None
    hearing_on: dt.date | None = None
    sanctions: list[dt.date] = field(default_factory=list)
    # Per PIIS, every evaluation (tuples: the file's copies share them).
    evaluations: dict[uuid.UUID, tuple[PiisEvaluatedV1, ...]] = field(
        default_factory=dict
    )
    activation: SocialActivationStartedV1 | None = None
    activation_evaluations: list[dt.date] = field(default_factory=list)

    @classmethod
    def open(cls, file_id: uuid.UUID, facts: CaseFacts) -> PiisFile:
        """An empty file for a case."""
        return cls(id=file_id, case_id=facts.case_id, cpas_kbo=facts.cpas_kbo)

    @property
    def exemption(self) -> PiisExemptionGrantedV1 | None:
        """The latest exemption, None when the person was never dispensed."""
        return self.exemptions[-1] if self.exemptions else None

    def propose(self, context: CommandContext, **payload: Any) -> uuid.UUID:
        """Hand a draft PIIS to the person (PiisProposed)."""
        self._none_in_force("case_id")
        if payload["planned_end_date"] <= payload["start_date"]:
            raise DomainError(
                "planned_end_date",
                "piis.end_before_start",
                "a PIIS must end after it starts",
            )
        piis_id = uuid.uuid5(self.id, f"piis:{context.command_id}")
        self.record(PiisProposedV1, context, piis_id=piis_id, **payload)
        return piis_id

    def sign(
        self,
        context: CommandContext,
        facts: CaseFacts,
        *,
        piis_id: uuid.UUID,
        signed_on: dt.date,
        reflection_waived: bool,
        subsidy_code: str | None,
        waiver_reason: str | None = None,
    ) -> None:
        """Both parties sign: needs a bilan and, unless waived, the reflection time."""
        proposal = self.proposals.get(piis_id)
        if proposal is None or piis_id in self.signed:
            raise DomainError(
                "piis_id", "piis.not_proposed", "no PIIS with this id awaits signature"
            )
        # Drafts may wait side by side; only one is ever in force, since its
        # evaluations, sanctions and subsidy belong to it.
        self._none_in_force("piis_id")
        self.check_bilan(facts, signed_on)
        self._check_reflection(proposal.proposed_on, signed_on, reflection_waived)
        if reflection_waived and not (waiver_reason or "").strip():
            raise DomainError(
                "waiver_reason",
                "piis.waiver_without_reason",
                "a waived reflection period needs the person's reason",
            )
        self.record(
            PIISSignedV1,
            context,
            piis_id=piis_id,
            piis_type=proposal.piis_type,
            signed_on=signed_on,
            start_date=proposal.start_date,
            planned_end_date=proposal.planned_end_date,
            objectives=proposal.objectives,
            commitments=proposal.commitments,
            evaluation_plan=proposal.evaluation_plan,
            reflection_period_start=proposal.proposed_on,
            reflection_waived=reflection_waived,
            reflection_waiver_reason=waiver_reason if reflection_waived else None,
            general_content=proposal.general_content,
            subsidy_code=subsidy_code,
        )

    def _none_in_force(self, loc: str) -> None:
        if self.active is not None:
            raise ConflictError(
                loc,
                "piis.already_active",
                "the case already has a PIIS in force; complete or end it first "
                "(one PIIS at a time)",
            )

    @staticmethod
    def check_bilan(facts: CaseFacts, signed_on: dt.date) -> None:
        """Refuse a signature with no bilan dated by then (also the audit's check)."""
        first = facts.first_bilan_on
        if first is None or first > signed_on:
            raise DomainError(
                "signed_on",
                "piis.no_bilan",
                "a PIIS is signed only after the person's needs were assessed in a "
                "bilan dated on or before the signature (AR 11 July 2002 art. 11 §1)",
            )

    @staticmethod
    def _check_reflection(proposed: dt.date, signed: dt.date, waived: bool) -> None:
        if signed < proposed:
            raise DomainError(
                "signed_on",
                "piis.signed_before_proposal",
                "signed before it was proposed",
            )
        days = LAW.value("piis.reflection_working_days", signed, field="signed_on")
        earliest = add_working_days(proposed, days)
        if not waived and signed < earliest:
            raise DomainError(
                "signed_on",
                "piis.reflection_period",
                f"signed inside the reflection period: the person has {days} working "
                f"days to think, so not before {earliest.isoformat()} unless they "
                f"waive it (royal decree of 11 July 2002 art. 11)",
            )

    def evaluate(
        self,
        context: CommandContext,
        *,
        evaluated_on: dt.date,
        in_person: bool,
        outcome: str,
        next_evaluation_on: dt.date | None,
        subsidy_prolongation_motivation: str | None = None,
    ) -> None:
        """Record an evaluation of the active PIIS, once it was held."""
        if evaluated_on > context.today:
            raise DomainError(
                "evaluated_on",
                "piis.evaluation_in_future",
                f"an evaluation is recorded once it was held: "
                f"{evaluated_on.isoformat()} is after today "
                f"({context.today.isoformat()}); the evaluations a PIIS must have "
                "are those held (royal decree of 11 July 2002 art. 11)",
            )
        piis_id = self._active_piis(evaluated_on, "evaluated_on")
        self.record(
            PiisEvaluatedV1,
            context,
            piis_id=piis_id,
            evaluated_on=evaluated_on,
            in_person=in_person,
            outcome=outcome,
            next_evaluation_on=next_evaluation_on,
            subsidy_prolongation_motivation=subsidy_prolongation_motivation,
        )

    def amend(
        self,
        context: CommandContext,
        *,
        amended_on: dt.date,
        objectives: tuple[str, ...],
        planned_end_date: dt.date,
        evaluation_plan: tuple[dt.date, ...],
        reason: str,
    ) -> None:
        """Amend the active PIIS."""
        piis_id = self._active_piis(amended_on, "amended_on")
        if planned_end_date <= self.signed[piis_id].start_date:
            raise DomainError(
                "planned_end_date",
                "piis.end_before_start",
                "a PIIS must end after it starts",
            )
        self.record(
            PiisAmendedV1,
            context,
            piis_id=piis_id,
            amended_on=amended_on,
            objectives=objectives,
            planned_end_date=planned_end_date,
            evaluation_plan=evaluation_plan,
            reason=reason,
        )

    def end(
        self, context: CommandContext, *, ended_on: dt.date, outcome: str, reason: str
    ) -> None:
        """Complete or terminate the active PIIS."""
        piis_id = self._active_piis(ended_on, "ended_on")
        self.record(
            PiisEndedV1,
            context,
            piis_id=piis_id,
            ended_on=ended_on,
            outcome=outcome,
            reason=reason,
        )

    def serve_notice(
        self, context: CommandContext, *, served_on: dt.date, grounds: str
    ) -> None:
        """Serve formal notice that the active PIIS is not respected."""
        piis_id = self._active_piis(served_on, "served_on")
        self.record(
            PiisNoticeServedV1,
            context,
            piis_id=piis_id,
            served_on=served_on,
            grounds=grounds,
        )

    def hold_hearing(
        self, context: CommandContext, *, held_on: dt.date, attended: bool
    ) -> None:
        """Record the hearing offered after a notice."""
        notice = self._notice("held_on")
        if held_on < notice.served_on:
            raise DomainError(
                "held_on",
                "sanction.hearing_before_notice",
                "the hearing precedes the notice",
            )
        self.record(
            HearingHeldV1,
            context,
            piis_id=notice.piis_id,
            held_on=held_on,
            attended=attended,
        )

    def decide_sanction(
        self,
        context: CommandContext,
        *,
        decided_on: dt.date,
        months: int,
        extent: SanctionExtent = "full",
        partial_percent: int | None = None,
        stay_of_execution: bool = False,
    ) -> uuid.UUID:
        """Suspend payment for not respecting the PIIS, within art. 30 §2's limits.

        Fully or partly (``partial_percent`` of the payment), with or without a
        stay of execution (sursis, Constitutional Court 148/2010). A repeat is
        a sanction decided within the months of ``sanction.piis.repeat_window_
        months`` (one year) from an earlier one, counted by calendar months.
        The id of the sanction is derived from the file and the command, so
        the payment suspension that follows it is keyed on it once.
        """
        notice = self._notice("decided_on")
        if self.hearing_on is None or self.hearing_on > decided_on:
            raise DomainError(
                "decided_on",
                "sanction.no_hearing",
                "no sanction before the person was offered a hearing (law of 26 May "
                "2002 art. 30 §2)",
            )
        check_extent(extent, partial_percent)
        limit = limit_for("piis", decided_on, self.sanctions)
        if not 1 <= months <= limit.months:
            raise DomainError(
                "months",
                "sanction.too_long",
                f"a {'repeat' if limit.repeat else 'first'} PIIS sanction lasts at "
                f"most {limit.months} month(s) (law of 26 May 2002 art. 30 §2; a "
                f"repeat is one within a year of an earlier sanction)",
            )
        starts_on = effect_date(decided_on)
        ends_on = first_of_month_after(starts_on, months) - ONE_DAY
        repeat = limit.repeat
        sanction_id = uuid.uuid5(self.id, f"sanction:{context.command_id}")
        self.record(
            PiisSanctionDecidedV1,
            context,
            piis_id=notice.piis_id,
            decided_on=decided_on,
            months=months,
            starts_on=starts_on,
            ends_on=ends_on,
            repeat=repeat,
            notice_served_on=notice.served_on,
            extent=extent,
            partial_percent=partial_percent,
            stay_of_execution=stay_of_execution,
            sanction_id=sanction_id,
        )
        return sanction_id

    def start_social_activation(
        self,
        context: CommandContext,
        facts: CaseFacts,
        *,
        activation_type: str,
        starts_on: dt.date,
        planned_end_date: dt.date,
        piis_id: uuid.UUID | None = None,
        aim: str | None = None,
    ) -> uuid.UUID:
        """Start a social-activation trajectory, measured against its bilan.

        The baseline is the bilan that opened the trajectory: the latest with
        baseline scores completed on or before its start. A trajectory not
        closed by its last possible final measurement (one evaluation interval
        after its planned end) has lapsed: a new one may start after that day.
        The PIIS that frames it, when given, is one of the case's, signed and
        not ended before the trajectory starts.
        """
        self._check_framing(piis_id, starts_on)
        current = self.activation
        if current is not None:
            closes = self._closes_by(current)
            if not (starts_on > closes and context.today > closes):
                raise ConflictError(
                    "case_id",
                    "social_activation.already_active",
                    "the case already follows a social-activation trajectory; close "
                    f"it with its final measurement (at the latest on "
                    f"{closes.isoformat()}) before another starts",
                )
        if planned_end_date <= starts_on:
            raise DomainError(
                "planned_end_date",
                "social_activation.end_before_start",
                "ends before it starts",
            )
        months = LAW.value("activation.max_months", starts_on, field="starts_on")
        if planned_end_date > add_months(starts_on, months) - ONE_DAY:
            raise DomainError(
                "planned_end_date",
                "social_activation.too_long",
                f"a social-activation trajectory lasts at most {months} months "
                "(local rule of the CPAS of Kortrijk)",
            )
        baseline = facts.baseline_on(starts_on)
        if baseline is None or not baseline.scores:
            raise DomainError(
                "case_id",
                "social_activation.no_baseline",
                "no bilan with baseline scores completed on or before the "
                "trajectory's start: progress is measured against the bilan that "
                "opens it (local rule of the CPAS of Kortrijk)",
            )
        activation_id = uuid.uuid5(self.id, f"activation:{context.command_id}")
        self.record(
            SocialActivationStartedV1,
            context,
            activation_id=activation_id,
            activation_type=activation_type,
            starts_on=starts_on,
            planned_end_date=planned_end_date,
            baseline_scores=dict(baseline.scores),
            piis_id=piis_id,
            aim=aim,
        )
        return activation_id

    def _check_framing(self, piis_id: uuid.UUID | None, starts_on: dt.date) -> None:
        """A framing PIIS is signed and has not ended before the trajectory."""
        if piis_id is None:
            return
        ended = self.ended.get(piis_id)
        if piis_id not in self.signed or (ended is not None and ended < starts_on):
            raise DomainError(
                "piis_id",
                "social_activation.piis_not_in_force",
                "the PIIS framing a social-activation trajectory must be a signed "
                "PIIS of the case, not ended before the trajectory starts (royal "
                "decree of 27 March 2015: trajectories framed by a PIIS)",
            )

    @staticmethod
    def _closes_by(activation: SocialActivationStartedV1) -> dt.date:
        """The last day of a trajectory's final measurement: one interval late."""
        planned = activation.planned_end_date
        months = LAW.value(
            "activation.evaluation_months", planned, field="evaluated_on"
        )
        return add_months(planned, months)

    def evaluate_social_activation(
        self,
        context: CommandContext,
        *,
        evaluated_on: dt.date,
        scores: dict[str, int],
        final: bool,
        objective_achieved: bool | None = None,
        partnerships: tuple[str, ...] = (),
        failure_reason: str | None = None,
    ) -> None:
        """Measure progress against the baseline; the final measurement ends it.

        Quarterly measurements fall within the trajectory; the final one may
        come up to one evaluation interval after its planned end (a measure
        taken late still closes it). The limit of evaluations counts the final
        one: the last one allowed must be final. Whether the objective was
        achieved, through which partnerships, or why not, is recorded with the
        final measurement only.
        """
        outcome = (objective_achieved, partnerships, failure_reason)
        if not final and outcome != (None, (), None):
            raise DomainError(
                "final",
                "social_activation.outcome_only_final",
                "whether the objective was achieved, the partnerships and the "
                "reason of a failure are recorded with the final measurement (the "
                "qualitative objectives of the royal decree of 27 March 2015 are "
                "judged at the end)",
            )
        activation = self.activation
        if activation is None:
            raise DomainError(
                "case_id",
                "social_activation.none_active",
                "no social-activation trajectory",
            )
        closes = self._closes_by(activation)
        last = closes if final else activation.planned_end_date
        if not activation.starts_on <= evaluated_on <= last:
            raise DomainError(
                "evaluated_on",
                "social_activation.outside_period",
                "the evaluation falls outside the trajectory's period (the final "
                f"measurement at the latest on {closes.isoformat()}, one evaluation "
                "interval after its planned end)",
            )
        limit = LAW.value(
            "activation.max_evaluations", activation.starts_on, field="evaluated_on"
        )
        done = len(self.activation_evaluations)
        if done >= limit or (done + 1 == limit and not final):
            raise DomainError(
                "evaluated_on",
                "social_activation.too_many_evaluations",
                f"at most {limit} evaluations, the final measurement included: the "
                f"{limit}th is the final one (local rule of the CPAS of Kortrijk)",
            )
        progress = {
            domain: scores[domain] - base
            for domain, base in activation.baseline_scores.items()
            if domain in scores
        }
        self.record(
            SocialActivationEvaluatedV1,
            context,
            activation_id=activation.activation_id,
            evaluated_on=evaluated_on,
            scores=scores,
            progress=progress,
            final=final,
            objective_achieved=objective_achieved,
            partnerships=partnerships,
            failure_reason=failure_reason,
        )

    def missed_deadlines(self, facts: CaseFacts, today: dt.date) -> list[Deadline]:
        """The legal deadlines of this case that passed unmet by ``today``."""
        caseworkers = {pid: p.caseworker for pid, p in self.proposals.items()}
        missed = signature_deadlines(
            facts.grants,
            [
                Signature(pid, s.signed_on, caseworkers.get(pid))
                for pid, s in self.signed.items()
            ],
            [e.decided_on for e in self.exemptions],
            today,
        )
        for pid, signed in self.signed.items():
            life = PiisLife(
                pid,
                caseworkers.get(pid),
                signed.start_date,
                self.ended.get(pid),
                [(e.evaluated_on, e.in_person) for e in self.evaluations.get(pid, ())],
            )
            missed.extend(evaluation_deadlines(life, today))
        if self.activation is not None:
            last = max([self.activation.starts_on, *self.activation_evaluations])
            months = LAW.value("activation.evaluation_months", last, field="today")
            due = add_months(last, months)
            if today > due:
                missed.append(Deadline("social_activation_evaluation", due))
        return missed

    def flag(self, context: CommandContext, deadline: Deadline, today: dt.date) -> None:
        """Record a missed deadline (once: the watch derives the command id)."""
        if deadline.kind == "social_activation_evaluation":
            assert self.activation is not None  # noqa: S101 - only then is it missed
            self.record(
                SocialActivationEvaluationOverdueV1,
                context,
                activation_id=self.activation.activation_id,
                due_on=deadline.due_on,
                detected_on=today,
            )
            return
        # A late signature is the signature deadline missed, with the day it
        # came (``signed_on``): a new value of the published ``kind`` would
        # break its strict readers (ADR 0002).
        kind = "evaluations_missing"
        if deadline.kind != "evaluations_missing":
            kind = "piis_not_signed"
        self.record(
            PiisDeadlineMissedV1,
            context,
            kind=kind,
            due_on=deadline.due_on,
            detected_on=today,
            piis_id=deadline.piis_id,
            caseworker=deadline.caseworker,
            right_id=deadline.right_id,
            signed_on=deadline.signed_on,
            window_start=deadline.window_start,
        )

    def _active_piis(self, day: dt.date, name: str) -> uuid.UUID:
        if self.active is None:
            raise DomainError(
                "case_id", "piis.none_active", "the case has no signed PIIS"
            )
        if day < self.signed[self.active].signed_on:
            raise DomainError(
                name, "piis.before_signature", "the PIIS was not signed yet"
            )
        return self.active

    def _notice(self, name: str) -> PiisNoticeServedV1:
        if self.open_notice is None:
            raise DomainError(
                name,
                "sanction.no_notice",
                "no sanction without a prior formal notice (mise en demeure) "
                "(law of 26 May 2002 art. 30 §2)",
            )
        return self.open_notice

    def grant_exemption(
        self,
        context: CommandContext,
        *,
        ground: str,
        motivation: str,
        decided_on: dt.date,
    ) -> None:
        """Dispense the person from the PIIS for health or equity reasons."""
        if self.active is not None:
            raise DomainError(
                "case_id",
                "piis.exemption_with_active_piis",
                "an active PIIS exists; end it before dispensing the person",
            )
        self.record(
            PiisExemptionGrantedV1,
            context,
            ground=ground,
            motivation=motivation,
            decided_on=decided_on,
        )

    def apply(self, event: ContractEvent) -> None:
        """Fold one event into the file."""
        super().apply(event)
        match event:
            case PiisProposedV1():
                self.proposals[event.piis_id] = event
            case PIISSignedV1():
                self.signed[event.piis_id] = event
                self.active = event.piis_id
            case PiisExemptionGrantedV1():
                self.exemptions.append(event)
            case PiisEvaluatedV1():
                before = self.evaluations.get(event.piis_id, ())
                self.evaluations[event.piis_id] = (*before, event)
            case PiisEndedV1():
                self.ended[event.piis_id] = event.ended_on
                self.active = None
                self.open_notice, self.hearing_on = None, None
            case SocialActivationStartedV1():
                self.activation, self.activation_evaluations = event, []
            case SocialActivationEvaluatedV1():
                self.activation_evaluations.append(event.evaluated_on)
                if event.final:
                    self.activation = None
            case _:
                self._apply_sanction_steps(event)

    def _apply_sanction_steps(self, event: ContractEvent) -> None:
        match event:
            case PiisNoticeServedV1():
                self.open_notice, self.hearing_on = event, None
            case HearingHeldV1():
                self.hearing_on = event.held_on
            case PiisSanctionDecidedV1():
                self.sanctions.append(event.decided_on)
                self.open_notice, self.hearing_on = None, None
            case _:
                pass
