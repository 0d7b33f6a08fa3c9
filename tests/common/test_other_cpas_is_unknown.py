"""A case of another CPAS is answered exactly as a case that does not exist.

A 403 would tell a CPAS's software that the person is a client of another
CPAS (with the development id secret, it could derive the case id from a
NISS). On every service's case routes, reads and writes, a key of CPAS B
gets for a case of CPAS A the status and the body an unknown case id gets.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.common.auth import clients_by_hash
from services.intake.api import create_api as intake_api
from services.piis.api import create_api as piis_api
from services.placement.api import create_api as placement_api
from tests.intake.fakes import in_memory_intake, registration
from tests.integration.load import bilan_body
from tests.piis.test_application import CASE as PIIS_CASE
from tests.piis.test_application import app_with
from tests.placement.test_article60 import CASE as PLACEMENT_CASE
from tests.placement.test_article60 import new_app

OTHER_CPAS = "0202239951"
KEYS = clients_by_hash(
    {
        "elsewhere": {
            "client": "elsewhere",
            "scopes": ["cases:write", "cases:read"],
            "cpas": [OTHER_CPAS],
        }
    }
)
HEADERS = {"X-API-Key": "elsewhere"}
UNKNOWN = uuid.UUID(int=999_999)


def _intake() -> tuple[FastAPI, uuid.UUID]:
    app = in_memory_intake()
    return intake_api(app, KEYS), app.register_beneficiary(registration()).case_id


def _piis() -> tuple[FastAPI, uuid.UUID]:
    return piis_api(app_with(bilan=None), KEYS), PIIS_CASE


def _placement() -> tuple[FastAPI, uuid.UUID]:
    return placement_api(new_app(), KEYS), PLACEMENT_CASE


def _body(**fields: Any) -> dict[str, Any]:
    """A valid command body: the refusal is about the case, not the body."""
    return {"command_id": str(uuid.UUID(int=7)), **fields}


GRANT = _body(
    kind="RIS",
    category=2,
    application_date="2026-10-01",
    decision_date="2026-10-20",
    effective_date="2026-10-01",
)
PROPOSAL = _body(
    piis_type="general",
    proposed_on="2026-11-02",
    start_date="2026-11-15",
    planned_end_date="2027-11-14",
    objectives=["find a job in logistics"],
    commitments={"beneficiary": ["attend"], "cpas": ["guide"]},
    evaluation_plan=["2027-02-01", "2027-05-01", "2027-08-01"],
    caseworker="sw-1",
)
ARTICLE_60 = _body(
    job_title="Kitchen assistant",
    regime="full_time",
    planned_start_date="2026-05-04",
    planned_end_date="2027-05-01",
    caseworker="agent-17",
)
ROUTES = [
    (_intake, "/cases/{}", None),
    (_intake, "/cases/{}/bilans", _body(**bilan_body(1))),
    (_intake, "/cases/{}/income-right", GRANT),
    (_piis, "/cases/{}/piis", None),
    (_piis, "/cases/{}/piis", PROPOSAL),
    (_placement, "/cases/{}/placements", None),
    (_placement, "/cases/{}/article60", ARTICLE_60),
]


@pytest.mark.parametrize(("service", "path", "body"), ROUTES)
def test_a_case_of_another_cpas_gets_the_answer_of_an_unknown_case(
    service: Any, path: str, body: dict[str, Any] | None
) -> None:
    api, case_id = service()
    client = TestClient(api)

    def ask(case: uuid.UUID) -> Any:
        if body is None:
            return client.get(path.format(case), headers=HEADERS)
        return client.post(path.format(case), headers=HEADERS, json=body)

    other, unknown = ask(case_id), ask(UNKNOWN)
    # Each service's own answer for a case it does not know.
    assert unknown.json()["detail"][0]["type"] == "case.unknown", unknown.text
    assert other.status_code == unknown.status_code, other.text
    assert other.json() == unknown.json()
    assert "auth.cpas" not in other.text
