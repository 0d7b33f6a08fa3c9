"""The intake domain: a beneficiary's case at a CPAS, its file number and its bilan."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from contracts.envelope import ContractEvent
from contracts.household import HouseholdChild, HouseholdRecordedV1
from contracts.identifiers import IdentifierError
from contracts.income import (
    IncomePaymentSuspendedV1,
    IncomeRecoveryDecidedV1,
    IncomeRightGrantedV1,
    IncomeRightModifiedV1,
    IncomeRightRefusedV1,
    IncomeRightWithdrawnV1,
)
from contracts.intake import (
    BeneficiaryRegisteredV1,
    BilanCompletedV1,
    CaseErasedV1,
    CaseTransferredV1,
    DossierNumberClaimedV1,
    ErasureReason,
    Orientation,
    PersonIndexClaimedV1,
    ResidenceChangedV1,
)
from contracts.piis import PiisSanctionDecidedV1
from contracts.regions import PartnerCode, Region
from contracts.text import ITEMS
from services.common.aggregate import Aggregate, CommandContext
from services.common.errors import ConflictError, DomainError
from services.common.law import LAW
from services.common.sanctions import SanctionKind, check_extent, check_period
from services.intake.household import (
    PartnerEntry,
    check_born,
    check_category,
    household_on,
    partner_obligations,
    piis_obligation,
    resolve_partners,
)
from services.intake.parameters import AmountTable
from services.intake.recovery import RightHistory, allocate, granted_by_month
from services.intake.regions import Residence

__all__ = [
    "Beneficiary",
    "ConflictError",
    "DomainError",
    "DossierNumber",
    "DossierNumberTakenError",
    "DuplicateRegistrationError",
    "Subsidised",
    "normalise_dossier_number",
]


@dataclass(frozen=True, slots=True)
class Subsidised:
    """What the State's reimbursement and the PIIS subsidy of a grant follow."""

    granted_monthly_amount: Decimal | None = None
    reimbursement_basis: str | None = None

    def fields(self, category_amount: Decimal) -> dict[str, Any]:
        """The event's fields; an amount above the category's is refused."""
        granted = self.granted_monthly_amount
        if granted is not None and granted > category_amount:
            raise DomainError(
                "granted_monthly_amount",
                "income_right.granted_above_category_amount",
                "the amount granted is at most the category's amount: the income "
                "is the category's amount less the person's resources (law of 26 "
                "May 2002 art. 14 and 16)",
            )
        return {
            "granted_monthly_amount": granted,
            "reimbursement_basis": self.reimbursement_basis,
        }


class DuplicateRegistrationError(ConflictError):
    """The person already has a case at this CPAS (one case per person and CPAS)."""

    def __init__(self, case_id: uuid.UUID) -> None:
        super().__init__(
            "niss",
            "beneficiary.duplicate",
            "this person already has a case at this CPAS; one case per person "
            "and CPAS (SPP IS form A; docs/domain/identifiers.md)",
        )
        self.case_id = case_id


class DossierNumberTakenError(ConflictError):
    """The file number was already given to another case; numbers are never reused."""

    def __init__(self) -> None:
        super().__init__(
            "dossier_number",
            "dossier_number.reused",
            "this file number was already given to another case at this CPAS; "
            "file numbers are unique and never reused (SPP IS form A)",
        )


# The suspension reasons that are sanctions, by their paragraph of art. 30.
_SANCTIONS: dict[str, SanctionKind] = {
    "piis_sanction": "piis",
    "declaration_sanction": "declaration",
}

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
        IncomeRecoveryDecidedV1: "recovery_id",
    }

    dossier_number: str = ""
    registered_on: dt.date | None = None
    # The residence and since when it (or the CPAS) is the current one.
    postal_code: str = ""
    region: Region | None = None
    partner: PartnerCode | None = None
    changed_on: dt.date | None = None
    households: dict[dt.date, HouseholdRecordedV1] = field(default_factory=dict)
    # On the stream a registration at another CPAS would open: the case
    # transferred there (one case per person and CPAS).
    index_of: uuid.UUID | None = None
    erased: bool = False
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
    # Every right the case had, with its days and amounts: a recovery's base.
    rights: dict[uuid.UUID, RightHistory] = field(default_factory=dict)

    def register(self, context: CommandContext, **payload: Any) -> None:
        """Open the case (BeneficiaryRegistered): once per person and CPAS."""
        if self.registration is not None:
            raise DuplicateRegistrationError(self.id)
        if self.index_of is not None:
            raise DuplicateRegistrationError(self.index_of)
        self.record(BeneficiaryRegisteredV1, context, **payload)

    def record_household(
        self,
        context: CommandContext,
        *,
        effective_date: dt.date,
        partners: tuple[PartnerEntry, ...],
        children: tuple[HouseholdChild, ...],
        other_members: int,
        known_cases: Mapping[uuid.UUID, dt.date],
    ) -> None:
        """Record who lives with the person from a date (restated whole).

        ``known_cases``: the cases of this CPAS among the partners' case ids,
        with their birth dates.
        """
        resolved = resolve_partners(
            partners, own_case=self.case_id, known_cases=known_cases
        )
        check_born(resolved, children, effective_date)
        self.record(
            HouseholdRecordedV1,
            context,
            effective_date=effective_date,
            partners=resolved,
            children=children,
            other_members=other_members,
        )

    def household_on(self, day: dt.date) -> HouseholdRecordedV1 | None:
        """The household in force on a day (None: the person alone)."""
        return household_on(self.households, day)

    def move(
        self,
        context: CommandContext,
        *,
        today: dt.date,
        residence: Residence,
        moved_on: dt.date,
    ) -> None:
        """Record a new main residence from a date (ResidenceChanged)."""
        self._in_date_order(
            "moved_on",
            moved_on,
            today,
            in_future="residence.in_future",
            out_of_order="residence.before_current_address",
        )
        if residence.postal_code == self.postal_code:
            raise DomainError(
                "postal_code",
                "residence.unchanged",
                "the person already lives at this postal code; nothing changes",
            )
        if self.region is None or self.partner is None:  # pragma: no cover
            raise DomainError("case_id", "case.corrupt", "case has no residence")
        self.record(
            ResidenceChangedV1,
            context,
            moved_on=moved_on,
            postal_code=residence.postal_code,
            region=residence.region,
            partner=residence.partner,
            previous_region=self.region,
            previous_partner=self.partner,
        )

    def transfer(
        self,
        context: CommandContext,
        *,
        today: dt.date,
        to_cpas_kbo: str,
        dossier_number: str,
        transferred_on: dt.date,
    ) -> None:
        """Hand the case, with its history, to another CPAS (CaseTransferred).

        Its events carry the new CPAS from this one on.
        """
        if to_cpas_kbo == self.cpas_kbo:
            raise DomainError(
                "to_cpas_kbo",
                "transfer.same_cpas",
                "the case is already at this CPAS",
            )
        if self.right is not None:
            raise DomainError(
                "case_id",
                "transfer.income_right_active",
                "the income right this CPAS granted is still active: withdraw it "
                "first; the CPAS now competent (law of 2 April 1965 art. 1: the CPAS "
                "of the person's usual residence) decides its own grant",
            )
        self._in_date_order(
            "transferred_on",
            transferred_on,
            today,
            in_future="transfer.in_future",
            out_of_order="transfer.before_current_address",
        )
        from_cpas_kbo, previous = self.cpas_kbo, self.dossier_number
        self.cpas_kbo = to_cpas_kbo
        self.record(
            CaseTransferredV1,
            context,
            transferred_on=transferred_on,
            from_cpas_kbo=from_cpas_kbo,
            previous_dossier_number=previous,
            dossier_number=dossier_number,
        )

    def erase(
        self,
        context: CommandContext,
        *,
        last_activity_on: dt.date,
        reason: ErasureReason,
        forced: bool,
        reference: str | None,
    ) -> None:
        """Record that the file is erased (CaseErased); nothing follows it."""
        self.record(
            CaseErasedV1,
            context,
            erased_on=context.today,
            last_activity_on=last_activity_on,
            reason=reason,
            forced=forced,
            reference=reference,
        )

    def claim_person_index(self, context: CommandContext) -> None:
        """On the stream of the person at this CPAS: the transferred case is theirs."""
        self.record(PersonIndexClaimedV1, context)

    def _in_date_order(
        self,
        name: str,
        day: dt.date,
        today: dt.date,
        *,
        in_future: str,
        out_of_order: str,
    ) -> None:
        if self.registration is None:  # pragma: no cover - commands find a case
            raise DomainError("case_id", "case.unknown", "no case with this id")
        if day > today:
            raise DomainError(
                name,
                in_future,
                "a move or a transfer is recorded once it happened: the date is "
                "after today",
            )
        if self.changed_on is not None and day < self.changed_on:
            raise DomainError(
                name,
                out_of_order,
                "the date is before the current residence or CPAS took effect; "
                "moves and transfers are recorded in the order they happened",
            )

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
        subsidised: Subsidised = Subsidised(),
    ) -> uuid.UUID:
        """Grant RIS/ERIS (council decision); derive whether a PIIS is compulsory."""
        if self.right is not None:
            raise ConflictError(
                "case_id",
                "income_right.already_active",
                "the case already has an active income right; modify or withdraw it",
            )
        _decided_in_order(application_date, decision_date, today)
        household = self.household_on(effective_date)
        check_category(category, household, effective_date)
        amount, version = table.amount(category, effective_date)
        right_id = uuid.uuid5(self.id, f"income-right:{context.command_id}")
        birth = self.registration.birth_date if self.registration else decision_date
        self.record(
            IncomeRightGrantedV1,
            context,
            right_id=right_id,
            kind=kind,
            category=category,
            monthly_amount=amount,
            amount_version=version.label,
            household_since=household.effective_date if household else None,
            application_date=application_date,
            decision_date=decision_date,
            effective_date=effective_date,
            decided_late=_decided_late(application_date, decision_date),
            piis_obligation=piis_obligation(
                birth_date=birth,
                decision_date=decision_date,
                effective_date=effective_date,
                student=student,
                received_income_before_reform=received_income_before_reform,
            ),
            partner_piis_obligations=partner_obligations(
                household, decision_date=decision_date, effective_date=effective_date
            ),
            **subsidised.fields(amount),
        )
        return right_id

    def modify_income_right(
        self,
        context: CommandContext,
        *,
        table: AmountTable,
        category: int,
        effective_date: dt.date,
        reason: str,
        subsidised: Subsidised = Subsidised(),
    ) -> None:
        """Change the category (and amount) from a date."""
        right = self._active_right()
        self._not_before_grant("effective_date", effective_date)
        household = self.household_on(effective_date)
        check_category(category, household, effective_date)
        amount, version = table.amount(category, effective_date)
        self.record(
            IncomeRightModifiedV1,
            context,
            right_id=right.right_id,
            category=category,
            monthly_amount=amount,
            amount_version=version.label,
            household_since=household.effective_date if household else None,
            effective_date=effective_date,
            reason=reason,
            **subsidised.fields(amount),
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

    def refuse_income_application(
        self,
        context: CommandContext,
        *,
        today: dt.date,
        kind: str,
        application_date: dt.date,
        decision_date: dt.date,
        reason: str,
        category_asked: int | None,
    ) -> None:
        """Record the council's refusal of an application (a case without a right)."""
        if self.right is not None:
            raise ConflictError(
                "case_id",
                "income_right.refused_while_active",
                "the case has an active income right: an application is refused "
                "only when no right is in force; end the right with a withdrawal "
                "(law of 26 May 2002 art. 21: the CPAS decides on an application "
                "for a right the person does not have)",
            )
        _decided_in_order(application_date, decision_date, today)
        self.record(
            IncomeRightRefusedV1,
            context,
            kind=kind,
            application_date=application_date,
            decision_date=decision_date,
            decided_late=_decided_late(application_date, decision_date),
            reason=reason,
            category_asked=category_asked,
        )

    def decide_recovery(
        self,
        context: CommandContext,
        *,
        today: dt.date,
        decision_date: dt.date,
        period_start: dt.date,
        period_end: dt.date,
        amount: Decimal,
        recovery_type: str,
        reason: str,
    ) -> uuid.UUID:
        """Record a decision to recover income paid unduly over a period.

        The period lies within one right the case had, is over by today, and
        the amount is above zero and at most what the right granted over it.
        """
        right = self._recoverable(decision_date, period_start, period_end, today)
        if amount <= 0:
            raise DomainError(
                "amount",
                "income_recovery.amount_not_positive",
                "a recovery is of an amount above zero (law of 26 May 2002 art. "
                "24: the CPAS recovers income it paid)",
            )
        granted = granted_by_month(right, period_start, period_end)
        if amount > sum(granted.values(), Decimal(0)):
            raise DomainError(
                "amount",
                "income_recovery.above_granted",
                "the amount recovered is at most the income granted over the "
                "period (law of 26 May 2002 art. 24: what was paid unduly is "
                "recovered, nothing more)",
            )
        recovery_id = uuid.uuid5(self.id, f"recovery:{context.command_id}")
        self.record(
            IncomeRecoveryDecidedV1,
            context,
            recovery_id=recovery_id,
            right_id=right.right_id,
            kind=right.kind,
            decision_date=decision_date,
            period_start=period_start,
            period_end=period_end,
            amount=amount,
            recovery_type=recovery_type,
            reason=reason,
            months=tuple(
                {"month": month, "amount": share, "granted": granted[month]}
                for month, share in allocate(amount, granted).items()
            ),
        )
        return recovery_id

    def _recoverable(
        self,
        decision_date: dt.date,
        period_start: dt.date,
        period_end: dt.date,
        today: dt.date,
    ) -> RightHistory:
        """The right a recovery's period lies in, its dates checked."""
        if period_end < period_start:
            raise DomainError(
                "period_end",
                "income_recovery.end_before_start",
                "a recovery's period cannot end before it starts",
            )
        if period_end > today:
            raise DomainError(
                "period_end",
                "income_recovery.period_in_future",
                "a recovery is of income already paid (law of 26 May 2002 art. "
                "24): its period ends by today",
            )
        if decision_date > today:
            raise DomainError(
                "decision_date",
                "income_right.future_decision",
                "a decision in the future",
            )
        if decision_date < period_start:
            raise DomainError(
                "decision_date",
                "income_recovery.decided_before_period",
                "a recovery is decided once the income was paid (law of 26 May "
                "2002 art. 24): the decision cannot precede its period",
            )
        months = (period_end.year - period_start.year) * 12
        if months + period_end.month - period_start.month >= ITEMS:
            raise DomainError(
                "period_end",
                "income_recovery.too_many_months",
                f"a recovery decision covers at most {ITEMS} months of reference; "
                "record a longer one as several decisions",
            )
        right = next(
            (r for r in self.rights.values() if r.covers(period_start, period_end)),
            None,
        )
        if right is None:
            raise DomainError(
                "period_start",
                "income_recovery.outside_right",
                "a recovery's period lies within the days of one income right the "
                "case had (law of 26 May 2002 art. 24: the CPAS recovers the "
                "income it granted)",
            )
        if right.cpas_kbo != self.cpas_kbo:
            raise DomainError(
                "period_start",
                "income_recovery.right_of_another_cpas",
                "the income of that period was granted by the CPAS the case was "
                "transferred from: that CPAS recovers what it paid and reports it "
                "to SPP IS (law of 26 May 2002 art. 24 and art. 32)",
            )
        return right

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
        self._keep_history(event)
        match event:
            case BeneficiaryRegisteredV1():
                self.registration = event
                self.dossier_number = event.dossier_number
                self.registered_on = event.registered_on
                self.postal_code = event.postal_code
                self.region, self.partner = event.region, event.partner
                self.changed_on = event.registered_on
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
                self._apply_household_and_whereabouts(event)

    def _keep_history(self, event: ContractEvent) -> None:
        """Every right's days, amounts and suspensions (what a recovery is held to)."""
        if isinstance(event, IncomeRightGrantedV1):
            self.rights[event.right_id] = RightHistory(
                event.right_id, event.kind, event.effective_date, event.cpas_kbo
            )
        right_id = getattr(event, "right_id", None)
        history = self.rights.get(right_id) if isinstance(right_id, uuid.UUID) else None
        match event:
            case IncomeRightGrantedV1() | IncomeRightModifiedV1() if history:
                amount = event.granted_monthly_amount or event.monthly_amount
                history.amounts.append((event.effective_date, amount))
                history.amounts.sort(key=lambda item: item[0])
            case IncomePaymentSuspendedV1(stay_of_execution=False) if history:
                share = 100 if event.extent == "full" else event.partial_percent or 0
                history.suspended.append((event.period_start, event.period_end, share))
            case IncomeRightWithdrawnV1() if history:
                history.end = event.effective_date - dt.timedelta(days=1)
            case _:
                pass

    def _apply_household_and_whereabouts(self, event: ContractEvent) -> None:
        match event:
            case HouseholdRecordedV1():
                self.households[event.effective_date] = event
            case ResidenceChangedV1():
                self.postal_code = event.postal_code
                self.region, self.partner = event.region, event.partner
                self.changed_on = event.moved_on
            case CaseTransferredV1():
                self.cpas_kbo = event.cpas_kbo
                self.dossier_number = event.dossier_number
                self.changed_on = event.transferred_on
            case PersonIndexClaimedV1():
                self.index_of = event.case_id
            case CaseErasedV1():
                self.erased = True
            case _:
                pass


def _decided_in_order(
    application_date: dt.date, decision_date: dt.date, today: dt.date
) -> None:
    """A decision on an application: not before it, not in the future."""
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


def _decided_late(application_date: dt.date, decision_date: dt.date) -> bool:
    """More than the law's days after the application (law of 26 May 2002 art. 21)."""
    days = LAW.value("income.decision_days", application_date, field="application_date")
    return (decision_date - application_date).days > days


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
