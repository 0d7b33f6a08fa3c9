"""The PIIS service learns of bilans through Kafka and applies the bilan rule."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.common.http import BRUSSELS
from services.common.settings import HubSettings
from services.supervisor import wait_healthy
from tests.integration.harness import HEADERS, component, wait_until
from tests.integration.load import bilan_body, registration_body

pytestmark = pytest.mark.integration


def proposal() -> dict[str, Any]:
    return {
        "command_id": str(uuid.uuid4()),
        "piis_type": "general",
        "proposed_on": "2026-11-02",
        "start_date": "2026-11-15",
        "planned_end_date": "2027-11-14",
        "objectives": ["find a job in logistics"],
        "commitments": {"beneficiary": ["attend"], "cpas": ["guide"]},
        "evaluation_plan": ["2027-02-01", "2027-05-01", "2027-08-01"],
        "caseworker": "sw-1",
    }


def test_a_piis_is_signed_once_the_bilan_reached_the_piis_service(
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
        unknown = httpx.post(
            f"{piis}/cases/{uuid.uuid4()}/piis", json=proposal(), headers=HEADERS
        )
        assert unknown.status_code == 422
        assert unknown.json()["detail"][0]["type"] == "case.unknown"

        case_id = httpx.post(
            f"{intake}/cases", json=registration_body(0), headers=HEADERS
        ).json()["case_id"]
        wait_until(
            lambda: (
                httpx.get(f"{piis}/cases/{case_id}/piis", headers=HEADERS).status_code
                == 404
            ),
            60,
            "the PIIS service to hear of the case",
        )
        proposed = httpx.post(
            f"{piis}/cases/{case_id}/piis", json=proposal(), headers=HEADERS
        )
        assert proposed.status_code == 201, proposed.text
        piis_id = proposed.json()["piis_id"]
        signature = {"command_id": str(uuid.uuid4()), "signed_on": "2026-11-09"}
        refused = httpx.post(
            f"{piis}/cases/{case_id}/piis/{piis_id}/signature",
            json=signature,
            headers=HEADERS,
        )
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["type"] == "piis.no_bilan"

        bilan = bilan_body(0) | {"completed_on": "2026-10-20"}
        httpx.post(
            f"{intake}/cases/{case_id}/bilans", json=bilan, headers=HEADERS
        ).raise_for_status()

        def signed() -> bool:
            answer = httpx.post(
                f"{piis}/cases/{case_id}/piis/{piis_id}/signature",
                json=signature,
                headers=HEADERS,
            )
            return answer.status_code == 204

        wait_until(signed, 60, "the signature to be accepted")
        file = httpx.get(f"{piis}/cases/{case_id}/piis", headers=HEADERS).json()
        assert file["active_piis_id"] == piis_id

        def post(path: str, **body: Any) -> httpx.Response:
            return httpx.post(
                f"{piis}/cases/{case_id}/{path}",
                json={"command_id": str(uuid.uuid4()), **body},
                headers=HEADERS,
            )

        ahead = (dt.datetime.now(BRUSSELS).date() + dt.timedelta(days=30)).isoformat()
        future = post(
            "piis/evaluations", evaluated_on=ahead, in_person=True, outcome="x"
        )
        assert future.status_code == 422
        assert future.json()["detail"][0]["type"] == "piis.evaluation_in_future"
        evaluated = post(
            "piis/evaluations", evaluated_on="2026-11-20", in_person=True, outcome="ok"
        )
        assert evaluated.status_code == 204
        assert (
            post("piis/notices", served_on="2027-02-01", grounds="x").status_code == 204
        )
        assert (
            post("piis/hearings", held_on="2027-02-10", attended=False).status_code
            == 204
        )
        too_long = post("piis/sanctions", decided_on="2027-02-15", months=2)
        assert too_long.status_code == 422
        assert too_long.json()["detail"][0]["type"] == "sanction.too_long"
        no_share = post(
            "piis/sanctions", decided_on="2027-02-15", months=1, extent="partial"
        )
        assert no_share.status_code == 422
        assert no_share.json()["detail"][0]["type"] == "sanction.partial_percent"
        partial = post(
            "piis/sanctions",
            decided_on="2027-02-15",
            months=1,
            extent="partial",
            partial_percent=50,
            stay_of_execution=True,
        )
        assert partial.status_code == 204, partial.text
        ended = post(
            "piis/end", ended_on="2027-06-30", outcome="completed", reason="job"
        )
        assert ended.status_code == 204
