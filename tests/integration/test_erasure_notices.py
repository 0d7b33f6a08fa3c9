"""An erasure is told to the partner that holds the file, in its format, unnamed.

A person registered in Namur on the integration income (Le Forem is sent the
registration request) moves to Leuven (Le Forem the closure, VDAB the
registration). Once the file is erased, VDAB's topic carries the erasure
notice in VDAB's format: the case, the CPAS, its file number and the day,
no NISS, no name, no birth date. Le Forem, closed before, is told nothing.
The notice stays in the outbox, sealed under a key of its own, when the
gateway purges the case's other rows, in the transaction that writes it
(docs/decisions/0023-envelope-encryption.md).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from services.common.settings import HubSettings
from services.demo import make_kbo, make_niss
from services.erasure import erase_person
from services.partner_gateway.outbound import outbound_topic
from services.supervisor import wait_healthy
from tests.integration.harness import component, read_topic
from tests.integration.test_moves_flow import messages, outbox_of, post

pytestmark = pytest.mark.integration

KBO = make_kbo(2123400)
BIRTH = dt.date(1971, 6, 23)
PERSON = {
    "niss": make_niss(BIRTH, 45),
    "birth_date": BIRTH.isoformat(),
    "family_name": "Noticeqzfamily",
    "given_name": "Noticeqzgiven",
}
DOSSIER = "DNOTICE1"


def _register(intake: str) -> str:
    answer = post(
        f"{intake}/cases",
        {
            "cpas_kbo": KBO,
            **PERSON,
            "preferred_language": "fr",
            "postal_code": "5000",
            "dossier_number": DOSSIER,
            "registered_on": "2026-10-01",
        },
    )
    case_id = str(answer.json()["case_id"])
    post(
        f"{intake}/cases/{case_id}/income-right",
        {
            "kind": "RIS",
            "category": 2,
            "application_date": "2026-10-01",
            "decision_date": "2026-10-20",
            "effective_date": "2026-10-01",
        },
    )
    return case_id


def test_an_erasure_is_told_to_the_partner_holding_the_file_without_personal_data(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    intake = f"http://127.0.0.1:{hub_settings.intake_port}"
    gateway = f"http://127.0.0.1:{hub_settings.partner_gateway_port}"
    names = ("intake-api", "intake-relay", "partner-gateway", "partner-relay")
    logs = {name: tmp_path / f"{name}.log" for name in names}
    with (
        component(hub_settings, names[0], logs[names[0]]),
        component(hub_settings, names[1], logs[names[1]]),
        component(hub_settings, names[2], logs[names[2]]),
        component(hub_settings, names[3], logs[names[3]]),
    ):
        wait_healthy(f"{intake}/openapi.json")
        wait_healthy(f"{gateway}/openapi.json")
        case_id = _register(intake)
        [registration] = messages(hub_settings, "forem", 1)
        assert registration["type_message"] == "demande_inscription"
        post(
            f"{intake}/cases/{case_id}/moves",
            {"postal_code": "3000", "moved_on": "2026-11-10"},
            204,
        )
        [taken_over] = messages(hub_settings, "vdab", 1)
        assert taken_over["berichtType"] == "inschrijvingsaanvraag"
        _, closure = messages(hub_settings, "forem", 2)
        assert closure["type_message"] == "cloture_dossier"

        done = erase_person(
            hub_settings,
            niss=PERSON["niss"],
            cpas_kbo=KBO,
            force=True,
            reason="data_subject_request",
        )
        assert str(done.case_id) == case_id

        # VDAB holds the file: the notice, in VDAB's format, names the file only.
        _, notice = messages(hub_settings, "vdab", 2)
        assert notice == {
            "berichtId": notice["berichtId"],
            "berichtType": "dossierGewist",
            "versie": 1,
            "gebeurtenisDatum": done.erased_on.isoformat(),
            "ocmwOndernemingsnummer": KBO,
            "dossierReferentie": case_id,
            "ocmwDossiernummer": DOSSIER,
            "wissingsdatum": done.erased_on.isoformat(),
        }
        raw = read_topic(hub_settings, outbound_topic("vdab"), 2)[1].value
        for value in PERSON.values():
            assert value.encode() not in raw
        # Le Forem was sent the closure: it holds no file, it is told nothing.
        forem = messages(hub_settings, "forem", 3, timeout=5)
        assert [m["type_message"] for m in forem] == [
            "demande_inscription",
            "cloture_dossier",
        ]
        # The gateway purged the case's other rows as it wrote the notice; the
        # notice stays, and opens.
        assert outbox_of(hub_settings, "forem") == []
        [(kind, kept)] = outbox_of(hub_settings, "vdab")
        assert (kind, kept) == ("case_erased", notice)
        # Run again: nothing new for any partner.
        erase_person(
            hub_settings,
            niss=PERSON["niss"],
            cpas_kbo=KBO,
            force=True,
            reason="data_subject_request",
        )
        assert len(messages(hub_settings, "vdab", 3, timeout=5)) == 2

    for name, log in logs.items():
        text = log.read_bytes()
        for value in (PERSON["niss"], PERSON["family_name"]):
            assert value.encode() not in text, name
