"""A move to another region hands the case over, through the real broker and processes.

A case registered in Namur (Le Forem) moves to Leuven (VDAB): VDAB gets the
registration a new case would get, Le Forem a closure in its own format, and
nothing dated after the move reaches Le Forem — a PIIS signed after it goes to
VDAB only. The gateway's routing facts and outbox then equal a rebuild from
the event stores.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from services.common.rebuild import check
from services.common.settings import HubSettings
from services.common.vault import current_vault
from services.partner_gateway.outbound import outbound_topic
from services.registry import consumer
from services.supervisor import wait_healthy
from tests.integration.harness import HEADERS, component, read_topic, wait_until
from tests.integration.load import bilan_body, registration_body
from tests.integration.test_piis_flow import proposal

pytestmark = pytest.mark.integration

MOVED_ON = dt.date(2026, 11, 10)


def post(url: str, body: dict[str, Any], expected: int = 201) -> httpx.Response:
    response = httpx.post(
        url, json={"command_id": str(uuid.uuid4()), **body}, headers=HEADERS
    )
    assert response.status_code == expected, response.text
    return response


def messages(
    settings: HubSettings, code: str, want: int, timeout: float = 90
) -> list[dict[str, Any]]:
    return [
        json.loads(record.value)
        for record in read_topic(settings, outbound_topic(code), want, timeout)
    ]


def outbox_of(settings: HubSettings, code: str) -> list[tuple[Any, ...]]:
    """A partner's outbox rows (kind, payload), their sealed payloads opened."""
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute(
            "SELECT kind, payload, message_id FROM partners.outbox "
            "WHERE partner = %s ORDER BY id",
            (code,),
        ).fetchall()
    vault = current_vault()
    return [
        (kind, vault.open_document(payload, message_id.bytes))
        for kind, payload, message_id in rows
    ]


def test_move_from_namur_to_leuven_hands_the_case_to_vdab(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    intake = f"http://127.0.0.1:{hub_settings.intake_port}"
    piis = f"http://127.0.0.1:{hub_settings.piis_port}"
    gateway = f"http://127.0.0.1:{hub_settings.partner_gateway_port}"
    with (
        component(hub_settings, "intake-api", tmp_path / "intake.log"),
        component(hub_settings, "intake-relay", tmp_path / "relay.log"),
        component(hub_settings, "piis-api", tmp_path / "piis.log"),
        component(hub_settings, "piis-relay", tmp_path / "piis-relay.log"),
        component(hub_settings, "partner-gateway", tmp_path / "gateway.log"),
    ):
        for api in (intake, piis, gateway):
            wait_healthy(f"{api}/openapi.json")
        person = registration_body(0) | {"postal_code": "5000"}
        case_id = httpx.post(f"{intake}/cases", json=person, headers=HEADERS).json()[
            "case_id"
        ]
        on_case = f"{intake}/cases/{case_id}"
        post(f"{on_case}/bilans", bilan_body(0) | {"completed_on": "2026-10-20"})
        post(
            f"{on_case}/income-right",
            {
                "kind": "RIS",
                "category": 2,
                "application_date": "2026-10-01",
                "decision_date": "2026-10-20",
                "effective_date": "2026-10-01",
            },
        )
        [registration] = messages(hub_settings, "forem", 1)
        assert registration["type_message"] == "demande_inscription"

        post(
            f"{on_case}/moves",
            {"postal_code": "3000", "moved_on": MOVED_ON.isoformat()},
            204,
        )
        case = httpx.get(on_case, headers=HEADERS).json()
        assert case["residence"]["partner"] == "vdab"

        # VDAB: the registration a new case gets, in VDAB's format.
        [taken_over] = messages(hub_settings, "vdab", 1)
        assert taken_over["berichtType"] == "inschrijvingsaanvraag"
        assert taken_over["inszNummer"] == person["niss"]
        assert taken_over["ocmwDossiernummer"] == registration["numero_dossier_cpas"]
        assert taken_over["toekenningsdatum"] == "2026-10-20"
        assert taken_over["gebeurtenisDatum"] == MOVED_ON.isoformat()
        # Le Forem: the closure, in its own format, dated the day of the move.
        _, closure = messages(hub_settings, "forem", 2)
        assert closure["type_message"] == "cloture_dossier"
        assert closure["niss"] == person["niss"]
        assert closure["date_cloture"] == MOVED_ON.isoformat()
        assert closure["motif_cloture"] == "demenagement_autre_region"

        # A PIIS signed after the move: VDAB hears of it, Le Forem does not.
        wait_until(
            lambda: (
                httpx.get(f"{piis}/cases/{case_id}/piis", headers=HEADERS).status_code
                == 404
            ),
            60,
            "the PIIS service to hear of the case",
        )
        proposed = post(
            f"{piis}/cases/{case_id}/piis", proposal() | {"proposed_on": "2026-11-12"}
        ).json()["piis_id"]
        signature = {"command_id": str(uuid.uuid4()), "signed_on": "2026-11-20"}
        wait_until(
            lambda: (
                httpx.post(
                    f"{piis}/cases/{case_id}/piis/{proposed}/signature",
                    json=signature,
                    headers=HEADERS,
                ).status_code
                == 204
            ),
            60,
            "the signature (the bilan known to the PIIS service)",
        )
        _, signed = messages(hub_settings, "vdab", 2)
        assert signed["berichtType"] == "gpmiOndertekend"
        assert signed["ondertekeningsdatum"] == "2026-11-20"

        # The PIIS event has been folded (VDAB has it): nothing more for Le Forem.
        forem = messages(hub_settings, "forem", 3, timeout=5)
        assert [m["type_message"] for m in forem] == [
            "demande_inscription",
            "cloture_dossier",
        ]
        assert all(m["date_evenement"] <= MOVED_ON.isoformat() for m in forem)
        assert [kind for kind, _ in outbox_of(hub_settings, "forem")] == [
            "registration_request",
            "case_closed",
        ]
        # The by-date routing is a fold of the stores: a rebuild agrees.
        assert asyncio.run(check(hub_settings, consumer("partner-outbound"))) is None
