"""Intake HTTP routes for the integration-income right (RIS/ERIS) of a case."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from contracts.income import (
    GrantedAmount,
    RecoveryReason,
    RecoveryType,
    RefusalReason,
    ReimbursementBasis,
    SuspensionExtent,
    SuspensionReason,
)
from contracts.text import Reason
from contracts.wire import AS_INTEGER, Boolean, Date, Uuid
from services.common.aggregate import CommandContext
from services.common.auth import ApiClient, Writer
from services.common.http import business_time, created
from services.intake.application import (
    DecideRecovery,
    GrantIncomeRight,
    IntakeApplication,
    ModifyIncomeRight,
    RefuseIncomeApplication,
    SuspendIncomePayment,
    WithdrawIncomeRight,
)
from services.intake.http_support import measured

__all__ = ["income_router"]

Category = Annotated[Literal[1, 2, 3], AS_INTEGER]


class _Subsidised(BaseModel):
    """What the State's reimbursement and the PIIS subsidy are computed on."""

    granted_monthly_amount: GrantedAmount | None = Field(
        default=None,
        description="Monthly amount granted when less than the category's, the "
        "person's resources deducted (such as an article 60 §7 worker's "
        "complementary income); at most the category's amount.",
    )
    reimbursement_basis: ReimbursementBasis | None = Field(
        default=None,
        description="What the State's reimbursement follows (law of 26 May 2002 "
        "art. 32): the CPAS's size band, or a case reimbursed in full; omitted: "
        "the base rate.",
    )


class GrantIncomeRightRequest(_Subsidised):
    """The council's decision granting the integration income (or ERIS)."""

    model_config = ConfigDict(extra="forbid")

    command_id: Uuid = Field(description="Id of this command (idempotency).")
    kind: Literal["RIS", "ERIS"] = Field(description="RIS or its equivalent (ERIS).")
    category: Category = Field(
        description="1 cohabitant, 2 living alone, 3 with a family to support."
    )
    application_date: Date = Field(description="Date the application was received.")
    decision_date: Date = Field(description="Date of the council's decision.")
    effective_date: Date = Field(description="First day the right applies.")
    student: Boolean = Field(default=False, description="The person is a student.")
    received_income_before_reform: Boolean = Field(
        default=False,
        description="The person already received the income before 1 Nov 2016 "
        "(then a PIIS is optional from 25 years on).",
    )


class ModifyIncomeRightRequest(_Subsidised):
    """A change of category from a date."""

    model_config = ConfigDict(extra="forbid")

    command_id: Uuid = Field(description="Id of this command (idempotency).")
    category: Category = Field(description="The new category.")
    effective_date: Date = Field(description="First day of the new category.")
    reason: Reason = Field(min_length=1, description="Why.")


class SuspendIncomePaymentRequest(BaseModel):
    """A suspension of payment for a period."""

    model_config = ConfigDict(extra="forbid")

    command_id: Uuid = Field(description="Id of this command (idempotency).")
    reason: SuspensionReason = Field(
        description="Reason, as SPP IS requires it. `piis_sanction` is recorded by "
        "the hub from the PIIS service's sanction decision and refused here."
    )
    period_start: Date = Field(description="First day of the suspension.")
    period_end: Date = Field(description="Last day of the suspension.")
    stay_of_execution: Boolean = Field(
        default=False, description="With a stay (sursis)."
    )
    decided_on: Date | None = Field(
        default=None,
        description="Date of the decision; required for a declaration sanction, "
        "which takes effect on the first day of the second month after it.",
    )
    extent: SuspensionExtent = Field(
        default="full", description="The whole income, or a share of it."
    )
    partial_percent: Annotated[int, Field(ge=1, le=99), AS_INTEGER] | None = Field(
        default=None, description="Share suspended, partial only (1 to 99 %)."
    )
    fraudulent: Boolean = Field(
        default=False,
        description="Declaration sanction with fraudulent intent (up to 12 months).",
    )
    offence_on: Date | None = Field(
        default=None,
        description="Declaration sanction: date of the omission or false "
        "declaration (none pronounced more than two years after it).",
    )


class WithdrawIncomeRightRequest(BaseModel):
    """The end of the right."""

    model_config = ConfigDict(extra="forbid")

    command_id: Uuid = Field(description="Id of this command (idempotency).")
    effective_date: Date = Field(description="First day without the right.")
    reason: Reason = Field(min_length=1, description="Why.")


class RefuseIncomeApplicationRequest(BaseModel):
    """The council's refusal of an application for the integration income."""

    model_config = ConfigDict(extra="forbid")

    command_id: Uuid = Field(description="Id of this command (idempotency).")
    kind: Literal["RIS", "ERIS"] = Field(description="RIS or its equivalent (ERIS).")
    application_date: Date = Field(description="Date the application was received.")
    decision_date: Date = Field(description="Date of the council's decision.")
    reason: RefusalReason = Field(
        description="The condition of the law of 26 May 2002 art. 3 the person "
        "does not meet."
    )
    category_asked: Category | None = Field(
        default=None, description="The category applied for, if named."
    )


class DecideRecoveryRequest(BaseModel):
    """A decision to recover integration income paid unduly over a period."""

    model_config = ConfigDict(extra="forbid")

    command_id: Uuid = Field(description="Id of this command (idempotency).")
    decision_date: Date = Field(description="Date of the council's decision.")
    period_start: Date = Field(description="First day of the period recovered.")
    period_end: Date = Field(description="Last day of the period recovered (by today).")
    amount: GrantedAmount = Field(
        description="Amount recovered in euro, to the cent: above zero, at most "
        "what the right granted over the period."
    )
    recovery_type: RecoveryType = Field(
        description="Form D's recovery type (01, 04, 05 or 06)."
    )
    reason: RecoveryReason = Field(description="Why the income was paid unduly.")


class IncomeRightResponse(BaseModel):
    """The right granted."""

    right_id: uuid.UUID


class RecoveryResponse(BaseModel):
    """The recovery recorded."""

    recovery_id: uuid.UUID


def income_router(
    app: IntakeApplication, case_of: Callable[[uuid.UUID, ApiClient], object]
) -> APIRouter:
    """Routes that grant, change, suspend and withdraw a case's income right."""
    router = APIRouter(tags=["income right"])

    def decided(case_id: uuid.UUID, client: ApiClient, command: str) -> measured:
        case_of(case_id, client)
        return measured(command)

    @router.post(
        "/cases/{case_id}/income-right",
        status_code=status.HTTP_201_CREATED,
        response_model=IncomeRightResponse,
        summary="Grant the integration income (RIS) or its equivalent (ERIS)",
    )
    def grant_income_right(
        case_id: Uuid,
        body: GrantIncomeRightRequest,
        client: Writer,
        response: Response,
    ) -> IncomeRightResponse:
        with decided(case_id, client, "grant_income_right"):
            outcome = app.grant_income_right(
                GrantIncomeRight(
                    context=CommandContext(
                        body.command_id, business_time(body.decision_date)
                    ),
                    case_id=case_id,
                    kind=body.kind,
                    category=body.category,
                    application_date=body.application_date,
                    decision_date=body.decision_date,
                    effective_date=body.effective_date,
                    student=body.student,
                    received_income_before_reform=body.received_income_before_reform,
                    granted_monthly_amount=body.granted_monthly_amount,
                    reimbursement_basis=body.reimbursement_basis,
                )
            )
        return IncomeRightResponse(right_id=created(outcome, response))

    @router.post(
        "/cases/{case_id}/income-right/modifications",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="Change the category of the income right from a date",
    )
    def modify_income_right(
        case_id: Uuid, body: ModifyIncomeRightRequest, client: Writer
    ) -> None:
        with decided(case_id, client, "modify_income_right"):
            app.modify_income_right(
                ModifyIncomeRight(
                    context=CommandContext(
                        body.command_id, business_time(body.effective_date)
                    ),
                    case_id=case_id,
                    category=body.category,
                    effective_date=body.effective_date,
                    reason=body.reason,
                    granted_monthly_amount=body.granted_monthly_amount,
                    reimbursement_basis=body.reimbursement_basis,
                )
            )

    @router.post(
        "/cases/{case_id}/income-right/suspensions",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="Suspend payment of the income for a period",
    )
    def suspend_income_payment(
        case_id: Uuid, body: SuspendIncomePaymentRequest, client: Writer
    ) -> None:
        with decided(case_id, client, "suspend_income_payment"):
            app.suspend_income_payment(
                SuspendIncomePayment(
                    context=CommandContext(
                        body.command_id, business_time(body.period_start)
                    ),
                    case_id=case_id,
                    reason=body.reason,
                    period_start=body.period_start,
                    period_end=body.period_end,
                    stay_of_execution=body.stay_of_execution,
                    decided_on=body.decided_on,
                    extent=body.extent,
                    partial_percent=body.partial_percent,
                    fraudulent=body.fraudulent,
                    offence_on=body.offence_on,
                )
            )

    @router.post(
        "/cases/{case_id}/income-right/withdrawal",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="End the income right from a date",
    )
    def withdraw_income_right(
        case_id: Uuid, body: WithdrawIncomeRightRequest, client: Writer
    ) -> None:
        with decided(case_id, client, "withdraw_income_right"):
            app.withdraw_income_right(
                WithdrawIncomeRight(
                    context=CommandContext(
                        body.command_id, business_time(body.effective_date)
                    ),
                    case_id=case_id,
                    effective_date=body.effective_date,
                    reason=body.reason,
                )
            )

    @router.post(
        "/cases/{case_id}/income-right/refusals",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="Record the refusal of an application for the integration income",
    )
    def refuse_income_application(
        case_id: Uuid, body: RefuseIncomeApplicationRequest, client: Writer
    ) -> None:
        with decided(case_id, client, "refuse_income_application"):
            app.refuse_income_application(
                RefuseIncomeApplication(
                    context=CommandContext(
                        body.command_id, business_time(body.decision_date)
                    ),
                    case_id=case_id,
                    kind=body.kind,
                    application_date=body.application_date,
                    decision_date=body.decision_date,
                    reason=body.reason,
                    category_asked=body.category_asked,
                )
            )

    @router.post(
        "/cases/{case_id}/income-right/recoveries",
        status_code=status.HTTP_201_CREATED,
        response_model=RecoveryResponse,
        summary="Record a decision to recover income paid unduly",
    )
    def decide_recovery(
        case_id: Uuid,
        body: DecideRecoveryRequest,
        client: Writer,
        response: Response,
    ) -> RecoveryResponse:
        with decided(case_id, client, "decide_recovery"):
            outcome = app.decide_recovery(
                DecideRecovery(
                    context=CommandContext(
                        body.command_id, business_time(body.decision_date)
                    ),
                    case_id=case_id,
                    decision_date=body.decision_date,
                    period_start=body.period_start,
                    period_end=body.period_end,
                    amount=body.amount,
                    recovery_type=body.recovery_type,
                    reason=body.reason,
                )
            )
        return RecoveryResponse(recovery_id=created(outcome, response))

    return router
