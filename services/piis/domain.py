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
from services.piis.calendar import add_working_days

__all__ = [
    "REFLECTION_WORKING_DAYS",
    "CaseFacts",
    "Deadline",
    "DomainError",
    "PiisFile",
]

REFLECTION_WORKING_DAYS = 5  # S10: five working days to think before signing
FIRST_SANCTION_MONTHS = 1  # law of 26 May 2002 art. 30 §2
REPEAT_SANCTION_MONTHS = 3  # a repeat within one year


PIIS_SIGN_MONTHS = 3  # law of 26 May 2002 art. 11 as amended 21 July 2016 (I5)
MIN_EVALUATIONS = 3  # a year, of which two in person (S8, seed 000: I7)
MIN_IN_PERSON = 2
ACTIVATION_MONTHS = 12  # seed 003 (Kortrijk, a local rule): I18
ACTIVATION_EVALUATION_MONTHS = 3
MAX_ACTIVATION_EVALUATIONS = 4


@dataclass(frozen=True, slots=True)
class Deadline:
    """A deadline that passed unmet."""

    kind: Literal[
        "piis_not_signed", "evaluations_missing", "social_activation_evaluation"
    ]
    due_on: dt.date
    piis_id: uuid.UUID | None
    caseworker: str | None


def _add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def _first_of_month_after(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after the month of ``day``."""
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the PIIS service knows of a case from intake's events."""

    case_id: uuid.UUID
    cpas_kbo: str
    dossier_number: str = ""
    first_bilan_on: dt.date | None = None
    income_decision_date: dt.date | None = None
    piis_obligation: str | None = None
    baseline_scores: dict[str, int] | None = None


@dataclass(eq=False)
class PiisFile(Aggregate):
    """Every PIIS of one case (one stream), so that only one is active at a time."""

    creates: ClassVar[Mapping[type[ContractEvent], str]] = {
        PiisProposedV1: "piis_id",
        SocialActivationStartedV1: "activation_id",
    }

    proposals: dict[uuid.UUID, PiisProposedV1] = field(default_factory=dict)
    signed: dict[uuid.UUID, PIISSignedV1] = field(default_factory=dict)
    active: uuid.UUID | None = None
    exemption: PiisExemptionGrantedV1 | None = None
    open_notice: PiisNoticeServedV1 | None = None
    hearing_on: dt.date | None = None
    sanctions: list[dt.date] = field(default_factory=list)
    evaluations: list[PiisEvaluatedV1] = field(default_factory=list)
    activation: SocialActivationStartedV1 | None = None
    activation_evaluations: list[dt.date] = field(default_factory=list)

    @classmethod
    def open(cls, file_id: uuid.UUID, facts: CaseFacts) -> PiisFile:
        """An empty file for a case."""
        return cls(id=file_id, case_id=facts.case_id, cpas_kbo=facts.cpas_kbo)

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
        self._check_bilan(facts, signed_on)
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
    def _check_bilan(facts: CaseFacts, signed_on: dt.date) -> None:
        if facts.first_bilan_on is None or facts.first_bilan_on > signed_on:
            raise DomainError(
                "signed_on",
                "piis.no_bilan",
                "a PIIS is signed only after the person's needs were assessed in a "
                "bilan dated on or before the signature (AR 11 July 2002 art. 11 §1; "
                "domain rule I4)",
            )

    @staticmethod
    def _check_reflection(proposed: dt.date, signed: dt.date, waived: bool) -> None:
        if signed < proposed:
            raise DomainError(
                "signed_on",
                "piis.signed_before_proposal",
                "signed before it was proposed",
            )
        earliest = add_working_days(proposed, REFLECTION_WORKING_DAYS)
        if not waived and signed < earliest:
            raise DomainError(
                "signed_on",
                "piis.reflection_period",
                f"signed inside the reflection period: the person has five working "
                f"days to think, so not before {earliest.isoformat()} unless they "
                f"waive it (law of 26 May 2002 art. 11; domain rule I6)",
            )

    def evaluate(
        self,
        context: CommandContext,
        *,
        evaluated_on: dt.date,
        in_person: bool,
        outcome: str,
        next_evaluation_on: dt.date | None,
    ) -> None:
        """Record an evaluation of the active PIIS."""
        piis_id = self._active_piis(evaluated_on, "evaluated_on")
        self.record(
            PiisEvaluatedV1,
            context,
            piis_id=piis_id,
            evaluated_on=evaluated_on,
            in_person=in_person,
            outcome=outcome,
            next_evaluation_on=next_evaluation_on,
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
        self, context: CommandContext, *, decided_on: dt.date, months: int
    ) -> None:
        """Suspend payment for not respecting the PIIS, within art. 30 §2's limits."""
        notice = self._notice("decided_on")
        if self.hearing_on is None or self.hearing_on > decided_on:
            raise DomainError(
                "decided_on",
                "sanction.no_hearing",
                "no sanction before the person was offered a hearing (law of 26 May "
                "2002 art. 30 §2; domain rule I8)",
            )
        repeat = any(
            decided_on - before < dt.timedelta(days=365) for before in self.sanctions
        )
        limit = REPEAT_SANCTION_MONTHS if repeat else FIRST_SANCTION_MONTHS
        if not 1 <= months <= limit:
            raise DomainError(
                "months",
                "sanction.too_long",
                f"a {'repeat' if repeat else 'first'} PIIS sanction lasts at most "
                f"{limit} month(s) (law of 26 May 2002 art. 30 §2; domain rule I8)",
            )
        starts_on = _first_of_month_after(decided_on, 2)
        ends_on = _first_of_month_after(starts_on, months) - dt.timedelta(days=1)
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
        )

    def start_social_activation(
        self,
        context: CommandContext,
        facts: CaseFacts,
        *,
        activation_type: str,
        starts_on: dt.date,
        planned_end_date: dt.date,
    ) -> uuid.UUID:
        """Start a social-activation trajectory, measured against the bilan."""
        if self.activation is not None:
            raise ConflictError(
                "case_id",
                "social_activation.already_active",
                "the case already follows a social-activation trajectory",
            )
        if planned_end_date <= starts_on:
            raise DomainError(
                "planned_end_date",
                "social_activation.end_before_start",
                "ends before it starts",
            )
        if planned_end_date > _add_months(starts_on, ACTIVATION_MONTHS) - dt.timedelta(
            days=1
        ):
            raise DomainError(
                "planned_end_date",
                "social_activation.too_long",
                f"a social-activation trajectory lasts at most {ACTIVATION_MONTHS} "
                f"months (seed 003, Kortrijk; domain rule I18)",
            )
        if not facts.baseline_scores:
            raise DomainError(
                "case_id",
                "social_activation.no_baseline",
                "no bilan with baseline scores: progress is measured against it "
                "(seed 003; domain rule I18)",
            )
        activation_id = uuid.uuid5(self.id, f"activation:{context.command_id}")
        self.record(
            SocialActivationStartedV1,
            context,
            activation_id=activation_id,
            activation_type=activation_type,
            starts_on=starts_on,
            planned_end_date=planned_end_date,
            baseline_scores=facts.baseline_scores,
        )
        return activation_id

    def evaluate_social_activation(
        self,
        context: CommandContext,
        *,
        evaluated_on: dt.date,
        scores: dict[str, int],
        final: bool,
    ) -> None:
        """Measure progress against the baseline; the final measurement ends it."""
        activation = self.activation
        if activation is None:
            raise DomainError(
                "case_id",
                "social_activation.none_active",
                "no social-activation trajectory",
            )
        if not activation.starts_on <= evaluated_on <= activation.planned_end_date:
            raise DomainError(
                "evaluated_on",
                "social_activation.outside_period",
                "the evaluation falls outside the trajectory's period",
            )
        if len(self.activation_evaluations) >= MAX_ACTIVATION_EVALUATIONS and not final:
            raise DomainError(
                "evaluated_on",
                "social_activation.too_many_evaluations",
                "at most four quarterly evaluations (domain rule I18)",
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
        )

    def missed_deadlines(self, facts: CaseFacts, today: dt.date) -> list[Deadline]:
        """The legal deadlines of this case that passed unmet by ``today``."""
        missed: list[Deadline] = []
        compulsory = (facts.piis_obligation or "").startswith("compulsory")
        if compulsory and facts.income_decision_date and not self.signed:
            due = _add_months(facts.income_decision_date, PIIS_SIGN_MONTHS)
            if today > due and self.exemption is None:
                missed.append(Deadline("piis_not_signed", due, None, None))
        if self.active is not None:
            signed = self.signed[self.active]
            proposal = self.proposals.get(self.active)
            caseworker = proposal.caseworker if proposal else None
            start, year = signed.start_date, 1
            while (end := _add_months(signed.start_date, 12 * year)) < today:
                window = [e for e in self.evaluations if start <= e.evaluated_on < end]
                in_person = sum(1 for e in window if e.in_person)
                if len(window) < MIN_EVALUATIONS or in_person < MIN_IN_PERSON:
                    missed.append(
                        Deadline("evaluations_missing", end, self.active, caseworker)
                    )
                start, year = end, year + 1
        if self.activation is not None:
            last = max([self.activation.starts_on, *self.activation_evaluations])
            due = _add_months(last, ACTIVATION_EVALUATION_MONTHS)
            if today > due:
                missed.append(Deadline("social_activation_evaluation", due, None, None))
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
        self.record(
            PiisDeadlineMissedV1,
            context,
            kind=deadline.kind,
            due_on=deadline.due_on,
            detected_on=today,
            piis_id=deadline.piis_id,
            caseworker=deadline.caseworker,
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
                "(law of 26 May 2002 art. 30 §2; domain rule I8)",
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
                self.exemption = event
            case PiisEvaluatedV1():
                self.evaluations.append(event)
            case PiisEndedV1():
                self.active = None
                self.evaluations, self.open_notice, self.hearing_on = [], None, None
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
