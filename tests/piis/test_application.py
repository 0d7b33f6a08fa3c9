"""PIIS rules on in-memory persistence, with the case facts given."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from contracts.piis import Commitments, PIISSignedV1
from services.common.aggregate import CommandContext
from services.common.errors import ConflictError, DomainError
from services.piis.application import (
    CaseUnknownError,
    GrantExemption,
    PiisApplication,
    ProposePiis,
    SignPiis,
)
from services.piis.domain import CaseFacts
from tests.intake.fakes import IN_MEMORY

CASE = uuid.UUID(int=501)
PROPOSED = dt.date(2026, 11, 2)  # a Monday
NAMESPACE = "piis-tests"


def context() -> CommandContext:
    return CommandContext(uuid.uuid4(), dt.datetime(2026, 11, 2, tzinfo=dt.UTC))


def app_with(bilan: dt.date | None) -> PiisApplication:
    facts = {CASE: CaseFacts(CASE, "0212345668", first_bilan_on=bilan)}
    return PiisApplication(IN_MEMORY, facts=facts.get, id_secret=NAMESPACE)


def propose(app: PiisApplication) -> uuid.UUID:
    return app.propose_piis(
        ProposePiis(
            context=context(),
            case_id=CASE,
            piis_type="general",
            proposed_on=PROPOSED,
            start_date=dt.date(2026, 11, 15),
            planned_end_date=dt.date(2027, 11, 14),
            objectives=("find a job in logistics",),
            commitments=Commitments(beneficiary=("attend",), cpas=("guide",)),
            evaluation_plan=(
                dt.date(2027, 2, 1),
                dt.date(2027, 5, 1),
                dt.date(2027, 8, 1),
            ),
            caseworker="sw-1",
        )
    )


def sign(
    app: PiisApplication, piis_id: uuid.UUID, day: dt.date, waived: bool = False
) -> None:
    app.sign_piis(
        SignPiis(context(), CASE, piis_id, signed_on=day, reflection_waived=waived)
    )


def test_a_piis_signed_after_its_bilan_and_the_reflection_period_is_recorded() -> None:
    app = app_with(bilan=dt.date(2026, 10, 20))
    piis_id = propose(app)
    sign(app, piis_id, dt.date(2026, 11, 9))  # five working days after Monday
    file = app.get_file(CASE)
    assert file is not None
    assert file.active == piis_id
    signed = list(app.events.get(file.id))[-1]
    assert isinstance(signed, PIISSignedV1)
    assert signed.reflection_period_start == PROPOSED


def test_a_piis_signed_before_any_bilan_is_refused_naming_its_source() -> None:
    app = app_with(bilan=None)
    piis_id = propose(app)
    with pytest.raises(DomainError) as refused:
        sign(app, piis_id, dt.date(2026, 11, 9))
    assert refused.value.rule == "piis.no_bilan"
    assert "AR 11 July 2002 art. 11" in str(refused.value)


def test_a_bilan_dated_after_the_signature_does_not_count() -> None:
    app = app_with(bilan=dt.date(2026, 11, 10))
    piis_id = propose(app)
    with pytest.raises(DomainError, match="bilan"):
        sign(app, piis_id, dt.date(2026, 11, 9))


def test_a_piis_signed_inside_the_reflection_period_is_refused() -> None:
    app = app_with(bilan=dt.date(2026, 10, 20))
    piis_id = propose(app)
    with pytest.raises(DomainError) as refused:
        sign(app, piis_id, PROPOSED)
    assert refused.value.rule == "piis.reflection_period"
    assert "2026-11-09" in str(refused.value)
    file = app.get_file(CASE)
    assert file is not None
    assert file.version == 1  # nothing stored


def test_the_person_may_waive_the_reflection_period() -> None:
    app = app_with(bilan=dt.date(2026, 10, 20))
    piis_id = propose(app)
    sign(app, piis_id, PROPOSED, waived=True)
    file = app.get_file(CASE)
    assert file is not None
    assert file.active == piis_id


def test_a_second_active_piis_is_refused() -> None:
    app = app_with(bilan=dt.date(2026, 10, 20))
    sign(app, propose(app), dt.date(2026, 11, 9))
    with pytest.raises(ConflictError) as refused:
        propose(app)
    assert refused.value.rule == "piis.already_active"


def test_an_exemption_is_recorded_with_its_ground() -> None:
    app = app_with(bilan=None)
    app.grant_exemption(
        GrantExemption(
            context(), CASE, "health", "long-term illness, certified", PROPOSED
        )
    )
    file = app.get_file(CASE)
    assert file is not None
    assert file.exemption is not None


def test_a_case_the_service_never_heard_of_is_refused() -> None:
    app = PiisApplication(IN_MEMORY, facts=lambda _: None, id_secret=NAMESPACE)
    with pytest.raises(CaseUnknownError):
        propose(app)


def test_a_retried_proposal_returns_the_same_piis() -> None:
    app = app_with(bilan=None)
    command = ProposePiis(
        context=context(),
        case_id=CASE,
        piis_type="accompaniment",
        proposed_on=PROPOSED,
        start_date=dt.date(2026, 11, 15),
        planned_end_date=dt.date(2027, 5, 14),
        objectives=("housing",),
        commitments=Commitments(beneficiary=("attend",), cpas=("guide",)),
        evaluation_plan=(),
        caseworker="sw-1",
    )
    assert app.propose_piis(command) == app.propose_piis(command)
    file = app.get_file(CASE)
    assert file is not None
    assert file.version == 1
