"""The auditor's key: read-only, the audits of its remit, nothing else (ADR 0024)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.common.auth import clients_by_hash
from services.openapi_export import served_apis
from tests.common.apis import KEY, KEYS, READER, Unreachable
from tests.common.test_refusals import refused

AUDITOR = "auditor-of-liege"
LIEGE_KBO, OTHER_KBO = "0212345668", "0207123407"
AUDIT = {"cpas": LIEGE_KBO, "as_of": "2026-11-30"}
WITH_AUDITOR = clients_by_hash(
    {
        AUDITOR: {
            "client": "federal-inspection",
            "scopes": ["audit:read"],
            "remit": [LIEGE_KBO],
        }
    }
)


@pytest.fixture(scope="module")
def apis() -> dict[str, TestClient]:
    served = served_apis(Unreachable(), {**KEYS, **WITH_AUDITOR})
    return {name: TestClient(api) for name, api in served.items()}


def test_adr_0024_an_auditor_is_refused_a_cpas_outside_its_remit(
    apis: dict[str, TestClient],
) -> None:
    answer = apis["case state"].get(
        "/audit/report",
        params={**AUDIT, "cpas": OTHER_KBO},
        headers={"X-API-Key": AUDITOR},
    )
    refused(answer, 403, ["query", "cpas"], "auth.remit")


def test_adr_0024_an_auditor_reads_no_route_but_the_audit(
    apis: dict[str, TestClient],
) -> None:
    headers = {"X-API-Key": AUDITOR}
    reads = apis["case state"]
    for path, params in (
        ("/cases", {"cpas_kbo": LIEGE_KBO}),
        ("/statistics/isp", {"cpas_kbo": LIEGE_KBO, "as_of": "2026-11-30"}),
        ("/deadlines", {"cpas_kbo": LIEGE_KBO}),
    ):
        refused(
            reads.get(path, params=params, headers=headers),
            403,
            ["header", "X-API-Key"],
            "auth.scope",
        )
    refused(
        apis["intake"].post("/cases", json={}, headers=headers),
        403,
        ["header", "X-API-Key"],
        "auth.scope",
    )
    refused(
        apis["partner gateway"].get("/dead-letters", headers=headers),
        403,
        ["header", "X-API-Key"],
        "auth.scope",
    )


def test_adr_0024_no_other_key_reads_an_audit(apis: dict[str, TestClient]) -> None:
    for key in (KEY, READER):
        answer = apis["case state"].get(
            "/audit/report", params=AUDIT, headers={"X-API-Key": key}
        )
        refused(answer, 403, ["header", "X-API-Key"], "auth.scope")


def test_an_auditor_in_its_remit_gets_past_the_key_to_the_record(
    apis: dict[str, TestClient],
) -> None:
    # The stand-in pool fails loudly once reached: the key let the request in.
    with pytest.raises(AssertionError, match="reached the application"):
        apis["case state"].get(
            "/audit/report", params=AUDIT, headers={"X-API-Key": AUDITOR}
        )


@pytest.mark.parametrize(
    "client",
    [
        {"scopes": ["audit:read", "cases:read"], "remit": [LIEGE_KBO]},
        {"scopes": ["audit:read"]},
        {"scopes": ["audit:read"], "remit": []},
        {"scopes": ["audit:read"], "remit": [LIEGE_KBO], "cpas": [LIEGE_KBO]},
        {"scopes": ["cases:read"], "remit": [LIEGE_KBO]},
        {"scopes": ["audit:read"], "remit": ["0212.345.668"]},
    ],
)
def test_adr_0024_an_auditor_key_is_its_own_kind(client: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"auditor|remit"):
        clients_by_hash({"k": {"client": "x", **client}})
