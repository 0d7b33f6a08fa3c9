"""An article 60 contract over HTTP, through Kafka: the trajectory follows it once.

Real processes (intake, placement, PIIS with their relays) on the embedded
PostgreSQL and broker. The Article60Started message is published a second
time, as a broker redelivery would: the phase still changes once.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from contracts.registry import SERVICE_TOPICS
from services.common.eventstore import events_table, read_rows, row_to_event
from services.common.kafka import make_producer
from services.common.settings import HubSettings
from services.supervisor import wait_healthy
from tests.integration.harness import HEADERS, component, wait_until
from tests.integration.load import registration_body

pytestmark = pytest.mark.integration

START = "2026-05-04"


def command(**fields: Any) -> dict[str, Any]:
    return {"command_id": str(uuid.uuid4()), **fields}


def post(url: str, body: dict[str, Any], expected: int = 204) -> httpx.Response:
    response = httpx.post(url, json=body, headers=HEADERS)
    assert response.status_code == expected, response.text
    return response


def refusal(url: str, body: dict[str, Any]) -> tuple[int, str, str]:
    response = httpx.post(url, json=body, headers=HEADERS)
    detail = response.json()["detail"][0]
    return response.status_code, detail["loc"][-1], detail["type"]


def phase_of(piis: str, case_id: str) -> str | None:
    response = httpx.get(f"{piis}/cases/{case_id}/trajectory", headers=HEADERS)
    return response.json()["phase"] if response.status_code == 200 else None


def duplicates_seen(piis: str) -> float:
    text = httpx.get(f"{piis}/metrics").text
    found = re.search(
        r'hub_consumer_duplicates_total\{consumer="trajectory-policy"\} (\S+)', text
    )
    return float(found.group(1)) if found else 0.0


def republish_started(settings: HubSettings) -> None:
    """Publish the stored Article60Started again, exactly as the relay did."""
    with psycopg.connect(settings.database_url) as conn:
        started = [
            row_to_event(row)
            for row in read_rows(conn, events_table("placement", "placement"))
            if row.topic == "hub.placement.article60.started.v1"
        ]
    assert len(started) == 1

    async def send() -> None:
        producer = make_producer(settings)
        await producer.start()
        try:
            event = started[0]
            await producer.send_and_wait(
                settings.topic(SERVICE_TOPICS["placement"]),
                value=event.to_json_bytes(),
                key=str(event.case_id).encode(),
            )
        finally:
            await producer.stop()

    asyncio.run(send())


def phase_changes(settings: HubSettings) -> list[str]:
    with psycopg.connect(settings.database_url) as conn:
        return [
            str(getattr(row_to_event(row), "to_phase", ""))
            for row in read_rows(conn, events_table("piis", "piis"))
            if row.topic == "hub.piis.phase.changed.v1"
        ]


def test_an_article_60_contract_moves_the_trajectory_exactly_once(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    intake = f"http://127.0.0.1:{hub_settings.intake_port}"
    placement = f"http://127.0.0.1:{hub_settings.placement_port}"
    piis = f"http://127.0.0.1:{hub_settings.piis_port}"
    with (
        component(hub_settings, "intake-api", tmp_path / "intake.log"),
        component(hub_settings, "intake-relay", tmp_path / "relay.log"),
        component(hub_settings, "placement-api", tmp_path / "placement.log"),
        component(hub_settings, "placement-relay", tmp_path / "placement-relay.log"),
        component(hub_settings, "piis-api", tmp_path / "piis.log"),
    ):
        for api in (intake, placement, piis):
            wait_healthy(f"{api}/openapi.json")
        # Liège (Wallonia), born 1 January 1960: 312 days after the reform.
        case_id = post(f"{intake}/cases", registration_body(0), 201).json()["case_id"]
        cases = f"{placement}/cases/{case_id}"
        wait_until(
            lambda: (
                httpx.get(f"{cases}/placements", headers=HEADERS).status_code == 404
            ),
            60,
            "the placement service to hear of the case",
        )
        wait_until(
            lambda: (
                httpx.get(
                    f"{piis}/cases/{case_id}/trajectory", headers=HEADERS
                ).status_code
                == 404
            ),
            60,
            "the PIIS service to hear of the case",
        )
        post(
            f"{piis}/cases/{case_id}/trajectory",
            command(
                phase="employment",
                effective_date="2026-01-05",
                reason="oriented to employment after the bilan",
                decided_by="agent-3",
            ),
            201,
        )

        plan = command(
            job_title="Kitchen assistant",
            regime="full_time",
            planned_start_date=START,
            planned_end_date="2027-05-01",
            caseworker="agent-17",
        )
        assert refusal(
            f"{cases}/article60", plan | {"planned_end_date": "2026-05-01"}
        ) == (422, "planned_end_date", "article60.end_before_start")
        contract = post(f"{cases}/article60", plan, 201).json()["id"]
        assert post(f"{cases}/article60", plan, 200).json()["id"] == contract
        on_contract = f"{cases}/article60/{contract}"
        assert refusal(
            f"{on_contract}/required-period",
            command(
                calculated_on="2026-04-10",
                required_work_days=0,
                required_period_end="2027-05-01",
                onem_calculation_ref="CALC-1",
            ),
        ) == (422, "required_work_days", "article60.required_days_not_positive")
        post(
            f"{on_contract}/required-period",
            command(
                calculated_on="2026-04-10",
                required_work_days=312,
                required_period_end="2027-05-01",
                onem_calculation_ref="CALC-1",
            ),
        )
        post(
            f"{on_contract}/signature",
            command(
                signed_on="2026-04-20", start_date=START, planned_end_date="2027-05-01"
            ),
        )
        post(f"{on_contract}/start", command(started_on=START))
        assert refusal(
            f"{on_contract}/placement",
            command(
                user_organisation_kbo="0207.350.267",
                user_organisation_name="Commune de Namur",
                user_organisation_kind="municipality",
                agreement_signed_on="2026-06-02",
                placement_starts_on="2026-06-01",
            ),
        ) == (422, "agreement_signed_on", "article60.placement_agreement_after_start")

        wait_until(
            lambda: phase_of(piis, case_id) == "article_60",
            60,
            "the trajectory to follow Article60Started",
        )
        republish_started(hub_settings)
        wait_until(
            lambda: duplicates_seen(piis) >= 1,
            60,
            "the policy to see the redelivered Article60Started",
        )
        assert phase_changes(hub_settings) == ["employment", "article_60"]

        post(
            f"{on_contract}/end",
            command(ended_on="2026-05-30", reason="hired_elsewhere"),
        )
        wait_until(
            lambda: phase_of(piis, case_id) is None,
            60,
            "the trajectory to leave article 60 when the contract ends",
        )
        assert phase_changes(hub_settings) == [
            "employment",
            "article_60",
            "exit_employed",
        ]

        right = command(
            decision="opened",
            onem_decision_date="2026-07-01",
            onem_reference="ONEM-1",
            work_days_counted=24,
            right_start_date="2026-06-01",
            payment_institution="CAPAC",
        )
        assert refusal(f"{cases}/benefit-right", right) == (
            422,
            "evidence",
            "benefit_right.evidence_required",
        )
        assert refusal(
            f"{cases}/benefit-right",
            right | {"evidence": ["CAPAC-1"], "right_start_date": "2026-05-29"},
        ) == (422, "right_start_date", "benefit_right.before_contract_end")
        assert refusal(
            f"{cases}/benefit-right",
            right | {"evidence": ["CAPAC-1"], "payment_institution": "ACME"},
        )[:2] == (422, "payment_institution")
        post(f"{cases}/benefit-right", right | {"evidence": ["CAPAC-1"]})

        view = httpx.get(
            f"{cases}/placements", params={"as_of": "2026-05-16"}, headers=HEADERS
        ).json()
        [article60] = view["article60"]
        # Monday 4 to Saturday 16 May: two six-day weeks.
        assert (article60["status"], article60["work_days_accrued"]) == ("ended", 12)
        assert view["last_contract_end"] == "2026-05-30"
