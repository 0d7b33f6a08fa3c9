"""Moves and transfers: a new residence (and partner), another CPAS, one history."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from contracts.identifiers import IdentifierError
from contracts.intake import (
    CaseTransferredV1,
    DossierNumberClaimedV1,
    PersonIndexClaimedV1,
    ResidenceChangedV1,
)
from services.common.auth import clients_by_hash
from services.intake.api import create_api
from services.intake.application import (
    CaseNotFoundError,
    IntakeApplication,
    RecordMove,
    TransferCase,
    WithdrawIncomeRight,
)
from services.intake.domain import (
    ConflictError,
    DomainError,
    DossierNumberTakenError,
    DuplicateRegistrationError,
)
from tests.intake.fakes import (
    CPAS,
    bilan,
    context,
    grant,
    in_memory_intake,
    registration,
)

LEUVEN_OCMW = "0202.239.951"


@pytest.fixture
def app() -> IntakeApplication:
    return in_memory_intake()


def namur(app: IntakeApplication) -> uuid.UUID:
    """A case registered in Namur (5000) on 2 November 2026."""
    return app.register_beneficiary(registration(postal_code="5000")).case_id


def move(case_id: uuid.UUID, postal_code: str = "3000", day: int = 10) -> RecordMove:
    return RecordMove(context(), case_id, postal_code, dt.date(2026, 11, day))


def transfer(case_id: uuid.UUID, **changes: object) -> TransferCase:
    command = TransferCase(
        context(), case_id, LEUVEN_OCMW, "LV-2026-88", dt.date(2026, 11, 12)
    )
    return replace(command, **changes)  # type: ignore[arg-type]


def events(app: IntakeApplication, stream: uuid.UUID) -> list[object]:
    return list(app.events.get(stream))


def test_a_move_records_the_new_residence_and_the_partner_responsible(
    app: IntakeApplication,
) -> None:
    case_id = namur(app)
    app.record_move(move(case_id))
    moved = events(app, case_id)[-1]
    assert isinstance(moved, ResidenceChangedV1)
    assert (moved.region, moved.partner) == ("flanders", "vdab")
    assert (moved.previous_region, moved.previous_partner) == ("wallonia", "forem")
    assert moved.moved_on == dt.date(2026, 11, 10)
    case = app.get_beneficiary(case_id)
    assert (case.postal_code, case.partner, case.cpas_kbo) == ("3000", "vdab", CPAS)


@pytest.mark.parametrize(
    ("command", "rule"),
    [
        (lambda c: move(c, day=24), "residence.in_future"),
        (lambda c: move(c, day=1), "residence.before_current_address"),
        (lambda c: move(c, postal_code="5000"), "residence.unchanged"),
    ],
)
def test_a_move_that_breaks_a_rule_is_refused_and_stores_nothing(
    app: IntakeApplication, command: object, rule: str
) -> None:
    case_id = namur(app)
    assert callable(command)
    with pytest.raises(DomainError) as refused:
        app.record_move(command(case_id))
    assert refused.value.rule == rule
    assert len(events(app, case_id)) == 1


def test_a_move_to_an_unknown_postal_code_is_refused(app: IntakeApplication) -> None:
    case_id = namur(app)
    with pytest.raises(IdentifierError) as refused:
        app.record_move(move(case_id, postal_code="0001"))
    assert refused.value.rule == "postal_code.unknown"


def test_moves_are_recorded_in_date_order(app: IntakeApplication) -> None:
    case_id = namur(app)
    app.record_move(move(case_id, day=10))
    with pytest.raises(DomainError) as refused:
        app.record_move(move(case_id, postal_code="1000", day=9))
    assert refused.value.rule == "residence.before_current_address"
    app.record_move(move(case_id, postal_code="1000", day=10))


def test_a_transfer_keeps_the_case_and_claims_a_new_number_at_the_new_cpas(
    app: IntakeApplication,
) -> None:
    case_id = namur(app)
    app.record_bilan(bilan(case_id))
    app.record_move(move(case_id))
    moved = app.transfer_case(transfer(case_id)).result
    assert (moved.case_id, moved.cpas_kbo, moved.dossier_number) == (
        case_id,
        "0202239951",
        "LV202688",
    )
    case = app.get_beneficiary(case_id)
    assert (case.cpas_kbo, case.dossier_number, len(case.bilans)) == (
        "0202239951",
        "LV202688",
        1,
    )
    transferred = events(app, case_id)[-1]
    assert isinstance(transferred, CaseTransferredV1)
    assert (transferred.cpas_kbo, transferred.from_cpas_kbo) == ("0202239951", CPAS)
    assert transferred.previous_dossier_number == "LG00001"
    [claim] = events(app, app.dossier_index_id("0202239951", "LV202688"))
    assert isinstance(claim, DossierNumberClaimedV1)
    assert claim.case_id == case_id
    # Later events carry the new CPAS.
    app.record_move(move(case_id, postal_code="3001", day=20))
    assert events(app, case_id)[-1].cpas_kbo == "0202239951"  # type: ignore[attr-defined]


def test_a_transferred_case_keeps_its_old_number_claimed(
    app: IntakeApplication,
) -> None:
    case_id = namur(app)
    app.transfer_case(transfer(case_id))
    other = registration(2, dossier_number="LG-00001")
    with pytest.raises(DossierNumberTakenError):
        app.register_beneficiary(other)


def test_the_person_cannot_be_registered_again_where_the_case_went(
    app: IntakeApplication,
) -> None:
    case_id = namur(app)
    app.transfer_case(transfer(case_id))
    [index] = events(app, app.case_id_for("0202239951", registration().niss))
    assert isinstance(index, PersonIndexClaimedV1)
    with pytest.raises(DuplicateRegistrationError) as refused:
        app.register_beneficiary(
            registration(cpas_kbo=LEUVEN_OCMW, dossier_number="LV-1")
        )
    assert refused.value.case_id == case_id
    # The index is no case: it answers as unknown.
    with pytest.raises(CaseNotFoundError):
        app.get_beneficiary(index.stream_id)


def test_a_case_can_come_back_to_a_cpas_it_left(app: IntakeApplication) -> None:
    case_id = namur(app)
    app.transfer_case(transfer(case_id))
    back = transfer(
        case_id,
        to_cpas_kbo=CPAS,
        dossier_number="LG-2",
        transferred_on=dt.date(2026, 11, 20),
    )
    assert app.transfer_case(back).result.cpas_kbo == CPAS
    again = transfer(
        case_id, dossier_number="LV-3", transferred_on=dt.date(2026, 11, 22)
    )
    assert app.transfer_case(again).result.dossier_number == "LV3"


def test_a_retried_transfer_answers_the_same_and_stores_nothing_more(
    app: IntakeApplication,
) -> None:
    case_id = namur(app)
    command = transfer(case_id)
    first = app.transfer_case(command)
    retry = app.transfer_case(command)
    assert (retry.result, retry.stored) == (first.result, False)


def test_law_2_april_1965_art1_no_transfer_while_this_cpas_income_right_is_active(
    app: IntakeApplication,
) -> None:
    case_id = namur(app)
    app.grant_income_right(grant(case_id))
    with pytest.raises(DomainError) as refused:
        app.transfer_case(transfer(case_id))
    assert refused.value.rule == "transfer.income_right_active"
    app.withdraw_income_right(
        WithdrawIncomeRight(context(), case_id, dt.date(2026, 11, 12), "moved")
    )
    app.transfer_case(transfer(case_id))


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"to_cpas_kbo": CPAS}, "transfer.same_cpas"),
        ({"transferred_on": dt.date(2026, 11, 30)}, "transfer.in_future"),
        ({"transferred_on": dt.date(2026, 11, 1)}, "transfer.before_current_address"),
    ],
)
def test_a_transfer_that_breaks_a_rule_is_refused_and_stores_nothing(
    app: IntakeApplication, changes: dict[str, object], rule: str
) -> None:
    case_id = namur(app)
    with pytest.raises(DomainError) as refused:
        app.transfer_case(transfer(case_id, **changes))
    assert refused.value.rule == rule
    assert len(events(app, case_id)) == 1


def test_a_transfer_to_a_number_the_new_cpas_gave_is_refused(
    app: IntakeApplication,
) -> None:
    app.register_beneficiary(
        registration(2, cpas_kbo=LEUVEN_OCMW, dossier_number="LV-2026-88")
    )
    case_id = namur(app)
    with pytest.raises(DossierNumberTakenError):
        app.transfer_case(transfer(case_id))


def test_a_transfer_where_the_person_has_another_case_is_refused(
    app: IntakeApplication,
) -> None:
    app.register_beneficiary(registration(cpas_kbo=LEUVEN_OCMW, dossier_number="X1"))
    case_id = namur(app)
    with pytest.raises(ConflictError) as refused:
        app.transfer_case(transfer(case_id))
    assert refused.value.rule == "transfer.person_has_case_there"


def test_a_transfer_needs_a_key_that_acts_for_both_cpas(
    app: IntakeApplication,
) -> None:
    keys = clients_by_hash(
        json.loads(
            '{"namur": {"client": "namur", "scopes": ["cases:write", "cases:read"], '
            f'"cpas": ["{CPAS}"]}}, '
            '"both": {"client": "hub", "scopes": ["cases:write", "cases:read"]}}'
        )
    )
    client = TestClient(create_api(app, keys))
    case_id = namur(app)
    body = {
        "command_id": str(uuid.uuid4()),
        "to_cpas_kbo": LEUVEN_OCMW,
        "dossier_number": "LV-2026-88",
        "transferred_on": "2026-11-12",
    }
    path = f"/cases/{case_id}/transfer"
    refused = client.post(path, json=body, headers={"X-API-Key": "namur"})
    assert refused.status_code == 403
    assert refused.json()["detail"][0]["type"] == "auth.cpas"
    moved = client.post(path, json=body, headers={"X-API-Key": "both"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["dossier_number"] == "LV202688"
    # The former CPAS no longer reads the case, answered as an unknown case;
    # the new one's key would.
    gone = client.get(f"/cases/{case_id}", headers={"X-API-Key": "namur"})
    unknown = client.get(f"/cases/{uuid.uuid4()}", headers={"X-API-Key": "namur"})
    assert gone.status_code == 404
    assert gone.json() == unknown.json()
    case = client.get(f"/cases/{case_id}", headers={"X-API-Key": "both"}).json()
    assert (case["cpas_kbo"], case["dossier_number"]) == ("0202239951", "LV202688")
    assert case["residence"]["partner"] == "forem"
