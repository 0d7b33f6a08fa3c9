"""What the schema refuses the route refuses, in the one error shape (ADR 0015).

Each case here is a finding of the fuzzing (an integrator's schemathesis run,
``tests/integration/test_schemathesis.py``) or of reading the code, reproduced
once as a plain request. None reaches an application (`Unreachable`).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.common.auth import clients_by_hash, parse_api_keys
from services.piis.followup_api import SanctionRequest
from tests.common.apis import KEY, LIEGE, PARTNER, READER, five_apis
from tests.integration.test_intake_http import grant_body

CASE = str(uuid.UUID(int=1))
KBO = "0212345668"


@pytest.fixture(scope="module")
def apis() -> dict[str, FastAPI]:
    return five_apis()


@pytest.fixture
def clients(apis: dict[str, FastAPI]) -> dict[str, TestClient]:
    return {
        name: TestClient(api, headers={"X-API-Key": KEY}) for name, api in apis.items()
    }


def refused(answer: Any, status: int, loc: list[Any], rule: str) -> dict[str, Any]:
    """The answer is one `Error` naming ``loc`` and ``rule``; its first entry."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    detail = answer.json()["detail"]
    assert set(detail[0]) == {"loc", "msg", "type"}
    assert [detail[0]["loc"], detail[0]["type"]] == [loc, rule], detail
    return dict(detail[0])


# --- parameters pydantic coerced more loosely than the schema said -------------


@pytest.mark.parametrize(
    "known_at",
    [
        "-4590",  # a Unix time: answered 200 as 1969-12-31T22:43:30Z
        "0",
        "0.5",
        "2026-03-02",  # a date is not a time
        "2026-03-02T09:30:00",  # no offset: compared with aware times, a 500
        "2026-03-02 09:30:00Z",
    ],
)
@pytest.mark.parametrize("path", ["/statistics/isp", "/placements/roster"])
def test_known_at_is_an_rfc_3339_time_with_its_offset(
    clients: dict[str, TestClient], path: str, known_at: str
) -> None:
    query = {"cpas_kbo": KBO, "as_of": "2026-03-02", "known_at": known_at}
    answer = clients["case state"].get(path, params=query)
    refused(answer, 422, ["query", "known_at"], "date.format")
    assert len(known_at) < 4 or known_at not in answer.text


@pytest.mark.parametrize(
    "as_of", ["0", "1700000000", "2026-03-02T00:00:00", "20260302"]
)
def test_as_of_is_a_date_written_yyyy_mm_dd(
    clients: dict[str, TestClient], as_of: str
) -> None:
    query = {"cpas_kbo": KBO, "as_of": as_of}
    answer = clients["case state"].get("/statistics/isp", params=query)
    refused(answer, 422, ["query", "as_of"], "date.format")
    placements = clients["placement"].get(f"/cases/{CASE}/placements", params=query)
    refused(placements, 422, ["query", "as_of"], "date.format")


@pytest.mark.parametrize("limit", ["5.0", " 5", "+5", "true"])
def test_a_query_integer_is_decimal_digits(
    clients: dict[str, TestClient], limit: str
) -> None:
    answer = clients["case state"].get(
        "/cases", params={"cpas_kbo": KBO, "limit": limit}
    )
    refused(answer, 422, ["query", "limit"], "int_type")


@pytest.mark.parametrize(
    "case_id", [uuid.UUID(int=1).hex, f"urn:uuid:{CASE}", f"{{{CASE}}}"]
)
def test_a_path_uuid_is_written_with_its_hyphens(
    clients: dict[str, TestClient], case_id: str
) -> None:
    answer = clients["intake"].get(f"/cases/{case_id}")
    refused(answer, 422, ["path", "case_id"], "uuid.format")


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"category": True}, "category", "int_type"),
        ({"category": "2"}, "category", "int_type"),
        ({"student": "yes"}, "student", "bool_type"),
        ({"student": 1}, "student", "bool_type"),
        ({"decision_date": 0}, "decision_date", "date.format"),
        ({"decision_date": "2026-03-02T00:00:00"}, "decision_date", "date.format"),
        ({"command_id": uuid.UUID(int=5).hex}, "command_id", "uuid.format"),
    ],
)
def test_a_body_field_takes_its_json_type_only(
    clients: dict[str, TestClient], changes: dict[str, Any], field: str, rule: str
) -> None:
    answer = clients["intake"].post(
        f"/cases/{CASE}/income-right", json=grant_body(**changes)
    )
    refused(answer, 422, ["body", field], rule)


def test_an_integer_written_2_0_is_an_integer_as_json_schema_says() -> None:
    body = {"command_id": CASE, "decided_on": "2026-03-02", "months": 3.0}
    assert SanctionRequest.model_validate(body).months == 3
    with pytest.raises(ValueError, match="int_type"):
        SanctionRequest.model_validate(body | {"months": 3.5})


def test_a_body_that_is_not_utf_8_is_refused_with_422_not_400(
    clients: dict[str, TestClient],
) -> None:
    answer = clients["intake"].post(
        "/cases",
        content=b'{"niss": "\xe9"}',
        headers={"Content-Type": "application/json"},
    )
    refused(answer, 422, ["body"], "json.not_utf8")


# --- API keys: 401, never 500 ----------------------------------------------------


@pytest.mark.parametrize(
    ("key", "rule"),
    [
        (None, "auth.missing_key"),
        ("", "auth.missing_key"),
        ("wrong", "auth.unknown_key"),
        ("é", "auth.unknown_key"),  # reached hmac.compare_digest: a 500
        ("k" * 257, "auth.unknown_key"),
        (f"{KEY} ", "auth.unknown_key"),
    ],
)
def test_a_missing_or_unknown_key_is_refused_with_401(
    apis: dict[str, FastAPI], key: str | None, rule: str
) -> None:
    headers = {} if key is None else {"X-API-Key": key.encode()}  # UTF-8 bytes
    with TestClient(apis["partner gateway"]) as client:
        answer = client.get("/dead-letters", headers=headers)
    refused(answer, 401, ["header", "X-API-Key"], rule)
    assert answer.headers["WWW-Authenticate"] == "X-API-Key"


def test_a_configured_key_that_no_header_can_carry_is_refused_unnamed() -> None:
    with pytest.raises(ValueError, match="printable ASCII") as caught:
        clients_by_hash({"clé": {"client": "x", "scopes": ["cases:read"]}})
    assert "clé" not in str(caught.value)


@pytest.mark.parametrize("key", ["a-clear-key", "clé", "A" * 64, "0" * 63])
def test_adr_0025_a_configured_clear_key_is_refused_unnamed(key: str) -> None:
    with pytest.raises(ValueError, match="SHA-256") as caught:
        parse_api_keys(json.dumps({key: {"client": "x", "scopes": ["cases:read"]}}))
    assert key not in str(caught.value)


def test_scope_cpas_and_partner_refusals_name_their_rule(
    apis: dict[str, FastAPI],
) -> None:
    with TestClient(apis["intake"], headers={"X-API-Key": READER}) as reader:
        answer = reader.post("/cases", json={})
    refused(answer, 403, ["header", "X-API-Key"], "auth.scope")
    with TestClient(apis["partner gateway"], headers={"X-API-Key": LIEGE}) as liege:
        dead_letters = liege.get("/dead-letters")
    refused(dead_letters, 403, ["header", "X-API-Key"], "auth.scope")
    with TestClient(apis["partner gateway"], headers={"X-API-Key": PARTNER}) as forem:
        other_partner = forem.post("/partners/vdab/messages", content=b"{}")
    refused(other_partner, 403, ["path", "code"], "auth.partner")
    with TestClient(apis["case state"], headers={"X-API-Key": LIEGE}) as liege:
        other_cpas = liege.get("/deadlines", params={"cpas_kbo": "0207123407"})
    refused(other_cpas, 403, ["cpas_kbo"], "auth.cpas")


# --- 404s: the same shape, nothing echoed ---------------------------------------


def test_an_unknown_partner_code_is_not_echoed(clients: dict[str, TestClient]) -> None:
    answer = clients["partner gateway"].post(
        "/partners/85073003328/messages",
        content=b"{}",
        headers={"X-API-Key": PARTNER},
    )
    refused(answer, 404, ["path", "code"], "partner.unknown")
    assert "85073003328" not in answer.text


def test_a_path_or_method_no_route_has_answers_the_error_shape(
    clients: dict[str, TestClient],
) -> None:
    refused(clients["intake"].get("/nowhere"), 404, [], "route.unknown")
    refused(clients["intake"].delete("/cases"), 405, [], "method.not_allowed")
