"""The household of a case: who lives with the person, as the income category needs.

Legal anchor: law of 26 May 2002 art. 14 §1: the category of the integration
income follows the household (1° cohabitant, 2° living alone, 3° living with a
family to support that counts at least one unmarried minor child). No member is
named: a partner who has a case at the CPAS is referred to by that case's id.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import ContractEvent, personal_data
from contracts.text import ITEMS, Items

__all__ = ["HouseholdChild", "HouseholdPartner", "HouseholdRecordedV1"]


class HouseholdPartner(BaseModel):
    """The person's spouse or partner in life, living with them (never named)."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    case_id: uuid.UUID | None = Field(
        default=None,
        description="The partner's own case at this CPAS, when they have one.",
    )
    birth_date: dt.date = personal_data(
        "Birth date of the partner (their case's, when they have one): decides "
        "whether a PIIS is compulsory for them (under 25)."
    )
    student: bool = Field(
        default=False, description="The partner is a full-time student."
    )
    received_income_before_reform: bool = Field(
        default=False,
        description="The partner already received the integration income before "
        "1 November 2016 (the law of 21 July 2016).",
    )


class HouseholdChild(BaseModel):
    """A child living in the household (never named)."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    birth_date: dt.date = personal_data("Birth date of the child: a minor until 18.")
    unmarried: bool = Field(description="The child is not married.")
    dependent: bool = Field(
        description="The person supports the child (a child 'à charge')."
    )


class HouseholdRecordedV1(ContractEvent):
    """The household of the person from a date, restated whole.

    A later record with the same effective date corrects it; the category of
    the income is checked against the household in force on the effective date
    of a grant or a modification (law of 26 May 2002 art. 14 §1).
    """

    event_type: Literal["hub.intake.household.recorded.v1"] = Field(
        default="hub.intake.household.recorded.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    effective_date: dt.date = Field(
        description="First day the household is as recorded."
    )
    partners: Annotated[tuple[HouseholdPartner, ...], Items(ITEMS)] = Field(
        default=(), description="Spouse or partner in life living with the person."
    )
    children: Annotated[tuple[HouseholdChild, ...], Items(ITEMS)] = Field(
        default=(), description="Children living in the household."
    )
    other_members: int = Field(
        default=0,
        ge=0,
        le=ITEMS,
        description="Other persons the household is shared with (parents, adult "
        "relatives, flatmates): counted, never named.",
    )
