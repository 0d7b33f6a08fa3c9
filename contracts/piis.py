"""Events of the PIIS service: integration contracts and trajectory phases.

Declared now so that partners and auditors can read the whole vocabulary; the
PIIS service that emits them is built in its own issue.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import ContractEvent, personal_data
from contracts.text import (
    DATES,
    ITEMS,
    DossierNumber,
    Identifier,
    Items,
    Prose,
    ProseList,
    Reason,
    ScoreDomain,
)
from contracts.wire import Date, Integer

__all__ = [
    "ActivationAim",
    "Commitments",
    "EvaluationPlan",
    "GeneralContent",
    "HearingHeldV1",
    "PIISSignedV1",
    "Partnerships",
    "Phase",
    "PhaseChangedV1",
    "PiisAmendedV1",
    "PiisDeadlineMissedV1",
    "PiisEndedV1",
    "PiisEvaluatedV1",
    "PiisEvent",
    "PiisNoticeServedV1",
    "PiisSanctionDecidedV1",
    "PiisType",
    "Scores",
    "SocialActivationEvaluatedV1",
    "SocialActivationEvaluationOverdueV1",
    "SocialActivationStartedV1",
]

PiisType = Literal[
    "general",
    "full_time_studies",
    "accompaniment",
    "social_activation_volunteering",
    "social_activation_workshop",
    "social_activation_preparation",
]
Phase = Literal[
    "facilitator",
    "literacy",
    "studies_training",
    "employment",
    "article_60",
    "social_activation",
    "exit_employed",
    "exit_left_cpas",
    "exit_exempted",
]
EvaluationPlan = Annotated[tuple[Date, ...], Items(DATES)]
GeneralContent = Annotated[tuple[Literal["employment", "training"], ...], Items(ITEMS)]
Scores = Annotated[dict[ScoreDomain, Integer], Items(ITEMS)]


class Commitments(BaseModel):
    """What each party of the PIIS undertakes."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    beneficiary: ProseList = personal_data("Commitments of the beneficiary.")
    cpas: ProseList = Field(description="Commitments of the CPAS.")
    third_parties: ProseList = Field(
        default=(), description="Commitments of third parties (training centre, …)."
    )


class PiisProposedV1(ContractEvent):
    """The CPAS handed a draft PIIS to the person: the reflection period starts.

    Legal anchor: five working days of reflection before signing (royal
    decree of 11 July 2002 art. 11), the person may be assisted by someone of
    their choice.
    """

    event_type: Literal["hub.piis.piis.proposed.v1"] = Field(
        default="hub.piis.piis.proposed.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    piis_id: uuid.UUID = Field(description="Id of the PIIS.")
    piis_type: PiisType = Field(description="Legal or operational type of the PIIS.")
    proposed_on: dt.date = Field(description="Date the draft was handed over.")
    start_date: dt.date = Field(description="Planned first day of the PIIS.")
    planned_end_date: dt.date = Field(description="Planned end of the PIIS.")
    objectives: ProseList = personal_data(
        "General and intermediate objectives proposed to the person."
    )
    commitments: Commitments = Field(description="Commitments of each party.")
    evaluation_plan: EvaluationPlan = Field(
        description="Planned evaluation dates (at least three a year)."
    )
    caseworker: Identifier = Field(
        description="Staff id of the integration caseworker."
    )
    general_content: GeneralContent = Field(
        default=(),
        description="For a general PIIS: its employment and/or training content "
        "(the 2016 reform merged those former types into the general PIIS).",
    )


class PiisExemptionGrantedV1(ContractEvent):
    """The CPAS dispensed the person from a compulsory PIIS, with a motivation.

    Legal anchor: exemption for health or equity reasons (law of 26 May 2002
    art. 11; formulaire-B PIIS code 8).
    """

    event_type: Literal["hub.piis.exemption.granted.v1"] = Field(
        default="hub.piis.exemption.granted.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    ground: Literal["health", "equity"] = Field(description="Reason of the exemption.")
    motivation: Prose = personal_data(
        "Written motivation of the exemption (may describe health matters)."
    )
    decided_on: dt.date = Field(description="Date of the decision.")


class PiisEvaluatedV1(ContractEvent):
    """A PIIS was evaluated with the person (at least three a year, two in person)."""

    event_type: Literal["hub.piis.piis.evaluated.v1"] = Field(
        default="hub.piis.piis.evaluated.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    piis_id: uuid.UUID = Field(description="Id of the PIIS.")
    evaluated_on: dt.date = Field(description="Date of the evaluation.")
    in_person: bool = Field(description="Held in an individual interview.")
    outcome: Prose = personal_data("What the evaluation found.")
    next_evaluation_on: dt.date | None = Field(
        default=None, description="Date of the next planned evaluation."
    )
    subsidy_prolongation_motivation: Prose | None = personal_data(
        "Written motivation, under its own heading, for prolonging the PIIS "
        "subsidy past its first year (SPP IS: a prolongation needs one); null: "
        "none given at this evaluation.",
        default=None,
    )


class PiisAmendedV1(ContractEvent):
    """The active PIIS was amended (objectives, planned end, evaluation plan)."""

    event_type: Literal["hub.piis.piis.amended.v1"] = Field(
        default="hub.piis.piis.amended.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    piis_id: uuid.UUID = Field(description="Id of the PIIS.")
    amended_on: dt.date = Field(description="Date both parties agreed the change.")
    objectives: ProseList = personal_data("The objectives from now on.")
    planned_end_date: dt.date = Field(description="The planned end from now on.")
    evaluation_plan: EvaluationPlan = Field(
        description="The planned evaluations from now on."
    )
    reason: Reason = Field(min_length=1, description="Why the PIIS changed.")


class PiisEndedV1(ContractEvent):
    """The PIIS ended: completed (objectives reached) or terminated (with reason)."""

    event_type: Literal["hub.piis.piis.ended.v1"] = Field(
        default="hub.piis.piis.ended.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    piis_id: uuid.UUID = Field(description="Id of the PIIS.")
    ended_on: dt.date = Field(description="Last day of the PIIS.")
    outcome: Literal["completed", "terminated"] = Field(
        description="Completed with success, or terminated early."
    )
    reason: Reason = Field(min_length=1, description="Why it ended.")


class PiisNoticeServedV1(ContractEvent):
    """Formal notice (mise en demeure) that the PIIS is not respected.

    Legal anchor: law of 26 May 2002 art. 30 §2: no sanction without it.
    """

    event_type: Literal["hub.piis.notice.served.v1"] = Field(
        default="hub.piis.notice.served.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    piis_id: uuid.UUID = Field(description="Id of the PIIS.")
    served_on: dt.date = Field(description="Date the notice was served.")
    grounds: Prose = personal_data("Which commitments were not respected.")


class HearingHeldV1(ContractEvent):
    """The person was offered a hearing before any sanction (and came or not)."""

    event_type: Literal["hub.piis.hearing.held.v1"] = Field(
        default="hub.piis.hearing.held.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    piis_id: uuid.UUID = Field(description="Id of the PIIS.")
    held_on: dt.date = Field(description="Date of the hearing (offered or held).")
    attended: bool = Field(description="The person came to the hearing.")


class PiisSanctionDecidedV1(ContractEvent):
    """Payment of the income is suspended for not respecting the PIIS.

    Legal anchor: law of 26 May 2002 art. 30 §2: payment suspended fully or
    partly, at most one month, three on a repeat within a year of an earlier
    sanction; it starts on the first day of the second month after the
    decision. It may be granted with a full or partial stay of execution
    (sursis, Constitutional Court ruling 148/2010). Intake suspends the
    payment once per ``sanction_id``.
    """

    event_type: Literal["hub.piis.sanction.decided.v1"] = Field(
        default="hub.piis.sanction.decided.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    piis_id: uuid.UUID = Field(description="Id of the PIIS.")
    decided_on: dt.date = Field(description="Date of the council's decision.")
    months: int = Field(ge=1, le=3, description="Length of the suspension in months.")
    starts_on: dt.date = Field(description="First day of the suspension.")
    ends_on: dt.date = Field(description="Last day of the suspension.")
    repeat: bool = Field(
        description="A prior PIIS sanction was decided within one year before "
        "(counted in calendar months from that sanction)."
    )
    notice_served_on: dt.date = Field(description="Date of the notice it follows.")
    extent: Literal["full", "partial"] = Field(
        default="full",
        description="The whole payment is suspended, or a part of it.",
    )
    partial_percent: int | None = Field(
        default=None,
        ge=1,
        le=99,
        description="Share of the payment suspended, in percent (partial only).",
    )
    stay_of_execution: bool = Field(
        default=False,
        description="Granted with a stay (sursis), Constitutional Court 148/2010.",
    )
    sanction_id: uuid.UUID | None = Field(
        default=None,
        description="Id of this sanction, derived from its file and command: the "
        "payment suspension it leads to is keyed on it (null before it existed).",
    )


ActivationType = Literal["volunteering", "workshop", "preparation"]
# Where the trajectory leads, as the 2015 social-activation conventions counted
# progress: towards a socio-professional route, more autonomy, or volunteering.
ActivationAim = Literal["socio_professional", "autonomy", "volunteering"]
Partnerships = Annotated[tuple[Identifier, ...], Items(ITEMS)]


class SocialActivationStartedV1(ContractEvent):
    """A social-activation trajectory started (a local rule of the CPAS of Kortrijk).

    At most twelve months, evaluated every three months against the baseline
    of the bilan that opened it (the latest with scores on or before its
    start); the figures are in the hub's table of the law.
    """

    event_type: Literal["hub.piis.social_activation.started.v1"] = Field(
        default="hub.piis.social_activation.started.v1",
        description="Type of the event.",
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    activation_id: uuid.UUID = Field(description="Id of the trajectory.")
    activation_type: ActivationType = Field(
        description="Volunteering, workshop / participatory module, or preparation "
        "for a socio-professional pathway."
    )
    starts_on: dt.date = Field(description="First day.")
    planned_end_date: dt.date = Field(description="Planned last day (≤ 12 months).")
    baseline_scores: Scores = personal_data(
        "Scores of the bilan's measurement that progress is measured against."
    )
    piis_id: uuid.UUID | None = Field(
        default=None,
        description="The signed PIIS that frames the trajectory (null: none "
        "recorded; the annual report counts it as not framed).",
    )
    aim: ActivationAim | None = Field(
        default=None,
        description="Where the trajectory leads: a socio-professional route, more "
        "autonomy or volunteering (null: not recorded).",
    )


class SocialActivationEvaluatedV1(ContractEvent):
    """A (quarterly or final) evaluation of a social-activation trajectory."""

    event_type: Literal["hub.piis.social_activation.evaluated.v1"] = Field(
        default="hub.piis.social_activation.evaluated.v1",
        description="Type of the event.",
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    activation_id: uuid.UUID = Field(description="Id of the trajectory.")
    evaluated_on: dt.date = Field(description="Date of the evaluation.")
    scores: Scores = personal_data("Scores measured at this evaluation.")
    progress: Scores = personal_data(
        "Score minus baseline, per domain of the measurement."
    )
    final: bool = Field(description="The final measurement: the trajectory ends.")
    objective_achieved: bool | None = Field(
        default=None,
        description="Final measurement only: whether the trajectory's objective "
        "was achieved, as the CPAS judged it (null: not recorded).",
    )
    partnerships: Partnerships = Field(
        default=(),
        description="Final measurement only: the partner organisations the "
        "trajectory went through (identifiers, e.g. KBO numbers).",
    )
    failure_reason: Reason | None = personal_data(
        "Final measurement only: why the objective was not achieved.",
        default=None,
    )


class SocialActivationEvaluationOverdueV1(ContractEvent):
    """A quarterly evaluation of social activation is overdue (Kortrijk's rule).

    A type of its own rather than a new kind of PiisDeadlineMissedV1: a new
    value of a published enum would break strict readers (ADR 0002).
    """

    event_type: Literal["hub.piis.social_activation.evaluation_overdue.v1"] = Field(
        default="hub.piis.social_activation.evaluation_overdue.v1",
        description="Type of the event.",
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    activation_id: uuid.UUID = Field(description="Id of the trajectory.")
    due_on: dt.date = Field(description="The day the evaluation was due.")
    detected_on: dt.date = Field(description="The day the watch noticed it.")


class PiisDeadlineMissedV1(ContractEvent):
    """A legal deadline of the PIIS passed without what it requires.

    Kinds: ``piis_not_signed`` (a compulsory PIIS not signed within three
    months of the decision granting the income, without exemption: law of 26
    May 2002 art. 11 as amended 21 July 2016; one per grant, ``right_id``; with
    ``signed_on`` when it was signed after the due date) and
    ``evaluations_missing`` (fewer than three evaluations, two in person, in
    twelve months of the PIIS from ``window_start``, or pro rata for a PIIS that
    ended sooner: royal decree of 11 July 2002 art. 11).
    """

    event_type: Literal["hub.piis.deadline.missed.v1"] = Field(
        default="hub.piis.deadline.missed.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    kind: Literal["piis_not_signed", "evaluations_missing"] = Field(
        description="Which deadline was missed."
    )
    due_on: dt.date = Field(description="The day by which it was due.")
    detected_on: dt.date = Field(description="The day the watch noticed it.")
    piis_id: uuid.UUID | None = Field(
        default=None, description="The PIIS concerned, if one exists."
    )
    caseworker: Identifier | None = Field(
        default=None, description="Staff id of the caseworker following the PIIS."
    )
    right_id: uuid.UUID | None = Field(
        default=None, description="The income grant whose PIIS was due (signature)."
    )
    signed_on: dt.date | None = Field(
        default=None,
        description="Set when the PIIS was signed after the due date: the day it "
        "was (a late signature).",
    )
    window_start: dt.date | None = Field(
        default=None,
        description="First day of the twelve months (or the short PIIS's life) "
        "short of evaluations; the window ends on ``due_on``.",
    )


class PIISSignedV1(ContractEvent):
    """The individualised social-integration project (PIIS) was signed.

    Legal anchor: law of 26 May 2002 art. 11; AR 11/07/2002; circular 12/10/2016.
    """

    event_type: Literal["hub.piis.piis.signed.v1"] = Field(
        default="hub.piis.piis.signed.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    piis_id: uuid.UUID = Field(description="Id of the PIIS.")
    piis_type: PiisType = Field(description="Legal or operational type of the PIIS.")
    signed_on: dt.date = Field(description="Date both parties signed.")
    start_date: dt.date = Field(description="Date the PIIS takes effect.")
    planned_end_date: dt.date = Field(description="Planned end of the PIIS.")
    objectives: ProseList = personal_data(
        "General and intermediate objectives agreed with the person."
    )
    commitments: Commitments = Field(description="Commitments of each party.")
    evaluation_plan: EvaluationPlan = Field(
        description="Planned evaluation dates (at least three a year)."
    )
    reflection_period_start: dt.date = Field(
        description="Date the draft was handed to the person (start of the five "
        "working days of reflection)."
    )
    reflection_waived: bool = Field(
        default=False, description="The person waived the reflection period."
    )
    reflection_waiver_reason: Reason | None = Field(
        default=None, description="Why the person waived it (required when waived)."
    )
    general_content: GeneralContent = Field(
        default=(), description="For a general PIIS: its employment/training content."
    )
    subsidy_code: Identifier | None = Field(
        default=None, description="Formulaire-B PIIS code claimed for the subsidy."
    )


class PhaseChangedV1(ContractEvent):
    """The case moved from one trajectory phase to another (Molenbeek phases)."""

    event_type: Literal["hub.piis.phase.changed.v1"] = Field(
        default="hub.piis.phase.changed.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    trajectory_id: uuid.UUID = Field(description="Id of the ISP trajectory.")
    dossier_number: DossierNumber = Field(description="CPAS file number.")
    from_phase: Phase | None = Field(
        description="Phase the dossier was in; null when the trajectory starts."
    )
    to_phase: Phase = Field(description="Phase the dossier is in from now on.")
    effective_date: dt.date = Field(description="Date the new phase takes effect.")
    reason: Reason = Field(min_length=1, description="Why the phase changed.")
    decided_by: Identifier = Field(description="Staff id of the person who decided.")


PiisEvent = Annotated[
    PiisProposedV1
    | PIISSignedV1
    | PiisEvaluatedV1
    | PiisAmendedV1
    | PiisEndedV1
    | PiisNoticeServedV1
    | HearingHeldV1
    | PiisSanctionDecidedV1
    | PiisExemptionGrantedV1
    | PiisDeadlineMissedV1
    | SocialActivationStartedV1
    | SocialActivationEvaluatedV1
    | SocialActivationEvaluationOverdueV1
    | PhaseChangedV1,
    Field(discriminator="event_type"),
]
