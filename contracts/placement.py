"""Events of the placement service: article 60 §7 jobs and the benefit right.

Declared now so that partners and auditors can read the whole vocabulary; the
placement service that emits them is built in its own issue.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import Field

from contracts.envelope import ContractEvent, personal_data

__all__ = ["Article60StartedV1", "BenefitRightOpenedV1", "PlacementEvent"]


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
        pattern=r"^[01]\d{9}$", description="KBO/BCE number of the employer (the CPAS)."
    )
    user_organisation_kbo: str | None = Field(
        default=None,
        pattern=r"^[01]\d{9}$",
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
    onem_calculation_ref: str | None = Field(
        default=None, description="Reference of the CPAS@ONEM calculation."
    )
    regime: Literal["full_time", "part_time"] = Field(description="Working regime.")
    region_scheme: Literal["WAL", "BRU", "VDAB_TWE", "DG"] = Field(
        description="Regional subsidy scheme the job falls under."
    )


class BenefitRightOpenedV1(ContractEvent):
    """ONEM opened the person's right to unemployment benefits.

    An external fact: accepted only from a partner or BCSS channel, or entered
    manually with evidence (domain.md I14).
    """

    event_type: Literal["hub.placement.benefit_right.opened.v1"] = Field(
        default="hub.placement.benefit_right.opened.v1",
        description="Type of the event.",
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    niss: str = personal_data("NISS of the person.", pattern=r"^\d{11}$")
    onem_decision_date: dt.date = Field(description="Date of ONEM's decision.")
    right_start_date: dt.date = Field(
        description="First day of the right; not before the last contract end."
    )
    payment_institution: Literal["CAPAC", "FGTB", "CSC", "CGSLB"] = Field(
        description="Institution that pays the benefits."
    )
    onem_reference: str = Field(description="ONEM's reference of the decision.")
    work_days_counted: int = Field(ge=0, description="Work days ONEM counted.")
    evidence: tuple[str, ...] = Field(
        default=(), description="References of the supporting documents."
    )
    source_channel: Literal["partner", "bcss", "manual"] = Field(
        description="Channel the fact came through."
    )


PlacementEvent = Annotated[
    Article60StartedV1 | BenefitRightOpenedV1, Field(discriminator="event_type")
]
