"""Events of the federal reporting: the forms the hub sent to SPP IS, and their fate.

A CPAS reports each decision on the integration income to SPP IS (POD MI) on
standard forms (docs/domain/federal-reporting.md): form B for a grant or a
modification, form C for a refusal or a withdrawal, form D for a recovery.
The partner gateway generates them from the hub's events, records each one it
submits (``FederalFormSubmittedV1``, with the form's canonical content, its
digest and the events it was made from) and what SPP IS answered
(``FederalFormAcceptedV1`` or ``FederalFormRejectedV1`` with SPP IS's reason),
on one stream per case (ADR 0021). Canonical names are English; SPP IS's own
(French) names live only in the gateway's translator (docs/partners/spp-is.md).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import ContractEvent, personal_data
from contracts.text import Code, Identifier, Items, Reason, ShortDecimal

__all__ = [
    "FederalEvent",
    "FederalFormAcceptedV1",
    "FederalFormRejectedV1",
    "FederalFormSubmittedV1",
    "FormBContent",
    "FormCContent",
    "FormContent",
    "FormDContent",
    "FormKind",
    "RecoveryType",
]

FormKind = Literal["B", "C", "D"]
RecoveryType = Literal["01", "04", "05", "06"]
# A form is made from a few events (a grant, a PIIS, a modification, …).
_SOURCES = 20


class _Form(BaseModel):
    """What every SPP IS form carries: the CPAS and the person."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    cpas_kbo: str = Field(
        pattern=r"^[01][0-9]{9}$",
        max_length=10,
        description="KBO/BCE enterprise number of the CPAS (10 digits, mod 97).",
    )
    cpas_ins_code: str = Field(
        pattern=r"^[0-9]{5}$",
        max_length=5,
        description="INS/NIS (REFNIS) code of the CPAS's municipality, 5 digits.",
    )
    niss: str = personal_data(
        "NISS or BIS number of the person, 11 digits (compulsory on every form).",
        pattern=r"^[0-9]{11}$",
        max_length=11,
    )
    effective_date: dt.date = Field(
        description="Form B: first day of the period, or the day the modification "
        "applies; form C: first day the current form B no longer applies; form D: "
        "the first day of the month of the recovery."
    )


class FormBContent(_Form):
    """Form B: the grant or a modification of the integration income.

    Every field is restated on every form B, the unchanged ones included.
    """

    form: Literal["B"] = Field(default="B", description="Kind of the form.")
    decision_date: dt.date = Field(description="Date of the council's decision.")
    category: Literal[1, 2, 3] = Field(
        description="1 cohabitant, 2 living alone, 3 with a family to support "
        "(law of 26 May 2002 art. 14 §1)."
    )
    notice_status: Literal[0, 1] = Field(
        description="0: a new form B; 1: a correction, which replaces the earlier "
        "form B of the same effective date."
    )
    piis_code: int | None = Field(
        ge=1,
        le=99,
        description="The PIIS code claimed for the special subsidy (8, 9, 10, 11, "
        "17…, valid on the effective date); null when none is claimed.",
    )


class FormCContent(_Form):
    """Form C: a refusal or a withdrawal of the integration income."""

    form: Literal["C"] = Field(default="C", description="Kind of the form.")
    council_date: dt.date = Field(description="Date of the council session.")
    decision_type: Literal[1, 2] = Field(description="1: refusal; 2: withdrawal.")
    regularisation: Literal[0, 1] = Field(
        description="0: none; 1: regularises an earlier form C."
    )
    form_b_id: uuid.UUID | None = Field(
        description="The one form B the withdrawal ends; null for a refusal of an "
        "application no form B reported."
    )


class FormDContent(_Form):
    """Form D: an amount recovered (or repaid) for one month."""

    form: Literal["D"] = Field(default="D", description="Kind of the form.")
    sequence: int = Field(
        ge=1,
        le=99,
        description="1 for the first form D of this month and person, 2 for the "
        "second, …",
    )
    recovery_type: RecoveryType = Field(
        description="01 income at 50 to 70% by month of reference; 04 PIIS at 70% "
        "(before 1 July 2014); 05 foreigners' register, 100%; 06 homeless person "
        "taking up a first dwelling, 100%."
    )
    amount: ShortDecimal = Field(
        decimal_places=2, gt=0, description="Amount recovered, in euro."
    )


FormContent = Annotated[
    FormBContent | FormCContent | FormDContent, Field(discriminator="form")
]


class FederalFormSubmittedV1(ContractEvent):
    """The gateway submitted a form to SPP IS."""

    event_type: Literal["hub.partners.federal_form.submitted.v1"] = Field(
        default="hub.partners.federal_form.submitted.v1",
        description="Type of the event.",
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    form_id: uuid.UUID = Field(
        description="Id of the form: the reference SPP IS answers with."
    )
    form_kind: FormKind = Field(description="B, C or D.")
    content: FormContent = Field(description="The form, every field restated.")
    content_digest: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        max_length=64,
        description="SHA-256 of the form as sent (SPP IS's wire format), so that "
        "an auditor can check what left the hub.",
    )
    source_event_ids: Annotated[tuple[uuid.UUID, ...], Items(_SOURCES)] = Field(
        min_length=1, description="The hub events the form was generated from."
    )
    replaces: uuid.UUID | None = Field(
        default=None,
        description="The form this one replaces: the earlier form B a correction "
        "replaces, or a form SPP IS rejected that this one submits again.",
    )


class _Answer(ContractEvent):
    form_id: uuid.UUID = Field(description="The form SPP IS answered about.")
    answer_id: Identifier = Field(
        min_length=1, description="SPP IS's id of its answer."
    )
    answered_on: dt.date = Field(description="Day SPP IS processed the form.")


class FederalFormAcceptedV1(_Answer):
    """SPP IS accepted a form."""

    event_type: Literal["hub.partners.federal_form.accepted.v1"] = Field(
        default="hub.partners.federal_form.accepted.v1",
        description="Type of the event.",
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")


class FederalFormRejectedV1(_Answer):
    """SPP IS rejected a form, with its reason."""

    event_type: Literal["hub.partners.federal_form.rejected.v1"] = Field(
        default="hub.partners.federal_form.rejected.v1",
        description="Type of the event.",
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    reason_code: Code = Field(min_length=1, description="SPP IS's reason code.")
    reason_text: Reason = Field(min_length=1, description="SPP IS's reason, as sent.")


FederalEvent = Annotated[
    FederalFormSubmittedV1 | FederalFormAcceptedV1 | FederalFormRejectedV1,
    Field(discriminator="event_type"),
]
