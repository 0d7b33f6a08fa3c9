"""Intake HTTP routes for who lives with the person, where, and at which CPAS."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from contracts.household import HouseholdChild
from contracts.identifiers import normalise_kbo
from contracts.text import ITEMS, Identifier, Items
from contracts.wire import AS_INTEGER, Boolean, Date, Uuid
from services.common.aggregate import CommandContext
from services.common.auth import ApiClient, Writer
from services.common.http import business_time
from services.intake.application import (
    IntakeApplication,
    PartnerEntry,
    RecordHousehold,
    RecordMove,
    TransferCase,
)
from services.intake.http_support import measured

__all__ = ["household_router"]


class PartnerRequest(BaseModel):
    """A spouse or partner in life living with the person (never named)."""

    model_config = ConfigDict(hide_input_in_errors=True, extra="forbid")

    case_id: Uuid | None = Field(
        default=None,
        description="The partner's own case at this CPAS, when they have one (their "
        "birth date is then taken from it).",
    )
    birth_date: Date | None = Field(
        default=None,
        description="Birth date of a partner without a case at this CPAS.",
    )
    student: Boolean = Field(
        default=False, description="The partner is a full-time student."
    )
    received_income_before_reform: Boolean = Field(
        default=False,
        description="The partner already received the integration income before "
        "1 Nov 2016.",
    )


class ChildRequest(BaseModel):
    """A child living in the household (never named)."""

    model_config = ConfigDict(hide_input_in_errors=True, extra="forbid")

    birth_date: Date = Field(description="Birth date of the child.")
    unmarried: Boolean = Field(description="The child is not married.")
    dependent: Boolean = Field(description="The person supports the child.")


class RecordHouseholdRequest(BaseModel):
    """The whole household from a date (a record of the same date corrects it)."""

    model_config = ConfigDict(hide_input_in_errors=True, extra="forbid")

    command_id: Uuid = Field(description="Id of this command (idempotency).")
    effective_date: Date = Field(description="First day the household is so.")
    partners: Annotated[tuple[PartnerRequest, ...], Items(ITEMS)] = Field(
        default=(), description="Spouse or partner in life living with the person."
    )
    children: Annotated[tuple[ChildRequest, ...], Items(ITEMS)] = Field(
        default=(), description="Children living in the household."
    )
    other_members: Annotated[int, Field(ge=0, le=ITEMS), AS_INTEGER] = Field(
        default=0,
        description="Other persons the household is shared with, counted (never "
        "named).",
    )


class RecordMoveRequest(BaseModel):
    """A move to a new main residence."""

    model_config = ConfigDict(hide_input_in_errors=True, extra="forbid")

    command_id: Uuid = Field(description="Id of this command (idempotency).")
    postal_code: Identifier = Field(
        description="Belgian postal code of the new main residence."
    )
    moved_on: Date = Field(description="First day at the new residence.")


class TransferCaseRequest(BaseModel):
    """The case handed to the CPAS now competent."""

    model_config = ConfigDict(hide_input_in_errors=True, extra="forbid")

    command_id: Uuid = Field(description="Id of this command (idempotency).")
    to_cpas_kbo: Identifier = Field(
        description="KBO/BCE number of the CPAS that takes the case over."
    )
    dossier_number: Identifier = Field(
        description="The file number at that CPAS (never one it gave before)."
    )
    transferred_on: Date = Field(description="First day the new CPAS follows.")


class TransferResponse(BaseModel):
    """Where the case is now."""

    case_id: uuid.UUID
    cpas_kbo: str
    dossier_number: str


def household_router(
    app: IntakeApplication, case_of: Callable[[uuid.UUID, ApiClient], object]
) -> APIRouter:
    """Routes that record the household, a move and a transfer of a case."""
    router = APIRouter(tags=["household and moves"])

    @router.post(
        "/cases/{case_id}/household",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="Record who lives with the person from a date",
    )
    def record_household(
        case_id: Uuid, body: RecordHouseholdRequest, client: Writer
    ) -> None:
        case_of(case_id, client)
        with measured("record_household"):
            app.record_household(
                RecordHousehold(
                    context=CommandContext(
                        body.command_id, business_time(body.effective_date)
                    ),
                    case_id=case_id,
                    effective_date=body.effective_date,
                    partners=tuple(
                        PartnerEntry(**p.model_dump()) for p in body.partners
                    ),
                    children=tuple(
                        HouseholdChild(**c.model_dump()) for c in body.children
                    ),
                    other_members=body.other_members,
                )
            )

    @router.post(
        "/cases/{case_id}/moves",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="Record a move to a new main residence",
    )
    def record_move(case_id: Uuid, body: RecordMoveRequest, client: Writer) -> None:
        case_of(case_id, client)
        with measured("record_move"):
            app.record_move(
                RecordMove(
                    context=CommandContext(
                        body.command_id, business_time(body.moved_on)
                    ),
                    case_id=case_id,
                    postal_code=body.postal_code,
                    moved_on=body.moved_on,
                )
            )

    @router.post(
        "/cases/{case_id}/transfer",
        response_model=TransferResponse,
        summary="Transfer the case to another CPAS (the key must act for both)",
    )
    def transfer_case(
        case_id: Uuid, body: TransferCaseRequest, client: Writer
    ) -> TransferResponse:
        case_of(case_id, client)
        client.check_cpas(normalise_kbo(body.to_cpas_kbo, field="to_cpas_kbo"))
        with measured("transfer_case"):
            outcome = app.transfer_case(
                TransferCase(
                    context=CommandContext(
                        body.command_id, business_time(body.transferred_on)
                    ),
                    case_id=case_id,
                    to_cpas_kbo=body.to_cpas_kbo,
                    dossier_number=body.dossier_number,
                    transferred_on=body.transferred_on,
                )
            )
        moved = outcome.result
        return TransferResponse(
            case_id=moved.case_id,
            cpas_kbo=moved.cpas_kbo,
            dossier_number=moved.dossier_number,
        )

    return router
