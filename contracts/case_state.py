"""The whole state of one case, as the case-state API shows it and its topic carries it.

Not an event: a projection of every service's events about the case (intake,
PIIS, placement, the partner gateway), rebuilt from the event stores
(docs/decisions/0016-whole-case-state-and-its-topic.md). The topic is
compacted and keyed by case id; each message is the whole state of its case
with a ``version`` that grows with every event folded in, so a subscriber
keeps, per case, the message with the highest version (at-least-once: a
message may come twice, or an older one after a newer on a broker that does
not compact).

No identity: no NISS, no name, no birth date, no address, no partner's id of
the person, no free text a caseworker or a partner wrote. The only fields
marked ``x-personal-data`` are the social-activation scores (measurements of
one person, pseudonymous here: the case id is derived under a secret).

A new section is an optional field with a default: older subscribers
ignore it (``extra="ignore"``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.envelope import personal_data
from contracts.regions import PartnerCode, Region

__all__ = [
    "CASE_STATE_TOPIC",
    "BenefitRight",
    "Bilan",
    "CaseStateV1",
    "EvaluationWindow",
    "Household",
    "IncomeRight",
    "IncomeSuspension",
    "OpenDeadline",
    "PartnerRegistration",
    "Piis",
    "PiisExemption",
    "PiisNotice",
    "PiisSanction",
    "Placement",
    "Registration",
    "SocialActivation",
    "Trajectory",
]

CASE_STATE_TOPIC: Final = "hub.case-state.v1"
_KBO = r"^[01]\d{9}$"
_Scores = dict[str, int]


class _State(BaseModel):
    # Readers ignore what a newer version adds; errors never quote a value.
    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)


class Registration(_State):
    """The case as the CPAS registered it (without the person's identity)."""

    dossier_number: str = Field(description="CPAS file number (normalised).")
    region: Region = Field(description="Region of residence.")
    partner: PartnerCode = Field(
        description="Regional employment service responsible for the person."
    )
    preferred_language: str = Field(description="fr, nl or de.")
    niss_kind: str = Field(
        description="RN (National Register) or BIS: the kind of number, not the number."
    )
    registered_on: dt.date = Field(description="Date the CPAS registered the case.")
    moved_on: dt.date | None = Field(
        default=None,
        description="First day at the current residence, after a move (its region "
        "and partner above).",
    )
    transferred_on: dt.date | None = Field(
        default=None,
        description="First day the current CPAS follows the person, after a "
        "transfer from another CPAS (its file number above).",
    )


class Household(_State):
    """The household in force, as the income category is checked against it.

    Counted, never named (law of 26 May 2002 art. 14 §1: cohabitant, living
    alone, with a family to support).
    """

    since: dt.date = Field(description="First day of the household as recorded.")
    partners: int = Field(ge=0, description="Spouse or partner in life living there.")
    children: int = Field(ge=0, description="Children living in the household.")
    other_members: int = Field(
        ge=0, description="Other persons the household is shared with."
    )


class Bilan(_State):
    """The social assessments (bilans) of the person."""

    status: Literal["pending", "completed"] = Field(
        description="completed once a bilan was recorded."
    )
    count: int = Field(ge=0, description="Bilans recorded.")
    last_completed_on: dt.date | None = Field(
        default=None, description="Date of the latest bilan."
    )
    orientation: str | None = Field(
        default=None, description="Orientation decided at the latest bilan recorded."
    )


class IncomeSuspension(_State):
    """A period in which payment of the income is suspended (not a withdrawal)."""

    reason: str = Field(
        description="stay_abroad_over_28_days, imprisonment, piis_sanction or "
        "declaration_sanction (the reasons SPP IS requires)."
    )
    period_start: dt.date = Field(description="First day of the suspension.")
    period_end: dt.date = Field(description="Last day of the suspension.")
    stay_of_execution: bool = Field(description="Granted with a stay (sursis).")
    extent: str = Field(default="full", description="full, or partial.")
    partial_percent: int | None = Field(
        default=None, description="Share suspended, in percent (partial)."
    )


class IncomeRight(_State):
    """The integration income (RIS) or its equivalent (ERIS) of the case."""

    right_id: uuid.UUID = Field(description="Id of the income right.")
    kind: str = Field(description="RIS or ERIS.")
    status: Literal["active", "withdrawn"] = Field(
        description="withdrawn once the right ended."
    )
    category: int = Field(
        description="1 cohabitant, 2 living alone, 3 with a family to support."
    )
    monthly_amount: Decimal = Field(
        description="Monthly amount in euro of the current category."
    )
    amount_version: str = Field(description="Version of the amount table used.")
    since: dt.date = Field(description="First day of the right.")
    category_since: dt.date = Field(
        description="First day of the current category and amount."
    )
    withdrawn_from: dt.date | None = Field(
        default=None, description="First day without the right, once withdrawn."
    )
    piis_obligation: str = Field(
        description="Whether a PIIS is compulsory and why (compulsory_new_"
        "beneficiary, compulsory_under_25, compulsory_student or optional)."
    )
    decided_late: bool = Field(
        description="The council decided more than 30 days after the application."
    )
    suspensions: tuple[IncomeSuspension, ...] = Field(
        default=(), description="Suspensions of payment, in the order recorded."
    )


class EvaluationWindow(_State):
    """The PIIS's evaluations in the twelve months up to its latest evaluation.

    The law wants at least three evaluations a year, two of them in an
    individual interview (royal decree of 11 July 2002 art. 11, as amended on
    3 October 2016). The window is rolling: it ends on the latest evaluation
    recorded and starts twelve months earlier (not before the PIIS started).
    """

    window_from: dt.date = Field(description="First day of the window.")
    window_to: dt.date = Field(description="Last day of the window (the latest one).")
    evaluations: int = Field(ge=0, description="Evaluations in the window.")
    in_person: int = Field(ge=0, description="Of which in an individual interview.")
    required: int | None = Field(
        default=None, description="Evaluations the law requires in a window."
    )
    required_in_person: int | None = Field(
        default=None, description="Of which in person, as the law requires."
    )


class PiisNotice(_State):
    """A formal notice that the PIIS is not respected, and its hearing."""

    served_on: dt.date = Field(description="Date the notice was served.")
    hearing_on: dt.date | None = Field(
        default=None, description="Date of the hearing offered after it."
    )
    attended: bool | None = Field(
        default=None, description="Whether the person came to the hearing."
    )


class PiisSanction(_State):
    """A suspension of payment for not respecting the PIIS.

    Law of 26 May 2002 art. 30 §2.
    """

    decided_on: dt.date = Field(description="Date of the council's decision.")
    months: int = Field(description="Length in months.")
    starts_on: dt.date = Field(description="First day of the suspension.")
    ends_on: dt.date = Field(description="Last day of the suspension.")
    repeat: bool = Field(description="A repeat within one year of an earlier one.")
    extent: str = Field(default="full", description="full, or partial.")
    partial_percent: int | None = Field(
        default=None, description="Share of the payment suspended (partial)."
    )
    stay_of_execution: bool = Field(
        default=False, description="Granted with a stay (sursis)."
    )


class Piis(_State):
    """The PIIS in force, or else the latest one proposed or ended."""

    piis_id: uuid.UUID = Field(description="Id of the PIIS.")
    status: Literal["proposed", "signed", "ended"] = Field(
        description="proposed (the reflection period runs), signed (in force) or ended."
    )
    piis_type: str = Field(
        description="Type of the PIIS (see hub.piis.piis.signed.v1)."
    )
    proposed_on: dt.date | None = Field(
        default=None, description="Date the draft was handed over."
    )
    signed_on: dt.date | None = Field(default=None, description="Date of signature.")
    start_date: dt.date = Field(description="First day of the PIIS.")
    planned_end_date: dt.date = Field(description="Planned end of the PIIS.")
    ended_on: dt.date | None = Field(default=None, description="Last day, once ended.")
    outcome: str | None = Field(
        default=None, description="completed or terminated, once ended."
    )
    caseworker: str | None = Field(
        default=None, description="Staff id of the integration caseworker."
    )
    evaluations_total: int = Field(ge=0, description="Evaluations recorded.")
    last_evaluated_on: dt.date | None = Field(
        default=None, description="Date of the latest evaluation."
    )
    evaluations_window: EvaluationWindow | None = Field(
        default=None,
        description="Evaluations in the rolling twelve months up to the latest "
        "one (none before the first evaluation).",
    )
    next_evaluation_due: dt.date | None = Field(
        default=None,
        description="While in force: the next evaluation the latest one planned, "
        "else the first date of the evaluation plan after the latest evaluation.",
    )
    notices: tuple[PiisNotice, ...] = Field(
        default=(), description="Formal notices served, oldest first."
    )
    sanctions: tuple[PiisSanction, ...] = Field(
        default=(), description="Sanctions decided, oldest first."
    )


class PiisExemption(_State):
    """The CPAS dispensed the person from a compulsory PIIS (its ground not shown)."""

    decided_on: dt.date = Field(description="Date of the decision.")


class Trajectory(_State):
    """The ISP trajectory phase of the dossier."""

    trajectory_id: uuid.UUID = Field(description="Id of the trajectory.")
    phase: str = Field(
        description="Current phase (see hub.piis.phase.changed.v1), an exit once "
        "the trajectory ended."
    )
    since: dt.date = Field(description="Date the phase took effect.")
    from_phase: str | None = Field(
        default=None, description="The phase before (null when it started)."
    )
    active: bool = Field(description="False once the trajectory exited.")


class SocialActivation(_State):
    """The social-activation trajectory and its progress against the bilan."""

    activation_id: uuid.UUID = Field(description="Id of the trajectory.")
    activation_type: str = Field(description="volunteering, workshop or preparation.")
    status: Literal["active", "ended"] = Field(
        description="ended after the final evaluation."
    )
    starts_on: dt.date = Field(description="First day.")
    planned_end_date: dt.date = Field(description="Planned last day.")
    evaluations: int = Field(ge=0, description="Evaluations recorded.")
    last_evaluated_on: dt.date | None = Field(
        default=None, description="Date of the latest evaluation."
    )
    baseline: _Scores = personal_data(
        "Scores of the bilan's measurement, per domain (the baseline)."
    )
    latest: _Scores | None = personal_data(
        "Scores of the latest evaluation, per domain (null before the first).",
        default=None,
    )
    progress: _Scores = personal_data(
        "Latest score minus baseline, per domain.", default_factory=dict
    )


class Placement(_State):
    """An article 60 §7 contract or an article 61 agreement.

    Its end reason is not shown (it may say "health" or "death").
    """

    kind: Literal["article_60", "article_61"] = Field(description="Which article.")
    contract_id: uuid.UUID = Field(description="Id of the contract or agreement.")
    status: str = Field(
        description="article 60: planned, signed, started, ended, cancelled; "
        "article 61: signed, ended."
    )
    start_date: dt.date | None = Field(
        default=None, description="First day of work (planned while planned)."
    )
    planned_end_date: dt.date | None = Field(
        default=None, description="Planned last day."
    )
    ended_on: dt.date | None = Field(default=None, description="Last day, once ended.")
    required_work_days: int | None = Field(
        default=None,
        description="Article 60: work days required (ONEM's or the rule's).",
    )
    region_scheme: str | None = Field(
        default=None, description="Regional subsidy scheme."
    )
    user_organisation_kbo: str | None = Field(
        default=None, description="Article 60: KBO of the user organisation."
    )
    user_organisation_name: str | None = Field(
        default=None, description="Article 60: name of the user organisation."
    )
    placement_starts_on: dt.date | None = Field(
        default=None, description="Article 60: first day with the user organisation."
    )
    employer_kbo: str | None = Field(
        default=None, description="Article 61: KBO of the employer."
    )
    employer_name: str | None = Field(
        default=None, description="Article 61: name of the employer."
    )


class BenefitRight(_State):
    """ONEM's latest decision on the right to unemployment benefits.

    An external fact: the CPAS never decides it.
    """

    decision: Literal["opened", "refused"] = Field(description="ONEM's decision.")
    onem_decision_date: dt.date = Field(description="Date of ONEM's decision.")
    right_start_date: dt.date | None = Field(
        default=None, description="First day of the right (opened)."
    )
    work_days_counted: int = Field(ge=0, description="Work days ONEM counted.")
    source_channel: str = Field(description="partner, bcss or manual.")


class PartnerRegistration(_State):
    """The job-seeker registration as the regional employment service reported it."""

    partner: PartnerCode = Field(description="The employment service that reported.")
    status: Literal["registered", "rejected"] = Field(
        description="registered, or the partner refused or could not register."
    )
    registered_on: dt.date | None = Field(
        default=None, description="Date of the registration (registered)."
    )
    reported_on: dt.date = Field(description="Date of the partner's report.")
    partner_sequence: int = Field(
        ge=1, description="The partner's message counter of that report."
    )


class OpenDeadline(_State):
    """A legal deadline that passed unmet and is not met yet.

    ``kind`` is the watch's word for it (``piis_not_signed``,
    ``evaluations_missing``, ``social_activation_evaluation``, and any kind a
    later version of the watch adds).
    """

    kind: str = Field(description="Which deadline was missed.")
    due_on: dt.date = Field(description="The day by which it was due.")
    detected_on: dt.date = Field(description="The day the watch noticed it.")
    piis_id: uuid.UUID | None = Field(
        default=None, description="The PIIS concerned, if any."
    )
    activation_id: uuid.UUID | None = Field(
        default=None, description="The social-activation trajectory concerned, if any."
    )
    right_id: uuid.UUID | None = Field(
        default=None,
        description="The income grant whose PIIS was due (a signature deadline).",
    )
    caseworker: str | None = Field(
        default=None, description="Staff id of the caseworker following it."
    )


class CaseStateV1(_State):
    """Everything current about one case, without the person's identity."""

    state_type: Literal["hub.case-state.v1"] = Field(
        default="hub.case-state.v1", description="Type of the message."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    case_id: uuid.UUID = Field(description="Id of the case (the topic's key).")
    cpas_kbo: str = Field(
        pattern=_KBO,
        max_length=10,
        description="KBO/BCE number of the CPAS that owns the case.",
    )
    version: int = Field(
        ge=1,
        description="Events folded into this state, over every service: it grows "
        "by one with each, so the highest version per case is the newest state.",
    )
    updated_at: AwareDatetime | None = Field(
        default=None, description="When the hub recorded the newest event folded in."
    )
    last_event_type: str | None = Field(default=None, description="Type of that event.")
    registration: Registration | None = Field(
        default=None,
        description="The registration (null while intake's event has not arrived).",
    )
    household: Household | None = Field(
        default=None, description="The household in force (none recorded: alone)."
    )
    bilan: Bilan = Field(description="The bilans of the person.")
    income_right: IncomeRight | None = Field(
        default=None, description="The income right, if one was granted."
    )
    piis: Piis | None = Field(default=None, description="The PIIS, if any.")
    piis_exemption: PiisExemption | None = Field(
        default=None, description="The exemption from a compulsory PIIS, if any."
    )
    trajectory: Trajectory | None = Field(
        default=None, description="The ISP trajectory phase, if one started."
    )
    social_activation: SocialActivation | None = Field(
        default=None, description="The social-activation trajectory, if any."
    )
    placements: tuple[Placement, ...] = Field(
        default=(), description="Article 60 and 61 contracts, in the order planned."
    )
    benefit_right: BenefitRight | None = Field(
        default=None, description="ONEM's latest decision on the benefit right."
    )
    partner_registration: PartnerRegistration | None = Field(
        default=None, description="The latest registration report of a partner."
    )
    open_deadlines: tuple[OpenDeadline, ...] = Field(
        default=(), description="Missed deadlines not met yet, the oldest due first."
    )
