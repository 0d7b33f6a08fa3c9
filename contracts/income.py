"""Events of the integration-income right (RIS/ERIS) of a case, owned by intake.

Legal anchor: law of 26 May 2002 (DIS) for RIS; law of 2 April 1965 for the
equivalent social aid (ERIS); amounts by category from an effective-dated table.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import ContractEvent
from contracts.federal_reporting import RecoveryType
from contracts.text import ITEMS, Digits, Identifier, Items, Reason, ShortDecimal

__all__ = [
    "GrantedAmount",
    "IncomeEvent",
    "IncomePaymentSuspendedV1",
    "IncomeRecoveryDecidedV1",
    "IncomeRightGrantedV1",
    "IncomeRightModifiedV1",
    "IncomeRightRefusedV1",
    "IncomeRightWithdrawnV1",
    "PartnerPiisObligation",
    "PiisObligation",
    "RecoveredMonth",
    "RecoveryReason",
    "RecoveryType",
    "RefusalReason",
    "ReimbursementBasis",
    "SuspensionExtent",
    "SuspensionReason",
]

Category = Literal[1, 2, 3]
PiisObligation = Literal[
    "compulsory_new_beneficiary",
    "compulsory_under_25",
    "compulsory_student",
    "optional",
]
SuspensionReason = Literal[
    "stay_abroad_over_28_days", "imprisonment", "piis_sanction", "declaration_sanction"
]

SuspensionExtent = Literal["full", "partial"]
# A monthly amount granted, in euro: above zero, in cents (the bounds inside
# the annotation, where pydantic and the JSON Schema both see them).
GrantedAmount = Annotated[Decimal, Field(gt=0, decimal_places=2), Digits(16)]
# What the State's reimbursement of the income follows (law of 26 May 2002
# art. 32): the CPAS's size band (its monthly average of beneficiaries in the
# year before last), or a case the State reimburses in full.
ReimbursementBasis = Literal[
    "cpas_base",
    "cpas_over_500",
    "cpas_over_1000",
    "foreigners_register",
    "homeless_first_dwelling",
]

# Why a CPAS refuses an application: a condition of the law of 26 May 2002
# art. 3 the person does not meet (1° residence, 2° age, 3° nationality or
# residence status, 4° resources, 5° availability for work, 6° other benefits
# not claimed first).
RefusalReason = Literal[
    "no_residence_in_belgium",
    "age",
    "nationality_or_residence_status",
    "sufficient_resources",
    "not_available_for_work",
    "other_benefits_not_claimed",
]
# Why the CPAS recovers income it paid (law of 26 May 2002 art. 24 ff.).
RecoveryReason = Literal[
    "undeclared_resources",
    "payment_error",
    "retroactive_social_benefit",
    "other_undue_payment",
]


class PartnerPiisObligation(BaseModel):
    """Whether a PIIS is compulsory for one partner of the household, and why."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    position: int = Field(
        ge=1, le=ITEMS, description="The partner's place in the household, from 1."
    )
    partner_case_id: uuid.UUID | None = Field(
        default=None, description="The partner's own case at the CPAS, if any."
    )
    piis_obligation: PiisObligation = Field(
        description="Decided from the partner's own age, student status and "
        "income before 1 November 2016."
    )


class _Amount(ContractEvent):
    category: Category = Field(
        description="1 cohabitant, 2 living alone (isolé), 3 with a family to support "
        "(law of 26 May 2002 art. 14 §1), checked against the household in force "
        "on the effective date."
    )
    monthly_amount: ShortDecimal = Field(
        decimal_places=2,
        description="Monthly amount in euro for the category (parameter table).",
    )
    amount_version: Identifier = Field(
        description="Version of the amount table used (its valid-from date and source)."
    )
    household_since: dt.date | None = Field(
        default=None,
        description="Effective date of the household record the category was "
        "checked against; null when none was recorded (the person alone).",
    )
    granted_monthly_amount: GrantedAmount | None = Field(
        default=None,
        description="Monthly amount actually granted when less than the "
        "category's, the person's resources deducted (law of 26 May 2002 art. "
        "16), such as the complementary income of an article 60 §7 worker; null: "
        "the category's whole amount. The State's reimbursement and the PIIS "
        "subsidy are computed on it.",
    )
    reimbursement_basis: ReimbursementBasis | None = Field(
        default=None,
        description="What the State's reimbursement follows (law of 26 May 2002 "
        "art. 32): the CPAS's size band (base, at least 500 or at least 1,000 "
        "beneficiaries a month on average in the year before last), or a case "
        "reimbursed in full (foreigners' register, homeless person taking up a "
        "dwelling); null: not stated, the base rate.",
    )


class IncomeRightGrantedV1(_Amount):
    """The CPAS council granted the integration income (or its equivalent)."""

    event_type: Literal["hub.intake.income_right.granted.v1"] = Field(
        default="hub.intake.income_right.granted.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    right_id: uuid.UUID = Field(description="Id of this income right.")
    kind: Literal["RIS", "ERIS"] = Field(
        description="RIS (law of 26 May 2002) or ERIS (equivalent social aid)."
    )
    application_date: dt.date = Field(description="Date the application was received.")
    decision_date: dt.date = Field(description="Date of the council's decision.")
    effective_date: dt.date = Field(description="First day the right applies.")
    decided_late: bool = Field(
        description="The decision came more than 30 days after the application "
        "(flagged for audit, not refused; law of 26 May 2002 art. 21 §1)."
    )
    piis_obligation: PiisObligation = Field(
        description="Whether a PIIS is compulsory and why (law of 26 May 2002 art. 11 "
        "as amended 21 July 2016): new beneficiary since 1 Nov 2016, under 25, "
        "student, or optional."
    )
    partner_piis_obligations: Annotated[
        tuple[PartnerPiisObligation, ...], Items(ITEMS)
    ] = Field(
        default=(),
        description="The same decision for each partner of the household on the "
        "effective date, from that partner's own age, student status and income "
        "before the reform.",
    )


class IncomeRightModifiedV1(_Amount):
    """The right's category (and so its amount) changed from a date."""

    event_type: Literal["hub.intake.income_right.modified.v1"] = Field(
        default="hub.intake.income_right.modified.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    right_id: uuid.UUID = Field(description="Id of the income right.")
    effective_date: dt.date = Field(description="First day of the new category.")
    reason: Reason = Field(min_length=1, description="Why the right changed.")


class IncomePaymentSuspendedV1(ContractEvent):
    """Payment of the income is suspended for a period (not a withdrawal)."""

    event_type: Literal["hub.intake.income_payment.suspended.v1"] = Field(
        default="hub.intake.income_payment.suspended.v1",
        description="Type of the event.",
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    right_id: uuid.UUID = Field(description="Id of the income right.")
    reason: SuspensionReason = Field(
        description="Reason SPP IS requires since January 2020."
    )
    period_start: dt.date = Field(description="First day of the suspension.")
    period_end: dt.date = Field(description="Last day of the suspension.")
    stay_of_execution: bool = Field(
        default=False,
        description="Granted with a stay (sursis), Constitutional Court 148/2010.",
    )
    decided_on: dt.date | None = Field(
        default=None,
        description="Date of the decision (a sanction takes effect on the first day "
        "of the second month after it; law of 26 May 2002 art. 30).",
    )
    extent: SuspensionExtent = Field(
        default="full", description="The whole income, or a share of it."
    )
    partial_percent: int | None = Field(
        default=None, ge=1, le=99, description="Share suspended (partial only)."
    )
    repeat: bool = Field(
        default=False,
        description="A repeat: an earlier sanction of the same kind within one year "
        "(PIIS, art. 30 §2) or three years (declaration, art. 30 §1).",
    )
    fraudulent: bool = Field(
        default=False,
        description="Declaration sanction with fraudulent intent (up to 12 months).",
    )
    offence_on: dt.date | None = Field(
        default=None,
        description="Declaration sanction: date of the omission or false declaration "
        "(no sanction pronounced more than two years after it).",
    )
    sanction_event_id: uuid.UUID | None = Field(
        default=None,
        description="PIIS sanction: the hub.piis.sanction.decided.v1 event this "
        "suspension carries out (exactly one suspension per decided sanction).",
    )


class IncomeRightWithdrawnV1(ContractEvent):
    """The right ended (withdrawal, review, move to another CPAS, death)."""

    event_type: Literal["hub.intake.income_right.withdrawn.v1"] = Field(
        default="hub.intake.income_right.withdrawn.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    right_id: uuid.UUID = Field(description="Id of the income right.")
    effective_date: dt.date = Field(description="First day without the right.")
    reason: Reason = Field(min_length=1, description="Why the right ended.")


class IncomeRightRefusedV1(ContractEvent):
    """The CPAS council refused an application for the integration income.

    Reported to SPP IS on form C, type 1 (a refusal), decided within 30 days
    of the application (law of 26 May 2002 art. 21 §1).
    """

    event_type: Literal["hub.intake.income_right.refused.v1"] = Field(
        default="hub.intake.income_right.refused.v1", description="Type of the event."
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    kind: Literal["RIS", "ERIS"] = Field(
        description="RIS (law of 26 May 2002) or ERIS (equivalent social aid)."
    )
    application_date: dt.date = Field(description="Date the application was received.")
    decision_date: dt.date = Field(description="Date of the council's decision.")
    decided_late: bool = Field(
        description="The decision came more than 30 days after the application "
        "(flagged for audit, not refused; law of 26 May 2002 art. 21 §1)."
    )
    reason: RefusalReason = Field(
        description="The condition of the law of 26 May 2002 art. 3 the person "
        "does not meet: residence in Belgium, age, nationality or residence "
        "status, resources, availability for work, other benefits not claimed."
    )
    category_asked: Category | None = Field(
        default=None,
        description="The category applied for (1 cohabitant, 2 living alone, 3 "
        "with a family to support), if the application named one.",
    )


class RecoveredMonth(BaseModel):
    """The share of a recovery that belongs to one month of reference."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    month: dt.date = Field(description="First day of the month of reference.")
    amount: GrantedAmount = Field(
        description="Amount recovered for that month, in euro (to the cent)."
    )
    granted: GrantedAmount = Field(
        description="Amount granted for that month as intake knows it (pro rata "
        "of the days in force, less suspensions without stay), in euro."
    )


class IncomeRecoveryDecidedV1(ContractEvent):
    """The CPAS decided to recover integration income it had paid unduly.

    Law of 26 May 2002 art. 24 ff.: undeclared resources, a payment error, a
    social benefit granted afterwards for the same period. Reported to SPP IS
    on form D, one per month of reference, since the State's share of the
    income recovered is paid back to it.
    """

    event_type: Literal["hub.intake.income_recovery.decided.v1"] = Field(
        default="hub.intake.income_recovery.decided.v1",
        description="Type of the event.",
    )
    schema_version: Literal[1] = Field(default=1, description="Major version.")
    recovery_id: uuid.UUID = Field(description="Id of this recovery decision.")
    right_id: uuid.UUID = Field(description="The income right the period was paid on.")
    kind: Literal["RIS", "ERIS"] = Field(description="The kind of that right.")
    decision_date: dt.date = Field(description="Date of the council's decision.")
    period_start: dt.date = Field(description="First day of the period recovered.")
    period_end: dt.date = Field(description="Last day of the period recovered.")
    amount: GrantedAmount = Field(
        description="Total amount recovered, in euro (to the cent); at most what "
        "was granted over the period."
    )
    recovery_type: RecoveryType = Field(
        description="Form D's recovery type: 01 income at the rate of the month "
        "of reference, 04 PIIS at 70% (before 1 July 2014), 05 foreigners' "
        "register (100%), 06 homeless person taking up a first dwelling (100%)."
    )
    reason: RecoveryReason = Field(description="Why the income was paid unduly.")
    months: Annotated[tuple[RecoveredMonth, ...], Items(ITEMS)] = Field(
        min_length=1,
        description="The amount by month of reference, pro rata of what was "
        "granted in each month of the period; their sum is the amount.",
    )


IncomeEvent = Annotated[
    IncomeRightGrantedV1
    | IncomeRightModifiedV1
    | IncomePaymentSuspendedV1
    | IncomeRightWithdrawnV1
    | IncomeRightRefusedV1
    | IncomeRecoveryDecidedV1,
    Field(discriminator="event_type"),
]
