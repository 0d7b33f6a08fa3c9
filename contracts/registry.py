"""Every event type the hub knows, by type string, and each producer's topic."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel, ValidationError
from pydantic_core import SchemaValidator

from contracts.case_state import CASE_STATE_TOPIC, CaseStateV1
from contracts.envelope import ContractEvent
from contracts.federal_reporting import (
    FederalFormAcceptedV1,
    FederalFormRejectedV1,
    FederalFormSubmittedV1,
)
from contracts.household import HouseholdRecordedV1
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
    PersonIndexClaimedV1,
    ResidenceChangedV1,
)
from contracts.partner_reports import (
    BenefitRightReportedV1,
    JobSeekerRegisteredV1,
    JobSeekerRegistrationRejectedV1,
    PartnerEmploymentStartedV1,
    PartnerFollowUpReportedV1,
    TrainingCompletedV1,
    TrainingEnrolledV1,
)
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
from contracts.placement import (
    Article60CancelledV1,
    Article60EndedV1,
    Article60PlacementAgreedV1,
    Article60PlannedV1,
    Article60RequiredPeriodCalculatedV1,
    Article60RequiredPeriodRequestedV1,
    Article60SignedV1,
    Article60StartedV1,
    Article61AgreementSignedV1,
    Article61EndedV1,
    BenefitRightOpenedV1,
    BenefitRightRefusedV1,
)
from contracts.text import history_validator

__all__ = [
    "EVENT_TYPES",
    "SERVICE_TOPICS",
    "STATE_TOPICS",
    "event_class",
    "parse_event",
    "parse_stored_data",
    "parse_stored_event",
    "type_string",
]

_ALL: Final[tuple[type[ContractEvent], ...]] = (
    BeneficiaryRegisteredV1,
    BilanCompletedV1,
    DossierNumberClaimedV1,
    HouseholdRecordedV1,
    ResidenceChangedV1,
    CaseTransferredV1,
    PersonIndexClaimedV1,
    CaseErasedV1,
    IncomeRightGrantedV1,
    IncomeRightModifiedV1,
    IncomePaymentSuspendedV1,
    IncomeRightWithdrawnV1,
    IncomeRightRefusedV1,
    IncomeRecoveryDecidedV1,
    PiisProposedV1,
    PIISSignedV1,
    PiisEvaluatedV1,
    PiisAmendedV1,
    PiisEndedV1,
    PiisNoticeServedV1,
    HearingHeldV1,
    PiisSanctionDecidedV1,
    PiisExemptionGrantedV1,
    PiisDeadlineMissedV1,
    SocialActivationStartedV1,
    SocialActivationEvaluatedV1,
    SocialActivationEvaluationOverdueV1,
    PhaseChangedV1,
    Article60PlannedV1,
    Article60RequiredPeriodRequestedV1,
    Article60RequiredPeriodCalculatedV1,
    Article60SignedV1,
    Article60StartedV1,
    Article60PlacementAgreedV1,
    Article60EndedV1,
    Article60CancelledV1,
    Article61AgreementSignedV1,
    Article61EndedV1,
    BenefitRightOpenedV1,
    BenefitRightRefusedV1,
    JobSeekerRegisteredV1,
    JobSeekerRegistrationRejectedV1,
    TrainingEnrolledV1,
    TrainingCompletedV1,
    PartnerEmploymentStartedV1,
    PartnerFollowUpReportedV1,
    BenefitRightReportedV1,
    FederalFormSubmittedV1,
    FederalFormAcceptedV1,
    FederalFormRejectedV1,
)


def type_string(cls: type[ContractEvent]) -> str:
    """The ``event_type`` value of a contract class (its field default)."""
    default = cls.model_fields["event_type"].default
    if not isinstance(default, str):
        raise TypeError(f"{cls.__name__} has no event_type default")
    return default


EVENT_TYPES: Final[Mapping[str, type[ContractEvent]]] = {
    type_string(c): c for c in _ALL
}

# hub.<service>.events.v1, keyed by case id (docs/architecture.md#5-topics-and-keys).
SERVICE_TOPICS: Final[Mapping[str, str]] = {
    "intake": "hub.intake.events.v1",
    "piis": "hub.piis.events.v1",
    "placement": "hub.placement.events.v1",
    "partners": "hub.partners.events.v1",
}

# Topics of projections (not events): each message is the whole current state
# of its key, compacted; the model is the message (ADR 0016).
STATE_TOPICS: Final[Mapping[str, type[BaseModel]]] = {CASE_STATE_TOPIC: CaseStateV1}


class UnknownEventTypeError(LookupError):
    """An event type string that no contract declares."""


def event_class(event_type: str) -> type[ContractEvent]:
    """The contract class of an event type string."""
    try:
        return EVENT_TYPES[event_type]
    except KeyError:
        raise UnknownEventTypeError(
            f"event_type: unknown type {event_type!r}"
        ) from None


def parse_event(event_type: str, payload: bytes | str) -> ContractEvent:
    """Validate a JSON payload against the contract of its type, with every bound.

    For what arrives from outside the store: a topic, a file, a partner.
    """
    return event_class(event_type).model_validate_json(payload)


def parse_stored_event(event_type: str, payload: bytes | str) -> ContractEvent:
    """Validate an event an event store reads back from its own rows.

    As under the `HISTORY` context, the text, list, map and decimal bounds are
    not checked: an event stored before a bound existed still loads (ADR
    0010). The contract is compiled for this once, without the checks.
    """
    event: ContractEvent = _history_validator(event_class(event_type)).validate_json(
        payload
    )
    return event


def parse_stored_data(event_type: str, data: dict[str, Any]) -> ContractEvent:
    """`parse_stored_event` of a payload already read from JSON (a box opened).

    Validating the objects ``json.loads`` made, instead of writing them back
    to JSON text to validate that, gives the same event (every contract's
    sample is checked both ways, tests/contracts/test_event_store_mapping.py)
    at half the cost. Anything the objects do not pass is validated from its
    JSON text, so an error reads as it always did.
    """
    validator = _history_validator(event_class(event_type))
    try:
        event: ContractEvent = validator.validate_python(data)
    except ValidationError:
        event = validator.validate_json(json.dumps(data))
    return event


@functools.cache
def _history_validator(cls: type[ContractEvent]) -> SchemaValidator:
    return history_validator(cls)
