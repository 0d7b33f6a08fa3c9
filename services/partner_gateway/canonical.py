"""The hub's side of the partner exchange: canonical messages, in English, both ways.

Partners never see these names: each translator (``vocabulary.py``) maps them to
the partner's own. Pure data and mapping: no I/O, no clock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Annotated, Any, Final, Literal, get_args
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from contracts.envelope import ContractEvent, personal_data
from contracts.identifiers import IdentifierError, normalise_kbo, parse_niss
from contracts.income import IncomeRightGrantedV1
from contracts.intake import CaseErasedV1
from contracts.piis import Phase, PhaseChangedV1, PIISSignedV1, PiisType
from contracts.placement import (
    Article60EndedV1,
    Article60EndReason,
    Article60StartedV1,
    Evidence,
    PaymentInstitution,
    RegionScheme,
)
from contracts.regions import PartnerCode
from contracts.text import Digits, DossierNumber, Identifier, Name, Prose, Reason
from services.common.law import LAW

__all__ = [
    "CODE_SETS",
    "INBOUND_BODIES",
    "OUTBOUND_FIELDS",
    "CanonicalInbound",
    "CanonicalOutbound",
    "CodeSet",
    "InboundBody",
    "InboundKind",
    "Language",
    "OutboundKind",
    "Period",
    "RoutingFacts",
    "case_closed",
    "case_erased",
    "occurred_on",
    "outbound_for",
    "registration_request",
]

BRUSSELS: Final = ZoneInfo("Europe/Brussels")
Language = Literal["fr", "nl", "de"]
OutboundKind = Literal[
    "registration_request",
    "integration_contract_signed",
    "phase_changed",
    "article60_started",
    "article60_ended",
    "case_closed",
    "case_erased",
]
InboundKind = Literal[
    "registration_confirmed",
    "registration_rejected",
    "training_enrolled",
    "training_completed",
    "employment_started",
    "follow_up_report",
    "benefit_right_decision",
]
ContractType = Literal["permanent", "fixed_term", "interim", "other"]
BenefitDecision = Literal["opened", "refused"]
ClosureReason = Literal["moved_to_other_region", "transferred_to_other_cpas"]

# Walloon decree on Forem and the CPAS, in force 1 January 2026
# (docs/domain/partners.md#forem-registration-within-4-weeks): register within
# 4 weeks of the grant; people already on the income then had 90 days. The
# figures and the decree's date are the law table's.
FOREM_DECREE_IN_FORCE: Final = LAW.versions("forem.registration_weeks")[0].valid_from


@dataclass(frozen=True, slots=True)
class CodeSet:
    """Marks a field whose values are codes each partner labels in its language.

    Put it at the top of the annotation (``Annotated[Phase | None, PHASE]``), where
    pydantic keeps it in the field's metadata.
    """

    name: str
    codes: tuple[str, ...]


PHASE = CodeSet("phase", get_args(Phase))
PIIS_TYPE = CodeSet("piis_type", get_args(PiisType))
INCOME_KIND = CodeSet("income_kind", ("RIS", "ERIS"))
ARTICLE60_END_REASON = CodeSet("article60_end_reason", get_args(Article60EndReason))
CONTRACT_TYPE = CodeSet("contract_type", get_args(ContractType))
BENEFIT_DECISION = CodeSet("benefit_decision", get_args(BenefitDecision))
PAYMENT_INSTITUTION = CodeSet("payment_institution", get_args(PaymentInstitution))
CLOSURE_REASON = CodeSet("closure_reason", get_args(ClosureReason))
CODE_SETS: Final[Mapping[str, CodeSet]] = MappingProxyType(
    {
        c.name: c
        for c in (
            PHASE,
            PIIS_TYPE,
            INCOME_KIND,
            ARTICLE60_END_REASON,
            CONTRACT_TYPE,
            BENEFIT_DECISION,
            PAYMENT_INSTITUTION,
            CLOSURE_REASON,
        )
    }
)


def _niss(value: str) -> str:
    try:
        return parse_niss(value).value
    except IdentifierError as error:  # the explanation never holds the value
        raise PydanticCustomError(error.rule, error.explanation) from None


def _kbo(value: str) -> str:
    try:
        return normalise_kbo(value)
    except IdentifierError as error:
        raise PydanticCustomError(error.rule, error.explanation) from None


# Exactly 11 / 10 digits on the wire (no separators), and the check digits hold.
Niss = Annotated[
    str, Field(pattern=r"^[0-9]{11}$", max_length=11), AfterValidator(_niss)
]
Kbo = Annotated[
    str, Field(pattern=r"^[01][0-9]{9}$", max_length=10), AfterValidator(_kbo)
]
# Partners write decimals as JSON numbers with a point (21.09), never as strings.
Percentage = Annotated[
    Decimal,
    Field(ge=0, le=100),
    Digits(16),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": 100}),
]
WeeklyHours = Annotated[
    Decimal,
    Field(gt=0, le=40),
    Digits(16),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "maximum": 40}),
]


@dataclass(frozen=True, slots=True)
class Period:
    """From a date on: where the person lives and which CPAS file follows them."""

    since: dt.date
    region: str
    partner: str
    cpas_kbo: str
    dossier_number: str


@dataclass(frozen=True, slots=True)
class RoutingFacts:
    """What the gateway knows of a case to route and address its messages.

    The top-level region, partner, CPAS and file number are the current ones;
    ``periods`` (oldest first) say which were in force on each date since the
    registration, so that an event goes to the partner of its own date.
    ``registered_with`` is the partner that holds a registration request of
    this case (none sent, or closed since); ``income_kind`` and ``granted_on``
    the active income right a new partner is told of. Personal data stays out
    of the repr, so logging the facts leaks nothing.
    """

    case_id: uuid.UUID
    cpas_kbo: str
    dossier_number: str
    region: str
    partner: str
    preferred_language: str
    niss: str = field(repr=False)
    family_name: str = field(repr=False)
    given_name: str = field(repr=False)
    birth_date: dt.date = field(repr=False)
    periods: tuple[Period, ...] = ()
    registered_with: str | None = None
    income_kind: str | None = None
    granted_on: dt.date | None = None

    def current(self) -> Period:
        """The period in force now (the last one)."""
        return Period(
            self.periods[-1].since if self.periods else dt.date.min,
            self.region,
            self.partner,
            self.cpas_kbo,
            self.dossier_number,
        )

    def on(self, day: dt.date) -> RoutingFacts:
        """The facts as they were on a day (before the first period: the first)."""
        found = next(
            (p for p in reversed(self.periods) if p.since <= day),
            self.periods[0] if self.periods else self.current(),
        )
        return self.since(found)

    def since(self, period: Period) -> RoutingFacts:
        """The facts with another period in force."""
        return dataclasses.replace(
            self,
            region=period.region,
            partner=period.partner,
            cpas_kbo=period.cpas_kbo,
            dossier_number=period.dossier_number,
        )

    def cpas_numbers(self) -> frozenset[str]:
        """Every CPAS that followed the person."""
        return frozenset({self.cpas_kbo, *(p.cpas_kbo for p in self.periods)})


# --- outbound: what the hub tells a partner --------------------------------------


class _Fields(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class _Outbound(_Fields):
    """The fields of a message about the person: who, in which CPAS file."""

    niss: Niss = personal_data("NISS (INSZ, INSS) of the person, 11 digits.")
    dossier_number: DossierNumber = Field(
        description="The CPAS's file number of the person."
    )


class RegistrationRequest(_Outbound):
    """The CPAS granted the integration income: register the person as a job seeker.

    Also sent when a person on the income moves into the partner's region, or
    when another CPAS takes the person's file over.
    """

    family_name: Name = personal_data("Family name, as on the identity document.")
    given_name: Name = personal_data("First given name, as on the identity document.")
    birth_date: dt.date = personal_data("Birth date.")
    preferred_language: Language = Field(
        description="Language the person is addressed in: fr, nl or de (ISO 639-1)."
    )
    income_kind: Annotated[Literal["RIS", "ERIS"], INCOME_KIND] = Field(
        description="Integration income (law of 26 May 2002) or its equivalent "
        "social aid (law of 2 April 1965)."
    )
    granted_on: dt.date = Field(description="Date of the CPAS council's decision.")
    register_by: dt.date | None = Field(
        description="Last day to register as a job seeker: 4 weeks after the grant, "
        "or after the move into the region (Walloon decree in force 1 January "
        "2026); null where no such deadline."
    )


class IntegrationContractSigned(_Outbound):
    """The person and the CPAS signed an integration contract (PIIS, GPMI, VSE)."""

    piis_type: Annotated[PiisType, PIIS_TYPE] = Field(
        description="Type of the integration contract."
    )
    signed_on: dt.date = Field(description="Date both parties signed.")
    start_date: dt.date = Field(description="Date the contract takes effect.")
    planned_end_date: dt.date = Field(description="Planned end of the contract.")


class PhaseChanged(_Outbound):
    """The person moved to another phase of the socio-professional trajectory."""

    from_phase: Annotated[Phase | None, PHASE] = Field(
        description="Phase before the change; null when the trajectory starts."
    )
    to_phase: Annotated[Phase, PHASE] = Field(description="Phase from now on.")
    effective_date: dt.date = Field(description="Date the new phase takes effect.")


class Article60Started(_Outbound):
    """An article 60 §7 job started: the CPAS employs the person."""

    start_date: dt.date = Field(description="First day of work.")
    planned_end_date: dt.date = Field(description="Planned last day of the contract.")
    required_work_days: int = Field(
        gt=0, description="Work days needed to open a right to unemployment benefits."
    )
    region_scheme: RegionScheme = Field(
        description="Regional subsidy scheme of the job: WAL, BRU, DG, or VDAB_TWE "
        "(Flemish temporary work experience)."
    )


class Article60Ended(_Outbound):
    """The article 60 §7 job ended: the person should register within 8 working days."""

    ended_on: dt.date = Field(description="Last day of work.")
    early: bool = Field(description="Ended before the required work days were reached.")
    reason: Annotated[Article60EndReason, ARTICLE60_END_REASON] = Field(
        description="Why the contract ended."
    )
    work_days_accrued: int = Field(ge=0, description="Work days accrued in the job.")


class CaseClosed(_Outbound):
    """The CPAS closes the person's file with the partner from a date.

    From that day on the partner hears nothing more of the person from this
    file. Sent when the person moves to another region (the partner there takes the
    case over) or when another CPAS takes the file over.
    """

    closed_on: dt.date = Field(
        description="First day the partner no longer follows the person for this "
        "file (the day of the move or of the transfer)."
    )
    closure_reason: Annotated[ClosureReason, CLOSURE_REASON] = Field(
        description="Why the file is closed."
    )


class CaseErased(_Fields):
    """The CPAS erased the person's file: erase the copy the partner holds.

    Sent to the partner that holds the file (the registration request was sent
    to it and no closure since). It names no personal data, since the CPAS
    keeps none any more: the partner finds its copy by the case reference, the
    CPAS and the CPAS's file number, as every message about the file named them.
    """

    dossier_number: DossierNumber = Field(
        description="The CPAS's file number of the person, as the registration "
        "request named it."
    )
    erased_on: dt.date = Field(
        description="Day the CPAS erased the file (the retention period ended, or "
        "the person's request, a court order, a file registered in error)."
    )


OUTBOUND_FIELDS: Final[Mapping[OutboundKind, type[_Fields]]] = MappingProxyType(
    {
        "registration_request": RegistrationRequest,
        "integration_contract_signed": IntegrationContractSigned,
        "phase_changed": PhaseChanged,
        "article60_started": Article60Started,
        "article60_ended": Article60Ended,
        "case_closed": CaseClosed,
        "case_erased": CaseErased,
    }
)
"""The canonical fields of each outbound kind, with their types and meanings."""


class CanonicalOutbound(BaseModel):
    """A message for one partner about one case, before translation."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    kind: OutboundKind = Field(description="What the message reports.")
    message_id: uuid.UUID = Field(
        description="Id of the message, the same on every redelivery; also the "
        "Idempotency-Key of the HTTP push."
    )
    case_id: uuid.UUID = Field(
        description="The hub's reference of the case; quote it when asking the CPAS "
        "about this message."
    )
    cpas_kbo: str = Field(
        pattern=r"^[01][0-9]{9}$",
        max_length=10,
        description="KBO/BCE enterprise number of the CPAS that follows the person.",
    )
    event_id: uuid.UUID = Field(description="The hub event the message reports.")
    occurred_on: dt.date = Field(
        description="Business date of the fact reported (Brussels time)."
    )
    fields: dict[str, Any] = Field(
        description="The kind's canonical fields (OUTBOUND_FIELDS), JSON-ready."
    )


def _forem_register_by(granted_on: dt.date) -> dt.date:
    if granted_on < FOREM_DECREE_IN_FORCE:
        days = LAW.value(
            "forem.transition_days", FOREM_DECREE_IN_FORCE, field="decision_date"
        )
        return FOREM_DECREE_IN_FORCE + dt.timedelta(days=days)
    weeks = LAW.value("forem.registration_weeks", granted_on, field="decision_date")
    return granted_on + dt.timedelta(weeks=weeks)


def _registration_fields(
    facts: RoutingFacts, *, income_kind: str, granted_on: dt.date, since: dt.date
) -> RegistrationRequest:
    forem = facts.partner == PartnerCode.FOREM
    return RegistrationRequest(
        niss=facts.niss,
        dossier_number=facts.dossier_number,
        family_name=facts.family_name,
        given_name=facts.given_name,
        birth_date=facts.birth_date,
        preferred_language=facts.preferred_language,
        income_kind=income_kind,
        granted_on=granted_on,
        register_by=_forem_register_by(max(granted_on, since)) if forem else None,
    )


def _outbound_fields(event: ContractEvent, facts: RoutingFacts) -> _Outbound | None:
    ids = {"niss": facts.niss, "dossier_number": facts.dossier_number}
    match event:
        case IncomeRightGrantedV1():
            return _registration_fields(
                facts,
                income_kind=event.kind,
                granted_on=event.decision_date,
                since=event.decision_date,
            )
        case PIISSignedV1():
            return IntegrationContractSigned(
                **ids,
                piis_type=event.piis_type,
                signed_on=event.signed_on,
                start_date=event.start_date,
                planned_end_date=event.planned_end_date,
            )
        case PhaseChangedV1():
            return PhaseChanged(
                **ids,
                from_phase=event.from_phase,
                to_phase=event.to_phase,
                effective_date=event.effective_date,
            )
        case Article60StartedV1():
            return Article60Started(
                **ids,
                start_date=event.start_date,
                planned_end_date=event.planned_end_date,
                required_work_days=event.required_work_days,
                region_scheme=event.region_scheme,
            )
        case Article60EndedV1():
            return Article60Ended(
                **ids,
                ended_on=event.ended_on,
                early=event.early,
                # Health is special-category data (GDPR art. 9): no partner's
                # legal basis needs it, so it leaves the hub as "other".
                reason="other" if event.reason == "health" else event.reason,
                work_days_accrued=event.work_days_accrued,
            )
        case _:
            return None


_KINDS: Final[Mapping[type[_Fields], OutboundKind]] = {
    model: kind for kind, model in OUTBOUND_FIELDS.items()
}


def occurred_on(event: ContractEvent) -> dt.date:
    """The business date of an event (Brussels time)."""
    return event.occurred_at.astimezone(BRUSSELS).date()


def _message(
    event: ContractEvent,
    facts: RoutingFacts,
    fields: _Fields,
    *,
    day: dt.date,
    name: str,
) -> CanonicalOutbound:
    """The message, addressed with the facts given (their partner, CPAS, file)."""
    if event.case_id != facts.case_id or event.cpas_kbo not in facts.cpas_numbers():
        raise ValueError("routing facts: they belong to another case or CPAS")
    return CanonicalOutbound(
        kind=_KINDS[type(fields)],
        message_id=uuid.uuid5(event.event_id, name),
        case_id=event.case_id,
        cpas_kbo=facts.cpas_kbo,
        event_id=event.event_id,
        occurred_on=day,
        fields=fields.model_dump(mode="json"),
    )


def outbound_for(event: ContractEvent, facts: RoutingFacts) -> CanonicalOutbound | None:
    """The message a hub event means for the partner of the facts given, or None.

    The message names the CPAS and the file number of ``facts`` (the ones in
    force on the event's date; see ``routing``).

    Raises:
        ValueError: The facts are those of another case, or of no CPAS the
            case had, than the event's.
    """
    fields = _outbound_fields(event, facts)
    if fields is None:
        return None
    return _message(
        event, facts, fields, day=occurred_on(event), name=str(facts.partner)
    )


def registration_request(
    event: ContractEvent,
    facts: RoutingFacts,
    *,
    income_kind: str,
    granted_on: dt.date,
    day: dt.date,
) -> CanonicalOutbound:
    """The registration a partner taking the case over gets, dated ``day``."""
    fields = _registration_fields(
        facts, income_kind=income_kind, granted_on=granted_on, since=day
    )
    name = f"{facts.partner}:registration_request"
    return _message(event, facts, fields, day=day, name=name)


def case_closed(
    event: ContractEvent, facts: RoutingFacts, *, reason: ClosureReason, day: dt.date
) -> CanonicalOutbound:
    """The closure a partner giving the case up gets, dated ``day``."""
    fields = CaseClosed(
        niss=facts.niss,
        dossier_number=facts.dossier_number,
        closed_on=day,
        closure_reason=reason,
    )
    return _message(event, facts, fields, day=day, name=f"{facts.partner}:case_closed")


def case_erased(event: CaseErasedV1, facts: RoutingFacts) -> CanonicalOutbound:
    """The erasure notice a partner holding the file gets (no personal data).

    Only the facts' CPAS and file number are read: their personal data may
    already be purged when the gateway sees the erasure.
    """
    fields = CaseErased(dossier_number=facts.dossier_number, erased_on=event.erased_on)
    name = f"{facts.partner}:case_erased"
    return _message(event, facts, fields, day=event.erased_on, name=name)


# --- inbound: what a partner tells the hub ---------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class RegistrationConfirmed(_Body):
    """The partner registered the person as a job seeker."""

    kind: Literal["registration_confirmed"] = Field(
        default="registration_confirmed", description="Kind of the message."
    )
    partner_client_id: Identifier = Field(
        min_length=1, description="The person's client number there."
    )
    registered_on: dt.date = Field(description="Date of the registration.")


class RegistrationRejected(_Body):
    """The partner could not register the person."""

    kind: Literal["registration_rejected"] = Field(
        default="registration_rejected", description="Kind of the message."
    )
    reason: Reason = Field(min_length=1, description="Why not.")


class TrainingEnrolled(_Body):
    """The person enrolled in a training."""

    kind: Literal["training_enrolled"] = Field(
        default="training_enrolled", description="Kind of the message."
    )
    training_id: Identifier = Field(
        min_length=1, description="The partner's id of the training."
    )
    title: Name = Field(min_length=1, description="Title of the training.")
    provider: Name = Field(
        min_length=1, description="Organisation giving the training."
    )
    starts_on: dt.date = Field(description="First day of the training.")
    planned_end: dt.date = Field(description="Planned last day of the training.")


class TrainingCompleted(_Body):
    """The person completed a training."""

    kind: Literal["training_completed"] = Field(
        default="training_completed", description="Kind of the message."
    )
    training_id: Identifier = Field(
        min_length=1, description="The partner's id of the training."
    )
    completed_on: dt.date = Field(description="Last day of the training.")
    certified: bool = Field(description="The training ended with a certificate.")


class EmploymentStarted(_Body):
    """The person started a job with an employer."""

    kind: Literal["employment_started"] = Field(
        default="employment_started", description="Kind of the message."
    )
    employer_kbo: Kbo = Field(description="KBO/BCE enterprise number of the employer.")
    starts_on: dt.date = Field(description="First day of work.")
    contract_type: Annotated[ContractType, CONTRACT_TYPE] = Field(
        description="Kind of employment contract."
    )
    weekly_hours: WeeklyHours | None = Field(
        default=None, description="Hours a week, when part-time (a JSON number)."
    )


class FollowUpReport(_Body):
    """The partner's counsellor reports on the person's guidance."""

    kind: Literal["follow_up_report"] = Field(
        default="follow_up_report", description="Kind of the message."
    )
    report_date: dt.date = Field(description="Date of the report.")
    summary: Prose = personal_data("What happened since the last report.", min_length=1)
    attendance_rate: Percentage | None = Field(
        default=None,
        description="Share of planned sessions attended, 0 to 100 (a JSON number).",
    )
    next_appointment: dt.date | None = Field(
        default=None, description="Date of the next appointment, if one is set."
    )


class BenefitRightDecision(_Body):
    """ONEM's decision on the person's right to unemployment benefits."""

    kind: Literal["benefit_right_decision"] = Field(
        default="benefit_right_decision", description="Kind of the message."
    )
    decision: Annotated[BenefitDecision, BENEFIT_DECISION] = Field(
        description="Whether ONEM opened or refused the right."
    )
    onem_decision_date: dt.date = Field(description="Date of ONEM's decision.")
    onem_reference: Identifier = Field(
        min_length=1, description="ONEM's reference of the decision."
    )
    work_days_counted: int = Field(ge=0, description="Work days ONEM counted.")
    right_start_date: dt.date | None = Field(
        default=None, description="First day of the right (required when opened)."
    )
    payment_institution: Annotated[PaymentInstitution | None, PAYMENT_INSTITUTION] = (
        Field(
            default=None,
            description="Institution that pays the benefits (required when opened).",
        )
    )
    reason: Reason | None = Field(
        default=None,
        description="ONEM's ground for a refusal (required when refused).",
    )
    evidence: Evidence = Field(
        default=(), description="References of the supporting documents (C4, …)."
    )

    @model_validator(mode="after")
    def _complete_for_its_decision(self) -> BenefitRightDecision:
        required = (
            ("right_start_date", "payment_institution")
            if self.decision == "opened"
            else ("reason",)
        )
        for name in required:
            if getattr(self, name) is None:
                raise PydanticCustomError(
                    "missing_for_decision",
                    "required for this decision",
                    {"field": name},
                )
        return self


InboundBody = Annotated[
    RegistrationConfirmed
    | RegistrationRejected
    | TrainingEnrolled
    | TrainingCompleted
    | EmploymentStarted
    | FollowUpReport
    | BenefitRightDecision,
    Field(discriminator="kind"),
]
INBOUND_BODIES: Final[Mapping[InboundKind, type[_Body]]] = MappingProxyType(
    {
        "registration_confirmed": RegistrationConfirmed,
        "registration_rejected": RegistrationRejected,
        "training_enrolled": TrainingEnrolled,
        "training_completed": TrainingCompleted,
        "employment_started": EmploymentStarted,
        "follow_up_report": FollowUpReport,
        "benefit_right_decision": BenefitRightDecision,
    }
)
"""The canonical body of each inbound kind, with its fields' types and meanings."""


class CanonicalInbound(BaseModel):
    """A partner's message about one person, translated into the hub's terms."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    kind: InboundKind = Field(description="What the message reports.")
    partner: PartnerCode = Field(description="The partner that sent it.")
    language: Language = Field(description="Language of the partner's vocabulary.")
    message_id: str = Field(
        pattern=r"^[A-Za-z0-9._:-]{1,100}$",
        max_length=100,
        description="The partner's id of the message; a message sent again keeps it.",
    )
    sequence: int = Field(
        ge=1,
        le=2_147_483_647,
        description="The partner's counter of messages about this person, from 1 "
        "(at most 2,147,483,647); the hub applies one person's messages in this "
        "order.",
    )
    sent_at: AwareDatetime = Field(
        description="When the partner sent the message (ISO 8601 with UTC offset)."
    )
    niss: Niss = personal_data("NISS (INSZ, INSS) of the person, 11 digits.")
    cpas_kbo: Kbo = Field(
        description="KBO/BCE enterprise number of the CPAS the message is for."
    )
    body: InboundBody = Field(description="The kind's canonical fields.")

    @model_validator(mode="after")
    def _body_of_its_kind(self) -> CanonicalInbound:
        if self.body.kind != self.kind:
            raise ValueError("body: not of the message's kind")
        return self

    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON, to tell a resend from a conflicting message.

        The send time is left out: a partner retrying a message restamps it.
        """
        content = self.model_dump(mode="json", exclude={"sent_at"})
        text = json.dumps(
            content, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(text.encode()).hexdigest()
