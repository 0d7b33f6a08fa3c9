"""Events of the intake service: the beneficiary, their residence and their bilan."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import Field

from contracts.envelope import ContractEvent, personal_data
from contracts.regions import PartnerCode, Region
from contracts.text import (
    ITEMS,
    DossierNumber,
    Identifier,
    Items,
    Name,
    ProseList,
    ScoreDomain,
)
from contracts.wire import AS_INTEGER

__all__ = [
    "BaselineScores",
    "BeneficiaryRegisteredV1",
    "BilanCompletedV1",
    "CaseErasedV1",
    "CaseTransferredV1",
    "DossierNumberClaimedV1",
    "ErasureReason",
    "IntakeEvent",
    "Orientation",
    "PersonIndexClaimedV1",
    "ResidenceChangedV1",
]

Language = Literal["fr", "nl", "de"]
BaselineScores = Annotated[
    dict[ScoreDomain, Annotated[int, Field(ge=0, le=100), AS_INTEGER]], Items(ITEMS)
]
Orientation = Literal[
    "employment", "training", "studies", "social_activation", "exemption"
]


class BeneficiaryRegisteredV1(ContractEvent):
    """A CPAS opened a case for a person on (or applying for) the integration income.

    Legal anchor: Primabook forms B/A, BCSS IdentifyPerson; one case per person
    and CPAS (docs/domain/identifiers.md#one-case-per-person-and-cpas).
    """

    event_type: Literal["hub.intake.beneficiary.registered.v1"] = Field(
        default="hub.intake.beneficiary.registered.v1",
        description="Type of the event.",
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    niss: str = personal_data(
        "National number (NISS/INSZ) or BIS number of the person, 11 digits.",
        pattern=r"^\d{11}$",
        max_length=11,
    )
    niss_kind: Literal["RN", "BIS"] = Field(
        description="RN: National Register number; BIS: number issued by the BCSS to "
        "a person not in the National Register."
    )
    family_name: Name = personal_data("Family name as on the identity document.")
    given_name: Name = personal_data("First given name as on the identity document.")
    birth_date: dt.date = personal_data(
        "Birth date; agrees with the date part of the NISS when that is known."
    )
    preferred_language: Language = Field(
        description="Language the person is addressed in (fr, nl or de); decides "
        "Actiris's language in Brussels."
    )
    postal_code: str = personal_data(
        "Belgian postal code of the main residence (4 digits).",
        pattern=r"^\d{4}$",
        max_length=4,
    )
    region: Region = Field(
        description="Region of residence, derived from the postal code."
    )
    partner: PartnerCode = Field(
        description="Regional employment service responsible for the person: "
        "forem, actiris, vdab or adg."
    )
    dossier_number: DossierNumber = Field(
        description="CPAS file number (normalised: no separators, no leading zeros); "
        "unique at the CPAS and never reused.",
    )
    registered_on: dt.date = Field(
        description="Date the CPAS registered the case (business date)."
    )


class BilanCompletedV1(ContractEvent):
    """The social assessment (bilan social) of the person was completed.

    Legal anchor: AR 11/07/2002 art. 11 §1 (a bilan precedes any PIIS); its
    scores are the baseline of a social-activation trajectory.
    """

    event_type: Literal["hub.intake.bilan.completed.v1"] = Field(
        default="hub.intake.bilan.completed.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    assessment_id: uuid.UUID = Field(description="Id of this assessment.")
    completed_on: dt.date = Field(description="Date the bilan was completed.")
    author: Identifier = Field(
        description="Identifier of the social worker who wrote the bilan (staff id, "
        "not a name)."
    )
    needs: ProseList = personal_data("Needs identified with the person.")
    strengths: ProseList = personal_data("Strengths and resources of the person.")
    obstacles: ProseList = personal_data(
        "Obstacles to integration (health, housing, language, mobility…)."
    )
    instrument: Identifier = Field(
        description="Measurement instrument of the baseline scores (e.g. ZRM)."
    )
    baseline_scores: BaselineScores = personal_data(
        "Baseline score per domain of the instrument (0 to 100)."
    )
    orientation: Orientation = Field(
        description="Orientation decided at the end of the bilan."
    )


class DossierNumberClaimedV1(ContractEvent):
    """A CPAS file number was given to a case; it can never be given to another."""

    event_type: Literal["hub.intake.dossier_number.claimed.v1"] = Field(
        default="hub.intake.dossier_number.claimed.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    dossier_number: DossierNumber = Field(
        description="The normalised CPAS file number."
    )


class ResidenceChangedV1(ContractEvent):
    """The person moved: a new main residence from a date.

    The region of the new residence decides the employment service that
    follows the person from that date on (the partner gateway hands the case
    over when it changes). The CPAS does not change with it: a transfer to the
    CPAS now competent is its own event (``CaseTransferredV1``).
    """

    event_type: Literal["hub.intake.residence.changed.v1"] = Field(
        default="hub.intake.residence.changed.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    moved_on: dt.date = Field(description="First day at the new residence.")
    postal_code: str = personal_data(
        "Belgian postal code of the new main residence (4 digits).",
        pattern=r"^\d{4}$",
        max_length=4,
    )
    region: Region = Field(
        description="Region of the new residence, derived from the postal code."
    )
    partner: PartnerCode = Field(
        description="Regional employment service responsible from the move on."
    )
    previous_region: Region = Field(description="Region of residence before.")
    previous_partner: PartnerCode = Field(
        description="Employment service responsible before the move."
    )


class CaseTransferredV1(ContractEvent):
    """The case moved to another CPAS, with its history, under a new file number.

    The case id and its stream stay; the envelope's ``cpas_kbo`` is the new
    CPAS's from this event on. The former file number stays claimed at the
    former CPAS (numbers are never reused); the new one is claimed at the new
    CPAS (``DossierNumberClaimedV1`` on its index stream).
    """

    event_type: Literal["hub.intake.case.transferred.v1"] = Field(
        default="hub.intake.case.transferred.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    transferred_on: dt.date = Field(
        description="First day the new CPAS follows the person."
    )
    from_cpas_kbo: str = Field(
        pattern=r"^[01]\d{9}$",
        max_length=10,
        description="KBO/BCE number of the CPAS that followed the person before.",
    )
    previous_dossier_number: DossierNumber = Field(
        description="The file number at the former CPAS (kept there, never reused)."
    )
    dossier_number: DossierNumber = Field(
        description="The file number at the new CPAS (normalised)."
    )


class PersonIndexClaimedV1(ContractEvent):
    """A case transferred to a CPAS is the person's case there.

    Written on the stream a registration of the person at that CPAS would
    open, so that such a registration is refused as a duplicate of the
    transferred case (one case per person and CPAS).
    """

    event_type: Literal["hub.intake.person_index.claimed.v1"] = Field(
        default="hub.intake.person_index.claimed.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")


ErasureReason = Literal[
    "retention_period_ended",
    "data_subject_request",
    "court_order",
    "registered_in_error",
]


class CaseErasedV1(ContractEvent):
    """The person's file at the CPAS was erased: their data key is destroyed.

    Names no personal data, so it stays readable for ever: the history keeps
    its shape (every event, the hash chain), the personal-data fields of the
    case's events no longer open (docs/decisions/0023-envelope-encryption.md).
    The reason is a code and the reference an identifier, never free text: a
    text could name the person.
    """

    event_type: Literal["hub.intake.case.erased.v1"] = Field(
        default="hub.intake.case.erased.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    erased_on: dt.date = Field(description="Day the file was erased.")
    last_activity_on: dt.date = Field(
        description="Day of the case's last stored event before the erasure: the "
        "retention period runs from it."
    )
    reason: ErasureReason = Field(
        description="Why: the retention period ended, or (forced before it) the "
        "person's request, a court order, a file registered in error."
    )
    forced: bool = Field(
        description="Erased before the retention period ended (an operator forced "
        "it, with the reason)."
    )
    reference: Identifier | None = Field(
        default=None,
        description="The CPAS's reference of the decision (a ticket or file id; "
        "never a name).",
    )


IntakeEvent = Annotated[
    BeneficiaryRegisteredV1
    | BilanCompletedV1
    | DossierNumberClaimedV1
    | ResidenceChangedV1
    | CaseTransferredV1
    | PersonIndexClaimedV1
    | CaseErasedV1,
    Field(discriminator="event_type"),
]
