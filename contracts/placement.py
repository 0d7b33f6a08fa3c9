"""Events of the placement service: article 60 §7 and 61 jobs, the benefit right.

An article 60 §7 contract runs planned → required period requested from ONEM →
calculated (CPAS@ONEM) → signed → started → [placed with a user organisation]
→ ended (days reached) or ended early; a contract that never starts is
cancelled. An article 61 agreement places the person with a private employer.
The benefit right (opened or refused) is ONEM's decision, recorded as an
external fact (ADR 0008).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from contracts.envelope import ContractEvent, personal_data
from contracts.text import (
    ITEMS,
    Code,
    Digits,
    Identifier,
    Items,
    Name,
    Reason,
    Reference,
)

__all__ = [
    "Article60CancelledV1",
    "Article60EndReason",
    "Article60EndedV1",
    "Article60PlacementAgreedV1",
    "Article60PlannedV1",
    "Article60RequiredPeriodCalculatedV1",
    "Article60RequiredPeriodRequestedV1",
    "Article60SignedV1",
    "Article60StartedV1",
    "Article61AgreementSignedV1",
    "Article61EndReason",
    "Article61EndedV1",
    "Article61SubsidyFlag",
    "BenefitRightOpenedV1",
    "BenefitRightRefusedV1",
    "Evidence",
    "PaymentInstitution",
    "PlacementEvent",
    "Regime",
    "RegionScheme",
    "SourceChannel",
    "UserOrganisationKind",
    "WeeklyHours",
]

Regime = Literal["full_time", "part_time"]
# WAL, BRU, DG: the Region's art. 60 §7 subsidy; VDAB_TWE: Flanders' tijdelijke
# werkervaring, under VDAB since 1 January 2017 (Flemish Government decision of
# 23 December 2016). Never the caller's choice: the person's region's on the day
# the job starts (services/placement/data/regional_schemes.csv).
RegionScheme = Literal["WAL", "BRU", "VDAB_TWE", "DG"]
# The third parties a CPAS may make an article 60 worker available to (DmfA
# instructions on the art. 60 §7 target-group reduction).
UserOrganisationKind = Literal[
    "municipality",
    "non_profit",
    "intermunicipal",
    "cpas",
    "social_purpose_company",
    "cpas_association",
    "public_hospital",
    "partner_agreement",
]
Article60EndReason = Literal[
    "required_days_reached",
    "hired_elsewhere",
    "resigned",
    "dismissed",
    "health",
    "moved_away",
    "death",
    "other",
]
Article61EndReason = Literal[
    "planned_end",
    "hired_permanently",
    "resigned",
    "dismissed",
    "health",
    "other",
]
# The employment aids an art. 61 agreement may carry (as Lino Welfare records them).
Article61SubsidyFlag = Literal[
    "activa", "tutoring_premium", "walloon_region", "sine", "ptp"
]
PaymentInstitution = Literal["CAPAC", "FGTB", "CSC", "CGSLB"]
SourceChannel = Literal["partner", "bcss", "manual"]

_KBO = r"^[01]\d{9}$"
Evidence = Annotated[tuple[Reference, ...], Items(ITEMS)]
# The bounds inside the annotation: pydantic checks them natively there.
WeeklyHours = Annotated[Decimal, Field(gt=0, le=38), Digits(16)]


def _weekly_hours() -> WeeklyHours | None:
    return Field(
        default=None,
        description="Hours a week for a part-time regime (a full-time week is 38).",
    )


class Article60PlannedV1(ContractEvent):
    """An article 60 §7 contract is planned, with the default required period.

    The default comes from the rule table in force on the day the period would
    be reached (age bands before 1 March 2026, 312 days after); CPAS@ONEM's
    calculation, when it arrives, replaces it.
    """

    event_type: Literal["hub.placement.article60.planned.v1"] = Field(
        default="hub.placement.article60.planned.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    contract_id: uuid.UUID = Field(description="Id of the article 60 contract.")
    job_title: Name = Field(min_length=1, description="The job.")
    regime: Regime = Field(description="Working regime.")
    weekly_hours: WeeklyHours | None = _weekly_hours()
    planned_start_date: dt.date = Field(description="Planned first day of work.")
    planned_end_date: dt.date = Field(description="Planned last day.")
    region_scheme: RegionScheme = Field(
        description="Regional subsidy scheme: the person's region's on the "
        "planned start."
    )
    default_required_work_days: int = Field(
        gt=0, description="Work days the rule table requires to open a right."
    )
    default_required_period_end: dt.date = Field(
        description="Day those work days are reached from the planned start."
    )
    required_period_rule: Identifier = Field(
        description="Id of the rule applied (services/placement/data)."
    )
    caseworker: Identifier = Field(description="Staff id of the caseworker.")


class Article60RequiredPeriodRequestedV1(ContractEvent):
    """The CPAS asked ONEM to calculate the required period (CPAS@ONEM, ex-C60.7)."""

    event_type: Literal["hub.placement.article60.period_requested.v1"] = Field(
        default="hub.placement.article60.period_requested.v1",
        description="Type of the event.",
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    contract_id: uuid.UUID = Field(description="Id of the article 60 contract.")
    requested_on: dt.date = Field(description="Date the request was sent to ONEM.")
    onem_request_ref: Identifier | None = Field(
        default=None, description="Number of the CPAS@ONEM request."
    )


class Article60RequiredPeriodCalculatedV1(ContractEvent):
    """ONEM calculated the work period the person must complete."""

    event_type: Literal["hub.placement.article60.period_calculated.v1"] = Field(
        default="hub.placement.article60.period_calculated.v1",
        description="Type of the event.",
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    contract_id: uuid.UUID = Field(description="Id of the article 60 contract.")
    calculated_on: dt.date = Field(description="Date of ONEM's calculation.")
    required_work_days: int = Field(gt=0, description="Work days to complete.")
    required_period_end: dt.date = Field(
        description="End date ONEM returned for those days."
    )
    onem_calculation_ref: Identifier = Field(
        min_length=1, description="Reference of the CPAS@ONEM calculation."
    )


class Article60SignedV1(ContractEvent):
    """The article 60 §7 employment contract is signed."""

    event_type: Literal["hub.placement.article60.signed.v1"] = Field(
        default="hub.placement.article60.signed.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    contract_id: uuid.UUID = Field(description="Id of the article 60 contract.")
    signed_on: dt.date = Field(description="Date of the signature.")
    start_date: dt.date = Field(description="First day of work.")
    planned_end_date: dt.date = Field(description="Planned last day.")
    required_work_days: int = Field(gt=0, description="Work days required.")
    required_period_source: Literal["onem", "default_rule"] = Field(
        description="ONEM's calculation, or the rule table when ONEM has not "
        "answered (flagged)."
    )
    subsidised_work_days: int = Field(
        ge=0, description="Work days the regional subsidy covers (regional cap)."
    )
    flags: Annotated[tuple[Code, ...], Items(ITEMS)] = Field(
        default=(),
        description="Findings kept for the auditor, e.g. "
        "'required_period.not_calculated_by_onem', 'regional_cap.exceeded'.",
    )
    onem_required_period_end: dt.date | None = Field(
        default=None,
        description="End date ONEM's calculation (CPAS@ONEM) gave for the required "
        "period, when ONEM calculated it; the planned end is not after it.",
    )


class Article60StartedV1(ContractEvent):
    """An article 60 §7 employment started: the CPAS is the employer.

    Legal anchor: organic law of 8 July 1976 art. 60 §7; the required period is
    the one CPAS@ONEM calculated.
    """

    event_type: Literal["hub.placement.article60.started.v1"] = Field(
        default="hub.placement.article60.started.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    contract_id: uuid.UUID = Field(description="Id of the article 60 contract.")
    employer_kbo: str = Field(
        pattern=_KBO,
        max_length=10,
        description="KBO/BCE number of the employer (the CPAS).",
    )
    user_organisation_kbo: str | None = Field(
        default=None,
        pattern=_KBO,
        max_length=10,
        description="KBO/BCE number of the user organisation the worker is made "
        "available to, if any.",
    )
    placement_agreement_signed_on: dt.date | None = Field(
        default=None,
        description="Date CPAS, user and worker signed the placement agreement "
        "(before the placement starts).",
    )
    start_date: dt.date = Field(description="First day of work.")
    planned_end_date: dt.date = Field(description="Planned last day of the contract.")
    required_work_days: int = Field(
        gt=0, description="Work days required to open a right to benefits (ONEM)."
    )
    onem_calculation_ref: Identifier | None = Field(
        default=None, description="Reference of the CPAS@ONEM calculation."
    )
    onem_required_period_end: dt.date | None = Field(
        default=None,
        description="End date ONEM's calculation gave for the required period.",
    )
    regime: Regime = Field(description="Working regime.")
    region_scheme: RegionScheme = Field(
        description="Regional subsidy scheme the job falls under: the person's "
        "region's on the start date."
    )


class Article60PlacementAgreedV1(ContractEvent):
    """The worker is made available to a user organisation (written agreement).

    The agreement is signed by CPAS, user and worker before the placement starts
    (DmfA instructions on the art. 60 §7 target-group reduction); the CPAS stays
    the employer.
    """

    event_type: Literal["hub.placement.article60.placement_agreed.v1"] = Field(
        default="hub.placement.article60.placement_agreed.v1",
        description="Type of the event.",
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    contract_id: uuid.UUID = Field(description="Id of the article 60 contract.")
    user_organisation_kbo: str = Field(
        pattern=_KBO,
        max_length=10,
        description="KBO/BCE number of the user organisation.",
    )
    user_organisation_name: Name = Field(
        min_length=1, description="Name of the user organisation."
    )
    user_organisation_kind: UserOrganisationKind = Field(
        description="Kind of third party (the permitted users of art. 60 §7)."
    )
    agreement_signed_on: dt.date = Field(
        description="Date CPAS, user and worker had all signed the agreement."
    )
    placement_starts_on: dt.date = Field(description="First day with the user.")
    social_economy: bool = Field(
        default=False,
        description="The user is a recognised social-economy project (Brussels "
        "'subvention majorée').",
    )


class Article60EndedV1(ContractEvent):
    """The article 60 §7 contract ended: required days reached, or early."""

    event_type: Literal["hub.placement.article60.ended.v1"] = Field(
        default="hub.placement.article60.ended.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    contract_id: uuid.UUID = Field(description="Id of the article 60 contract.")
    ended_on: dt.date = Field(description="Last day of work.")
    early: bool = Field(description="Ended before the required days were reached.")
    reason: Article60EndReason = Field(description="Why it ended.")
    work_days_accrued: int = Field(ge=0, description="Work days accrued.")
    required_work_days: int = Field(gt=0, description="Work days required.")


class Article60CancelledV1(ContractEvent):
    """A planned or signed article 60 contract that will not start."""

    event_type: Literal["hub.placement.article60.cancelled.v1"] = Field(
        default="hub.placement.article60.cancelled.v1",
        description="Type of the event.",
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    contract_id: uuid.UUID = Field(description="Id of the article 60 contract.")
    cancelled_on: dt.date = Field(description="Date of the cancellation.")
    reason: Reason = Field(min_length=1, description="Why.")


class Article61AgreementSignedV1(ContractEvent):
    """An article 61 agreement: a private employer hires the person, with aids."""

    event_type: Literal["hub.placement.article61.signed.v1"] = Field(
        default="hub.placement.article61.signed.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    agreement_id: uuid.UUID = Field(description="Id of the article 61 agreement.")
    employer_kbo: str = Field(
        pattern=_KBO, max_length=10, description="KBO/BCE of the employer."
    )
    employer_name: Name = Field(min_length=1, description="Name of the employer.")
    job_title: Name = Field(min_length=1, description="The job.")
    regime: Regime = Field(description="Working regime.")
    weekly_hours: WeeklyHours | None = _weekly_hours()
    signed_on: dt.date = Field(description="Date of the signature.")
    start_date: dt.date = Field(description="First day of work.")
    planned_end_date: dt.date = Field(description="Planned last day.")
    region_scheme: RegionScheme = Field(
        description="Regional scheme: the person's region's on the start date."
    )
    subsidy_flags: Annotated[tuple[Article61SubsidyFlag, ...], Items(ITEMS)] = Field(
        default=(), description="Employment aids attached to the agreement."
    )


class Article61EndedV1(ContractEvent):
    """The article 61 agreement ended."""

    event_type: Literal["hub.placement.article61.ended.v1"] = Field(
        default="hub.placement.article61.ended.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    agreement_id: uuid.UUID = Field(description="Id of the article 61 agreement.")
    ended_on: dt.date = Field(description="Last day of work.")
    early: bool = Field(description="Ended before the planned end.")
    reason: Article61EndReason = Field(description="Why it ended.")
    work_days_accrued: int = Field(ge=0, description="Work days accrued.")


class BenefitRightOpenedV1(ContractEvent):
    """ONEM opened the person's right to unemployment benefits.

    An external fact: accepted only from a partner or BCSS channel, or entered
    manually with evidence; ONEM decides, never the CPAS.
    """

    event_type: Literal["hub.placement.benefit_right.opened.v1"] = Field(
        default="hub.placement.benefit_right.opened.v1",
        description="Type of the event.",
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    niss: str = personal_data("NISS of the person.", pattern=r"^\d{11}$", max_length=11)
    onem_decision_date: dt.date = Field(description="Date of ONEM's decision.")
    right_start_date: dt.date = Field(
        description="First day of the right; not before the last contract end."
    )
    payment_institution: PaymentInstitution = Field(
        description="Institution that pays the benefits."
    )
    onem_reference: Identifier = Field(description="ONEM's reference of the decision.")
    work_days_counted: int = Field(ge=0, description="Work days ONEM counted.")
    evidence: Evidence = Field(
        default=(), description="References of the supporting documents."
    )
    source_channel: SourceChannel = Field(description="Channel the fact came through.")


class BenefitRightRefusedV1(ContractEvent):
    """ONEM refused the right to unemployment benefits (an external fact)."""

    event_type: Literal["hub.placement.benefit_right.refused.v1"] = Field(
        default="hub.placement.benefit_right.refused.v1",
        description="Type of the event.",
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    niss: str = personal_data("NISS of the person.", pattern=r"^\d{11}$", max_length=11)
    onem_decision_date: dt.date = Field(description="Date of ONEM's decision.")
    onem_reference: Identifier = Field(description="ONEM's reference of the decision.")
    reason: Reason = Field(min_length=1, description="ONEM's ground.")
    work_days_counted: int = Field(ge=0, description="Work days ONEM counted.")
    evidence: Evidence = Field(
        default=(), description="References of the supporting documents."
    )
    source_channel: SourceChannel = Field(description="Channel the fact came through.")


PlacementEvent = Annotated[
    Article60PlannedV1
    | Article60RequiredPeriodRequestedV1
    | Article60RequiredPeriodCalculatedV1
    | Article60SignedV1
    | Article60StartedV1
    | Article60PlacementAgreedV1
    | Article60EndedV1
    | Article60CancelledV1
    | Article61AgreementSignedV1
    | Article61EndedV1
    | BenefitRightOpenedV1
    | BenefitRightRefusedV1,
    Field(discriminator="event_type"),
]
