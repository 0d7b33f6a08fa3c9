"""Intake's events about a case, folded into the facts the PIIS service keeps."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from contracts.envelope import ContractEvent
from contracts.income import IncomeRightGrantedV1, IncomeRightWithdrawnV1
from contracts.intake import BilanCompletedV1
from services.piis.domain import CaseFacts
from services.piis.facts import CaseFactsProjection

KBO = "0212345668"


def _envelope(case_id: uuid.UUID, day: dt.date) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4(),
        "occurred_at": dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC),
        "stream_id": case_id,
        "stream_version": 1,
        "case_id": case_id,
        "cpas_kbo": KBO,
        "correlation_id": uuid.uuid4(),
    }


def grant(
    case_id: uuid.UUID,
    right_id: uuid.UUID,
    decided_on: dt.date,
    obligation: str = "compulsory_new_beneficiary",
) -> IncomeRightGrantedV1:
    return IncomeRightGrantedV1(
        **_envelope(case_id, decided_on),
        right_id=right_id,
        kind="RIS",
        category=2,
        monthly_amount=Decimal("1314.20"),
        amount_version="ri-amounts@2025-02-01",
        application_date=decided_on - dt.timedelta(days=10),
        decision_date=decided_on,
        effective_date=decided_on - dt.timedelta(days=10),
        decided_late=False,
        piis_obligation=obligation,
    )


def withdrawal(
    case_id: uuid.UUID, right_id: uuid.UUID, effective: dt.date
) -> IncomeRightWithdrawnV1:
    return IncomeRightWithdrawnV1(
        **_envelope(case_id, effective),
        right_id=right_id,
        effective_date=effective,
        reason="found a job",
    )


def bilan(
    case_id: uuid.UUID, completed_on: dt.date, scores: dict[str, int]
) -> BilanCompletedV1:
    return BilanCompletedV1(
        **_envelope(case_id, completed_on),
        assessment_id=uuid.uuid4(),
        completed_on=completed_on,
        author="sw-017",
        needs=("housing",),
        strengths=("motivated",),
        obstacles=("childcare",),
        instrument="ZRM",
        baseline_scores=scores,
        orientation="social_activation",
    )


def learned(case_id: uuid.UUID, *events: ContractEvent) -> CaseFacts:
    """The facts of a registered case after intake's events, in their order."""
    projection = CaseFactsProjection()
    facts = CaseFacts(case_id, KBO, "D1")
    for event in events:
        facts = projection.fold(facts, event) or facts
    return facts
