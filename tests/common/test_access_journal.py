"""The access journal's gate: a read is journalled first, or not answered (ADR 0026).

Over the intake API with its events in memory (its journal in memory too),
and over journals that fail; the PostgreSQL journal and its query route are
shown in tests/integration/test_access_journal.py.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.auth import clients_by_hash
from services.common.http import service_api
from services.common.journal import (
    MAX_PURPOSE,
    AccessLine,
    JournalledReader,
    MemoryJournal,
    checked_purpose,
)
from services.common.refusals import Refused
from services.intake.api import create_api
from services.openapi_export import served_apis
from tests.common.apis import Unreachable
from tests.common.test_refusals import refused
from tests.intake.fakes import in_memory_intake, registration

OTHER_CPAS = "0202239951"
KEYS = clients_by_hash(
    {
        "hub": {"client": "hub-operators", "scopes": ["cases:read"]},
        "elsewhere": {
            "client": "elsewhere",
            "scopes": ["cases:read"],
            "cpas": [OTHER_CPAS],
        },
    }
)
HUB = {"X-API-Key": "hub"}


class FailingJournal:
    """A journal whose database is away."""

    async def append(self, line: AccessLine) -> None:
        raise OSError(f"journal away: {line.route} not recorded")


def _intake(store: Any = None) -> tuple[TestClient, uuid.UUID, MemoryJournal]:
    app = in_memory_intake()
    api = create_api(app, KEYS)
    case_id = app.register_beneficiary(registration()).case_id
    memory = MemoryJournal()
    for middleware in api.user_middleware:  # the gate's, before the app starts
        if "store" in middleware.kwargs:
            middleware.kwargs["store"] = store or memory
    return TestClient(api), case_id, memory


BAD_PURPOSES = st.one_of(
    st.text(min_size=MAX_PURPOSE + 1, max_size=MAX_PURPOSE + 20).filter(
        lambda s: s.strip()
    ),
    st.text(st.characters(min_codepoint=0, max_codepoint=31), min_size=1),
    st.sampled_from(["case 85073003328", "85.07.30-033.28", "re 850730 033 28"]),
)


@settings(max_examples=60, deadline=None)
@given(purpose=BAD_PURPOSES)
def test_adr_0026_a_bad_purpose_is_refused_with_422_naming_the_header_and_the_rule(
    purpose: str,
) -> None:
    with pytest.raises(Refused) as caught:
        checked_purpose(purpose)
    assert caught.value.status_code == 422
    assert caught.value.rule == "journal.purpose"
    (error,) = cast("list[dict[str, Any]]", caught.value.detail)
    assert error["loc"] == ["header", "X-Purpose"]
    assert purpose not in error["msg"]


def test_adr_0026_a_bad_purpose_header_is_refused_before_anything_is_read() -> None:
    client, case_id, memory = _intake()
    for purpose in ("x" * (MAX_PURPOSE + 1), "   ", "", "NISS 85073003328"):
        answer = client.get(f"/cases/{case_id}", headers={**HUB, "X-Purpose": purpose})
        refused(answer, 422, ["header", "X-Purpose"], "journal.purpose")
        assert "85073003328" not in answer.text
    assert memory.lines == []


@settings(max_examples=40, deadline=None)
@given(
    purpose=st.text(
        st.characters(
            min_codepoint=32, max_codepoint=126, exclude_characters="0123456789"
        ),
        min_size=1,
        max_size=MAX_PURPOSE,
    ).filter(lambda s: s.strip())
    | st.sampled_from(["dossier 2026-1142", "order 1234567890", "ticket #42"])
)
def test_adr_0026_a_printable_purpose_without_a_national_number_is_taken(
    purpose: str,
) -> None:
    assert checked_purpose(purpose) == purpose


def test_adr_0026_a_purpose_is_journalled_as_stated_and_none_stated_as_null() -> None:
    client, case_id, memory = _intake()
    stated = client.get(
        f"/cases/{case_id}", headers={**HUB, "X-Purpose": "ticket 2026-1142 review"}
    )
    unstated = client.get(f"/cases/{case_id}", headers=HUB)
    assert (stated.status_code, unstated.status_code) == (200, 200)
    purposes = [line.purpose for _, _, line in memory.lines]
    assert purposes == ["ticket 2026-1142 review", None]
    first = memory.lines[0][2]
    assert (first.client, first.case_id, first.route) == (
        "hub-operators",
        case_id,
        "/cases/{case_id}",
    )
    assert (first.service, first.outcome, first.status) == ("intake", "shown", 200)


def test_adr_0026_a_read_the_journal_cannot_record_answers_503_not_the_data() -> None:
    client, case_id, _ = _intake(FailingJournal())
    answer = client.get(f"/cases/{case_id}", headers=HUB)
    refused(answer, 503, ["journal"], "journal.unavailable")
    assert answer.headers["Retry-After"] == "2"
    assert str(case_id) not in answer.text
    assert "registration" not in answer.text


def test_adr_0026_a_refusal_the_journal_cannot_record_is_answered_as_it_is() -> None:
    client, case_id, _ = _intake(FailingJournal())
    other = client.get(f"/cases/{case_id}", headers={"X-API-Key": "elsewhere"})
    unknown = client.get(f"/cases/{uuid.uuid4()}", headers={"X-API-Key": "elsewhere"})
    refused(other, 404, ["path", "case_id"], "case.unknown")
    assert other.json() == unknown.json()


def test_adr_0026_another_cpas_case_is_journalled_refused_an_unknown_not_shown() -> (
    None
):
    client, case_id, memory = _intake()
    headers = {"X-API-Key": "elsewhere"}
    other = client.get(f"/cases/{case_id}", headers=headers)
    unknown_id = uuid.uuid4()
    unknown = client.get(f"/cases/{unknown_id}", headers=headers)
    assert other.json() == unknown.json()
    (_, _, of_other), (_, _, of_unknown) = memory.lines
    assert (of_other.case_id, of_other.outcome, of_other.status) == (
        case_id,
        "refused",
        404,
    )
    assert of_other.cpas_kbo == registration().cpas_kbo
    assert (of_unknown.case_id, of_unknown.cpas_kbo, of_unknown.outcome) == (
        unknown_id,
        None,
        "not_shown",
    )


def test_adr_0026_an_api_without_the_journal_reads_nothing() -> None:
    # A journalled route on an API that installed no journal: never answered.
    api = service_api("bare", "No journal installed.", KEYS)

    @api.get("/cases/{case_id}")
    def read(case_id: uuid.UUID, client: JournalledReader) -> dict[str, str]:
        raise AssertionError("a read without its journal reached the data")

    answer = TestClient(api).get(f"/cases/{uuid.uuid4()}", headers=HUB)
    refused(answer, 503, ["journal"], "journal.unavailable")


def test_adr_0026_the_journal_is_read_with_cases_read_or_audit_read_only() -> None:
    partner = clients_by_hash(
        {
            "forem": {
                "client": "forem",
                "scopes": ["partner:messages"],
                "partner": "forem",
            }
        }
    )
    apis = served_apis(Unreachable(), {**KEYS, **partner})
    with TestClient(apis["case state"]) as client:
        answer = client.get("/access-journal", headers={"X-API-Key": "forem"})
        unknown = client.get("/access-journal", headers={"X-API-Key": "wrong"})
    refused(answer, 403, ["header", "X-API-Key"], "auth.scope")
    refused(unknown, 401, ["header", "X-API-Key"], "auth.unknown_key")
