"""The intake domain: a beneficiary's case at a CPAS, its file number and its bilan."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from contracts.envelope import ContractEvent
from contracts.identifiers import IdentifierError
from contracts.intake import (
    BeneficiaryRegisteredV1,
    BilanCompletedV1,
    DossierNumberClaimedV1,
    Orientation,
)
from services.common.aggregate import Aggregate, CommandContext

__all__ = [
    "Beneficiary",
    "DomainError",
    "DossierNumber",
    "DossierNumberTakenError",
    "DuplicateRegistrationError",
    "normalise_dossier_number",
]


class DomainError(ValueError):
    """A command broke a rule: names the field, the rule and its source."""

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.rule = rule


class ConflictError(DomainError):
    """The command conflicts with what is already recorded (HTTP 409)."""


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

    registration_command_id: uuid.UUID | None = None
    dossier_number: str = ""
    registered_on: dt.date | None = None
    bilans: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    last_bilan_on: dt.date | None = None
    orientation: Orientation | None = None
    registration: BeneficiaryRegisteredV1 | None = None

    @classmethod
    def register(
        cls, case_id: uuid.UUID, context: CommandContext, **payload: Any
    ) -> Beneficiary:
        """Open the case (BeneficiaryRegistered)."""
        beneficiary = cls(id=case_id, case_id=case_id, cpas_kbo=payload.pop("cpas_kbo"))
        beneficiary.record(BeneficiaryRegisteredV1, context, **payload)
        return beneficiary

    def complete_bilan(
        self, context: CommandContext, *, today: dt.date, **payload: Any
    ) -> uuid.UUID:
        """Record a completed bilan; a retried command returns the same assessment."""
        if context.command_id in self.bilans:
            return self.bilans[context.command_id]
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

    def is_same_registration(self, command_id: uuid.UUID) -> bool:
        """Whether a registration command is the one that opened this case."""
        return self.registration_command_id == command_id

    def apply(self, event: ContractEvent) -> None:
        """Fold one event into the case."""
        super().apply(event)
        match event:
            case BeneficiaryRegisteredV1():
                self.registration = event
                self.registration_command_id = event.causation_id
                self.dossier_number = event.dossier_number
                self.registered_on = event.registered_on
            case BilanCompletedV1():
                if event.causation_id is not None:
                    self.bilans[event.causation_id] = event.assessment_id
                self.last_bilan_on = event.completed_on
                self.orientation = event.orientation
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
