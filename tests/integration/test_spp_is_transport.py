"""SPP IS's forms out and its answers in, through the real broker and processes.

A grant at intake becomes a form B on ``partner.spp_is.outbound.v1`` (read with
a raw consumer: the bytes whose SHA-256 the federal file keeps, keyed by the
case). SPP IS's "refuse" on ``partner.spp_is.inbound.v1`` is recorded with its
reason, and the corrected form goes out in its turn; an answer that is not even
UTF-8 is kept as a dead letter with its rule, and another case's answer after
it is recorded; the same answer again changes nothing (ADR 0021). Then, at
the desk alone, every kind of answer that cannot be read or applied is kept
with its rule, and one that came before its form is re-driven.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.income import IncomeRightModifiedV1
from services.common.settings import HubSettings
from services.partner_gateway.application import PartnersApplication
from services.partner_gateway.federal import Answer
from services.partner_gateway.outbound import outbound_topic
from services.partner_gateway.partners import spp_is
from services.partner_gateway.service import (
    create_application,
    create_desk,
    inbound_topic,
)
from services.supervisor import wait_healthy
from tests.integration.harness import (
    PARTNER_HEADERS,
    component,
    read_topic,
    wait_until,
)
from tests.integration.load import registration_body
from tests.integration.outbox import partner_dead_letters
from tests.integration.test_gateway_flow import grant, post, send_to_topic
from tests.partner_gateway.test_spp_is import CASE, FACTS, GRANT, report, sample

pytestmark = pytest.mark.integration

OUT = outbound_topic("spp_is")


def send_answer(settings: HubSettings, raw: bytes, key: str) -> None:
    """What SPP IS writes to its inbound topic."""
    send_to_topic(settings, "spp_is", raw, key)


def acknowledgement(form: dict[str, Any], answer_id: str, **refusal: str) -> bytes:
    return spp_is.render_answer(
        Answer(
            case_id=uuid.UUID(form["reference_dossier"]),
            answer_id=answer_id,
            form_id=uuid.UUID(form["identifiant_formulaire"]),
            cpas_kbo=form["numero_bce_cpas"],
            accepted=not refusal,
            answered_on=dt.date(2026, 11, 3),
            reason_code=refusal.get("code"),
            reason_text=refusal.get("text"),
        )
    )


def forms_out(settings: HubSettings, want: int) -> list[Any]:
    records = read_topic(settings, OUT, want, timeout=90)
    assert len(records) == want, f"{len(records)} forms on {OUT}, not {want}"
    return records


def fates(reader: PartnersApplication, case_id: uuid.UUID) -> list[tuple[Any, ...]]:
    return [
        (f.kind, f.fate, f.reason_code)
        for f in reader.federal_forms(case_id, current=True)
    ]


def test_forms_reach_spp_is_and_its_answers_come_back_to_the_federal_file(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    first, second = registration_body(0), registration_body(1)
    settings = hub_settings.model_copy(
        update={
            "cpas_ins_codes": json.dumps(
                {first["cpas_kbo"]: "62063", second["cpas_kbo"]: "21004"}
            )
        }
    )
    reader = create_application(settings)
    try:
        flow(settings, reader, first, second, tmp_path)
    finally:
        reader.close()


def flow(
    settings: HubSettings,
    reader: PartnersApplication,
    first: dict[str, Any],
    second: dict[str, Any],
    tmp_path: Path,
) -> None:
    """The whole exchange, with the processes running."""
    intake = f"http://127.0.0.1:{settings.intake_port}"
    gateway = f"http://127.0.0.1:{settings.partner_gateway_port}"
    with (
        component(settings, "intake-api", tmp_path / "intake.log"),
        component(settings, "intake-relay", tmp_path / "relay.log"),
        component(settings, "partner-gateway", tmp_path / "gateway.log"),
        component(settings, "partner-relay", tmp_path / "gateway-relay.log"),
    ):
        for api in (intake, gateway):
            wait_healthy(f"{api}/openapi.json")
        case_a = uuid.UUID(post(f"{intake}/cases", first).json()["case_id"])
        grant(intake, str(case_a))

        # The grant's form B, as SPP IS reads it from its topic.
        [record] = forms_out(settings, 1)
        form_b = json.loads(record.value)
        assert record.key == str(case_a).encode()
        assert (
            dict(record.headers)["message-id"].decode()
            == (form_b["identifiant_formulaire"])
        )
        assert form_b["formulaire"] == "B"
        assert form_b["niss"] == first["niss"]
        [submitted] = reader.federal_forms(case_a, current=True)
        assert str(submitted.form_id) == form_b["identifiant_formulaire"]
        canonical = json.dumps(form_b, sort_keys=True, separators=(",", ":"))
        assert hashlib.sha256(canonical.encode()).hexdigest() == (
            submitted.content_digest
        )

        # SPP IS refuses it: recorded with its reason.
        refusal = {"code": "B-CAT-02", "text": "Catégorie incompatible."}
        send_answer(
            settings, acknowledgement(form_b, "SPPIS-1", **refusal), str(case_a)
        )
        wait_until(
            lambda: fates(reader, case_a) == [("B", "rejected", "B-CAT-02")],
            what="the rejection on the federal file",
        )
        # The cause fixed at the CPAS (the person lives with someone: category
        # 1 from the grant's date): the corrected form B goes out after it.
        post(
            f"{intake}/cases/{case_a}/household",
            {
                "command_id": str(uuid.uuid4()),
                "effective_date": "2026-10-01",
                "partners": [],
                "children": [],
                "other_members": 1,
            },
            expected=204,
        )
        post(
            f"{intake}/cases/{case_a}/income-right/modifications",
            {
                "command_id": str(uuid.uuid4()),
                "category": 1,
                "effective_date": "2026-10-01",
                "reason": "Catégorie corrigée.",
            },
            expected=204,
        )
        corrected = json.loads(forms_out(settings, 2)[1].value)
        assert corrected["remplace_formulaire"] == form_b["identifiant_formulaire"]
        assert (corrected["formulaire"], corrected["categorie"]) == ("B", 1)

        # Garbage first, then another case's answer: kept, and the flow goes on.
        send_answer(settings, b"\xff\xfe\x00 pas un accus\xe9", "garbage")
        case_b = uuid.UUID(post(f"{intake}/cases", second).json()["case_id"])
        grant(intake, str(case_b))
        form_other = json.loads(forms_out(settings, 3)[2].value)
        assert form_other["reference_dossier"] == str(case_b)
        accepted_b = acknowledgement(form_other, "SPPIS-2")
        send_answer(settings, accepted_b, str(case_b))
        send_answer(settings, acknowledgement(corrected, "SPPIS-3"), str(case_a))
        wait_until(
            lambda: (
                fates(reader, case_b) == [("B", "accepted", None)]
                and fates(reader, case_a)
                == [("B", "rejected", "B-CAT-02"), ("B", "accepted", None)]
            ),
            what="both acceptances on the federal files",
        )
        [kept] = partner_dead_letters(settings)
        _, rule, status, source, _, reason = kept
        assert (rule, status) == ("encoding.not_utf8", "parked")
        assert source.startswith(f"kafka:{settings.topic(inbound_topic('spp_is'))}")
        assert "not UTF-8" in reason

        # The same answer again, on the topic and over HTTP: nothing changes.
        send_answer(settings, accepted_b, str(case_b))
        send_answer(settings, b'{"identifiant_message": "SPPIS-4"}', str(case_b))
        wait_until(
            lambda: len(partner_dead_letters(settings)) == 2,
            what="the answer sent after the duplicate, kept",
        )
        again = httpx.post(
            f"{gateway}/partners/spp_is/messages",
            content=accepted_b,
            headers=PARTNER_HEADERS["spp_is"],
        )
        assert again.status_code == 202, again.text
        assert again.json()["status"] == "duplicate"
        rules = [row[1] for row in partner_dead_letters(settings)]
        assert rules == ["encoding.not_utf8", "schema.invalid"]
        stored = list(reader.events.get(reader.federal_file_id(case_b)))
        assert [type(e).__name__ for e in stored] == [
            "FederalFormSubmittedV1",
            "FederalFormAcceptedV1",
        ]
        # Each form went out once.
        ids = [dict(r.headers)["message-id"] for r in forms_out(settings, 3)]
        assert len(set(ids)) == 3


def test_every_unreadable_or_inapplicable_spp_is_answer_is_kept_with_its_rule(
    hub_settings: HubSettings,
) -> None:
    app = create_application(hub_settings)
    try:
        desk = create_desk(hub_settings, app)
        submitted = report(app, GRANT)
        assert submitted is not None
        form = dict(submitted[1])
        accepted = acknowledgement(form, "SPPIS-1")
        refused = json.loads(acknowledgement(form, "SPPIS-1", code="B-01", text="x"))
        missing = {k: v for k, v in refused.items() if k != "identifiant_formulaire"}
        with_nul = refused | {"motif": "Refus\u0000."}
        next_form = uuid.uuid5(app.federal_file_id(CASE), "form:2")
        early = acknowledgement(form | {"identifiant_formulaire": str(next_form)}, "E")
        sent = {
            "encoding.not_utf8": b"\xff\xfe accus\xe9",
            "payload.not_json": b'{"resultat": \x00}',
            "schema.invalid": json.dumps(missing).encode(),
            "federal_form.answer_too_large": b" " * (spp_is.MAX_ANSWER_BYTES + 1),
        }
        for rule, raw in sent.items():
            receipt = desk.receive("spp_is", raw, "test")
            assert (receipt.status, receipt.rule) == ("parked", rule), rule
        nul = desk.receive("spp_is", json.dumps(with_nul).encode(), "test")
        assert (nul.status, nul.rule) == ("parked", "schema.invalid")
        unknown = desk.receive("spp_is", early, "test")
        assert (unknown.status, unknown.rule) == ("parked", "federal_form.unknown")

        assert desk.receive("spp_is", accepted, "test").status == "applied"
        assert desk.receive("spp_is", accepted, "test").status == "duplicate"
        conflict = desk.receive("spp_is", json.dumps(refused).encode(), "test")
        assert (conflict.status, conflict.rule) == (
            "parked",
            "federal_form.already_answered",
        )
        kept = partner_dead_letters(hub_settings)
        assert [row[1] for row in kept] == [
            *sent,
            "schema.invalid",
            "federal_form.unknown",
            "federal_form.already_answered",
        ]
        for _, rule, status, _, _, reason in kept:
            assert status == "parked"
            assert reason.startswith(f"{rule}: ")
            assert FACTS.niss not in reason

        # The answer that came before its form is re-driven once the form is sent.
        fix = sample(
            IncomeRightModifiedV1, 18, effective_date=GRANT.effective_date, category=1
        )
        second = report(app, fix)
        assert second is not None
        assert second[0] == next_form
        assert unknown.dead_letter_id is not None
        assert desk.redrive(unknown.dead_letter_id).status == "applied"
        assert [f.fate for f in app.federal_forms(CASE, current=True)] == [
            "accepted",
            "accepted",
        ]
    finally:
        app.close()
