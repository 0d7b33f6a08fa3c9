"""The intake application: register a beneficiary, record a bilan, read a case."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from contracts.household import HouseholdChild
from contracts.identifiers import normalise_kbo, parse_niss
from contracts.intake import ErasureReason, Orientation
from contracts.piis import PiisSanctionDecidedV1
from contracts.regions import PartnerCode, Region
from services.common.aggregate import CommandContext, HandledCommand
from services.common.application import (
    Decided,
    HubApplication,
    Outcome,
    created_id,
)
from services.intake.domain import (
    Beneficiary,
    ConflictError,
    DomainError,
    DossierNumber,
    DossierNumberTakenError,
    Subsidised,
    normalise_dossier_number,
)
from services.intake.household import PartnerEntry
from services.intake.parameters import AmountTable, default_table
from services.intake.regions import residence_for_postal_code

__all__ = [
    "CaseNotFoundError",
    "DecideRecovery",
    "GrantIncomeRight",
    "IntakeApplication",
    "ModifyIncomeRight",
    "PartnerEntry",
    "RecordBilan",
    "RecordHousehold",
    "RecordMove",
    "RefuseIncomeApplication",
    "RegisterBeneficiary",
    "Registration",
    "SuspendIncomePayment",
    "Transfer",
    "TransferCase",
    "WithdrawIncomeRight",
]


R = TypeVar("R")


class CaseNotFoundError(LookupError):
    """No case with that id."""


class CaseErasedError(CaseNotFoundError):
    """The case's file was erased: answered as an unknown case, to anyone."""

    def __init__(self) -> None:
        super().__init__("case_id: no such case")


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
    granted_monthly_amount: Decimal | None = None
    reimbursement_basis: str | None = None


@dataclass(frozen=True, slots=True)
class ModifyIncomeRight:
    """Command: change the category of the right from a date."""

    context: CommandContext
    case_id: uuid.UUID
    category: int
    effective_date: dt.date
    reason: str
    granted_monthly_amount: Decimal | None = None
    reimbursement_basis: str | None = None


@dataclass(frozen=True, slots=True)
class SuspendIncomePayment:
    """Command: suspend payment of the income for a period."""

    context: CommandContext
    case_id: uuid.UUID
    reason: str
    period_start: dt.date
    period_end: dt.date
    stay_of_execution: bool = False
    decided_on: dt.date | None = None
    extent: str = "full"
    partial_percent: int | None = None
    fraudulent: bool = False
    offence_on: dt.date | None = None
    # Only the sanction policy sets it: the PIIS decision a suspension carries out.
    sanction: PiisSanctionDecidedV1 | None = None


@dataclass(frozen=True, slots=True)
class WithdrawIncomeRight:
    """Command: end the right from a date."""

    context: CommandContext
    case_id: uuid.UUID
    effective_date: dt.date
    reason: str


@dataclass(frozen=True, slots=True)
class RefuseIncomeApplication:
    """Command: record the council's refusal of an application for the income."""

    context: CommandContext
    case_id: uuid.UUID
    kind: str
    application_date: dt.date
    decision_date: dt.date
    reason: str
    category_asked: int | None = None


@dataclass(frozen=True, slots=True)
class DecideRecovery:
    """Command: record a decision to recover income paid unduly over a period."""

    context: CommandContext
    case_id: uuid.UUID
    decision_date: dt.date
    period_start: dt.date
    period_end: dt.date
    amount: Decimal
    recovery_type: str
    reason: str


@dataclass(frozen=True, slots=True)
class RecordHousehold:
    """Command: who lives with the person from a date (the whole household)."""

    context: CommandContext
    case_id: uuid.UUID
    effective_date: dt.date
    partners: tuple[PartnerEntry, ...] = ()
    children: tuple[HouseholdChild, ...] = ()
    other_members: int = 0


@dataclass(frozen=True, slots=True)
class RecordMove:
    """Command: the person moved to a new main residence on a date."""

    context: CommandContext
    case_id: uuid.UUID
    postal_code: str
    moved_on: dt.date


@dataclass(frozen=True, slots=True)
class TransferCase:
    """Command: hand the case to another CPAS under a new file number there."""

    context: CommandContext
    case_id: uuid.UUID
    to_cpas_kbo: str
    dossier_number: str
    transferred_on: dt.date


@dataclass(frozen=True, slots=True)
class EraseCase:
    """Command: record that a file is erased (after its retention period)."""

    context: CommandContext
    case_id: uuid.UUID
    last_activity_on: dt.date
    reason: ErasureReason
    forced: bool
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class Transfer:
    """The answer to a transfer, the same on every retry."""

    case_id: uuid.UUID
    cpas_kbo: str
    dossier_number: str


@dataclass(frozen=True, slots=True)
class Registration:
    """The answer to a registration, the same on every retry."""

    case_id: uuid.UUID
    dossier_number: str
    region: Region
    partner: PartnerCode
    created: bool


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
        super().__init__(env, digest_key=id_secret)
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

        def register(case: Beneficiary) -> Decided[Registration]:
            case.register(
                cmd.context,
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
            claim = self._claim_number(cpas_kbo, number, case_id, cmd.context)
            return Decided(_registration(case, created=True), also=(claim,))

        outcome = self.execute(
            cmd,
            stream_id=case_id,
            cls=Beneficiary,
            start=lambda: Beneficiary(id=case_id, case_id=case_id, cpas_kbo=cpas_kbo),
            decide=register,
            answer=lambda case, _: _registration(case, created=False),
        )
        return outcome.result

    def record_bilan(self, cmd: RecordBilan) -> Outcome[uuid.UUID]:
        """Record a completed bilan on a case; retries return the same assessment."""
        return self._on_case(
            cmd,
            lambda case: case.complete_bilan(
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
            ),
            created_id,
        )

    def grant_income_right(self, cmd: GrantIncomeRight) -> Outcome[uuid.UUID]:
        """Grant RIS/ERIS; a retried command returns the same right id."""
        return self._on_case(
            cmd,
            lambda case: case.grant_income_right(
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
                subsidised=Subsidised(
                    cmd.granted_monthly_amount, cmd.reimbursement_basis
                ),
            ),
            created_id,
        )

    def modify_income_right(self, cmd: ModifyIncomeRight) -> Outcome[None]:
        """Change the right's category from a date."""
        return self._on_case(
            cmd,
            lambda case: case.modify_income_right(
                cmd.context,
                table=self._amounts,
                category=cmd.category,
                effective_date=cmd.effective_date,
                reason=cmd.reason,
                subsidised=Subsidised(
                    cmd.granted_monthly_amount, cmd.reimbursement_basis
                ),
            ),
            _nothing,
        )

    def suspend_income_payment(self, cmd: SuspendIncomePayment) -> Outcome[None]:
        """Suspend payment for a period."""
        return self._on_case(
            cmd,
            lambda case: case.suspend_income_payment(
                cmd.context,
                reason=cmd.reason,
                period_start=cmd.period_start,
                period_end=cmd.period_end,
                stay_of_execution=cmd.stay_of_execution,
                decided_on=cmd.decided_on,
                extent=cmd.extent,
                partial_percent=cmd.partial_percent,
                fraudulent=cmd.fraudulent,
                offence_on=cmd.offence_on,
                sanction=cmd.sanction,
            ),
            _nothing,
        )

    def withdraw_income_right(self, cmd: WithdrawIncomeRight) -> Outcome[None]:
        """End the right from a date."""
        return self._on_case(
            cmd,
            lambda case: case.withdraw_income_right(
                cmd.context, effective_date=cmd.effective_date, reason=cmd.reason
            ),
            _nothing,
        )

    def refuse_income_application(self, cmd: RefuseIncomeApplication) -> Outcome[None]:
        """Record the refusal of an application on a case without a right."""
        return self._on_case(
            cmd,
            lambda case: case.refuse_income_application(
                cmd.context,
                today=self._today(),
                kind=cmd.kind,
                application_date=cmd.application_date,
                decision_date=cmd.decision_date,
                reason=cmd.reason,
                category_asked=cmd.category_asked,
            ),
            _nothing,
        )

    def decide_recovery(self, cmd: DecideRecovery) -> Outcome[uuid.UUID]:
        """Record a recovery; a retried command returns the same recovery id."""
        return self._on_case(
            cmd,
            lambda case: case.decide_recovery(
                cmd.context,
                today=self._today(),
                decision_date=cmd.decision_date,
                period_start=cmd.period_start,
                period_end=cmd.period_end,
                amount=cmd.amount,
                recovery_type=cmd.recovery_type,
                reason=cmd.reason,
            ),
            created_id,
        )

    def record_household(self, cmd: RecordHousehold) -> Outcome[None]:
        """Record the household from a date; a partner's case gives their birth date."""

        def decide(case: Beneficiary) -> None:
            named = {p.case_id for p in cmd.partners if p.case_id is not None}
            known = {
                other.id: other.registration.birth_date
                for other in (self.get_stream(c, Beneficiary) for c in named)
                if other is not None
                and other.registration is not None
                and other.cpas_kbo == case.cpas_kbo
            }
            case.record_household(
                cmd.context,
                effective_date=cmd.effective_date,
                partners=cmd.partners,
                children=cmd.children,
                other_members=cmd.other_members,
                known_cases=known,
            )

        return self._on_case(cmd, decide, _nothing)

    def record_move(self, cmd: RecordMove) -> Outcome[None]:
        """Record a move to a new main residence (its region decides the partner)."""
        residence = residence_for_postal_code(cmd.postal_code)
        return self._on_case(
            cmd,
            lambda case: case.move(
                cmd.context,
                today=self._today(),
                residence=residence,
                moved_on=cmd.moved_on,
            ),
            _nothing,
        )

    def transfer_case(self, cmd: TransferCase) -> Outcome[Transfer]:
        """Move the case to another CPAS: same id and stream, a new file number.

        The number is claimed at the new CPAS (never reused there); the stream a
        registration of the person at the new CPAS would open is marked as
        theirs, so the person keeps one case per CPAS.
        """
        to_kbo = normalise_kbo(cmd.to_cpas_kbo, field="to_cpas_kbo")
        number = normalise_dossier_number(cmd.dossier_number)

        def decide(case: Beneficiary) -> Decided[Transfer]:
            registration = case.registration
            if registration is None:  # pragma: no cover - _on_case found a case
                raise CaseNotFoundError(f"case_id: no case {case.id}")
            person_id = self.case_id_for(to_kbo, registration.niss)
            there = self.get_stream(person_id, Beneficiary)
            also: list[Beneficiary | DossierNumber] = []
            if there is None:
                index = Beneficiary(id=person_id, case_id=case.id, cpas_kbo=to_kbo)
                index.claim_person_index(cmd.context)
                also.append(index)
            elif there.case_id != case.id:
                raise ConflictError(
                    "to_cpas_kbo",
                    "transfer.person_has_case_there",
                    "the person already has another case at that CPAS; one case "
                    "per person and CPAS (Primabook form A)",
                )
            case.transfer(
                cmd.context,
                today=self._today(),
                to_cpas_kbo=to_kbo,
                dossier_number=number,
                transferred_on=cmd.transferred_on,
            )
            also.append(self._claim_number(to_kbo, number, case.id, cmd.context))
            return Decided(_transfer(case), also=tuple(also))

        return self._on_case(cmd, decide, lambda case, _: _transfer(case))

    def _claim_number(
        self,
        cpas_kbo: str,
        number: str,
        case_id: uuid.UUID,
        context: CommandContext,
    ) -> DossierNumber:
        """Give a file number of a CPAS to a case: refused if it was ever given."""
        index_id = self.dossier_index_id(cpas_kbo, number)
        if self.get_stream(index_id, DossierNumber) is not None:
            raise DossierNumberTakenError
        return DossierNumber.claim(index_id, case_id, cpas_kbo, number, context)

    def _on_case(
        self,
        cmd: Any,
        decide: Callable[[Beneficiary], R | Decided[R]],
        answer: Callable[[Beneficiary, HandledCommand], R],
    ) -> Outcome[R]:
        """A command on an existing case (a stream with its registration)."""
        case_id: uuid.UUID = cmd.case_id

        def missing() -> Beneficiary:
            raise CaseNotFoundError(f"case_id: no case {case_id}")

        def on_registered(case: Beneficiary) -> R | Decided[R]:
            if case.registration is None:  # a transferred case's index only
                missing()
            if case.erased:
                raise CaseErasedError
            return decide(case)

        return self.execute(
            cmd,
            stream_id=case_id,
            cls=Beneficiary,
            start=missing,
            decide=on_registered,
            answer=answer,
        )

    def erase_case(self, cmd: EraseCase) -> Outcome[None]:
        """Record the erasure of a file (the vault destroys its key after)."""

        def decide(case: Beneficiary) -> None:
            case.erase(
                cmd.context,
                last_activity_on=cmd.last_activity_on,
                reason=cmd.reason,
                forced=cmd.forced,
                reference=cmd.reference,
            )

        return self._on_case(cmd, decide, _nothing)

    def find_case(self, cpas_kbo: str, niss: str) -> Beneficiary | None:
        """The case of a person at a CPAS: registered there, or transferred there."""
        stream = self.get_stream(self.case_id_for(cpas_kbo, niss), Beneficiary)
        if stream is None:
            return None
        if stream.index_of is not None:
            stream = self.get_stream(stream.index_of, Beneficiary)
        if stream is None or stream.registration is None:
            return None
        return stream

    def get_beneficiary(
        self, case_id: uuid.UUID, *, current: bool = False
    ) -> Beneficiary:
        """The state of a case, from its events (``current``: as stored now)."""
        case = self.get_stream(case_id, Beneficiary, current=current)
        if case is None or case.registration is None:
            raise CaseNotFoundError(f"case_id: no case {case_id}")
        if case.erased:
            raise CaseErasedError
        return case


def _nothing(*_: object) -> None:
    """The answer to a retried command that created nothing."""


def _transfer(case: Beneficiary) -> Transfer:
    return Transfer(case.id, case.cpas_kbo, case.dossier_number)


def _registration(case: Beneficiary, *, created: bool) -> Registration:
    registration = case.registration
    if registration is None:  # pragma: no cover - a registered case has it
        raise DomainError("case_id", "case.corrupt", "case has no registration")
    return Registration(
        case.id,
        registration.dossier_number,
        registration.region,
        registration.partner,
        created=created,
    )
