"""The intake application on in-memory persistence: rules, idempotency, duplicates."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace

import pytest

from contracts.identifiers import IdentifierError
from contracts.intake import (
    BeneficiaryRegisteredV1,
    BilanCompletedV1,
    DossierNumberClaimedV1,
)
from services.common.application import CommandIdReusedError, StreamBusyError
from services.intake.application import CaseNotFoundError, _registration
from services.intake.domain import (
    Beneficiary,
    DomainError,
    DossierNumberTakenError,
    DuplicateRegistrationError,
)
from tests.intake.fakes import CPAS, bilan, in_memory_intake, registration


def test_registering_opens_a_case_routed_by_postal_code() -> None:
    app = in_memory_intake()
    result = app.register_beneficiary(registration(postal_code="9000"))
    assert result.created
    assert (result.region, result.partner) == ("flanders", "vdab")
    assert result.dossier_number == "LG00001"
    case = app.get_beneficiary(result.case_id)
    assert isinstance(case.registration, BeneficiaryRegisteredV1)
    assert case.registration.niss_kind == "RN"


def test_a_retried_registration_answers_the_same_and_stores_nothing_more() -> None:
    app = in_memory_intake()
    command = registration()
    first = app.register_beneficiary(command)
    second = app.register_beneficiary(command)
    assert second == replace(first, created=False)
    assert app.recorder.max_notification_id() == 2


def test_a_second_registration_of_the_same_person_is_refused() -> None:
    app = in_memory_intake()
    first = app.register_beneficiary(registration())
    with pytest.raises(DuplicateRegistrationError) as refused:
        app.register_beneficiary(registration(dossier_number="OTHER-1"))
    assert refused.value.case_id == first.case_id
    assert refused.value.field == "niss"


def test_the_same_person_may_have_a_case_at_another_cpas() -> None:
    app = in_memory_intake()
    app.register_beneficiary(registration())
    other = app.register_beneficiary(registration(cpas_kbo="0202.239.951"))
    assert other.created


@pytest.mark.parametrize(
    ("number", "look_alike"),
    [
        ("LG1", "lg 1"),
        ("LG1", "0LG1"),
        ("LG1", "L.G-1"),
        ("123", "000123"),
        ("123", "1.2/3"),
    ],
)
def test_file_numbers_that_differ_by_separators_or_leading_zeros_collide(
    number: str, look_alike: str
) -> None:
    app = in_memory_intake()
    app.register_beneficiary(registration(1, dossier_number=number))
    with pytest.raises(DossierNumberTakenError):
        app.register_beneficiary(registration(2, dossier_number=look_alike))


def test_a_refused_registration_stores_nothing() -> None:
    app = in_memory_intake()
    app.register_beneficiary(registration(1, dossier_number="X1"))
    before = app.recorder.max_notification_id()
    with pytest.raises(DossierNumberTakenError):
        app.register_beneficiary(registration(2, dossier_number="X1"))
    with pytest.raises(IdentifierError):
        app.register_beneficiary(registration(3, postal_code="1001"))
    assert app.recorder.max_notification_id() == before


def test_the_index_stream_records_the_claim() -> None:
    app = in_memory_intake()
    result = app.register_beneficiary(registration())
    events = [
        app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(1, 10)
    ]
    claims = [e for e in events if isinstance(e, DossierNumberClaimedV1)]
    assert [c.case_id for c in claims] == [result.case_id]


def test_a_bilan_is_recorded_once_per_command() -> None:
    app = in_memory_intake()
    case_id = app.register_beneficiary(registration()).case_id
    command = bilan(case_id)
    first = app.record_bilan(command)
    retry = app.record_bilan(command)
    assert (first.stored, retry.stored) == (True, False)
    assert retry.result == first.result
    case = app.get_beneficiary(case_id)
    assert list(case.bilans.values()) == [first.result]
    assert case.version == 2
    stored = list(app.events.get(case_id))
    assert isinstance(stored[-1], BilanCompletedV1)


def test_a_bilan_in_the_future_is_refused() -> None:
    app = in_memory_intake()
    case_id = app.register_beneficiary(registration()).case_id
    with pytest.raises(DomainError) as refused:
        app.record_bilan(bilan(case_id, completed_on=dt.date(2026, 12, 1)))
    assert (refused.value.field, refused.value.rule) == (
        "completed_on",
        "bilan.future_date",
    )


def test_a_bilan_for_an_unknown_case_is_refused() -> None:
    app = in_memory_intake()
    with pytest.raises(CaseNotFoundError):
        app.record_bilan(bilan(registration().context.command_id))


def test_a_command_id_reused_for_another_command_on_the_case_is_refused() -> None:
    app = in_memory_intake()
    case_id = app.register_beneficiary(registration()).case_id
    command = bilan(case_id)
    app.record_bilan(command)
    with pytest.raises(CommandIdReusedError) as refused:
        app.record_bilan(replace(command, author="sw-018"))
    assert (refused.value.field, refused.value.rule) == (
        "command_id",
        "command_id.reused",
    )
    assert app.get_beneficiary(case_id).version == 2


def test_a_registration_id_reused_for_another_person_is_refused() -> None:
    app = in_memory_intake()
    first = registration(1)
    app.register_beneficiary(first)
    with pytest.raises(CommandIdReusedError):
        app.register_beneficiary(registration(2, context=first.context))
    assert app.recorder.max_notification_id() == 2


def test_a_retry_is_answered_by_a_fresh_process_from_the_stored_events() -> None:
    app = in_memory_intake()
    case_id = app.register_beneficiary(registration()).case_id
    command = bilan(case_id)
    first = app.record_bilan(command)
    app.forget(case_id)  # as a process that never saw the command
    retry = app.record_bilan(command)
    assert (retry.result, retry.stored) == (first.result, False)


@pytest.mark.parametrize("number", ["LG-2026-000001", "ABCDEFGHIJKL", "-/-", "000"])
def test_a_file_number_not_of_1_to_11_letters_or_digits_is_refused_primabook_form_a(
    number: str,
) -> None:
    # Primabook (form A under the law of 1965): at most 11 characters, letters
    # and digits; separators and leading zeros are not part of the number.
    app = in_memory_intake()
    with pytest.raises(IdentifierError) as refused:
        app.register_beneficiary(registration(dossier_number=number))
    assert (refused.value.field, refused.value.rule) == (
        "dossier_number",
        "dossier_number.format",
    )
    assert not app.recorder.max_notification_id()


def test_adr_0011_a_command_overtaken_at_every_attempt_answers_concurrent_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = in_memory_intake()
    case_id = app.register_beneficiary(registration()).case_id
    stored = app.recorder.max_notification_id()
    # Another writer changed the case under each attempt: the refusal (a bilan
    # in the future) is decided again on fresh state, until the attempts end.
    monkeypatch.setattr(app, "_overtaken", lambda *_: True)
    with pytest.raises(StreamBusyError) as refused:
        app.record_bilan(bilan(case_id, completed_on=dt.date(2026, 12, 1)))
    assert refused.value.rule == "case.concurrent_writes"
    assert app.recorder.max_notification_id() == stored


def test_a_case_stream_without_its_registration_is_corrupt_not_answered() -> None:
    case_id = uuid.UUID(int=9)
    empty = Beneficiary(id=case_id, case_id=case_id, cpas_kbo=CPAS)
    with pytest.raises(DomainError) as refused:
        _registration(empty, created=False)
    assert refused.value.rule == "case.corrupt"
