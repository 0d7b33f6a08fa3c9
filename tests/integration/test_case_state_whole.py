"""The whole case state through the real processes, and its topic.

Cases are built through the services' public HTTP commands (intake, PIIS,
placement, the partner gateway), the relays publish, the case-state process
folds every topic into the whole state and publishes it on
``hub.case-state.v1``. A subscriber that reads only that topic from its start,
keeping the highest version per case, ends with what ``GET /cases/{id}``
shows, for every case, also after the case-state process was killed mid-run
and after a rebuild swapped the read model; the live state equals a rebuild
from the four event stores.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

from contracts.case_state import CASE_STATE_TOPIC
from services.case_state.topic import read_case_state
from services.common.eventstore import events_table
from services.common.rebuild import check, rebuild
from services.common.runtime import EmbeddedBroker, create_database
from services.common.settings import HubSettings
from services.common.vault import current_vault
from services.demo import load_placement_demo
from services.registry import consumer
from services.supervisor import wait_healthy
from tests.integration.harness import (
    API_KEY,
    HEADERS,
    PARTNER_HEADERS,
    component,
    isolated_settings,
    read_topic,
    wait_until,
)
from tests.integration.load import bilan_body, registration_body
from tests.integration.test_gateway_flow import partner_message
from tests.integration.test_piis_flow import proposal

pytestmark = pytest.mark.integration

PROCESSES = (
    "intake-api",
    "intake-relay",
    "piis-api",
    "piis-relay",
    "placement-api",
    "placement-relay",
    "partner-gateway",
    "partner-relay",
    "case-state",
)
SERVICES = ("intake", "piis", "placement", "partners")
# Fields of the API's answer beside the published state.
BESIDE_THE_STATE = ("as_of", "parked_messages")


@dataclass
class Hub:
    """Every process of the hub on a database and topics of its own."""

    settings: HubSettings
    logs: Path
    stack: contextlib.ExitStack
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str) -> None:
        log = self.logs / f"{name}.log"
        self.processes[name] = self.stack.enter_context(
            component(self.settings, name, log)
        )

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def url(self, port: str) -> str:
        return f"http://127.0.0.1:{getattr(self.settings, port)}"

    @property
    def intake(self) -> str:
        return self.url("intake_port")

    @property
    def piis(self) -> str:
        return self.url("piis_port")

    @property
    def reads(self) -> str:
        return self.url("case_state_port")


@pytest.fixture(scope="module")
def hub(
    postgres_admin_url: str,
    broker: EmbeddedBroker,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Hub]:
    logs = tmp_path_factory.mktemp("case-state-whole")
    database = create_database(postgres_admin_url, f"t_{uuid.uuid4().hex[:16]}")
    settings = isolated_settings(database, broker.bootstrap_servers, logs)
    with contextlib.ExitStack() as stack:
        running = Hub(settings, logs, stack)
        for name in PROCESSES:
            running.start(name)
        for port in ("intake_port", "piis_port", "placement_port", "case_state_port"):
            wait_healthy(f"{running.url(port)}/openapi.json")
        wait_healthy(f"{running.url('partner_gateway_port')}/openapi.json")
        yield running


def post(url: str, body: dict[str, Any], expected: int) -> httpx.Response:
    answer = httpx.post(
        url, json={"command_id": str(uuid.uuid4()), **body}, headers=HEADERS
    )
    assert answer.status_code == expected, answer.text
    return answer


def open_case(hub: Hub, number: int) -> str:
    """A registration, a bilan and an income grant at intake."""
    case_id: str = post(f"{hub.intake}/cases", registration_body(number), 201).json()[
        "case_id"
    ]
    bilan = bilan_body(number) | {"completed_on": "2026-10-20"}
    bilan.pop("command_id")
    post(f"{hub.intake}/cases/{case_id}/bilans", bilan, 201)
    post(
        f"{hub.intake}/cases/{case_id}/income-right",
        {
            "kind": "RIS",
            "category": 2,
            "application_date": "2026-10-01",
            "decision_date": "2026-10-10",
            "effective_date": "2026-10-01",
        },
        201,
    )
    return case_id


def known_to_piis(hub: Hub, case_id: str) -> None:
    """Wait for the PIIS service to learn of the case and of its bilan."""
    wait_until(
        lambda: (
            httpx.get(f"{hub.piis}/cases/{case_id}/piis", headers=HEADERS).status_code
            == 404
        ),
        90,
        "the PIIS service to hear of the case",
    )


def sign_piis(hub: Hub, case_id: str) -> str:
    """Propose a PIIS and sign it once the bilan reached the PIIS service."""
    piis_id: str = post(f"{hub.piis}/cases/{case_id}/piis", proposal(), 201).json()[
        "piis_id"
    ]
    signature = {"command_id": str(uuid.uuid4()), "signed_on": "2026-11-09"}
    url = f"{hub.piis}/cases/{case_id}/piis/{piis_id}/signature"
    wait_until(
        lambda: httpx.post(url, json=signature, headers=HEADERS).status_code == 204,
        90,
        "the signature (the bilan must reach the PIIS service)",
    )
    return piis_id


def case_view(hub: Hub, case_id: str, **params: str) -> dict[str, Any]:
    answer = httpx.get(f"{hub.reads}/cases/{case_id}", params=params, headers=HEADERS)
    return answer.json() if answer.status_code == 200 else {}


def test_case_state_shows_piis_next_evaluation_and_phase(hub: Hub) -> None:
    case_id = open_case(hub, 40)
    known_to_piis(hub, case_id)
    piis_id = sign_piis(hub, case_id)
    on_case = f"{hub.piis}/cases/{case_id}"
    trajectory = {"reason": "orientation after the bilan", "decided_by": "sw-1"}
    post(
        f"{on_case}/trajectory",
        {"phase": "facilitator", "effective_date": "2026-11-10", **trajectory},
        201,
    )
    post(
        f"{on_case}/piis/evaluations",
        {
            "evaluated_on": "2026-11-20",
            "in_person": True,
            "outcome": "first steps taken",
            "next_evaluation_on": "2027-03-01",
        },
        204,
    )
    post(
        f"{on_case}/trajectory/changes",
        {
            "from_phase": "facilitator",
            "to_phase": "employment",
            "effective_date": "2026-11-25",
            **trajectory,
        },
        204,
    )

    def shown() -> bool:
        view = case_view(hub, case_id)
        return (
            (view.get("trajectory") or {}).get("phase") == "employment"
            and (view.get("piis") or {}).get("evaluations_total") == 1
            and view.get("income_right") is not None
        )

    wait_until(shown, 90, "the PIIS and the phase in the case state")
    view = case_view(hub, case_id)
    piis = view["piis"]
    assert (piis["piis_id"], piis["status"], piis["signed_on"]) == (
        piis_id,
        "signed",
        "2026-11-09",
    )
    assert piis["next_evaluation_due"] == "2027-03-01"
    assert piis["evaluations_window"] == {
        "window_from": "2026-11-15",
        "window_to": "2026-11-20",
        "evaluations": 1,
        "in_person": 1,
        "required": 3,
        "required_in_person": 2,
    }
    assert piis["caseworker"] == "sw-1"
    assert view["trajectory"]["since"] == "2026-11-25"
    assert view["trajectory"]["from_phase"] == "facilitator"
    assert view["income_right"]["kind"] == "RIS"
    assert view["registration"]["region"] == "wallonia"
    assert view["bilan"]["count"] == 1
    # What a consumer kept aside while a topic was ahead of another resolves.
    wait_until(
        lambda: (
            case_view(hub, case_id)["parked_messages"] == {"count": 0, "reasons": []}
        ),
        60,
        "no message of the case kept aside",
    )
    text = json.dumps(view)
    body = registration_body(40)
    for personal in (body["niss"], body["family_name"], "first steps taken"):
        assert personal not in text


def caught_up(settings: HubSettings) -> bool:
    """Every stored event folded by the case state, and every change published."""
    with psycopg.connect(settings.database_url) as conn:
        heads = sql.SQL(" UNION ALL ").join(
            sql.SQL(
                "SELECT originator_id, max(originator_version) AS v FROM {} GROUP BY 1"
            ).format(events_table(s, s))
            for s in SERVICES
        )
        behind = conn.execute(
            sql.SQL(
                "SELECT count(*) FROM ({}) heads LEFT JOIN case_state.stream_positions "
                "p ON p.stream_id = heads.originator_id "
                "WHERE p.version IS DISTINCT FROM heads.v"
            ).format(heads)
        ).fetchone()
        marked = conn.execute(
            "SELECT count(*) FROM case_state.cases WHERE version > published_version"
        ).fetchone()
    return behind == (0,) and marked == (0,)


def versions(settings: HubSettings) -> dict[str, int]:
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute("SELECT case_id, version FROM case_state.cases").fetchall()
    return {str(case_id): int(version) for case_id, version in rows}


def newest_states(records: list[Any]) -> dict[str, Any]:
    """What a subscriber keeps: per case, the highest version (of equal, the later)."""
    newest: dict[str, Any] = {}
    vault = current_vault()
    for record in records:
        key = record.key.decode()
        state = read_case_state(vault, record.value)
        if state is None:  # a tombstone: the person's file was erased
            newest.pop(key, None)
            continue
        assert key == state["case_id"]
        if key not in newest or state["version"] >= newest[key]["version"]:
            newest[key] = state
    return newest


def subscriber(settings: HubSettings, want: dict[str, int]) -> dict[str, Any]:
    """A raw Kafka consumer of the topic from its start: the newest state per case."""

    def complete(records: list[Any]) -> bool:
        newest = newest_states(records)
        return all(newest.get(c, {}).get("version") == v for c, v in want.items())

    return newest_states(read_topic(settings, CASE_STATE_TOPIC, 0, 90, until=complete))


def assert_the_topic_shows_what_the_api_shows(hub: Hub) -> dict[str, Any]:
    wait_until(lambda: caught_up(hub.settings), 120, "the case state to catch up")
    want = versions(hub.settings)
    newest = subscriber(hub.settings, want)
    assert set(newest) == set(want)
    for case_id, state in newest.items():
        view = case_view(hub, case_id)
        shown = {k: v for k, v in view.items() if k not in BESIDE_THE_STATE}
        assert state == shown, case_id
    return newest


def test_a_subscriber_of_the_topic_ends_with_what_the_api_shows_for_every_case(
    hub: Hub,
) -> None:
    cases = {n: open_case(hub, n) for n in range(50, 56)}
    # The case state dies mid-run; what it folded and did not publish yet
    # goes out after its restart.
    hub.kill("case-state")
    piis_case, phase_case, partner_case, article_60_case = (
        cases[50],
        cases[51],
        cases[52],
        cases[53],
    )
    for case_id in (piis_case, phase_case):
        known_to_piis(hub, case_id)
    sign_piis(hub, piis_case)
    post(
        f"{hub.piis}/cases/{piis_case}/piis/evaluations",
        {"evaluated_on": "2026-11-25", "in_person": False, "outcome": "ok"},
        204,
    )
    post(
        f"{hub.piis}/cases/{phase_case}/trajectory",
        {
            "phase": "literacy",
            "effective_date": "2026-11-10",
            "reason": "orientation",
            "decided_by": "sw-2",
        },
        201,
    )
    hub.start("case-state")
    assert load_placement_demo(
        hub.url("placement_port"), API_KEY, article_60_case, wait_seconds=90
    )
    # Le Forem confirms the registration of the Arlon case (region Wallonia).
    body = registration_body(52)
    wait_until(
        lambda: _routing_known(hub.settings, partner_case),
        90,
        "the gateway to know the case",
    )
    raw = partner_message(
        "forem",
        "registration_confirmed",
        niss=body["niss"],
        cpas_kbo=body["cpas_kbo"],
        sequence=1,
        message_id="F-case-state-1",
    )
    answer = httpx.post(
        f"{hub.url('partner_gateway_port')}/partners/forem/messages",
        content=raw,
        headers=PARTNER_HEADERS["forem"],
    )
    assert answer.json()["status"] == "applied", answer.text
    post(
        f"{hub.intake}/cases/{cases[54]}/income-right/suspensions",
        {
            "reason": "stay_abroad_over_28_days",
            "period_start": "2026-12-01",
            "period_end": "2026-12-31",
        },
        204,
    )

    newest = assert_the_topic_shows_what_the_api_shows(hub)
    assert newest[piis_case]["piis"]["evaluations_total"] == 1
    assert newest[phase_case]["trajectory"]["phase"] == "literacy"
    assert newest[partner_case]["partner_registration"]["status"] == "registered"
    [contract] = newest[article_60_case]["placements"]
    assert (contract["kind"], contract["status"]) == ("article_60", "started")
    [suspension] = newest[cases[54]]["income_right"]["suspensions"]
    assert suspension["reason"] == "stay_abroad_over_28_days"

    # The live state is what a rebuild from the four stores gives.
    assert asyncio.run(check(hub.settings, consumer("case-state"))) is None
    # A rebuild swapped in publishes every case again, at the same versions.
    asyncio.run(rebuild(hub.settings, consumer("case-state")))
    assert assert_the_topic_shows_what_the_api_shows(hub) == newest


def _routing_known(settings: HubSettings, case_id: str) -> bool:
    with psycopg.connect(settings.database_url) as conn:
        try:
            row = conn.execute(
                "SELECT count(*) FROM partners.routing_facts WHERE case_id = %s",
                (case_id,),
            ).fetchone()
        except psycopg.errors.UndefinedTable:
            return False
    return row == (1,)
