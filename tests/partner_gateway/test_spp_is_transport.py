"""SPP IS's transport: each submitted form on the outbox once, its answers read back.

A form submitted on the federal file (``FederalFormSubmittedV1``) becomes one
outbox message for ``partner.spp_is.outbound.v1``: the wire JSON whose SHA-256
the event keeps, under the form's id, keyed by the case (ADR 0021). SPP IS's
acknowledgements come back through the gateway's inbound desk; one that cannot
be read is kept, never dropped (tests/integration/test_spp_is_transport.py).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from contracts.asyncapi import document
from contracts.federal_reporting import FederalFormSubmittedV1
from services.common.errors import ConflictError, DomainError
from services.partner_gateway.federal import Answer
from services.partner_gateway.outbound import GatewayCase, OutboundProjection
from services.partner_gateway.partners import spp_is
from services.partner_gateway.registry import CHANNELS
from services.partner_gateway.vocabulary import InboundRejected
from tests.partner_gateway.test_spp_is import CASE, GRANT, KBO, answer, app, report


def submitted() -> FederalFormSubmittedV1:
    """The event of the form B of a grant, as the federal file records it."""
    hub = app()
    assert report(hub, GRANT) is not None
    [event] = [
        e
        for e in hub.events.get(hub.federal_file_id(CASE))
        if isinstance(e, FederalFormSubmittedV1)
    ]
    return event


def test_a_submitted_form_is_one_outbox_message_under_its_own_id() -> None:
    event = submitted()
    row = OutboundProjection().fold(None, event)
    assert row is not None
    [entry] = row.outbox
    assert (entry.message_id, entry.partner, entry.case_id) == (
        event.form_id,
        "spp_is",
        CASE,
    )
    assert entry.kind == "formulaire_b"
    assert entry.payload["identifiant_formulaire"] == str(event.form_id)
    assert spp_is.content_digest(entry.payload) == event.content_digest
    # The same event again (a redelivery, a rebuild) is the same message id,
    # which the outbox stores once (ON CONFLICT (message_id) DO NOTHING).
    again = OutboundProjection().fold(None, event)
    assert again is not None
    assert again.outbox == row.outbox


def test_a_submitted_form_keeps_the_cases_routing_facts_and_earlier_messages() -> None:
    event = submitted()
    earlier = OutboundProjection().fold(None, event)
    assert earlier is not None
    row = OutboundProjection().fold(GatewayCase(None, earlier.outbox), event)
    assert row is not None
    assert len(row.outbox) == 2  # in the order the case's events came
    assert not row.facts_changed


def test_adr0021_a_form_is_sent_only_as_the_payload_whose_sha256_the_file_keeps() -> (
    None
):
    event = submitted()
    tampered = event.model_copy(update={"content_digest": "0" * 64})
    with pytest.raises(DomainError) as refused:
        OutboundProjection().fold(None, tampered)
    assert refused.value.rule == "federal_form.digest_mismatch"


def test_spp_is_answer_larger_than_an_acknowledgement_is_not_read() -> None:
    raw = b'{"motif": "' + b"x" * spp_is.MAX_ANSWER_BYTES + b'"}'
    with pytest.raises(InboundRejected) as refused:
        spp_is.parse_answer(raw)
    assert refused.value.rule == "federal_form.answer_too_large"
    assert "x" * 10 not in str(refused.value)


def test_spp_is_answer_with_a_nul_byte_is_refused_by_rule() -> None:
    body = json.loads(
        spp_is.render_answer(
            Answer(
                case_id=CASE,
                answer_id="SPPIS-1",
                form_id=uuid.UUID(int=5),
                cpas_kbo=KBO,
                accepted=False,
                answered_on=dt.date(2026, 3, 20),
                reason_code="B-01",
                reason_text="Refus\u0000.",
            )
        )
    )
    with pytest.raises(InboundRejected) as refused:
        spp_is.parse_answer(json.dumps(body).encode())
    assert refused.value.rule == "schema.invalid"
    with pytest.raises(InboundRejected) as raw_nul:
        spp_is.parse_answer(b"{\x00}")
    assert raw_nul.value.rule == "payload.not_json"


def test_adr0021_the_same_answer_id_saying_something_else_is_a_conflict() -> None:
    hub = app()
    first = report(hub, GRANT)
    assert first is not None
    assert answer(hub, first[0], "SPPIS-1") == "accepted"
    with pytest.raises(ConflictError) as refused:
        answer(hub, first[0], "SPPIS-1", code="B-01", text="Refus.")
    assert refused.value.rule == "federal_form.already_answered"


def test_a_rejection_redelivered_is_a_duplicate() -> None:
    hub = app()
    first = report(hub, GRANT)
    assert first is not None
    refusal = {"code": "B-CAT-02", "text": "Catégorie."}
    assert answer(hub, first[0], "SPPIS-1", **refusal) == "rejected"
    assert answer(hub, first[0], "SPPIS-1", **refusal) == "duplicate"


def test_spp_is_is_a_channel_with_both_topics_on_the_asyncapi_page() -> None:
    assert "spp_is" in CHANNELS
    doc = document()
    outbound = doc["channels"]["partner.spp_is.outbound.v1"]
    inbound = doc["channels"]["partner.spp_is.inbound.v1"]
    assert set(outbound["messages"]) == {
        f"spp_is_outbound_formulaire_{k}_v1" for k in "bcd"
    }
    assert set(inbound["messages"]) == {"spp_is_inbound_accuse_reception_v1"}
    assert "keyed by the case id" in outbound["description"]
    assert "dead letter" in inbound["description"]
    assert doc["operations"]["outbound_spp_is"]["action"] == "send"
