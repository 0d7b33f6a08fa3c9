"""Builders for intake commands (valid by default; tests change one field)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace
from typing import Any

from contracts.household import HouseholdChild
from services.common.aggregate import CommandContext
from services.demo import make_kbo, make_niss
from services.intake.application import (
    GrantIncomeRight,
    IntakeApplication,
    PartnerEntry,
    RecordBilan,
    RecordHousehold,
    RegisterBeneficiary,
)

CPAS = make_kbo(2123401)
IN_MEMORY = {
    "PERSISTENCE_MODULE": "eventsourcing.popo",
    "MAPPER_TOPIC": "services.common.eventstore:ContractMapper",
}
TODAY = dt.date(2026, 11, 23)


def in_memory_intake() -> IntakeApplication:
    namespace = "test-secret"
    return IntakeApplication(IN_MEMORY, id_secret=namespace, today=lambda: TODAY)


def context(command_id: uuid.UUID | None = None) -> CommandContext:
    return CommandContext(
        command_id or uuid.uuid4(), dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    )


def registration(number: int = 1, **changes: Any) -> RegisterBeneficiary:
    birth = dt.date(1985, 7, 30)
    command = RegisterBeneficiary(
        context=context(),
        cpas_kbo=CPAS,
        niss=make_niss(birth, 2 * number + 1),
        birth_date=birth,
        family_name="Dumont",
        given_name="Léa",
        preferred_language="fr",
        postal_code="4000",
        dossier_number=f"LG-{number:05d}",
        registered_on=dt.date(2026, 11, 2),
    )
    return replace(command, **changes)


def bilan(case_id: uuid.UUID, **changes: Any) -> RecordBilan:
    command = RecordBilan(
        context=context(),
        case_id=case_id,
        completed_on=dt.date(2026, 11, 20),
        author="sw-017",
        needs=("housing",),
        strengths=("motivated",),
        obstacles=("childcare",),
        instrument="ZRM",
        baseline_scores={"work": 40},
        orientation="employment",
    )
    return replace(command, **changes)


def grant(case_id: uuid.UUID, **changes: Any) -> GrantIncomeRight:
    command = GrantIncomeRight(
        context=context(),
        case_id=case_id,
        kind="RIS",
        category=2,
        application_date=dt.date(2026, 10, 1),
        decision_date=dt.date(2026, 10, 20),
        effective_date=dt.date(2026, 10, 1),
    )
    return replace(command, **changes)


def child(birth: dt.date = dt.date(2019, 4, 1), **changes: Any) -> HouseholdChild:
    """A dependent unmarried child (a minor in 2026 by default)."""
    return HouseholdChild(
        birth_date=birth,
        unmarried=changes.pop("unmarried", True),
        dependent=changes.pop("dependent", True),
    )


def household(
    case_id: uuid.UUID,
    *,
    effective_date: dt.date = dt.date(2026, 9, 1),
    partners: tuple[PartnerEntry, ...] = (),
    children: tuple[HouseholdChild, ...] = (),
    other_members: int = 0,
) -> RecordHousehold:
    return RecordHousehold(
        context(),
        case_id,
        effective_date,
        partners=partners,
        children=children,
        other_members=other_members,
    )
