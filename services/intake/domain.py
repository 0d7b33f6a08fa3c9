"""The intake domain: a beneficiary's case at a CPAS, its file number and its bilan."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from contracts.envelope import ContractEvent
from contracts.identifiers import IdentifierError
from contracts.income import (
    IncomePaymentSuspendedV1,
    IncomeRightGrantedV1,
    IncomeRightModifiedV1,
    IncomeRightWithdrawnV1,
    PiisObligation,
)
from contracts.intake import (
    BeneficiaryRegisteredV1,
    BilanCompletedV1,
    DossierNumberClaimedV1,
    Orientation,
)
from contracts.piis import PiisSanctionDecidedV1
from services.common.aggregate import Aggregate, CommandContext
from services.common.errors import ConflictError, DomainError
from services.common.law import LAW
from services.common.sanctions import SanctionKind, check_extent, check_period
from services.intake.parameters import AmountTable

__all__ = [
    "Beneficiary",
    "ConflictError",
    "DomainError",
    "DossierNumber",
    "DossierNumberTakenError",
    "DuplicateRegistrationError",
    "normalise_dossier_number",
]


class DuplicateRegistrationError(ConflictError):
    """The person already has a case at this CPAS (domain.md I2)."""

    def __init__(self, case_id: uuid.UUID) -> None:
        super().__init__(
            "niss",
            "beneficiary.duplicate",
            "this person already has a case at this CPAS; one case per person "
            "and CPAS (domain rule I2, Primabook form A)",
        )
        self.case_id = case_id


class DossierNumberTakenError(ConflictError):
    """The file number was already given to another case; numbers are never reused."""

    def __init__(self) -> None:
        super().__init__(
            "dossier_number",
            "dossier_number.reused",
            "this file number was already given to another case at this CPAS; "
            "file numbers are unique and never reused (domain rule I2)",
        )


# The suspension reasons that are sanctions, by their paragraph of art. 30.
_SANCTIONS: dict[str, SanctionKind] = {
    "piis_sanction": "piis",
    "declaration_sanction": "declaration",
}
UNDER_25 = 25
REFORM_2016 = dt.date(2016, 11, 1)  # law of 21 July 2016 in force

_SEPARATORS = re.compile(r"[\s./\-_]")
_DOSSIER = re.compile(r"^[0-9A-Z]{1,11}$")


def normalise_dossier_number(raw: str) -> str:
    """Strip separators and leading zeros, so look-alike numbers collide."""
    value = _SEPARATORS.sub("", raw).upper().lstrip("0")
    if not _DOSSIER.fullmatch(value):
        raise IdentifierError(
            "dossier_number",
            "dossier_number.format",
            "1 to 11 letters or digits after removing separators and leading "
            "zeros (Primabook: at most 11 characters)",
        )
    return value


@dataclass(eq=False)
class Beneficiary(Aggregate):
    """The case of one person at one CPAS."""

    creates: ClassVar[Mapping[type[ContractEvent], str]] = {
        BilanCompletedV1: "assessment_id",
        IncomeRightGrantedV1: "right_id",
    }

    dossier_number: str = ""
    registered_on: dt.date | None = None
    bilans: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    last_bilan_on: dt.date | None = None
    orientation: Orientation | None = None
    registration: BeneficiaryRegisteredV1 | None = None
    right: IncomeRightGrantedV1 | None = None
    right_category: int | None = None
    right_effective_from: dt.date | None = None
    # Decision dates of earlier sanctions by kind: a repeat is counted from them.
    sanctions_decided: dict[SanctionKind, list[dt.date]] = field(
        default_factory=lambda: {"piis": [], "declaration": []}
    )
    sanctions_executed: set[uuid.UUID] = field(default_factory=set)
    suspensions: list[IncomePaymentSuspendedV1] = field(default_factory=list)

    def register(self, context: CommandContext, **payload: Any) -> None:
        """Open the case (BeneficiaryRegistered): once per person and CPAS."""
        if self.registration is not None:
            raise DuplicateRegistrationError(self.id)
        self.record(BeneficiaryRegisteredV1, context, **payload)

    def complete_bilan(
        self, context: CommandContext, *, today: dt.date, **payload: Any
    ) -> uuid.UUID:
        """Record a completed bilan; its assessment id."""
        completed_on: dt.date = payload["completed_on"]
        if completed_on > today:
            raise DomainError(
                "completed_on",
                "bilan.future_date",
                "a bilan cannot be completed in the future",
            )
        assessment_id = uuid.uuid5(self.id, f"bilan:{context.command_id}")
        self.record(BilanCompletedV1, context, assessment_id=assessment_id, **payload)
        return assessment_id

    def grant_income_right(
        self,
        context: CommandContext,
        *,
        today: dt.date,
        table: AmountTable,
        kind: str,
        category: int,
        application_date: dt.date,
        decision_date: dt.date,
        effective_date: dt.date,
        student: bool,
        received_income_before_reform: bool,
    ) -> uuid.UUID:
        """Grant RIS/ERIS (council decision); derive whether a PIIS is compulsory."""
        if self.right is not None:
            raise ConflictError(
                "case_id",
                "income_right.already_active",
                "the case already has an active income right; modify or withdraw it",
            )
        if decision_date < application_date:
            raise DomainError(
                "decision_date",
                "income_right.decision_before_application",
                "the decision cannot precede the application",
            )
        if decision_date > today:
            raise DomainError(
                "decision_date",
                "income_right.future_decision",
                "a decision in the future",
            )
        amount, version = table.amount(category, effective_date)
        right_id = uuid.uuid5(self.id, f"income-right:{context.command_id}")
        self.record(
            IncomeRightGrantedV1,
            context,
            right_id=right_id,
            kind=kind,
            category=category,
            monthly_amount=amount,
            amount_version=version.label,
            application_date=application_date,
            decision_date=decision_date,
            effective_date=effective_date,
            decided_late=(decision_date - application_date).days
            > LAW.value("income.decision_days", decision_date, field="decision_date"),
            piis_obligation=self._piis_obligation(
                decision_date, effective_date, student, received_income_before_reform
            ),
        )
        return right_id

    def _piis_obligation(
        self, decision: dt.date, effective: dt.date, student: bool, before_reform: bool
    ) -> PiisObligation:
        # Law of 26 May 2002 art. 11, as amended by the law of 21 July 2016:
        # compulsory for under-25s and students, and for every beneficiary new
        # since 1 November 2016; optional for older beneficiaries of before.
        birth = self.registration.birth_date if self.registration else decision
        age = (
            decision.year
            - birth.year
            - ((decision.month, decision.day) < (birth.month, birth.day))
        )
        if age < UNDER_25:
            return "compulsory_under_25"
        if student:
            return "compulsory_student"
        if not before_reform and effective >= REFORM_2016:
            return "compulsory_new_beneficiary"
        return "optional"

    def modify_income_right(
        self,
        context: CommandContext,
        *,
        table: AmountTable,
        category: int,
        effective_date: dt.date,
        reason: str,
    ) -> None:
        """Change the category (and amount) from a date."""
        right = self._active_right()
        self._not_before_grant("effective_date", effective_date)
        amount, version = table.amount(category, effective_date)
        self.record(
            IncomeRightModifiedV1,
            context,
            right_id=right.right_id,
            category=category,
            monthly_amount=amount,
            amount_version=version.label,
            effective_date=effective_date,
            reason=reason,
        )

    def suspend_income_payment(
        self,
        context: CommandContext,
        *,
        reason: str,
        period_start: dt.date,
        period_end: dt.date,
        stay_of_execution: bool,
        decided_on: dt.date | None = None,
        extent: str = "full",
        partial_percent: int | None = None,
        fraudulent: bool = False,
        offence_on: dt.date | None = None,
        sanction: PiisSanctionDecidedV1 | None = None,
    ) -> None:
        """Suspend payment for a period (the right stays: not a withdrawal).

        A sanction is held to article 30's limits (``services.common.sanctions``);
        a PIIS sanction is recorded only from the PIIS service's decision, once.
        """
        right = self._active_right()
        self._not_before_grant("period_start", period_start)
        if period_end < period_start:
            raise DomainError(
                "period_end",
                "suspension.end_before_start",
                "a suspension cannot end before it starts",
            )
        check_extent(extent, partial_percent)
        repeat = False
        if reason == "piis_sanction":
            decided_on = self._decided_piis_sanction(sanction)
        if reason in _SANCTIONS:
            if decided_on is None:
                raise DomainError(
                    "decided_on",
                    "suspension.decision_date_required",
                    "a sanction states the date of its decision: it takes effect on "
                    "the first day of the second month after it (law of 26 May 2002 "
                    "art. 30)",
                )
            kind = _SANCTIONS[reason]
            repeat = check_period(
                kind,
                decided_on=decided_on,
                period_start=period_start,
                period_end=period_end,
                earlier=self.sanctions_decided[kind],
                fraudulent=fraudulent,
                offence_on=offence_on,
            ).repeat
        self.record(
            IncomePaymentSuspendedV1,
            context,
            right_id=right.right_id,
            reason=reason,
            period_start=period_start,
            period_end=period_end,
            stay_of_execution=stay_of_execution,
            decided_on=decided_on,
            extent=extent,
            partial_percent=partial_percent,
            repeat=repeat,
            fraudulent=fraudulent,
            offence_on=offence_on,
            sanction_event_id=sanction.event_id if sanction else None,
        )

    def _decided_piis_sanction(self, sanction: PiisSanctionDecidedV1 | None) -> dt.date:
        if sanction is None:
            raise DomainError(
                "reason",
                "suspension.piis_sanction_not_decided",
                "a suspension for a PIIS not respected carries out a sanction the "
                "PIIS service decided after notice and hearing; it is recorded from "
                "that decision, never directly (law of 26 May 2002 art. 30 §2)",
            )
        if sanction.event_id in self.sanctions_executed:
            raise ConflictError(
                "sanction_event_id",
                "suspension.sanction_already_executed",
                "this PIIS sanction already suspended the payment; a decision is "
                "carried out once",
            )
        return sanction.decided_on

    def withdraw_income_right(
        self, context: CommandContext, *, effective_date: dt.date, reason: str
    ) -> None:
        """End the right from a date."""
        right = self._active_right()
        self._not_before_grant("effective_date", effective_date)
        self.record(
            IncomeRightWithdrawnV1,
            context,
            right_id=right.right_id,
            effective_date=effective_date,
            reason=reason,
        )

    def _active_right(self) -> IncomeRightGrantedV1:
        if self.right is None:
            raise DomainError(
                "case_id",
                "income_right.none_active",
                "the case has no active income right",
            )
        return self.right

    def _not_before_grant(self, name: str, day: dt.date) -> None:
        if self.right_effective_from is not None and day < self.right_effective_from:
            raise DomainError(
                name,
                "income_right.before_grant",
                "the date is before the right took effect",
            )

    def apply(self, event: ContractEvent) -> None:
        """Fold one event into the case."""
        super().apply(event)
        match event:
            case BeneficiaryRegisteredV1():
                self.registration = event
                self.dossier_number = event.dossier_number
                self.registered_on = event.registered_on
            case BilanCompletedV1():
                if event.causation_id is not None:
                    self.bilans[event.causation_id] = event.assessment_id
                self.last_bilan_on = event.completed_on
                self.orientation = event.orientation
            case IncomeRightGrantedV1():
                self.right, self.suspensions = event, []
                self.right_category = event.category
                self.right_effective_from = event.effective_date
            case IncomeRightModifiedV1():
                self.right_category = event.category
            case IncomePaymentSuspendedV1():
                self.suspensions.append(event)
                kind = _SANCTIONS.get(event.reason)
                if kind is not None:
                    self.sanctions_decided[kind].append(
                        event.decided_on or event.period_start
                    )
                if event.sanction_event_id is not None:
                    self.sanctions_executed.add(event.sanction_event_id)
            case IncomeRightWithdrawnV1():
                self.right = None
                self.right_category = None
                self.right_effective_from = None
            case _:
                pass


@dataclass(eq=False)
class DossierNumber(Aggregate):
    """Index of a CPAS file number: exists once, so a number is never given twice."""

    @classmethod
    def claim(
        cls,
        index_id: uuid.UUID,
        case_id: uuid.UUID,
        cpas_kbo: str,
        number: str,
        context: CommandContext,
    ) -> DossierNumber:
        """Give the number to a case (DossierNumberClaimed)."""
        index = cls(id=index_id, case_id=case_id, cpas_kbo=cpas_kbo)
        index.record(DossierNumberClaimedV1, context, dossier_number=number)
        return index
