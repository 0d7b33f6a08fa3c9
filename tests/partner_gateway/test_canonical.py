"""The hub's side: which events become which partner messages, and their ids."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest
from pydantic import ValidationError

from contracts.income import IncomeRightGrantedV1
from contracts.intake import BeneficiaryRegisteredV1
from contracts.placement import BenefitRightOpenedV1
from services.partner_gateway.canonical import (
    CanonicalInbound,
    RoutingFacts,
    outbound_for,
)
from tests.contracts.samples import SAMPLES
from tests.partner_gateway.samples import FACTS, inbound_sample, outbound_event

FOREM = FACTS["forem", "fr"]
VDAB = FACTS["vdab", "nl"]


def _grant(
    facts: RoutingFacts = FOREM, decided: dt.date = dt.date(2026, 3, 10)
) -> IncomeRightGrantedV1:
    event = outbound_event("registration_request", facts)
    assert isinstance(event, IncomeRightGrantedV1)
    return event.model_copy(update={"decision_date": decided})


def test_a_grant_asks_forem_to_register_the_person_within_four_weeks() -> None:
    message = outbound_for(_grant(), FOREM)
    assert message is not None
    assert message.kind == "registration_request"
    assert message.fields["granted_on"] == "2026-03-10"
    assert message.fields["register_by"] == "2026-04-07"
    assert message.fields["family_name"] == FOREM.family_name


def test_a_grant_before_the_decree_gives_the_transitional_90_days() -> None:
    message = outbound_for(_grant(decided=dt.date(2025, 11, 20)), FOREM)
    assert message is not None
    assert message.fields["register_by"] == "2026-04-01"


def test_other_partners_get_no_registration_deadline() -> None:
    message = outbound_for(_grant(VDAB), VDAB)
    assert message is not None
    assert message.fields["register_by"] is None


def test_the_message_id_is_the_same_on_redelivery_and_differs_per_partner() -> None:
    event = _grant()
    first, again = outbound_for(event, FOREM), outbound_for(event, FOREM)
    assert first is not None
    assert again is not None
    assert first.message_id == again.message_id == uuid.uuid5(event.event_id, "forem")
    moved = dataclasses.replace(FOREM, partner="vdab", region="flanders")
    other = outbound_for(event, moved)
    assert other is not None
    assert other.message_id != first.message_id


def test_the_business_date_is_the_day_in_brussels() -> None:
    event = outbound_event("integration_contract_signed", FOREM)
    assert event.occurred_at.date() == dt.date(2026, 4, 9)  # 22:00 UTC the day before
    message = outbound_for(event, FOREM)
    assert message is not None
    assert message.occurred_on == dt.date(2026, 4, 10)


@pytest.mark.parametrize("event_type", [BeneficiaryRegisteredV1, BenefitRightOpenedV1])
def test_other_events_mean_nothing_to_a_partner(event_type: type) -> None:
    event = next(e for e in SAMPLES if isinstance(e, event_type))
    event = event.model_copy(
        update={"case_id": FOREM.case_id, "cpas_kbo": FOREM.cpas_kbo}
    )
    assert outbound_for(event, FOREM) is None


def test_facts_of_another_case_are_refused() -> None:
    with pytest.raises(ValueError, match="another case"):
        outbound_for(_grant(), VDAB)


def test_routing_facts_do_not_show_personal_data() -> None:
    shown = repr(FOREM)
    for personal in (FOREM.niss, FOREM.family_name, FOREM.given_name, "1985"):
        assert personal not in shown


def test_a_resend_has_the_same_content_hash_and_a_change_does_not() -> None:
    message = inbound_sample("training_completed", "forem", "fr")
    resent = message.model_copy(update={"sent_at": message.sent_at + dt.timedelta(1)})
    assert resent.content_hash() == message.content_hash()
    body = message.body.model_copy(update={"certified": False})
    changed = message.model_copy(update={"body": body})
    assert changed.content_hash() != message.content_hash()


def test_a_body_of_another_kind_is_refused() -> None:
    message = inbound_sample("training_completed", "forem", "fr")
    data = message.model_dump()
    data["kind"] = "training_enrolled"
    with pytest.raises(ValidationError):
        CanonicalInbound.model_validate(data)


def test_a_benefit_right_refused_needs_its_reason() -> None:
    message = inbound_sample("benefit_right_decision", "forem", "fr")
    data = message.model_dump()
    data["body"] |= {"decision": "refused", "reason": None}
    with pytest.raises(ValidationError, match="required for this decision"):
        CanonicalInbound.model_validate(data)
