"""The intake application: register a beneficiary, record a bilan, read a case."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from contracts.identifiers import normalise_kbo, parse_niss
from contracts.intake import Orientation
from contracts.regions import PartnerCode, Region
from services.common.aggregate import CommandContext, projector
from services.common.application import HubApplication
from services.intake.domain import (
    Beneficiary,
    DomainError,
    DossierNumber,
    DossierNumberTakenError,
    DuplicateRegistrationError,
    normalise_dossier_number,
)
from services.intake.parameters import AmountTable, default_table
from services.intake.regions import residence_for_postal_code

__all__ = [
    "CaseNotFoundError",
    "GrantIncomeRight",
    "IntakeApplication",
    "ModifyIncomeRight",
    "RecordBilan",
    "RegisterBeneficiary",
    "Registration",
    "SuspendIncomePayment",
    "WithdrawIncomeRight",
]


class CaseNotFoundError(LookupError):
    """No case with that id."""


@dataclass(frozen=True, slots=True)
class RegisterBeneficiary:
    """Command: open a case for a person at a CPAS."""

    context: CommandContext
    cpas_kbo: str
    niss: str
    birth_date: dt.date
    family_name: str
    given_name: str
    preferred_language: str
    postal_code: str
    dossier_number: str
    registered_on: dt.date


@dataclass(frozen=True, slots=True)
class RecordBilan:
    """Command: record the completed social assessment of a case."""

    context: CommandContext
    case_id: uuid.UUID
    completed_on: dt.date
    author: str
    needs: tuple[str, ...]
    strengths: tuple[str, ...]
    obstacles: tuple[str, ...]
    instrument: str
    baseline_scores: Mapping[str, int]
    orientation: Orientation


@dataclass(frozen=True, slots=True)
class GrantIncomeRight:
    """Command: record the council's decision granting RIS or ERIS."""

    context: CommandContext
    case_id: uuid.UUID
    kind: str
    category: int
    application_date: dt.date
    decision_date: dt.date
    effective_date: dt.date
    student: bool = False
    received_income_before_reform: bool = False


@dataclass(frozen=True, slots=True)
class ModifyIncomeRight:
    """Command: change the category of the right from a date."""

    context: CommandContext
    case_id: uuid.UUID
    category: int
    effective_date: dt.date
    reason: str


@dataclass(frozen=True, slots=True)
class SuspendIncomePayment:
    """Command: suspend payment of the income for a period."""

    context: CommandContext
    case_id: uuid.UUID
    reason: str
    period_start: dt.date
    period_end: dt.date
    stay_of_execution: bool = False


@dataclass(frozen=True, slots=True)
class WithdrawIncomeRight:
    """Command: end the right from a date."""

    context: CommandContext
    case_id: uuid.UUID
    effective_date: dt.date
    reason: str


@dataclass(frozen=True, slots=True)
class Registration:
    """The answer to a registration, the same on every retry."""

    case_id: uuid.UUID
    dossier_number: str
    region: Region
    partner: PartnerCode
    created: bool


_project_beneficiary = projector(Beneficiary)


class IntakeApplication(HubApplication):
    """Owns beneficiaries, their file numbers and bilans (schema ``intake``)."""

    name = "intake"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        id_secret: str = "",
        today: Callable[[], dt.date] = dt.date.today,
        amounts: AmountTable | None = None,
    ) -> None:
        super().__init__(env)
        self._amounts = amounts or default_table()
        self._namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"cpas-hub:{id_secret}")
        self._today = today

    def case_id_for(self, cpas_kbo: str, niss: str) -> uuid.UUID:
        """The case id of a person at a CPAS, derived so retries find the same case."""
        return uuid.uuid5(self._namespace, f"case:{cpas_kbo}:{niss}")

    def dossier_index_id(self, cpas_kbo: str, number: str) -> uuid.UUID:
        """The id of a CPAS file number's index stream."""
        return uuid.uuid5(self._namespace, f"dossier:{cpas_kbo}:{number}")

    def register_beneficiary(self, cmd: RegisterBeneficiary) -> Registration:
        """Open the case; a retry of the same command answers the same."""
        niss = parse_niss(cmd.niss, birth_date=cmd.birth_date)
        cpas_kbo = normalise_kbo(cmd.cpas_kbo)
        residence = residence_for_postal_code(cmd.postal_code)
        number = normalise_dossier_number(cmd.dossier_number)
        case_id = self.case_id_for(cpas_kbo, niss.value)
        existing = self._existing_registration(case_id, cmd.context.command_id)
        if existing is not None:
            return existing
        beneficiary = Beneficiary.register(
            case_id,
            cmd.context,
            cpas_kbo=cpas_kbo,
            niss=niss.value,
            niss_kind=niss.kind,
            family_name=cmd.family_name,
            given_name=cmd.given_name,
            birth_date=cmd.birth_date,
            preferred_language=cmd.preferred_language,
            postal_code=residence.postal_code,
            region=residence.region,
            partner=residence.partner,
            dossier_number=number,
            registered_on=cmd.registered_on,
        )
        index = DossierNumber.claim(
            self.dossier_index_id(cpas_kbo, number),
            case_id,
            cpas_kbo,
            number,
            cmd.context,
        )
        try:
            self.save(beneficiary, index)
        except IntegrityError:
            # A concurrent or earlier command won the race: answer as it did.
            self.forget(case_id)
            existing = self._existing_registration(case_id, cmd.context.command_id)
            if existing is not None:
                return existing
            raise DossierNumberTakenError from None
        return Registration(
            case_id, number, residence.region, residence.partner, created=True
        )

    def _existing_registration(
        self, case_id: uuid.UUID, command_id: uuid.UUID
    ) -> Registration | None:
        try:
            beneficiary = self.get_beneficiary(case_id)
        except CaseNotFoundError:
            return None
        if not beneficiary.is_same_registration(command_id):
            raise DuplicateRegistrationError(case_id)
        registration = beneficiary.registration
        if registration is None:  # pragma: no cover - a case starts with it
            raise DomainError("case_id", "case.corrupt", "case has no registration")
        return Registration(
            case_id,
            registration.dossier_number,
            registration.region,
            registration.partner,
            created=False,
        )

    def record_bilan(self, cmd: RecordBilan) -> uuid.UUID:
        """Record a completed bilan on a case; retries return the same assessment."""
        beneficiary = self.get_beneficiary(cmd.case_id)
        assessment_id = beneficiary.complete_bilan(
            cmd.context,
            today=self._today(),
            completed_on=cmd.completed_on,
            author=cmd.author,
            needs=cmd.needs,
            strengths=cmd.strengths,
            obstacles=cmd.obstacles,
            instrument=cmd.instrument,
            baseline_scores=dict(cmd.baseline_scores),
            orientation=cmd.orientation,
        )
        if beneficiary.has_pending_events():
            try:
                self.save(beneficiary)
            except IntegrityError:
                # Another writer appended first: re-run on the fresh state.
                self.forget(cmd.case_id)
                return self.record_bilan(cmd)
        return assessment_id

    def grant_income_right(self, cmd: GrantIncomeRight) -> uuid.UUID:
        """Grant RIS/ERIS; a retried command returns the same right id."""

        def grant(case: Beneficiary) -> uuid.UUID:
            return case.grant_income_right(
                cmd.context,
                today=self._today(),
                table=self._amounts,
                kind=cmd.kind,
                category=cmd.category,
                application_date=cmd.application_date,
                decision_date=cmd.decision_date,
                effective_date=cmd.effective_date,
                student=cmd.student,
                received_income_before_reform=cmd.received_income_before_reform,
            )

        self._act(cmd.case_id, cmd.context.command_id, grant)
        return uuid.uuid5(cmd.case_id, f"income-right:{cmd.context.command_id}")

    def modify_income_right(self, cmd: ModifyIncomeRight) -> None:
        """Change the right's category from a date."""
        self._act(
            cmd.case_id,
            cmd.context.command_id,
            lambda case: case.modify_income_right(
                cmd.context,
                table=self._amounts,
                category=cmd.category,
                effective_date=cmd.effective_date,
                reason=cmd.reason,
            ),
        )

    def suspend_income_payment(self, cmd: SuspendIncomePayment) -> None:
        """Suspend payment for a period."""
        self._act(
            cmd.case_id,
            cmd.context.command_id,
            lambda case: case.suspend_income_payment(
                cmd.context,
                reason=cmd.reason,
                period_start=cmd.period_start,
                period_end=cmd.period_end,
                stay_of_execution=cmd.stay_of_execution,
            ),
        )

    def withdraw_income_right(self, cmd: WithdrawIncomeRight) -> None:
        """End the right from a date."""
        self._act(
            cmd.case_id,
            cmd.context.command_id,
            lambda case: case.withdraw_income_right(
                cmd.context, effective_date=cmd.effective_date, reason=cmd.reason
            ),
        )

    def _act(
        self,
        case_id: uuid.UUID,
        command_id: uuid.UUID,
        decide: Callable[[Beneficiary], object],
    ) -> None:
        """Get the case, let it decide, save; a handled command changes nothing."""
        case = self.get_beneficiary(case_id)
        if command_id in case.handled:
            return
        decide(case)
        try:
            self.save(case)
        except IntegrityError:
            # Another writer appended first: decide again on the fresh state.
            self.forget(case_id)
            self._act(case_id, command_id, decide)

    def get_beneficiary(self, case_id: uuid.UUID) -> Beneficiary:
        """The current state of a case, from its events."""
        try:
            beneficiary: Any = self.repository.get(
                case_id, projector_func=_project_beneficiary
            )
        except AggregateNotFoundError:
            raise CaseNotFoundError(f"case_id: no case {case_id}") from None
        if not isinstance(beneficiary, Beneficiary):
            raise CaseNotFoundError(f"case_id: no case {case_id}")
        return beneficiary
