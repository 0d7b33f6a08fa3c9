"""The intake API on the real PostgreSQL: bad input is refused and nothing stored."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from services.common.auth import clients_by_hash, parse_api_keys
from services.common.settings import HubSettings
from services.demo import make_kbo, make_niss
from services.intake.api import create_api
from services.intake.service import create_application
from tests.integration.harness import HEADERS, stored_events

pytestmark = pytest.mark.integration

BIRTH = dt.date(1985, 7, 30)
NISS = make_niss(BIRTH, 33)


@pytest.fixture
def client(hub_settings: HubSettings) -> Iterator[TestClient]:
    app = create_application(hub_settings)
    api = create_api(app, parse_api_keys(hub_settings.api_keys))
    with TestClient(api, headers=HEADERS) as test_client:
        yield test_client
    app.close()


def body(**changes: Any) -> dict[str, Any]:
    return {
        "command_id": str(uuid.uuid4()),
        "cpas_kbo": make_kbo(2123401),
        "niss": NISS,
        "birth_date": BIRTH.isoformat(),
        "family_name": "Dumont",
        "given_name": "Léa",
        "preferred_language": "fr",
        "postal_code": "4000",
        "dossier_number": "LG-2026-001",
        "registered_on": "2026-11-02",
        **changes,
    }


def _with_other_check_digits(niss: str) -> str:
    check = (int(niss[9:]) + 1) % 100
    return f"{niss[:9]}{check:02d}"


def _pre_2000_check_for(birth: dt.date, sequence: int) -> str:
    base9 = int(f"{birth:%y%m%d}{sequence:03d}")
    return f"{base9:09d}{97 - base9 % 97:02d}"


BAD_INPUTS = [
    pytest.param(
        {"niss": _with_other_check_digits(NISS)},
        "niss",
        "niss.check_digits",
        id="wrong check digits",
    ),
    pytest.param({"niss": NISS[:10]}, "niss", "niss.length", id="10 digits"),
    pytest.param({"niss": NISS + "1"}, "niss", "niss.length", id="12 digits"),
    pytest.param({"niss": "851330" + "033" + "00"}, "niss", None, id="month 13"),
    pytest.param(
        {
            "niss": _pre_2000_check_for(dt.date(2005, 3, 12), 45),
            "birth_date": "2005-03-12",
        },
        "niss",
        "niss.century_mismatch",
        id="pre-2000 check on a 2005 birth",
    ),
    pytest.param(
        {"cpas_kbo": "0212.345.678"}, "cpas_kbo", "kbo.check_digits", id="invalid KBO"
    ),
    pytest.param(
        {"postal_code": "1001"},
        "postal_code",
        "postal_code.unknown",
        id="unknown postal code",
    ),
]


@pytest.mark.parametrize(("changes", "field", "rule"), BAD_INPUTS)
def test_bad_input_is_refused_naming_the_field_and_the_rule(
    client: TestClient,
    hub_settings: HubSettings,
    changes: dict[str, Any],
    field: str,
    rule: str | None,
) -> None:
    answer = client.post("/cases", json=body(**changes))
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["detail"]
    assert error["loc"][-1] == field
    assert error["msg"].startswith(f"{field}: ")
    if rule is not None:
        assert error["type"] == rule
    assert stored_events(hub_settings) == 0
    submitted = changes.get("niss", NISS)
    assert submitted[:9] not in answer.text, "the NISS must not be echoed"


def test_a_month_13_niss_is_refused_for_its_month_even_with_valid_check_digits(
    client: TestClient,
) -> None:
    base9 = 851330033
    niss = f"{base9}{97 - base9 % 97:02d}"
    answer = client.post("/cases", json=body(niss=niss))
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["type"] == "niss.month"


def test_a_duplicate_registration_is_refused_with_409(
    client: TestClient, hub_settings: HubSettings
) -> None:
    first = client.post("/cases", json=body())
    assert first.status_code == 201
    stored = stored_events(hub_settings)
    again = client.post("/cases", json=body(dossier_number="LG-2026-999"))
    assert again.status_code == 409
    [error] = again.json()["detail"]
    assert error["type"] == "beneficiary.duplicate"
    assert error["case_id"] == first.json()["case_id"]
    assert stored_events(hub_settings) == stored


def test_a_reused_file_number_is_refused_with_409(
    client: TestClient, hub_settings: HubSettings
) -> None:
    assert client.post("/cases", json=body()).status_code == 201
    other = body(niss=make_niss(BIRTH, 35), dossier_number="lg 2026 001")
    answer = client.post("/cases", json=other)
    assert answer.status_code == 409
    assert answer.json()["detail"][0]["loc"][-1] == "dossier_number"
    assert stored_events(hub_settings) == 2


def test_a_retried_command_answers_the_same_with_200(client: TestClient) -> None:
    command = body()
    first = client.post("/cases", json=command)
    again = client.post("/cases", json=command)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()


def test_schema_errors_do_not_echo_personal_data(client: TestClient) -> None:
    answer = client.post("/cases", json=body(family_name="", birth_date="not-a-date"))
    assert answer.status_code == 422
    assert "not-a-date" not in answer.text
    fields = {e["loc"][-1] for e in answer.json()["detail"]}
    assert fields == {"family_name", "birth_date"}


def post_bilan(client: TestClient, score: int) -> httpx.Response:
    case_id = client.post("/cases", json=body()).json()["case_id"]
    answer: httpx.Response = client.post(
        f"/cases/{case_id}/bilans",
        json={
            "command_id": str(uuid.uuid4()),
            "completed_on": "2026-11-20",
            "author": "sw-1",
            "orientation": "training",
            "baseline_scores": {"work": score},
        },
    )
    return answer


def test_a_bilan_is_recorded_and_read_back(client: TestClient) -> None:
    answer = post_bilan(client, 20)
    assert answer.status_code == 201
    case_id = answer.request.url.path.split("/")[2]
    case = client.get(f"/cases/{case_id}").json()
    assert (case["bilans"], case["orientation"], case["version"]) == (1, "training", 2)


def test_a_bilan_with_a_score_out_of_range_is_refused(client: TestClient) -> None:
    answer = post_bilan(client, 120)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][-2:] == ["baseline_scores", "work"]


def test_a_request_without_a_known_key_is_refused(client: TestClient) -> None:
    answer = client.post("/cases", json=body(), headers={"X-API-Key": "wrong"})
    assert answer.status_code == 401
    [refusal] = answer.json()["detail"]
    assert (refusal["loc"], refusal["type"]) == (
        ["header", "X-API-Key"],
        "auth.unknown_key",
    )


def test_a_client_acts_only_for_its_own_cpas(hub_settings: HubSettings) -> None:
    keys = {
        "liege": {
            "client": "liege",
            "scopes": ["cases:write", "cases:read"],
            "cpas": [make_kbo(2123401)],
        },
        "reader": {"client": "auditor", "scopes": ["cases:read"]},
    }
    app = create_application(hub_settings)
    api = create_api(app, clients_by_hash(keys))
    with TestClient(api) as liege:
        own = liege.post("/cases", json=body(), headers={"X-API-Key": "liege"})
        assert own.status_code == 201
        other = body(cpas_kbo=make_kbo(2123402), dossier_number="X-2")
        refused = liege.post("/cases", json=other, headers={"X-API-Key": "liege"})
        assert refused.status_code == 403
        read_only = liege.post("/cases", json=body(), headers={"X-API-Key": "reader"})
        assert read_only.status_code == 403
        case_id = own.json()["case_id"]
        assert liege.get(
            f"/cases/{case_id}", headers={"X-API-Key": "reader"}
        ).is_success
    app.close()
    assert stored_events(hub_settings) == 2


def grant_body(**changes: Any) -> dict[str, Any]:
    return {
        "command_id": str(uuid.uuid4()),
        "kind": "RIS",
        "category": 2,
        "application_date": "2026-10-01",
        "decision_date": "2026-10-20",
        "effective_date": "2026-10-01",
        **changes,
    }


def test_an_income_right_is_granted_once_and_read_back(
    client: TestClient, hub_settings: HubSettings
) -> None:
    case_id = client.post("/cases", json=body()).json()["case_id"]
    command = grant_body()
    first = client.post(f"/cases/{case_id}/income-right", json=command)
    again = client.post(f"/cases/{case_id}/income-right", json=command)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    second = client.post(f"/cases/{case_id}/income-right", json=grant_body())
    assert second.status_code == 409
    assert second.json()["detail"][0]["type"] == "income_right.already_active"
    case = client.get(f"/cases/{case_id}").json()
    assert case["income_right"]["monthly_amount"] == "1314.20"
    assert case["income_right"]["piis_obligation"] == "compulsory_new_beneficiary"
    assert stored_events(hub_settings) == 3


def test_an_income_right_before_every_amount_table_is_refused(
    client: TestClient, hub_settings: HubSettings
) -> None:
    case_id = client.post("/cases", json=body()).json()["case_id"]
    answer = client.post(
        f"/cases/{case_id}/income-right",
        json=grant_body(
            application_date="2010-01-01",
            decision_date="2010-01-20",
            effective_date="2010-01-01",
        ),
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["type"] == "parameters.no_version"
    assert stored_events(hub_settings) == 2


def test_a_suspension_and_a_withdrawal_are_recorded(client: TestClient) -> None:
    case_id = client.post("/cases", json=body()).json()["case_id"]
    client.post(f"/cases/{case_id}/income-right", json=grant_body())
    suspended = client.post(
        f"/cases/{case_id}/income-right/suspensions",
        json={
            "command_id": str(uuid.uuid4()),
            "reason": "stay_abroad_over_28_days",
            "period_start": "2026-11-01",
            "period_end": "2026-11-30",
        },
    )
    assert suspended.status_code == 204
    withdrawn = client.post(
        f"/cases/{case_id}/income-right/withdrawal",
        json={
            "command_id": str(uuid.uuid4()),
            "effective_date": "2026-12-01",
            "reason": "found a job",
        },
    )
    assert withdrawn.status_code == 204
    assert client.get(f"/cases/{case_id}").json()["income_right"] is None
