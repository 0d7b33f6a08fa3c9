"""The partner gateway both ways, through the real broker and real processes.

Outbound: a registration and an income grant in each of the four regions reach
only the partner of that region, in its format (the golden file's shape), with
no field outside its allow-list. Inbound: partner messages over the topic and
over HTTP are applied once and in the partner's order; bad ones are kept with
their rule and change nothing; a kept one is re-driven once its cause is fixed;
ONEM's decision from the partner channel reaches the placement service and the
case state.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from services.common.eventstore import events_table, read_rows
from services.common.kafka import make_producer
from services.common.settings import HubSettings
from services.partner_gateway.canonical import CanonicalInbound
from services.partner_gateway.outbound import outbound_topic
from services.partner_gateway.registry import PARTNERS
from services.partner_gateway.service import inbound_topic
from services.supervisor import wait_healthy
from tests.integration.harness import (
    HEADERS,
    PARTNER_HEADERS,
    component,
    hub_env,
    read_topic,
    wait_until,
)
from tests.integration.load import registration_body

pytestmark = pytest.mark.integration

GOLDEN = Path(__file__).resolve().parents[1] / "partner_gateway" / "golden"
# registration_body(n): Liège, Brussels (Dutch speaker), Gent, Eupen.
REGION_OF = {0: "forem", 1: "actiris", 2: "vdab", 3: "adg"}


def post(url: str, body: dict[str, Any], expected: int = 201) -> httpx.Response:
    response = httpx.post(url, json=body, headers=HEADERS)
    assert response.status_code == expected, response.text
    return response


def grant(intake: str, case_id: str) -> None:
    post(
        f"{intake}/cases/{case_id}/income-right",
        {
            "command_id": str(uuid.uuid4()),
            "kind": "RIS",
            "category": 2,
            "application_date": "2026-10-01",
            "decision_date": "2026-10-20",
            "effective_date": "2026-10-01",
        },
    )


def golden_inbound(
    code: str, kind: str, language: str | None = None
) -> CanonicalInbound:
    suffix = f".{language}" if language else ""
    raw = (GOLDEN / code / "inbound" / f"{kind}{suffix}.json").read_bytes()
    return PARTNERS[code].parse(raw)


def partner_message(
    code: str,
    kind: str,
    *,
    niss: str,
    cpas_kbo: str,
    sequence: int,
    message_id: str,
    **body: Any,
) -> bytes:
    message = golden_inbound(code, kind, "fr" if code == "actiris" else None)
    changed = message.model_copy(
        update={
            "niss": niss,
            "cpas_kbo": cpas_kbo,
            "sequence": sequence,
            "message_id": message_id,
            "body": message.body.model_copy(update=body),
        }
    )
    return PARTNERS[code].render(changed)


def send_to_topic(settings: HubSettings, code: str, raw: bytes, key: str) -> None:
    async def send() -> None:
        producer = make_producer(settings)
        await producer.start()
        try:
            await producer.send_and_wait(
                settings.topic(inbound_topic(code)), value=raw, key=key.encode()
            )
        finally:
            await producer.stop()

    asyncio.run(send())


def reports(settings: HubSettings) -> list[str]:
    with psycopg.connect(settings.database_url) as conn:
        try:
            rows = list(read_rows(conn, events_table("partners", "partners")))
        except psycopg.errors.UndefinedTable:
            return []
    return [row.topic for row in rows]


def outbox_rows(settings: HubSettings) -> int:
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute("SELECT count(*) FROM partners.outbox").fetchone()
    return int(row[0]) if row else 0


def dead_letters(settings: HubSettings) -> list[tuple[Any, ...]]:
    with psycopg.connect(settings.database_url) as conn:
        return conn.execute(
            "SELECT id, rule, status FROM partner_messages.dead_letters ORDER BY id"
        ).fetchall()


def metrics(api: str) -> str:
    return httpx.get(f"{api}/metrics").text


def parked_gauge(gateway: str) -> int:
    """hub_dead_letters_parked of the gateway's desk, as the process exports it."""
    for line in metrics(gateway).splitlines():
        if line.startswith('hub_dead_letters_parked{consumer="partner-desk"}'):
            return int(float(line.split()[-1]))
    return -1


def parked_rows(settings: HubSettings) -> int:
    return sum(status == "parked" for _, _, status in dead_letters(settings))


def test_partners_exchange_with_the_hub_both_ways(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    intake = f"http://127.0.0.1:{hub_settings.intake_port}"
    gateway = f"http://127.0.0.1:{hub_settings.partner_gateway_port}"
    placement = f"http://127.0.0.1:{hub_settings.placement_port}"
    case_state = f"http://127.0.0.1:{hub_settings.case_state_port}"
    with (
        component(hub_settings, "intake-api", tmp_path / "intake.log"),
        component(hub_settings, "intake-relay", tmp_path / "relay.log"),
        component(hub_settings, "partner-gateway", tmp_path / "gateway.log"),
        component(hub_settings, "partner-relay", tmp_path / "gateway-relay.log"),
        component(hub_settings, "placement-api", tmp_path / "placement.log"),
        component(hub_settings, "placement-relay", tmp_path / "placement-relay.log"),
        component(hub_settings, "case-state", tmp_path / "case-state.log"),
    ):
        for api in (intake, gateway, placement, case_state):
            wait_healthy(f"{api}/openapi.json")
        bodies = {n: registration_body(n) for n in REGION_OF}
        cases = {
            n: post(f"{intake}/cases", body).json()["case_id"]
            for n, body in bodies.items()
        }
        for case_id in cases.values():
            grant(intake, case_id)

        # -- outbound: each partner gets its region's case only, in its format.
        for n, code in REGION_OF.items():
            [record] = read_topic(hub_settings, outbound_topic(code), 1)
            message = json.loads(record.value)
            assert record.key.decode() == cases[n]
            language = "nl" if code == "actiris" else None
            suffix = f".{language}" if language else ""
            golden = json.loads(
                (
                    GOLDEN / code / "outbound" / f"registration_request{suffix}.json"
                ).read_text()
            )
            assert set(message) == set(golden)
            allowed = PARTNERS[code].allowed_fields(
                "registration_request", language or PARTNERS[code].languages[0]
            )
            assert set(message) <= allowed
            assert bodies[n]["niss"] in message.values()
            others = [bodies[m]["niss"] for m in REGION_OF if m != n]
            assert not set(others) & set(map(str, message.values()))

        # -- inbound: in order, once, whichever way it comes.
        forem = bodies[0]
        ids = {"niss": forem["niss"], "cpas_kbo": forem["cpas_kbo"]}
        confirmed = partner_message(
            "forem", "registration_confirmed", sequence=1, message_id="F-1", **ids
        )
        enrolled = partner_message(
            "forem", "training_enrolled", sequence=2, message_id="F-2", **ids
        )
        completed = partner_message(
            "forem", "training_completed", sequence=3, message_id="F-3", **ids
        )
        messages = f"{gateway}/partners/forem/messages"

        def send(raw: bytes) -> httpx.Response:
            return httpx.post(messages, content=raw, headers=PARTNER_HEADERS["forem"])

        wait_until(
            lambda: send(completed).json().get("status") == "held",
            60,
            "the gateway to know the Liège case",
        )
        assert send(enrolled).json()["status"] == "held"
        assert 'hub_partner_messages_held{partner="forem"} 2.0' in metrics(gateway)
        send_to_topic(hub_settings, "forem", confirmed, forem["niss"])
        wait_until(lambda: len(reports(hub_settings)) == 3, 60, "the three reports")
        assert reports(hub_settings) == [
            "hub.partners.job_seeker.registered.v1",
            "hub.partners.training.enrolled.v1",
            "hub.partners.training.completed.v1",
        ]
        assert send(enrolled).json()["status"] == "duplicate"
        send_to_topic(hub_settings, "forem", confirmed, forem["niss"])

        # -- bad inputs: kept with their rule, nothing else changes.
        changed = partner_message(
            "forem",
            "training_enrolled",
            sequence=2,
            message_id="F-2",
            title="Another training",
            **ids,
        )
        bad = {
            "message.duplicate_different_content": changed,
            "encoding.not_utf8": confirmed.decode()
            .replace("F-1", "F-é1")
            .encode("latin-1"),
            "language.wrong": partner_message(
                "vdab", "registration_confirmed", sequence=4, message_id="V-1", **ids
            ),
            "date.format": confirmed.replace(b'"2026-03-20"', b'"20/03/2026"').replace(
                b"F-1", b"F-9"
            ),
            "decimal.comma": partner_message(
                "forem", "follow_up_report", sequence=4, message_id="F-D", **ids
            ).replace(b'"taux_presence": 87.5', b'"taux_presence": "87,5"'),
            "beneficiary.unknown": partner_message(
                "forem",
                "registration_confirmed",
                sequence=1,
                message_id="F-U",
                niss=registration_body(8)["niss"],
                cpas_kbo=registration_body(8)["cpas_kbo"],
            ),
        }
        outbox_before = outbox_rows(hub_settings)
        for rule, raw in bad.items():
            answer = send(raw)
            conflict = rule == "message.duplicate_different_content"
            assert answer.status_code == (409 if conflict else 422), (rule, answer.text)
            assert answer.json()["detail"][0]["type"] == rule
        other_region = partner_message(
            "vdab",
            "registration_confirmed",
            sequence=1,
            message_id="V-2",
            niss=forem["niss"],
            cpas_kbo=forem["cpas_kbo"],
        )
        answer = httpx.post(
            f"{gateway}/partners/vdab/messages",
            content=other_region,
            headers=PARTNER_HEADERS["vdab"],
        )
        # The partner is told no more than for an unknown person; the kept
        # message says what it was.
        assert answer.json()["detail"][0]["type"] == "beneficiary.unknown"
        assert len(reports(hub_settings)) == 3
        assert outbox_rows(hub_settings) == outbox_before
        kept = {rule for _, rule, status in dead_letters(hub_settings)}
        assert {*bad, "beneficiary.other_region"} <= kept
        wait_until(
            lambda: parked_gauge(gateway) == parked_rows(hub_settings) >= len(bad),
            30,
            "the gateway's parked messages counted",
        )
        assert 'hub_partner_messages_held{partner="forem"} 0.0' in metrics(gateway)

        # -- re-drive: the unknown person registers; the kept message applies once.
        [(unknown_id, _, _)] = [
            row for row in dead_letters(hub_settings) if row[1] == "beneficiary.unknown"
        ]
        post(f"{intake}/cases", registration_body(8))
        redrive = [
            sys.executable, "-m", "services.cli", "dead-letters", "redrive",
            "partner_messages", str(unknown_id),
        ]  # fmt: skip

        def redriven() -> bool:
            done = subprocess.run(
                redrive, env=hub_env(hub_settings), capture_output=True, check=False
            )
            return done.returncode == 0

        wait_until(redriven, 60, "the re-drive once the person is known")
        assert len(reports(hub_settings)) == 4
        # Settled by another process: the gateway's sweep counts it too.
        wait_until(
            lambda: parked_gauge(gateway) == parked_rows(hub_settings),
            30,
            "the re-driven message no longer counted",
        )
        again = subprocess.run(
            redrive, env=hub_env(hub_settings), capture_output=True, check=False
        )
        assert again.returncode != 0
        assert len(reports(hub_settings)) == 4

        # -- the Forem case's kept messages do not hold its outbound events:
        # an article 60 start still reaches Forem.
        case_id = cases[0]
        wait_until(
            lambda: (
                httpx.get(
                    f"{placement}/cases/{case_id}/placements", headers=HEADERS
                ).status_code
                == 404
            ),
            60,
            "the placement service to know the case",
        )
        on_case = f"{placement}/cases/{case_id}"
        contract = post(
            f"{on_case}/article60",
            {
                "command_id": str(uuid.uuid4()),
                "job_title": "Kitchen assistant",
                "regime": "full_time",
                "planned_start_date": "2026-11-02",
                "planned_end_date": "2027-04-30",
                "caseworker": "agent-17",
            },
        ).json()["id"]
        for step, body in (
            (
                "signature",
                {
                    "signed_on": "2026-10-26",
                    "start_date": "2026-11-02",
                    "planned_end_date": "2027-04-30",
                },
            ),
            ("start", {"started_on": "2026-11-02"}),
            ("end", {"ended_on": "2027-04-30", "reason": "resigned"}),
        ):
            post(
                f"{on_case}/article60/{contract}/{step}",
                {"command_id": str(uuid.uuid4()), **body},
                204,
            )
        forem_messages = read_topic(hub_settings, outbound_topic("forem"), 3)
        kinds = [json.loads(m.value)["type_message"] for m in forem_messages]
        assert kinds[1:] == ["debut_article_60", "fin_article_60"], kinds
        decision = partner_message(
            "forem",
            "benefit_right_decision",
            sequence=4,
            message_id="F-4",
            right_start_date=dt.date(2027, 5, 3),
            **ids,
        )
        assert send(decision).json()["status"] == "applied"

        def case_view() -> dict[str, Any]:
            answer = httpx.get(f"{case_state}/cases/{case_id}", headers=HEADERS)
            return answer.json() if answer.status_code == 200 else {}

        wait_until(
            lambda: case_view().get("benefit_right") is not None,
            90,
            "ONEM's decision in the case state",
        )
        right = case_view()["benefit_right"]
        assert (right["decision"], right["source_channel"]) == ("opened", "partner")
