"""The intake part: registration (moves, transfers), household, bilans, income.

A move changes the region and the employment service; a transfer the file
number and the CPAS, which ``Part.evolve`` takes from each event's envelope
(a transferred case's events carry the new CPAS). A new kind of intake fact
is a section of ``IntakePart`` (a field with a default, so stored parts still
load), an arm in ``IntakeFold.fold`` and an optional field of ``CaseStateV1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts.case_state import (
    Bilan,
    Household,
    IncomeRight,
    IncomeSuspension,
    Registration,
)
from contracts.envelope import ContractEvent
from contracts.household import HouseholdRecordedV1
from contracts.income import (
    IncomePaymentSuspendedV1,
    IncomeRightGrantedV1,
    IncomeRightModifiedV1,
    IncomeRightWithdrawnV1,
)
from contracts.intake import (
    BeneficiaryRegisteredV1,
    BilanCompletedV1,
    CaseTransferredV1,
    ResidenceChangedV1,
)
from services.case_state.parts import Part, PartFold

__all__ = ["NO_BILAN", "IntakeFold", "IntakePart"]

NO_BILAN = Bilan(status="pending", count=0)
_AFTER_REGISTRATION = (
    BilanCompletedV1,
    ResidenceChangedV1,
    CaseTransferredV1,
    HouseholdRecordedV1,
    IncomeRightGrantedV1,
    IncomeRightModifiedV1,
    IncomePaymentSuspendedV1,
    IncomeRightWithdrawnV1,
)


@dataclass(frozen=True, slots=True)
class IntakePart(Part):
    """What intake's events say of the case."""

    registration: Registration | None = None
    household: Household | None = None
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
        if not isinstance(event, _AFTER_REGISTRATION):
            return None
        if part is None or part.registration is None:
            # One case's intake events keep their order: the registration is
            # always first. Parked, with the ones behind it.
            raise LookupError(
                f"case_id: {event.event_type} for a case never registered"
            )
        return part.evolve(event, **_changes(part, part.registration, event))

    def sections(self, part: IntakePart) -> dict[str, Any]:
        """The registration, the bilans and the income right."""
        return {
            "registration": part.registration,
            "household": part.household,
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


def _changes(
    part: IntakePart, registration: Registration, event: ContractEvent
) -> dict[str, Any]:
    """What an intake event after the registration changes in the part."""
    match event:
        case BilanCompletedV1():
            return {"bilan": _bilan_after(part.bilan, event)}
        case ResidenceChangedV1():
            moved = {
                "region": event.region,
                "partner": event.partner,
                "moved_on": event.moved_on,
            }
            return {"registration": registration.model_copy(update=moved)}
        case CaseTransferredV1():
            transferred = {
                "dossier_number": event.dossier_number,
                "transferred_on": event.transferred_on,
            }
            return {"registration": registration.model_copy(update=transferred)}
        case HouseholdRecordedV1():
            return {"household": _household(part.household, event)}
        case _:
            return {"income_right": _income_after(part.income_right, event)}


def _household(
    current: Household | None, event: HouseholdRecordedV1
) -> Household | None:
    """The household in force: the record of the latest date.

    A record of the same date corrects it; one dated earlier, recorded later,
    is history.
    """
    if current is not None and event.effective_date < current.since:
        return current
    return Household(
        since=event.effective_date,
        partners=len(event.partners),
        children=len(event.children),
        other_members=event.other_members,
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
                extent=event.extent,
                partial_percent=event.partial_percent,
            )
            changes = {"suspensions": (*right.suspensions, suspension)}
        case IncomeRightWithdrawnV1():
            changes = {"status": "withdrawn", "withdrawn_from": event.effective_date}
        case _:
            return right
    return right.model_copy(update=changes)
