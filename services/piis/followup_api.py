"""PIIS routes after the signature: evaluations, changes, sanctions, activation."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from contracts.piis import (
    ActivationAim,
    ActivationType,
    EvaluationPlan,
    Partnerships,
    Scores,
)
from contracts.text import Prose, ProseList, Reason
from contracts.wire import AS_INTEGER, Boolean, Date, Integer, Uuid
from services.common.aggregate import CommandContext
from services.common.auth import ApiClient, Writer
from services.common.http import BRUSSELS, business_time, created
from services.piis.application import (
    AmendPiis,
    DecideSanction,
    EndPiis,
    EvaluatePiis,
    EvaluateSocialActivation,
    HoldHearing,
    PiisApplication,
    ServeNotice,
    StartSocialActivation,
)

__all__ = ["followup_router"]


Percent = Annotated[int, Field(ge=1, le=99), AS_INTEGER]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    command_id: Uuid = Field(description="Id of this command (idempotency).")


class EvaluationRequest(_Command):
    """An evaluation of the active PIIS."""

    evaluated_on: Date = Field(description="Date of the evaluation.")
    in_person: Boolean = Field(description="Held in an individual interview.")
    outcome: Prose = Field(min_length=1, description="What it found.")
    next_evaluation_on: Date | None = Field(default=None, description="Next one.")
    subsidy_prolongation_motivation: Prose | None = Field(
        default=None,
        min_length=1,
        description="Written motivation, under its own heading, for prolonging "
        "the PIIS subsidy past its first year (form B code 17 needs one).",
    )


class AmendmentRequest(_Command):
    """A change of the active PIIS."""

    amended_on: Date = Field(description="Date both parties agreed.")
    objectives: ProseList = Field(min_length=1, description="Objectives.")
    planned_end_date: Date = Field(description="Planned end.")
    evaluation_plan: EvaluationPlan = Field(description="Planned evaluations.")
    reason: Reason = Field(min_length=1, description="Why.")


class EndRequest(_Command):
    """The end of the active PIIS."""

    ended_on: Date = Field(description="Last day.")
    outcome: Literal["completed", "terminated"] = Field(description="How it ended.")
    reason: Reason = Field(min_length=1, description="Why.")


class NoticeRequest(_Command):
    """A formal notice (mise en demeure)."""

    served_on: Date = Field(description="Date served.")
    grounds: Prose = Field(min_length=1, description="Commitments not respected.")


class HearingRequest(_Command):
    """The hearing offered after a notice."""

    held_on: Date = Field(description="Date of the hearing.")
    attended: Boolean = Field(description="The person came.")


class SanctionRequest(_Command):
    """A suspension for not respecting the PIIS (law of 26 May 2002 art. 30 §2)."""

    decided_on: Date = Field(description="Date of the council's decision.")
    months: Integer = Field(ge=1, description="Length in months (1; 3 on a repeat).")
    extent: Literal["full", "partial"] = Field(
        default="full", description="The whole payment suspended, or a part."
    )
    partial_percent: Percent | None = Field(
        default=None,
        description="Share of the payment suspended in percent (partial only, "
        "then required).",
    )
    stay_of_execution: Boolean = Field(
        default=False,
        description="Granted with a stay (sursis), Constitutional Court 148/2010.",
    )


class ActivationRequest(_Command):
    """The start of a social-activation trajectory."""

    activation_type: ActivationType = Field(description="Kind of activation.")
    starts_on: Date = Field(description="First day.")
    planned_end_date: Date = Field(description="Planned last day (≤ 12 months).")
    piis_id: Uuid | None = Field(
        default=None,
        description="The signed PIIS that frames the trajectory (the annual "
        "report counts a trajectory without one as not framed).",
    )
    aim: ActivationAim | None = Field(
        default=None,
        description="Where it leads: socio_professional, autonomy or volunteering.",
    )


class ActivationEvaluationRequest(_Command):
    """A quarterly (or the final) measurement of social activation."""

    evaluated_on: Date = Field(description="Date of the measurement.")
    scores: Scores = Field(description="Score per domain of the instrument.")
    final: Boolean = Field(default=False, description="The final measurement.")
    objective_achieved: Boolean | None = Field(
        default=None,
        description="Final measurement only: the objective was achieved or not.",
    )
    partnerships: Partnerships = Field(
        default=(),
        description="Final measurement only: partner organisations it went through.",
    )
    failure_reason: Reason | None = Field(
        default=None,
        description="Final measurement only: why the objective was not achieved.",
    )


def _context(
    command_id: uuid.UUID, day: dt.date, *, given_today: bool = False
) -> CommandContext:
    """The business time of ``day``; with the day the request came when it counts."""
    given_on = dt.datetime.now(BRUSSELS).date() if given_today else None
    return CommandContext(command_id, business_time(day), given_on=given_on)


def followup_router(
    app: PiisApplication, for_case: Callable[[uuid.UUID, ApiClient], None]
) -> APIRouter:
    """The routes that follow a signed PIIS."""
    router = APIRouter(tags=["PIIS follow-up"])
    done = status.HTTP_204_NO_CONTENT

    @router.post("/cases/{case_id}/piis/evaluations", status_code=done)
    def evaluate(case_id: Uuid, body: EvaluationRequest, client: Writer) -> None:
        for_case(case_id, client)
        app.evaluate_piis(
            EvaluatePiis(
                _context(body.command_id, body.evaluated_on, given_today=True),
                case_id,
                body.evaluated_on,
                body.in_person,
                body.outcome,
                body.next_evaluation_on,
                body.subsidy_prolongation_motivation,
            )
        )

    @router.post("/cases/{case_id}/piis/amendments", status_code=done)
    def amend(case_id: Uuid, body: AmendmentRequest, client: Writer) -> None:
        for_case(case_id, client)
        app.amend_piis(
            AmendPiis(
                _context(body.command_id, body.amended_on),
                case_id,
                body.amended_on,
                body.objectives,
                body.planned_end_date,
                body.evaluation_plan,
                body.reason,
            )
        )

    @router.post("/cases/{case_id}/piis/end", status_code=done)
    def end(case_id: Uuid, body: EndRequest, client: Writer) -> None:
        for_case(case_id, client)
        app.end_piis(
            EndPiis(
                _context(body.command_id, body.ended_on),
                case_id,
                body.ended_on,
                body.outcome,
                body.reason,
            )
        )

    @router.post("/cases/{case_id}/piis/notices", status_code=done)
    def notice(case_id: Uuid, body: NoticeRequest, client: Writer) -> None:
        for_case(case_id, client)
        app.serve_notice(
            ServeNotice(
                _context(body.command_id, body.served_on),
                case_id,
                body.served_on,
                body.grounds,
            )
        )

    @router.post("/cases/{case_id}/piis/hearings", status_code=done)
    def hearing(case_id: Uuid, body: HearingRequest, client: Writer) -> None:
        for_case(case_id, client)
        app.hold_hearing(
            HoldHearing(
                _context(body.command_id, body.held_on),
                case_id,
                body.held_on,
                body.attended,
            )
        )

    @router.post("/cases/{case_id}/piis/sanctions", status_code=done)
    def sanction(case_id: Uuid, body: SanctionRequest, client: Writer) -> None:
        for_case(case_id, client)
        app.decide_sanction(
            DecideSanction(
                _context(body.command_id, body.decided_on),
                case_id,
                body.decided_on,
                body.months,
                body.extent,
                body.partial_percent,
                body.stay_of_execution,
            )
        )

    @router.post(
        "/cases/{case_id}/social-activation", status_code=status.HTTP_201_CREATED
    )
    def activate(
        case_id: Uuid, body: ActivationRequest, client: Writer, response: Response
    ) -> dict[str, str]:
        for_case(case_id, client)
        outcome = app.start_social_activation(
            StartSocialActivation(
                _context(body.command_id, body.starts_on, given_today=True),
                case_id,
                body.activation_type,
                body.starts_on,
                body.planned_end_date,
                body.piis_id,
                body.aim,
            )
        )
        return {"activation_id": str(created(outcome, response))}

    @router.post("/cases/{case_id}/social-activation/evaluations", status_code=done)
    def measure(
        case_id: Uuid, body: ActivationEvaluationRequest, client: Writer
    ) -> None:
        for_case(case_id, client)
        app.evaluate_social_activation(
            EvaluateSocialActivation(
                _context(body.command_id, body.evaluated_on),
                case_id,
                body.evaluated_on,
                body.scores,
                body.final,
                body.objective_achieved,
                tuple(body.partnerships),
                body.failure_reason,
            )
        )

    return router
