"""Events of the partner gateway: what a regional employment service reported.

Each records one partner message, once, in the partner's per-person order
(``partner_sequence``), after the gateway validated it against the partner's
schema and found the person among the CPAS's cases of that partner's region.
Canonical names are English; the partner's own vocabulary lives only in the
gateway's translators (docs/architecture.md#41-one-definition-per-event).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field

from contracts.envelope import ContractEvent, personal_data
from contracts.placement import Evidence, PaymentInstitution
from contracts.regions import PartnerCode
from contracts.text import Code, Identifier, Name, Prose, Reason, ShortDecimal

__all__ = [
    "BenefitRightReportedV1",
    "JobSeekerRegisteredV1",
    "JobSeekerRegistrationRejectedV1",
    "PartnerEmploymentStartedV1",
    "PartnerEvent",
    "PartnerFollowUpReportedV1",
    "PartnerReport",
    "TrainingCompletedV1",
    "TrainingEnrolledV1",
]


class PartnerReport(ContractEvent):
    """What every partner report carries: who sent it, its id and its order."""

    partner: PartnerCode = Field(description="The employment service that reported.")
    partner_message_id: Code = Field(
        min_length=1, description="The partner's id of its message."
    )
    partner_sequence: int = Field(
        ge=1, description="The partner's per-person message counter."
    )
    partner_content_hash: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        max_length=64,
        description="SHA-256 of the message's canonical content: the same id "
        "with other content is refused, and auditors can check what was received.",
    )


class JobSeekerRegisteredV1(PartnerReport):
    """The person is registered as a job seeker with the partner."""

    event_type: Literal["hub.partners.job_seeker.registered.v1"] = Field(
        default="hub.partners.job_seeker.registered.v1",
        description="Type of the event.",
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    partner_client_id: Identifier = Field(
        min_length=1, description="The partner's id of the person."
    )
    registered_on: dt.date = Field(description="Date of the registration.")


class JobSeekerRegistrationRejectedV1(PartnerReport):
    """The partner refused or could not complete the registration."""

    event_type: Literal["hub.partners.job_seeker.rejected.v1"] = Field(
        default="hub.partners.job_seeker.rejected.v1",
        description="Type of the event.",
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    reason: Reason = Field(min_length=1, description="The partner's reason.")


class TrainingEnrolledV1(PartnerReport):
    """The person enrolled in a training the partner follows."""

    event_type: Literal["hub.partners.training.enrolled.v1"] = Field(
        default="hub.partners.training.enrolled.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    training_id: Identifier = Field(description="The partner's id of the training.")
    title: Name = Field(description="Title of the training.")
    provider: Name = Field(description="Organisation giving the training.")
    starts_on: dt.date = Field(description="First day.")
    planned_end: dt.date = Field(description="Planned last day.")


class TrainingCompletedV1(PartnerReport):
    """The person completed a training."""

    event_type: Literal["hub.partners.training.completed.v1"] = Field(
        default="hub.partners.training.completed.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    training_id: Identifier = Field(description="The partner's id of the training.")
    completed_on: dt.date = Field(description="Last day.")
    certified: bool = Field(description="A certificate was obtained.")


class PartnerEmploymentStartedV1(PartnerReport):
    """The partner reports that the person started a job."""

    event_type: Literal["hub.partners.employment.started.v1"] = Field(
        default="hub.partners.employment.started.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    employer_kbo: str = Field(
        pattern=r"^[01]\d{9}$",
        max_length=10,
        description="KBO/BCE number of the employer.",
    )
    starts_on: dt.date = Field(description="First day of work.")
    contract_type: Literal["permanent", "fixed_term", "interim", "other"] = Field(
        description="Kind of employment contract."
    )
    weekly_hours: ShortDecimal | None = Field(
        default=None, description="Hours a week, when part time."
    )


class PartnerFollowUpReportedV1(PartnerReport):
    """The partner's follow-up report on the person's route to work."""

    event_type: Literal["hub.partners.follow_up.reported.v1"] = Field(
        default="hub.partners.follow_up.reported.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    report_date: dt.date = Field(description="Date of the report.")
    summary: Prose = personal_data(
        "What the partner reports (may describe the person's situation)."
    )
    attendance_rate: ShortDecimal | None = Field(
        default=None, description="Share of planned sessions attended, in percent."
    )
    next_appointment: dt.date | None = Field(
        default=None, description="Next planned appointment."
    )


class BenefitRightReportedV1(PartnerReport):
    """ONEM's decision on the benefit right, as the partner passed it on.

    The placement service records it as BenefitRightOpened/Refused with the
    channel ``partner`` (docs/domain/placements.md#benefit-right-opened): the
    CPAS never decides it.
    """

    event_type: Literal["hub.partners.benefit_right.reported.v1"] = Field(
        default="hub.partners.benefit_right.reported.v1",
        description="Type of the event.",
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    niss: str = personal_data("NISS of the person.", pattern=r"^\d{11}$", max_length=11)
    decision: Literal["opened", "refused"] = Field(description="ONEM's decision.")
    onem_decision_date: dt.date = Field(description="Date of ONEM's decision.")
    onem_reference: Identifier = Field(description="ONEM's reference of the decision.")
    work_days_counted: int = Field(ge=0, description="Work days ONEM counted.")
    right_start_date: dt.date | None = Field(
        default=None, description="First day of the right (opened)."
    )
    payment_institution: PaymentInstitution | None = Field(
        default=None, description="Institution that pays the benefits (opened)."
    )
    reason: Reason | None = Field(default=None, description="ONEM's ground (refused).")
    evidence: Evidence = Field(
        default=(), description="References of the documents the partner holds."
    )


PartnerEvent = Annotated[
    JobSeekerRegisteredV1
    | JobSeekerRegistrationRejectedV1
    | TrainingEnrolledV1
    | TrainingCompletedV1
    | PartnerEmploymentStartedV1
    | PartnerFollowUpReportedV1
    | BenefitRightReportedV1,
    Field(discriminator="event_type"),
]
