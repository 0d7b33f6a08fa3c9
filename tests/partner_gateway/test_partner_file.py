"""A case's partner file: each message once, in the partner's per-person order."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from contracts.partner_reports import JobSeekerRegisteredV1, TrainingEnrolledV1
from services.common.aggregate import CommandContext
from services.common.errors import ConflictError
from services.partner_gateway.application import PartnerMessage, PartnersApplication
from tests.intake.fakes import IN_MEMORY

CASE = uuid.UUID(int=801)
CPAS = "0212345668"
REGISTERED = {"partner_client_id": "DE-1", "registered_on": dt.date(2026, 3, 2)}
ENROLLED = {
    "training_id": "T-1",
    "title": "Cariste",
    "provider": "Forem Formation Liège",
    "starts_on": dt.date(2026, 4, 6),
    "planned_end": dt.date(2026, 6, 26),
}


def message(
    message_id: str, sequence: int, kind: str, fields: dict[str, Any], digest: str = ""
) -> PartnerMessage:
    return PartnerMessage(
        kind=kind,
        partner="forem",
        message_id=message_id,
        sequence=sequence,
        content_hash=digest or (message_id.encode().hex() * 64)[:64],
        fields=fields,
    )


def receive(app: PartnersApplication, msg: PartnerMessage) -> str:
    context = CommandContext(
        app.command_id(msg.partner, msg.message_id),
        dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
    )
    return app.receive(CASE, CPAS, context, msg)


def reports(app: PartnersApplication) -> list[Any]:
    return list(app.events.get(app.file_id(CASE)))


def test_a_message_is_recorded_once_whatever_the_redeliveries() -> None:
    app = PartnersApplication(IN_MEMORY, id_secret="t")
    first = message("F-1", 1, "registration_confirmed", REGISTERED)
    assert receive(app, first) == "applied"
    assert receive(app, first) == "duplicate"
    [recorded] = reports(app)
    assert isinstance(recorded, JobSeekerRegisteredV1)
    assert (recorded.partner, recorded.partner_sequence) == ("forem", 1)


def test_the_same_id_with_other_content_is_refused() -> None:
    app = PartnersApplication(IN_MEMORY, id_secret="t")
    receive(app, message("F-1", 1, "registration_confirmed", REGISTERED, "a" * 64))
    app.forget(app.file_id(CASE))
    changed = message("F-1", 1, "registration_confirmed", REGISTERED, "b" * 64)
    with pytest.raises(ConflictError) as refused:
        receive(app, changed)
    assert refused.value.rule == "message.duplicate_different_content"
    assert len(reports(app)) == 1


def test_a_message_ahead_of_its_turn_is_held_then_applied_in_order() -> None:
    app = PartnersApplication(IN_MEMORY, id_secret="t")
    second = message("F-2", 2, "training_enrolled", ENROLLED)
    assert receive(app, second) == "held"
    assert reports(app) == []
    assert receive(app, message("F-1", 1, "registration_confirmed", REGISTERED)) == (
        "applied"
    )
    assert receive(app, second) == "applied"
    kinds = [type(e) for e in reports(app)]
    assert kinds == [JobSeekerRegisteredV1, TrainingEnrolledV1]


def test_a_sequence_number_used_twice_is_refused() -> None:
    app = PartnersApplication(IN_MEMORY, id_secret="t")
    receive(app, message("F-1", 1, "registration_confirmed", REGISTERED))
    with pytest.raises(ConflictError) as refused:
        receive(app, message("F-9", 1, "training_enrolled", ENROLLED))
    assert refused.value.rule == "sequence.already_used"
