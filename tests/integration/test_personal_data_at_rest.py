"""Read the database and the topics directly: no test person in clear.

An operator with a database dump, or anyone reading the broker's topics
without the master key, finds no NISS, name, birth date or bilan prose of a
person (docs/decisions/0023-envelope-encryption.md). The search reads every
column of every table of the hub's schemas and every message of every hub
topic.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

from contracts.case_state import CASE_STATE_TOPIC
from contracts.registry import SERVICE_TOPICS
from services.common.settings import HubSettings
from services.demo import make_kbo, make_niss
from services.supervisor import wait_healthy
from tests.integration.harness import (
    HEADERS,
    PARTNER_HEADERS,
    component,
    count,
    wait_until,
    whole_topic,
)
from tests.integration.test_gateway_flow import partner_message

pytestmark = pytest.mark.integration

BIRTH = dt.date(1971, 2, 13)
NISS = make_niss(BIRTH, 137)
FAMILY, GIVEN = "Vandersmissenqz", "Quirinusqz"
NEEDS = "Qzneedsmarker housing"


def _markers() -> dict[str, bytes]:
    return {
        "niss": NISS.encode(),
        "family_name": FAMILY.encode(),
        "given_name": GIVEN.encode(),
        "birth_date": BIRTH.isoformat().encode(),
        "needs": b"Qzneedsmarker",
    }


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def clear_in_tables(
    settings: HubSettings, markers: dict[str, bytes]
) -> dict[tuple[str, str], set[str]]:
    """Every (schema, table) whose rows hold a marker, with the markers found."""
    found: dict[tuple[str, str], set[str]] = {}
    with psycopg.connect(settings.database_url) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN "
            "('pg_catalog', 'information_schema')"
        ).fetchall()
        for schema, name in tables:
            rows = conn.execute(
                sql.SQL("SELECT * FROM {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(name)
                )
            ).fetchall()
            for row in rows:
                text = b"\x00".join(_as_bytes(value) for value in row)
                for marker, needle in markers.items():
                    if needle in text:
                        found.setdefault((schema, name), set()).add(marker)
    return found


def test_no_niss_name_or_birth_date_in_clear_in_the_stores_and_topics(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    intake = f"http://127.0.0.1:{hub_settings.intake_port}"
    case_state = f"http://127.0.0.1:{hub_settings.case_state_port}"
    with (
        component(hub_settings, "intake-api", tmp_path / "api.log"),
        component(hub_settings, "intake-relay", tmp_path / "relay.log"),
        component(hub_settings, "case-state", tmp_path / "case-state.log"),
        component(hub_settings, "partner-gateway", tmp_path / "gateway.log"),
        component(hub_settings, "partner-relay", tmp_path / "partner-relay.log"),
        component(hub_settings, "placement-api", tmp_path / "placement.log"),
        component(hub_settings, "piis-api", tmp_path / "piis.log"),
    ):
        wait_healthy(f"{intake}/openapi.json")
        wait_healthy(f"{case_state}/openapi.json")
        registered = httpx.post(
            f"{intake}/cases",
            json={
                "command_id": str(uuid.uuid4()),
                "cpas_kbo": make_kbo(2123400),
                "niss": NISS,
                "birth_date": BIRTH.isoformat(),
                "family_name": FAMILY,
                "given_name": GIVEN,
                "preferred_language": "fr",
                "postal_code": "5000",
                "dossier_number": "D-AT-REST-1",
                "registered_on": "2026-11-02",
            },
            headers=HEADERS,
        )
        assert registered.status_code == 201, registered.text
        case_id = registered.json()["case_id"]
        httpx.post(
            f"{intake}/cases/{case_id}/bilans",
            json={
                "command_id": str(uuid.uuid4()),
                "completed_on": "2026-11-20",
                "author": "sw-1",
                "orientation": "employment",
                "needs": [NEEDS],
                "baseline_scores": {"work": 40},
            },
            headers=HEADERS,
        ).raise_for_status()
        wait_until(
            lambda: (
                httpx.get(f"{case_state}/cases/{case_id}", headers=HEADERS)
                .json()
                .get("bilan", {})
                .get("count")
                == 1
            ),
            60,
            "the bilan in the case state",
        )
        wait_until(
            lambda: (
                count(hub_settings, "SELECT count(*) FROM partners.routing_facts") >= 1
            ),
            60,
            "the case in the gateway's routing facts",
        )
        wait_until(
            lambda: (
                count(hub_settings, "SELECT count(*) FROM placement.case_facts") >= 1
            ),
            60,
            "the case in the placement facts",
        )

        # A partner's message about the person, ahead of its turn: kept aside
        # (a dead letter of the desk, held), with the NISS in it.
        gateway = f"http://127.0.0.1:{hub_settings.partner_gateway_port}"
        wait_healthy(f"{gateway}/openapi.json")
        held = partner_message(
            "forem",
            "training_enrolled",
            niss=NISS,
            cpas_kbo=make_kbo(2123400),
            sequence=5,
            message_id="F-AT-REST-5",
        )
        answer = httpx.post(
            f"{gateway}/partners/forem/messages",
            content=held,
            headers=PARTNER_HEADERS["forem"],
        )
        assert answer.json().get("status") == "held", answer.text
        assert count(hub_settings, "SELECT count(*) FROM partner_messages.dead_letters")

        # The service still reads the person: the boxes open where allowed.
        assert httpx.get(f"{case_state}/cases/{case_id}", headers=HEADERS).is_success

        assert clear_in_tables(hub_settings, _markers()) == {}

        topics = [*SERVICE_TOPICS.values(), CASE_STATE_TOPIC]
        searched = 0
        for topic in topics:
            messages = whole_topic(hub_settings, topic)
            searched += len(messages)
            for message in messages:
                value = bytes(message.value or b"")
                for marker, needle in _markers().items():
                    assert needle not in value, (topic, marker)
        assert searched >= 4  # the intake events and the case's state at least
        # The registration and the bilan went out sealed, not stripped.
        personal = [
            bytes(m.value)
            for m in whole_topic(hub_settings, SERVICE_TOPICS["intake"])
            if b"beneficiary.registered" in m.value or b"bilan.completed" in m.value
        ]
        assert len(personal) == 2
        assert all(b'"sealed"' in value for value in personal)
