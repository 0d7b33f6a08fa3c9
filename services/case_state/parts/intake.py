"""The intake part: the registration, the bilans and the income right.

Household changes and moves to another CPAS, when intake records them, are
folded here too: a section of ``IntakePart`` (an optional field with a
default, so stored parts still load), an arm in ``IntakeFold.fold`` and the
section in ``IntakeFold.sections`` and in ``CaseStateV1`` (an optional field:
compatible). A move changes the CPAS: ``Part.touched`` already takes the
CPAS from the newest event's envelope.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts.case_state import Bilan, IncomeRight, IncomeSuspension, Registration
from contracts.envelope import ContractEvent
from contracts.income import (
    IncomePaymentSuspendedV1,
    IncomeRightGrantedV1,
    IncomeRightModifiedV1,
    IncomeRightWithdrawnV1,
)
from contracts.intake import BeneficiaryRegisteredV1, BilanCompletedV1
from services.case_state.parts import Part, PartFold

__all__ = ["NO_BILAN", "IntakeFold", "IntakePart"]

NO_BILAN = Bilan(status="pending", count=0)
_INCOME_EVENTS = (
    IncomeRightGrantedV1,
    IncomeRightModifiedV1,
    IncomePaymentSuspendedV1,
    IncomeRightWithdrawnV1,
)


@dataclass(frozen=True, slots=True)
class IntakePart(Part):
    """What intake's events say of the case."""

    registration: Registration | None = None
    bilan: Bilan = NO_BILAN
    income_right: IncomeRight | None = None


class IntakeFold(PartFold[IntakePart]):
    """Folds intake's events into the intake part."""

    service = "intake"
    part = IntakePart

    def fold(self, part: IntakePart | None, event: ContractEvent) -> IntakePart | None:
        """The part after one intake event (a registration comes first)."""
        if isinstance(event, BeneficiaryRegisteredV1):
            base = part or IntakePart(cpas_kbo=event.cpas_kbo)
            registration = Registration(
                dossier_number=event.dossier_number,
                region=event.region,
                partner=event.partner,
                preferred_language=event.preferred_language,
                niss_kind=event.niss_kind,
                registered_on=event.registered_on,
            )
            return base.evolve(event, registration=registration)
        if not isinstance(event, (BilanCompletedV1, *_INCOME_EVENTS)):
            return None
        if part is None or part.registration is None:
            # One case's intake events keep their order: the registration is
            # always first. Parked, with the ones behind it.
            raise LookupError(
                f"case_id: {event.event_type} for a case never registered"
            )
        if isinstance(event, BilanCompletedV1):
            return part.evolve(event, bilan=_bilan_after(part.bilan, event))
        return part.evolve(event, income_right=_income_after(part.income_right, event))

    def sections(self, part: IntakePart) -> dict[str, Any]:
        """The registration, the bilans and the income right."""
        return {
            "registration": part.registration,
            "bilan": part.bilan,
            "income_right": part.income_right,
        }


def _bilan_after(bilan: Bilan, event: BilanCompletedV1) -> Bilan:
    last = bilan.last_completed_on
    return Bilan(
        status="completed",
        count=bilan.count + 1,
        last_completed_on=max(last, event.completed_on) if last else event.completed_on,
        orientation=event.orientation,
    )


def _income_after(
    right: IncomeRight | None, event: ContractEvent
) -> IncomeRight | None:
    """The income right after one of its events (another right's leaves it)."""
    if isinstance(event, IncomeRightGrantedV1):
        return IncomeRight(
            right_id=event.right_id,
            kind=event.kind,
            status="active",
            category=event.category,
            monthly_amount=event.monthly_amount,
            amount_version=event.amount_version,
            since=event.effective_date,
            category_since=event.effective_date,
            piis_obligation=event.piis_obligation,
            decided_late=event.decided_late,
        )
    if right is None or getattr(event, "right_id", None) != right.right_id:
        return right
    match event:
        case IncomeRightModifiedV1():
            changes: dict[str, Any] = {
                "category": event.category,
                "monthly_amount": event.monthly_amount,
                "amount_version": event.amount_version,
                "category_since": event.effective_date,
            }
        case IncomePaymentSuspendedV1():
            suspension = IncomeSuspension(
                reason=event.reason,
                period_start=event.period_start,
                period_end=event.period_end,
                stay_of_execution=event.stay_of_execution,
            )
            changes = {"suspensions": (*right.suspensions, suspension)}
        case IncomeRightWithdrawnV1():
            changes = {"status": "withdrawn", "withdrawn_from": event.effective_date}
        case _:
            return right
    return right.model_copy(update=changes)
