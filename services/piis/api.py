"""The PIIS HTTP API: propose and sign a PIIS, dispense from it, read a case's file."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Literal

from fastapi import FastAPI, Response, status
from pydantic import BaseModel, ConfigDict, Field

from contracts.piis import (
    Commitments,
    EvaluationPlan,
    GeneralContent,
    Phase,
    PiisType,
)
from contracts.text import Identifier, Prose, ProseList, Reason
from contracts.wire import Boolean, Date, Uuid
from services.common.aggregate import CommandContext
from services.common.auth import ApiClient, Writer
from services.common.http import (
    business_time,
    created,
    service_api,
)
from services.common.journal import JournalledReader, install_journal, journal_of
from services.common.refusals import Refused
from services.common.settings import MIB
from services.piis.application import (
    CaseUnknownError,
    ChangePhase,
    GrantExemption,
    PiisApplication,
    ProposePiis,
    SignPiis,
    StartTrajectory,
)
from services.piis.followup_api import followup_router

__all__ = ["create_api"]


class ProposePiisRequest(BaseModel):
    """A draft PIIS handed to the person."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    command_id: Uuid = Field(description="Id of this command (idempotency).")
    piis_type: PiisType = Field(description="Legal or operational type.")
    proposed_on: Date = Field(description="Date the draft was handed over.")
    start_date: Date = Field(description="Planned first day.")
    planned_end_date: Date = Field(description="Planned end.")
    objectives: ProseList = Field(min_length=1, description="Objectives.")
    commitments: Commitments = Field(description="Commitments of each party.")
    evaluation_plan: EvaluationPlan = Field(description="Planned evaluations.")
    caseworker: Identifier = Field(min_length=1, description="Staff id.")
    general_content: GeneralContent = Field(
        default=(), description="For a general PIIS: employment and/or training."
    )


class SignPiisRequest(BaseModel):
    """The signature of a proposed PIIS."""

    model_config = ConfigDict(extra="forbid")

    command_id: Uuid = Field(description="Id of this command (idempotency).")
    signed_on: Date = Field(description="Date both parties signed.")
    reflection_waived: Boolean = Field(
        default=False,
        description="The person waived the five working days of reflection.",
    )
    subsidy_code: Identifier | None = Field(
        default=None, description="Formulaire-B code."
    )
    waiver_reason: Reason | None = Field(
        default=None, description="Why the person waived the reflection period."
    )


class ExemptionRequest(BaseModel):
    """A motivated dispensation from the PIIS."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    command_id: Uuid = Field(description="Id of this command (idempotency).")
    ground: Literal["health", "equity"] = Field(description="Reason.")
    motivation: Prose = Field(min_length=10, description="Written motivation.")
    decided_on: Date = Field(description="Date of the decision.")


class StartTrajectoryRequest(BaseModel):
    """The first phase of the dossier's ISP trajectory."""

    model_config = ConfigDict(extra="forbid")

    command_id: Uuid = Field(description="Id of this command (idempotency).")
    phase: Phase = Field(description="First phase.")
    effective_date: Date = Field(description="Date the phase takes effect.")
    reason: Reason = Field(min_length=1, description="Why.")
    decided_by: Identifier = Field(min_length=1, description="Staff id.")


class ChangePhaseRequest(BaseModel):
    """A move from the current phase to another (or an exit)."""

    model_config = ConfigDict(extra="forbid")

    command_id: Uuid = Field(description="Id of this command (idempotency).")
    from_phase: Phase = Field(description="The phase the dossier is in.")
    to_phase: Phase = Field(description="The phase it moves to.")
    effective_date: Date = Field(description="Date the new phase takes effect.")
    reason: Reason = Field(min_length=1, description="Why.")
    decided_by: Identifier = Field(min_length=1, description="Staff id.")


class TrajectoryCreated(BaseModel):
    """The trajectory opened."""

    trajectory_id: uuid.UUID


class PiisCreated(BaseModel):
    """The PIIS proposed."""

    piis_id: uuid.UUID


def create_api(  # noqa: C901 - one small route per command
    app: PiisApplication,
    keys: Mapping[str, ApiClient],
    *,
    max_request_bytes: int = MIB,
) -> FastAPI:
    """The PIIS API over one application instance (bodies capped, 413 beyond)."""
    api = service_api(
        "PIIS",
        "Integration contracts (PIIS): proposal, signature, exemption. Rules are "
        "checked against what intake's events told this service.",
        keys,
        max_request_bytes=max_request_bytes,
    )
    install_journal(api, "piis", journal_of(app))

    def for_case(case_id: uuid.UUID, client: ApiClient) -> None:
        facts = app.facts(case_id)
        if facts is None:
            raise CaseUnknownError
        client.check_case(facts.cpas_kbo, CaseUnknownError())

    api.include_router(followup_router(app, for_case))

    @api.post(
        "/cases/{case_id}/piis",
        status_code=status.HTTP_201_CREATED,
        response_model=PiisCreated,
        summary="Propose a PIIS (starts the reflection period)",
    )
    def propose(
        case_id: Uuid,
        body: ProposePiisRequest,
        client: Writer,
        response: Response,
    ) -> PiisCreated:
        for_case(case_id, client)
        outcome = app.propose_piis(
            ProposePiis(
                context=CommandContext(
                    body.command_id, business_time(body.proposed_on)
                ),
                case_id=case_id,
                piis_type=body.piis_type,
                proposed_on=body.proposed_on,
                start_date=body.start_date,
                planned_end_date=body.planned_end_date,
                objectives=body.objectives,
                commitments=body.commitments,
                evaluation_plan=body.evaluation_plan,
                caseworker=body.caseworker,
                general_content=body.general_content,
            )
        )
        return PiisCreated(piis_id=created(outcome, response))

    @api.post(
        "/cases/{case_id}/piis/{piis_id}/signature",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="Record the signature of a proposed PIIS",
    )
    def sign(
        case_id: Uuid, piis_id: Uuid, body: SignPiisRequest, client: Writer
    ) -> None:
        for_case(case_id, client)
        app.sign_piis(
            SignPiis(
                context=CommandContext(body.command_id, business_time(body.signed_on)),
                case_id=case_id,
                piis_id=piis_id,
                signed_on=body.signed_on,
                reflection_waived=body.reflection_waived,
                subsidy_code=body.subsidy_code,
                waiver_reason=body.waiver_reason,
            )
        )

    @api.post(
        "/cases/{case_id}/piis-exemption",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="Dispense the person from the PIIS (health or equity)",
    )
    def exempt(case_id: Uuid, body: ExemptionRequest, client: Writer) -> None:
        for_case(case_id, client)
        app.grant_exemption(
            GrantExemption(
                context=CommandContext(body.command_id, business_time(body.decided_on)),
                case_id=case_id,
                ground=body.ground,
                motivation=body.motivation,
                decided_on=body.decided_on,
            )
        )

    @api.post(
        "/cases/{case_id}/trajectory",
        status_code=status.HTTP_201_CREATED,
        response_model=TrajectoryCreated,
        summary="Open the dossier's ISP trajectory in a first phase",
    )
    def start_trajectory(
        case_id: Uuid,
        body: StartTrajectoryRequest,
        client: Writer,
        response: Response,
    ) -> TrajectoryCreated:
        for_case(case_id, client)
        outcome = app.start_trajectory(
            StartTrajectory(
                CommandContext(body.command_id, business_time(body.effective_date)),
                case_id,
                body.phase,
                body.effective_date,
                body.reason,
                body.decided_by,
            )
        )
        return TrajectoryCreated(trajectory_id=created(outcome, response))

    @api.post(
        "/cases/{case_id}/trajectory/changes",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="Move the dossier to another phase",
    )
    def change_phase(case_id: Uuid, body: ChangePhaseRequest, client: Writer) -> None:
        for_case(case_id, client)
        app.change_phase(
            ChangePhase(
                CommandContext(body.command_id, business_time(body.effective_date)),
                case_id,
                body.from_phase,
                body.to_phase,
                body.effective_date,
                body.reason,
                body.decided_by,
            )
        )

    @api.get("/cases/{case_id}/trajectory", summary="The dossier's current phase")
    def read_trajectory(case_id: Uuid, client: JournalledReader) -> dict[str, Any]:
        for_case(case_id, client)
        trajectory = app.get_trajectory(case_id, current=True)
        if trajectory is None:
            raise Refused(
                404,
                ("path", "case_id"),
                "trajectory.none",
                "no trajectory recorded for this case",
            )
        return {
            "case_id": str(case_id),
            "trajectory_id": str(trajectory.trajectory_id)
            if trajectory.trajectory_id
            else None,
            "phase": trajectory.phase,
            "since": trajectory.since.isoformat() if trajectory.since else None,
        }

    @api.get("/cases/{case_id}/piis", summary="The PIIS file of a case")
    def read(case_id: Uuid, client: JournalledReader) -> dict[str, Any]:
        for_case(case_id, client)
        file = app.get_file(case_id, current=True)
        if file is None:
            raise Refused(
                404, ("path", "case_id"), "piis.none", "no PIIS recorded for this case"
            )
        return {
            "case_id": str(case_id),
            "active_piis_id": str(file.active) if file.active else None,
            "proposed": [str(p) for p in file.proposals],
            "signed": [str(p) for p in file.signed],
            "exempted": file.exemption is not None,
        }

    return api
