"""The intake HTTP API: register a beneficiary, record a bilan, read a case."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Literal

from fastapi import FastAPI, Response, status
from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import ContractEvent
from contracts.identifiers import normalise_kbo
from contracts.income import IncomePaymentSuspendedV1
from contracts.intake import BaselineScores, Orientation
from contracts.text import Identifier, Name, ProseList
from contracts.wire import Date, Uuid
from services.common.aggregate import CommandContext
from services.common.auth import ApiClient, Writer
from services.common.http import business_time, created, service_api
from services.common.journal import JournalledReader, install_journal, journal_of
from services.common.refusals import Refused
from services.common.settings import MIB
from services.intake.application import (
    CaseNotFoundError,
    IntakeApplication,
    RecordBilan,
    RegisterBeneficiary,
)
from services.intake.domain import (
    Beneficiary,
)
from services.intake.erasure_api import Eraser, erasure_router
from services.intake.household_api import household_router
from services.intake.http_support import measured
from services.intake.income_api import income_router

# What a suspension says, without the envelope (ids of the store, correlation).
_SUSPENSION_FIELDS: set[str] = (
    set(IncomePaymentSuspendedV1.model_fields) - set(ContractEvent.model_fields)
) | {"event_id"}

__all__ = ["create_api", "unknown_case"]


_HOUSEHOLD = {"effective_date", "partners", "children", "other_members"}


def unknown_case() -> Refused:
    """404: intake has no case with the id of the path."""
    return Refused(404, ("path", "case_id"), "case.unknown", "no case with this id")


class RegisterBeneficiaryRequest(BaseModel):
    """Open a case for a person at a CPAS."""

    model_config = ConfigDict(hide_input_in_errors=True, extra="forbid")

    command_id: Uuid = Field(
        description="Id of this command, chosen by the caller; a retry with the same "
        "id answers the same and changes nothing."
    )
    cpas_kbo: Identifier = Field(
        description="KBO/BCE number of the CPAS (separators allowed)."
    )
    niss: Identifier = Field(
        description="NISS/INSZ or BIS number, 11 digits (separators allowed)."
    )
    birth_date: Date = Field(description="Birth date; must agree with the NISS.")
    family_name: Name = Field(min_length=1, description="Family name.")
    given_name: Name = Field(min_length=1, description="Given name.")
    preferred_language: Literal["fr", "nl", "de"] = Field(description="Language.")
    postal_code: Identifier = Field(
        description="Belgian postal code of the main residence."
    )
    dossier_number: Identifier = Field(
        description="CPAS file number (≤ 11 characters once separators and leading "
        "zeros are removed); never reused."
    )
    registered_on: Date = Field(description="Date of registration.")


class RegistrationResponse(BaseModel):
    """The case opened (or found again, for a retry)."""

    case_id: uuid.UUID
    dossier_number: str
    region: str
    partner: str


class RecordBilanRequest(BaseModel):
    """Record a completed social assessment (bilan social)."""

    model_config = ConfigDict(hide_input_in_errors=True, extra="forbid")

    command_id: Uuid = Field(description="Id of this command (idempotency).")
    completed_on: Date = Field(description="Date the bilan was completed.")
    author: Identifier = Field(min_length=1, description="Staff id of the author.")
    needs: ProseList = Field(default=(), description="Needs identified.")
    strengths: ProseList = Field(default=(), description="Strengths.")
    obstacles: ProseList = Field(default=(), description="Obstacles.")
    instrument: Identifier = Field(default="ZRM", description="Measurement instrument.")
    baseline_scores: BaselineScores = Field(
        default_factory=dict, description="Baseline score per domain (0 to 100)."
    )
    orientation: Orientation = Field(description="Orientation decided.")


class BilanResponse(BaseModel):
    """The assessment recorded."""

    assessment_id: uuid.UUID


def create_api(
    app: IntakeApplication,
    keys: Mapping[str, ApiClient],
    *,
    max_request_bytes: int = MIB,
    eraser: Eraser | None = None,
) -> FastAPI:
    """The intake API over one application instance (bodies capped, 413 beyond).

    ``eraser``: how ``POST /erasures`` erases (None: it answers 503).
    """
    api = service_api(
        "intake",
        "Register beneficiaries and record their bilan social. Errors name the "
        "field and the rule (422), duplicates answer 409.",
        keys,
        max_request_bytes=max_request_bytes,
    )
    install_journal(api, "intake", journal_of(app))

    def case_of(
        case_id: uuid.UUID, client: ApiClient, *, current: bool = False
    ) -> Beneficiary:
        try:
            case = app.get_beneficiary(case_id, current=current)
        except CaseNotFoundError:
            raise unknown_case() from None
        client.check_case(case.cpas_kbo, unknown_case())
        return case

    @api.post(
        "/cases",
        status_code=status.HTTP_201_CREATED,
        response_model=RegistrationResponse,
        responses={
            409: {
                "description": "Person or file number already registered, or a "
                "conflict of the command (command_id.reused, case.concurrent_writes)"
            }
        },
        summary="Register a beneficiary",
    )
    def register_beneficiary(
        body: RegisterBeneficiaryRequest,
        response: Response,
        client: Writer,
    ) -> RegistrationResponse:
        client.check_cpas(normalise_kbo(body.cpas_kbo))
        with measured("register_beneficiary"):
            result = app.register_beneficiary(
                RegisterBeneficiary(
                    context=CommandContext(
                        body.command_id, business_time(body.registered_on)
                    ),
                    cpas_kbo=body.cpas_kbo,
                    niss=body.niss,
                    birth_date=body.birth_date,
                    family_name=body.family_name,
                    given_name=body.given_name,
                    preferred_language=body.preferred_language,
                    postal_code=body.postal_code,
                    dossier_number=body.dossier_number,
                    registered_on=body.registered_on,
                )
            )
        if not result.created:
            response.status_code = status.HTTP_200_OK
        return RegistrationResponse(
            case_id=result.case_id,
            dossier_number=result.dossier_number,
            region=str(result.region),
            partner=str(result.partner),
        )

    @api.post(
        "/cases/{case_id}/bilans",
        status_code=status.HTTP_201_CREATED,
        response_model=BilanResponse,
        summary="Record a completed bilan social",
    )
    def record_bilan(
        case_id: Uuid,
        body: RecordBilanRequest,
        client: Writer,
        response: Response,
    ) -> BilanResponse:
        case_of(case_id, client)
        with measured("record_bilan"):
            try:
                outcome = app.record_bilan(
                    RecordBilan(
                        context=CommandContext(
                            body.command_id, business_time(body.completed_on)
                        ),
                        case_id=case_id,
                        completed_on=body.completed_on,
                        author=body.author,
                        needs=body.needs,
                        strengths=body.strengths,
                        obstacles=body.obstacles,
                        instrument=body.instrument,
                        baseline_scores=body.baseline_scores,
                        orientation=body.orientation,
                    )
                )
            except CaseNotFoundError:
                raise unknown_case() from None
        return BilanResponse(assessment_id=created(outcome, response))

    api.include_router(income_router(app, case_of))
    api.include_router(erasure_router(eraser))
    api.include_router(household_router(app, case_of))

    @api.get("/cases/{case_id}", summary="Read a case from its events")
    def get_case(case_id: Uuid, client: JournalledReader) -> dict[str, Any]:
        case = case_of(case_id, client, current=True)
        registration = case.registration
        return {
            "case_id": str(case.id),
            "cpas_kbo": case.cpas_kbo,
            "version": case.version,
            "registration": registration.model_dump(mode="json")
            if registration
            else None,
            "bilans": len(case.bilans),
            "last_bilan_on": case.last_bilan_on,
            "orientation": case.orientation,
            "income_right": case.right.model_dump(mode="json") if case.right else None,
            "income_category": case.right_category,
            "suspensions": [
                s.model_dump(mode="json", include=_SUSPENSION_FIELDS)
                for s in case.suspensions
            ],
            "dossier_number": case.dossier_number,
            "residence": {
                "postal_code": case.postal_code,
                "region": case.region,
                "partner": case.partner,
                "since": case.changed_on,
            },
            "households": [
                record.model_dump(mode="json", include=_HOUSEHOLD)
                for _, record in sorted(case.households.items())
            ],
        }

    return api
