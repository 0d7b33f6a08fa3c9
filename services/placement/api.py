"""The placement HTTP API: article 60 §7 contracts, article 61 agreements, ONEM facts.

Each request names its command id (a retry does nothing twice) and the fields
the domain method its route calls takes; a broken rule answers 422 (409 for a
conflict) naming the field and the rule.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, TypeVar

from fastapi import FastAPI, Response, status
from pydantic import BaseModel, ConfigDict, Field

from contracts.identifiers import normalise_kbo
from contracts.placement import (
    Article60EndReason,
    Article61EndReason,
    Article61SubsidyFlag,
    Evidence,
    PaymentInstitution,
    Regime,
    RegionScheme,
    UserOrganisationKind,
    WeeklyHours,
)
from contracts.text import ITEMS, Identifier, Items, Name, Reason
from contracts.wire import Boolean, Date, Integer, Uuid
from services.common.aggregate import CommandContext, HandledCommand
from services.common.application import Outcome, created_id
from services.common.auth import ApiClient, Writer
from services.common.http import BRUSSELS, business_time, created, service_api
from services.common.journal import JournalledReader, install_journal, journal_of
from services.common.refusals import Refused
from services.common.settings import MIB
from services.placement.application import (
    CaseUnknownError,
    PlacementApplication,
    PlacementCommand,
    nothing_created,
)
from services.placement.domain import Article60Contract, PlacementFacts, PlacementFile
from services.placement.periods import work_days_between

__all__ = ["create_api"]

R = TypeVar("R")


class Command(BaseModel):
    """Fields every command request has."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    command_id: Uuid = Field(description="Id of this command (idempotency).")

    def effective_on(self) -> dt.date:
        """The business date the command takes effect: its first date field."""
        for value in self.fields().values():
            if isinstance(value, dt.date):
                return value
        raise AssertionError(type(self).__name__)  # pragma: no cover - all have one

    def fields(self) -> dict[str, Any]:
        """The domain method's keyword arguments."""
        return {
            name: getattr(self, name)
            for name in type(self).model_fields
            if name != "command_id"
        }


class PlanArticle60(Command):
    """An article 60 §7 contract to plan."""

    job_title: Name = Field(min_length=1, description="The job.")
    regime: Regime = Field(description="Working regime.")
    weekly_hours: WeeklyHours | None = Field(
        default=None, description="Hours a week (part time only)."
    )
    planned_start_date: Date = Field(description="Planned first day of work.")
    planned_end_date: Date = Field(description="Planned last day.")
    region_scheme: RegionScheme | None = Field(
        default=None,
        description="Not needed: the scheme is the one of the person's region on "
        "the planned start; a different one is refused "
        "(placement.scheme_not_region).",
    )
    caseworker: Identifier = Field(min_length=1, description="Staff id.")

    def effective_on(self) -> dt.date:
        """Planning happens today, whatever the planned dates."""
        return dt.datetime.now(BRUSSELS).date()


class RequestRequiredPeriod(Command):
    """The request sent to ONEM (CPAS@ONEM)."""

    requested_on: Date = Field(description="Date sent.")
    onem_request_ref: Identifier | None = Field(
        default=None, description="CPAS@ONEM request number."
    )


class RecordRequiredPeriod(Command):
    """ONEM's calculation as CPAS@ONEM returned it."""

    calculated_on: Date = Field(description="Date of the calculation.")
    required_work_days: Integer = Field(description="Work days to complete (> 0).")
    required_period_end: Date = Field(description="End date ONEM returned.")
    onem_calculation_ref: Identifier = Field(
        min_length=1, description="Reference of the calculation."
    )


class SignArticle60(Command):
    """The signature of the employment contract."""

    signed_on: Date = Field(description="Date of the signature.")
    start_date: Date = Field(description="First day of work.")
    planned_end_date: Date = Field(description="Planned last day.")


class StartArticle60(Command):
    """The first day of work."""

    started_on: Date = Field(description="First day of work.")


class AgreePlacement(Command):
    """The written agreement making the worker available to a user organisation."""

    user_organisation_kbo: Identifier = Field(description="KBO/BCE of the user.")
    user_organisation_name: Name = Field(min_length=1)
    user_organisation_kind: UserOrganisationKind = Field(description="Kind of user.")
    agreement_signed_on: Date = Field(
        description="Date the last of CPAS, user and worker signed."
    )
    placement_starts_on: Date = Field(description="First day with the user.")
    social_economy: Boolean = Field(default=False, description="Social-economy user.")


class EndArticle60(Command):
    """The end of the contract."""

    ended_on: Date = Field(description="Last day of work.")
    reason: Article60EndReason = Field(description="Why it ended.")


class CancelArticle60(Command):
    """A contract that will not start."""

    cancelled_on: Date = Field(description="Date of the cancellation.")
    reason: Reason = Field(min_length=1, description="Why.")


class SignArticle61(Command):
    """An agreement with a private employer."""

    employer_kbo: Identifier = Field(description="KBO/BCE of the employer.")
    employer_name: Name = Field(min_length=1)
    job_title: Name = Field(min_length=1)
    regime: Regime = Field(description="Working regime.")
    weekly_hours: WeeklyHours | None = Field(default=None)
    signed_on: Date = Field(description="Date of the signature.")
    start_date: Date = Field(description="First day of work.")
    planned_end_date: Date = Field(description="Planned last day.")
    region_scheme: RegionScheme | None = Field(
        default=None,
        description="Not needed: the scheme is the one of the person's region on "
        "the start date; a different one is refused (placement.scheme_not_region).",
    )
    subsidy_flags: Annotated[tuple[Article61SubsidyFlag, ...], Items(ITEMS)] = Field(
        default=()
    )


class EndArticle61(Command):
    """The end of an agreement."""

    ended_on: Date = Field(description="Last day of work.")
    reason: Article61EndReason = Field(description="Why it ended.")


class BenefitRightDecision(Command):
    """ONEM's decision keyed in by a caseworker, with its evidence."""

    decision: Literal["opened", "refused"] = Field(description="ONEM's decision.")
    onem_decision_date: Date = Field(description="Date of the decision.")
    onem_reference: Identifier = Field(min_length=1)
    work_days_counted: Integer = Field(ge=0, description="Work days ONEM counted.")
    evidence: Evidence = Field(
        default=(),
        description="References of the documents proving the decision (required).",
    )
    right_start_date: Date | None = Field(
        default=None, description="First day of the right (opened)."
    )
    payment_institution: PaymentInstitution | None = Field(
        default=None, description="CAPAC, FGTB, CSC or CGSLB (opened)."
    )
    reason: Reason | None = Field(default=None, description="ONEM's ground (refused).")


class Created(BaseModel):
    """The id of what a command created."""

    id: uuid.UUID


def create_api(  # noqa: C901 - one small route per command
    app: PlacementApplication,
    keys: Mapping[str, ApiClient],
    *,
    max_request_bytes: int = MIB,
) -> FastAPI:
    """The placement API over one application instance (bodies capped, 413 beyond)."""
    api = service_api(
        "placement",
        "Article 60 §7 contracts (ONEM's required period, placement with a user "
        "organisation, end), article 61 agreements and ONEM's benefit-right "
        "decisions. Rules are checked against what intake's events told this "
        "service.",
        keys,
        max_request_bytes=max_request_bytes,
    )
    install_journal(api, "placement", journal_of(app))

    def run(
        case_id: uuid.UUID,
        client: ApiClient,
        body: Command,
        decide: Callable[[PlacementFile, CommandContext, PlacementFacts], R],
        answer: Callable[[PlacementFile, HandledCommand], R],
        *,
        subject_id: uuid.UUID | None = None,
    ) -> Outcome[R]:
        client.check_case(app.facts(case_id).cpas_kbo, CaseUnknownError())
        context = CommandContext(body.command_id, business_time(body.effective_on()))
        command = PlacementCommand(
            context, type(body).__name__, case_id, body, subject_id
        )
        return app.handle(
            command,
            lambda file, facts: decide(file, context, facts),
            answer,
        )

    @api.post(
        "/cases/{case_id}/article60",
        status_code=status.HTTP_201_CREATED,
        response_model=Created,
        summary="Plan an article 60 §7 contract (default required period)",
    )
    def plan(
        case_id: Uuid, body: PlanArticle60, client: Writer, response: Response
    ) -> Created:
        outcome = run(
            case_id,
            client,
            body,
            lambda file, context, facts: file.plan_article60(
                context, facts, **body.fields()
            ),
            created_id,
        )
        return Created(id=created(outcome, response))

    @api.post(
        "/cases/{case_id}/article60/{contract_id}/period-request",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="Record the request sent to ONEM (CPAS@ONEM)",
    )
    def request_period(
        case_id: Uuid,
        contract_id: Uuid,
        body: RequestRequiredPeriod,
        client: Writer,
    ) -> None:
        run(
            case_id,
            client,
            body,
            lambda file, context, _: file.request_required_period(
                context, contract_id=contract_id, **body.fields()
            ),
            nothing_created,
            subject_id=contract_id,
        )

    @api.post(
        "/cases/{case_id}/article60/{contract_id}/required-period",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="Record ONEM's calculation (work days and end date)",
    )
    def record_period(
        case_id: Uuid,
        contract_id: Uuid,
        body: RecordRequiredPeriod,
        client: Writer,
    ) -> None:
        run(
            case_id,
            client,
            body,
            lambda file, context, _: file.record_required_period(
                context, contract_id=contract_id, **body.fields()
            ),
            nothing_created,
            subject_id=contract_id,
        )

    @api.post(
        "/cases/{case_id}/article60/{contract_id}/signature",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="Sign the contract (duration checked against the required period)",
    )
    def sign(
        case_id: Uuid, contract_id: Uuid, body: SignArticle60, client: Writer
    ) -> None:
        run(
            case_id,
            client,
            body,
            lambda file, context, facts: file.sign_article60(
                context, facts, contract_id=contract_id, **body.fields()
            ),
            nothing_created,
            subject_id=contract_id,
        )

    @api.post(
        "/cases/{case_id}/article60/{contract_id}/start",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="Record the first day of work (Article60Started)",
    )
    def start(
        case_id: Uuid, contract_id: Uuid, body: StartArticle60, client: Writer
    ) -> None:
        run(
            case_id,
            client,
            body,
            lambda file, context, _: file.start_article60(
                context, contract_id=contract_id, **body.fields()
            ),
            nothing_created,
            subject_id=contract_id,
        )

    @api.post(
        "/cases/{case_id}/article60/{contract_id}/placement",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="Make the worker available to a user organisation",
    )
    def place(
        case_id: Uuid, contract_id: Uuid, body: AgreePlacement, client: Writer
    ) -> None:
        kbo = normalise_kbo(body.user_organisation_kbo, field="user_organisation_kbo")
        fields = {**body.fields(), "user_organisation_kbo": kbo}
        run(
            case_id,
            client,
            body,
            lambda file, context, _: file.agree_placement(
                context, contract_id=contract_id, **fields
            ),
            nothing_created,
            subject_id=contract_id,
        )

    @api.post(
        "/cases/{case_id}/article60/{contract_id}/end",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="End the contract (days reached, or early with a reason)",
    )
    def end(
        case_id: Uuid, contract_id: Uuid, body: EndArticle60, client: Writer
    ) -> None:
        run(
            case_id,
            client,
            body,
            lambda file, context, _: file.end_article60(
                context, contract_id=contract_id, **body.fields()
            ),
            nothing_created,
            subject_id=contract_id,
        )

    @api.post(
        "/cases/{case_id}/article60/{contract_id}/cancellation",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="Cancel a contract that has not started",
    )
    def cancel(
        case_id: Uuid,
        contract_id: Uuid,
        body: CancelArticle60,
        client: Writer,
    ) -> None:
        run(
            case_id,
            client,
            body,
            lambda file, context, _: file.cancel_article60(
                context, contract_id=contract_id, **body.fields()
            ),
            nothing_created,
            subject_id=contract_id,
        )

    @api.post(
        "/cases/{case_id}/article61",
        status_code=status.HTTP_201_CREATED,
        response_model=Created,
        summary="Record an article 61 agreement with a private employer",
    )
    def sign61(
        case_id: Uuid, body: SignArticle61, client: Writer, response: Response
    ) -> Created:
        kbo = normalise_kbo(body.employer_kbo, field="employer_kbo")
        fields = {**body.fields(), "employer_kbo": kbo}
        outcome = run(
            case_id,
            client,
            body,
            lambda file, context, facts: file.sign_article61(context, facts, **fields),
            created_id,
        )
        return Created(id=created(outcome, response))

    @api.post(
        "/cases/{case_id}/article61/{agreement_id}/end",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="End an article 61 agreement",
    )
    def end61(
        case_id: Uuid, agreement_id: Uuid, body: EndArticle61, client: Writer
    ) -> None:
        run(
            case_id,
            client,
            body,
            lambda file, context, _: file.end_article61(
                context, agreement_id=agreement_id, **body.fields()
            ),
            nothing_created,
            subject_id=agreement_id,
        )

    @api.post(
        "/cases/{case_id}/benefit-right",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="Key in ONEM's benefit-right decision, with its evidence",
    )
    def benefit_right(
        case_id: Uuid, body: BenefitRightDecision, client: Writer
    ) -> None:
        fields = body.fields()
        opened = fields.pop("decision") == "opened"
        run(
            case_id,
            client,
            body,
            # A caseworker's entry is always "manual": partner and BCSS
            # channels reach the service through the gateway, not this route.
            lambda file, context, facts: file.record_benefit_right(
                context, facts, opened=opened, channel="manual", **fields
            ),
            nothing_created,
        )

    @api.get("/cases/{case_id}/placements", summary="The placements of a case")
    def read(
        case_id: Uuid, client: JournalledReader, as_of: Date | None = None
    ) -> dict[str, Any]:
        client.check_case(app.facts(case_id).cpas_kbo, CaseUnknownError())
        file = app.get_file(case_id, current=True)
        if file is None:
            raise Refused(
                404,
                ("path", "case_id"),
                "placement.none",
                "no placement recorded for this case",
            )
        day = as_of or dt.datetime.now(BRUSSELS).date()
        return {
            "case_id": str(case_id),
            "article60": [_contract_view(c, day) for c in file.article60.values()],
            "article61": [
                {
                    "agreement_id": str(a.agreement_id),
                    "start_date": a.start_date.isoformat(),
                    "planned_end_date": a.planned_end_date.isoformat(),
                    "ended_on": a.ended_on.isoformat() if a.ended_on else None,
                }
                for a in file.article61.values()
            ],
            "last_contract_end": _iso(file.last_contract_end()),
        }

    return api


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _contract_view(contract: Article60Contract, day: dt.date) -> dict[str, Any]:
    accrued = 0
    if contract.status in {"started", "ended"}:
        last = min(day, contract.ended_on or day)
        accrued = work_days_between(contract.start_date, last, contract.weekly_hours)
    required = contract.required_work_days or contract.default_required_work_days
    return {
        "contract_id": str(contract.contract_id),
        "status": contract.status,
        "start_date": contract.start_date.isoformat(),
        "planned_end_date": contract.planned_end_date.isoformat(),
        "ended_on": _iso(contract.ended_on),
        "required_work_days": required,
        "onem_calculation_ref": contract.onem_calculation_ref,
        "onem_required_period_end": _iso(contract.onem_required_period_end),
        "work_days_accrued": accrued,
        "work_days_remaining": max(0, required - accrued),
        "user_organisation_kbo": contract.user_organisation_kbo,
        "region_scheme": contract.region_scheme,
    }
