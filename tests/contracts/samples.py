"""One valid instance of every contract event type (a new type needs a sample here)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from contracts.envelope import ContractEvent
from contracts.income import (
    IncomePaymentSuspendedV1,
    IncomeRightGrantedV1,
    IncomeRightModifiedV1,
    IncomeRightWithdrawnV1,
)
from contracts.intake import (
    BeneficiaryRegisteredV1,
    BilanCompletedV1,
    DossierNumberClaimedV1,
)
from contracts.piis import (
    Commitments,
    HearingHeldV1,
    PhaseChangedV1,
    PiisAmendedV1,
    PiisDeadlineMissedV1,
    PiisEndedV1,
    PiisEvaluatedV1,
    PiisExemptionGrantedV1,
    PiisNoticeServedV1,
    PiisProposedV1,
    PiisSanctionDecidedV1,
    PIISSignedV1,
    SocialActivationEvaluatedV1,
    SocialActivationEvaluationOverdueV1,
    SocialActivationStartedV1,
)
from contracts.placement import Article60StartedV1, BenefitRightOpenedV1
from contracts.regions import PartnerCode, Region

CASE = uuid.UUID("3f0c8f5e-9d2b-4a57-8e55-0d1f6a2b7c11")
KBO = "0212345668"


def envelope(version: int = 1, stream: uuid.UUID = CASE) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid5(stream, str(version)),
        "occurred_at": dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC),
        "stream_id": stream,
        "stream_version": version,
        "case_id": CASE,
        "cpas_kbo": KBO,
        "correlation_id": uuid.UUID(int=7),
        "causation_id": uuid.UUID(int=8),
    }


SAMPLES: tuple[ContractEvent, ...] = (
    BeneficiaryRegisteredV1(
        **envelope(1),
        niss="85073003328",
        niss_kind="RN",
        family_name="Dumont",
        given_name="Léa",
        birth_date=dt.date(1985, 7, 30),
        preferred_language="fr",
        postal_code="4000",
        region=Region.WALLONIA,
        partner=PartnerCode.FOREM,
        dossier_number="LG2026001",
        registered_on=dt.date(2026, 3, 2),
    ),
    BilanCompletedV1(
        **envelope(2),
        assessment_id=uuid.UUID(int=11),
        completed_on=dt.date(2026, 3, 20),
        author="sw-017",
        needs=("housing",),
        strengths=("motivated",),
        obstacles=("childcare",),
        instrument="ZRM",
        baseline_scores={"work": 35},
        orientation="employment",
    ),
    DossierNumberClaimedV1(
        **envelope(1, uuid.UUID(int=99)), dossier_number="LG2026001"
    ),
    PIISSignedV1(
        **envelope(1, uuid.UUID(int=12)),
        piis_id=uuid.UUID(int=12),
        piis_type="general",
        signed_on=dt.date(2026, 4, 10),
        start_date=dt.date(2026, 4, 10),
        planned_end_date=dt.date(2027, 4, 9),
        objectives=("find a job in logistics",),
        commitments=Commitments(beneficiary=("attend",), cpas=("guide",)),
        evaluation_plan=(
            dt.date(2026, 7, 10),
            dt.date(2026, 10, 10),
            dt.date(2027, 1, 10),
        ),
        reflection_period_start=dt.date(2026, 4, 1),
    ),
    PhaseChangedV1(
        **envelope(1, uuid.UUID(int=13)),
        trajectory_id=uuid.UUID(int=13),
        dossier_number="LG2026001",
        from_phase=None,
        to_phase="facilitator",
        effective_date=dt.date(2026, 4, 10),
        reason="start of trajectory",
        decided_by="sw-017",
    ),
    Article60StartedV1(
        **envelope(1, uuid.UUID(int=14)),
        contract_id=uuid.UUID(int=14),
        employer_kbo=KBO,
        start_date=dt.date(2026, 5, 1),
        planned_end_date=dt.date(2027, 6, 30),
        required_work_days=312,
        regime="full_time",
        region_scheme="WAL",
    ),
    BenefitRightOpenedV1(
        **envelope(1, uuid.UUID(int=15)),
        niss="85073003328",
        onem_decision_date=dt.date(2027, 7, 15),
        right_start_date=dt.date(2027, 7, 1),
        payment_institution="CAPAC",
        onem_reference="ONEM-2027-1",
        work_days_counted=312,
        evidence=("C4-2027-1",),
        source_channel="partner",
    ),
    IncomeRightGrantedV1(
        **envelope(3),
        right_id=uuid.UUID(int=21),
        kind="RIS",
        category=2,
        monthly_amount=Decimal("1314.20"),
        amount_version="ri-amounts@2025-02-01",
        application_date=dt.date(2026, 2, 20),
        decision_date=dt.date(2026, 3, 10),
        effective_date=dt.date(2026, 2, 20),
        decided_late=False,
        piis_obligation="compulsory_new_beneficiary",
    ),
    IncomeRightModifiedV1(
        **envelope(4),
        right_id=uuid.UUID(int=21),
        category=3,
        monthly_amount=Decimal("1776.07"),
        amount_version="ri-amounts@2025-02-01",
        effective_date=dt.date(2026, 5, 1),
        reason="child joined the household",
    ),
    IncomePaymentSuspendedV1(
        **envelope(5),
        right_id=uuid.UUID(int=21),
        reason="stay_abroad_over_28_days",
        period_start=dt.date(2026, 7, 1),
        period_end=dt.date(2026, 7, 31),
    ),
    IncomeRightWithdrawnV1(
        **envelope(6),
        right_id=uuid.UUID(int=21),
        effective_date=dt.date(2026, 10, 1),
        reason="found a job",
    ),
    PiisProposedV1(
        **envelope(1, uuid.UUID(int=16)),
        piis_id=uuid.UUID(int=12),
        piis_type="general",
        proposed_on=dt.date(2026, 4, 1),
        start_date=dt.date(2026, 4, 10),
        planned_end_date=dt.date(2027, 4, 9),
        objectives=("find a job in logistics",),
        commitments=Commitments(beneficiary=("attend",), cpas=("guide",)),
        evaluation_plan=(dt.date(2026, 7, 10),),
        caseworker="sw-017",
    ),
    PiisExemptionGrantedV1(
        **envelope(2, uuid.UUID(int=16)),
        ground="health",
        motivation="long-term illness, certified",
        decided_on=dt.date(2026, 4, 20),
    ),
    PiisEvaluatedV1(
        **envelope(3, uuid.UUID(int=16)),
        piis_id=uuid.UUID(int=12),
        evaluated_on=dt.date(2026, 7, 10),
        in_person=True,
        outcome="training started",
    ),
    PiisNoticeServedV1(
        **envelope(4, uuid.UUID(int=16)),
        piis_id=uuid.UUID(int=12),
        served_on=dt.date(2026, 9, 1),
        grounds="three missed appointments",
    ),
    HearingHeldV1(
        **envelope(5, uuid.UUID(int=16)),
        piis_id=uuid.UUID(int=12),
        held_on=dt.date(2026, 9, 15),
        attended=False,
    ),
    PiisSanctionDecidedV1(
        **envelope(6, uuid.UUID(int=16)),
        piis_id=uuid.UUID(int=12),
        decided_on=dt.date(2026, 9, 20),
        months=1,
        starts_on=dt.date(2026, 11, 1),
        ends_on=dt.date(2026, 11, 30),
        repeat=False,
        notice_served_on=dt.date(2026, 9, 1),
    ),
    PiisDeadlineMissedV1(
        **envelope(7, uuid.UUID(int=16)),
        kind="piis_not_signed",
        due_on=dt.date(2026, 6, 10),
        detected_on=dt.date(2026, 6, 11),
    ),
    SocialActivationStartedV1(
        **envelope(8, uuid.UUID(int=16)),
        activation_id=uuid.UUID(int=17),
        activation_type="workshop",
        starts_on=dt.date(2026, 5, 1),
        planned_end_date=dt.date(2027, 4, 30),
        baseline_scores={"social": 30},
    ),
    SocialActivationEvaluatedV1(
        **envelope(9, uuid.UUID(int=16)),
        activation_id=uuid.UUID(int=17),
        evaluated_on=dt.date(2026, 8, 1),
        scores={"social": 40},
        progress={"social": 10},
        final=False,
    ),
    SocialActivationEvaluationOverdueV1(
        **envelope(10, uuid.UUID(int=16)),
        activation_id=uuid.UUID(int=17),
        due_on=dt.date(2026, 11, 1),
        detected_on=dt.date(2026, 11, 2),
    ),
    PiisAmendedV1(
        **envelope(11, uuid.UUID(int=16)),
        piis_id=uuid.UUID(int=12),
        amended_on=dt.date(2026, 10, 1),
        objectives=("find a job in logistics", "forklift licence"),
        planned_end_date=dt.date(2027, 6, 30),
        evaluation_plan=(dt.date(2027, 1, 10),),
        reason="licence added",
    ),
    PiisEndedV1(
        **envelope(12, uuid.UUID(int=16)),
        piis_id=uuid.UUID(int=12),
        ended_on=dt.date(2027, 6, 30),
        outcome="completed",
        reason="hired",
    ),
)
