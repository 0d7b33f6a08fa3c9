"""A PIIS sanction decided after notice and hearing suspends the payment, once.

Law of 26 May 2002 art. 30 §2: the PIIS service decides the sanction; intake
records the suspension from the first day of the second month after the
decision (docs/domain/sanctions.md). The decision travels over the broker.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.common.settings import HubSettings
from services.supervisor import wait_healthy
from tests.integration.harness import HEADERS, component, wait_until
from tests.integration.load import bilan_body, registration_body

pytestmark = pytest.mark.integration


def test_art30_par2_piis_sanction_becomes_exactly_one_suspension_from_the_second_month(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    intake = f"http://127.0.0.1:{hub_settings.intake_port}"
    piis = f"http://127.0.0.1:{hub_settings.piis_port}"
    with (
        component(hub_settings, "intake-api", tmp_path / "intake.log"),
        component(hub_settings, "intake-relay", tmp_path / "relay.log"),
        component(hub_settings, "piis-api", tmp_path / "piis.log"),
        component(hub_settings, "piis-relay", tmp_path / "piis-relay.log"),
    ):
        wait_healthy(f"{intake}/openapi.json")
        wait_healthy(f"{piis}/openapi.json")

        def to_intake(path: str, **body: Any) -> httpx.Response:
            return httpx.post(
                f"{intake}/cases/{case_id}/{path}",
                json={"command_id": str(uuid.uuid4()), **body},
                headers=HEADERS,
            )

        def to_piis(path: str, **body: Any) -> httpx.Response:
            return httpx.post(
                f"{piis}/cases/{case_id}/{path}",
                json={"command_id": str(uuid.uuid4()), **body},
                headers=HEADERS,
            )

        case_id = httpx.post(
            f"{intake}/cases", json=registration_body(0), headers=HEADERS
        ).json()["case_id"]
        bilan = bilan_body(0) | {"completed_on": "2026-10-20"}
        httpx.post(
            f"{intake}/cases/{case_id}/bilans", json=bilan, headers=HEADERS
        ).raise_for_status()
        granted = to_intake(
            "income-right",
            kind="RIS",
            category=2,
            application_date="2026-10-01",
            decision_date="2026-10-20",
            effective_date="2026-10-01",
        )
        assert granted.status_code == 201, granted.text
        # Straight to intake, a PIIS sanction no decision stands behind is refused.
        direct = to_intake(
            "income-right/suspensions",
            reason="piis_sanction",
            decided_on="2026-11-27",
            period_start="2027-01-01",
            period_end="2027-06-30",
        )
        assert direct.status_code == 422
        assert direct.json()["detail"][0]["type"] == (
            "suspension.piis_sanction_not_decided"
        )

        answers: list[httpx.Response] = []

        def proposed() -> bool:
            answer = to_piis(
                "piis",
                piis_type="general",
                proposed_on="2026-11-02",
                start_date="2026-11-16",
                planned_end_date="2027-11-15",
                objectives=["find a job in logistics"],
                commitments={"beneficiary": ["attend"], "cpas": ["guide"]},
                evaluation_plan=["2027-02-01"],
                caseworker="sw-1",
            )
            answers.append(answer)
            return answer.status_code == 201

        wait_until(proposed, 60, "the PIIS service to hear of the case")
        piis_id = answers[-1].json()["piis_id"]

        def signed() -> bool:
            answer = to_piis(f"piis/{piis_id}/signature", signed_on="2026-11-16")
            return answer.status_code == 204

        wait_until(signed, 60, "the bilan to reach the PIIS service")
        assert to_piis("piis/notices", served_on="2026-11-18", grounds="x").is_success
        assert to_piis("piis/hearings", held_on="2026-11-25", attended=True).is_success
        assert to_piis("piis/sanctions", decided_on="2026-11-27", months=1).is_success

        def suspensions() -> list[dict[str, Any]]:
            case = httpx.get(f"{intake}/cases/{case_id}", headers=HEADERS).json()
            found: list[dict[str, Any]] = case["suspensions"]
            return found

        wait_until(lambda: bool(suspensions()), 60, "intake to carry out the sanction")
        # Whatever the broker redelivers, the decision is carried out once.
        time.sleep(3)
        found = suspensions()
        assert [(s["reason"], s["period_start"], s["period_end"]) for s in found] == [
            ("piis_sanction", "2027-01-01", "2027-01-31")
        ]
        assert found[0]["decided_on"] == "2026-11-27"
        assert found[0]["sanction_event_id"] is not None
