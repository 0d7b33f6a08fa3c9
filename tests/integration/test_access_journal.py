"""The access journal on the real PostgreSQL (ADR 0026).

Every read route of every OpenAPI document (so a new route cannot escape)
is called once on a case known to every service, and leaves exactly one
line naming the client and the case (or the CPAS of an export). The lines
cannot be changed, a CPAS reads its own lines only, an auditor those of its
remit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg_pool import AsyncConnectionPool

from services.common.auth import hash_key
from services.common.consumer import decode
from services.common.settings import HubSettings
from services.demo import make_kbo, make_niss
from services.registry import consumer
from tests.common.test_other_cpas_is_unknown import GRANT
from tests.integration.harness import (
    API_KEY,
    API_KEYS,
    AUDITOR_KEY,
    CLEAR_API_KEYS,
    HEADERS,
    key_for,
)
from tests.integration.served import real_apis
from tests.integration.test_intake_http import body as registration
from tests.integration.test_schemathesis import _opened_by_lifespan

pytestmark = pytest.mark.integration

CPAS_A, CPAS_B = make_kbo(2123401), make_kbo(2123402)
PERSON_B = {
    "cpas_kbo": CPAS_B,
    "niss": make_niss(dt.date(1990, 3, 12), 41),
    "birth_date": "1990-03-12",
    "family_name": "Peeters",
    "given_name": "Jan",
    "dossier_number": "GE-2026-007",
}
# The suite's keys (its auditor's remit holds both CPAS), and each CPAS's own.
KEYS = {
    **json.loads(API_KEYS),
    hash_key("software-a"): {
        "client": "cpas-a",
        "scopes": ["cases:read"],
        "cpas": [CPAS_A],
    },
    hash_key("software-b"): {
        "client": "cpas-b",
        "scopes": ["cases:read"],
        "cpas": [CPAS_B],
    },
    hash_key("auditor-b"): {
        "client": "auditor-b",
        "scopes": ["audit:read"],
        "remit": [CPAS_B],
    },
}
# Read routes that show no one's file: the journal's own.
NOT_JOURNALLED = {("case state", "/access-journal")}
SAMPLES = {"cpas_kbo": CPAS_A, "cpas": CPAS_A, "as_of": "2026-11-30", "year": "2026"}
# The read models and services that learn a registration from the intake topic.
FACTS = ("case-state", "statistics", "subsidies", "piis-facts", "placement-facts")


@pytest.fixture
def settings(hub_settings: HubSettings) -> HubSettings:
    return hub_settings.model_copy(update={"api_keys": json.dumps(KEYS)})


@pytest.fixture
def clients(settings: HubSettings) -> Iterator[dict[str, TestClient]]:
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        settings.database_url, min_size=1, max_size=4, open=False
    )
    with real_apis(settings, pool) as apis:
        _opened_by_lifespan(apis["case state"], pool)
        with TestClient(apis["case state"]) as case_state:
            yield {
                **{name: TestClient(api) for name, api in apis.items()},
                "case state": case_state,
            }


def _known_case(settings: HubSettings, intake: TestClient, **changes: Any) -> uuid.UUID:
    """A case registered at intake and folded into every read model that reads it."""
    answer = intake.post("/cases", json=registration(**changes), headers=HEADERS)
    assert answer.status_code == 201, answer.text
    case_id = answer.json()["case_id"]
    grant = {**GRANT, "command_id": str(uuid.uuid4())}
    granted = intake.post(f"/cases/{case_id}/income-right", json=grant, headers=HEADERS)
    assert granted.status_code == 201, granted.text
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute(
            "SELECT state FROM intake.intake_events WHERE originator_id = %s "
            "ORDER BY originator_version",
            (case_id,),
        ).fetchall()
    envelopes = [decode(case_id.encode(), bytes(row[0])) for row in rows]

    async def fold() -> None:
        async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
            for name in FACTS:
                store = consumer(name).store()
                await store.create_tables(conn)
                await store.apply(conn, envelopes)
            await conn.commit()

    asyncio.run(fold())
    return uuid.UUID(case_id)


def _lines(settings: HubSettings, after: int = 0) -> list[dict[str, Any]]:
    with (
        psycopg.connect(settings.database_url) as conn,
        conn.cursor(row_factory=psycopg.rows.dict_row) as cur,
    ):
        try:
            return cur.execute(
                "SELECT * FROM journal.access WHERE id > %s ORDER BY id", (after,)
            ).fetchall()
        except psycopg.errors.UndefinedTable:
            return []


def _last_id(settings: HubSettings) -> int:
    lines = _lines(settings)
    return int(lines[-1]["id"]) if lines else 0


def _read_routes(clients: dict[str, TestClient]) -> list[tuple[str, str, Any]]:
    """Every keyed GET of every document, but the journal's own."""
    found = []
    for name, client in clients.items():
        document = client.app.openapi()  # type: ignore[attr-defined]
        for path, operations in document["paths"].items():
            operation = operations.get("get")
            if operation is None or not operation.get("security"):
                continue
            if (name, path) not in NOT_JOURNALLED:
                found.append((name, path, operation))
    return found


def _call(
    client: TestClient, path: str, operation: Any, case_id: uuid.UUID, key: str
) -> Any:
    params: dict[str, str] = {}
    for parameter in operation.get("parameters", ()):
        where, name = parameter["in"], parameter["name"]
        if where == "path":
            assert name == "case_id", f"{path}: no sample for the path's {name}"
        elif where == "query" and parameter.get("required"):
            assert name in SAMPLES, f"{path}: add a sample for the query's {name}"
            params[name] = SAMPLES[name]
    url = path.replace("{case_id}", str(case_id))
    return client.get(url, params=params, headers={"X-API-Key": key})


def test_adr_0026_every_read_of_a_case_over_the_api_leaves_one_journal_line_naming_the_client_and_the_case(  # noqa: E501
    settings: HubSettings, clients: dict[str, TestClient]
) -> None:
    case_id = _known_case(settings, clients["intake"])
    routes = _read_routes(clients)
    assert len(routes) >= 14, routes  # every service's reads are walked
    assert sum("{case_id}" in path for _, path, _ in routes) >= 6
    for name, path, operation in routes:
        before = _last_id(settings)
        answer = _call(clients[name], path, operation, case_id, API_KEY)
        client_name = "test-suite"
        if answer.status_code == 403 and "auth.scope" in answer.text:
            # A route of another role (an audit, the dead letters): the key
            # lacking the scope is refused unjournalled; its role's key reads.
            assert _lines(settings, before) == [], path
            key = key_for(path)
            answer = _call(clients[name], path, operation, case_id, key)
            client_name = CLEAR_API_KEYS[key]["client"]
        assert answer.status_code < 500, (path, answer.text)
        lines = _lines(settings, before)
        assert len(lines) == 1, (name, path, lines)
        (line,) = lines
        assert (line["client"], line["service"], line["route"]) == (
            client_name,
            name,
            path,
        )
        assert line["status"] == answer.status_code
        shown = answer.status_code < 300
        assert (line["outcome"] == "shown") == shown, (path, line)
        names = {p["name"] for p in operation.get("parameters", ())}
        if "{case_id}" in path:
            assert line["case_id"] == case_id, path
        else:
            assert line["case_id"] is None, path
        if "{case_id}" in path or names & {"cpas", "cpas_kbo"}:
            assert line["cpas_kbo"] == CPAS_A, (path, line)
        else:  # a read of every CPAS (the dead letters)
            assert line["cpas_kbo"] is None, (path, line)


def test_adr_0026_another_cpas_case_is_answered_as_unknown_and_journalled_as_refused(
    settings: HubSettings, clients: dict[str, TestClient]
) -> None:
    case_id = _known_case(settings, clients["intake"])
    routes = [r for r in _read_routes(clients) if "{case_id}" in r[1]]
    for name, path, operation in routes:
        before = _last_id(settings)
        other = _call(clients[name], path, operation, case_id, "software-b")
        unknown = _call(clients[name], path, operation, uuid.uuid4(), "software-b")
        assert (other.status_code, other.json()) == (
            unknown.status_code,
            unknown.json(),
        ), path
        of_other, of_unknown = _lines(settings, before)
        assert (of_other["outcome"], of_other["cpas_kbo"]) == ("refused", CPAS_A)
        assert of_other["case_id"] == case_id
        assert (of_unknown["outcome"], of_unknown["cpas_kbo"]) == ("not_shown", None)
    # CPAS B's software sees none of it; CPAS A's sees every attempt on its case.
    journal = clients["case state"]
    seen_by_b = journal.get(
        "/access-journal",
        params={"case_id": str(case_id)},
        headers={"X-API-Key": "software-b"},
    )
    assert seen_by_b.status_code == 200, seen_by_b.text
    assert seen_by_b.json() == {"lines": [], "next_after": None}
    seen_by_a = journal.get(
        "/access-journal",
        params={"case_id": str(case_id)},
        headers={"X-API-Key": "software-a"},
    )
    refusals = [x for x in seen_by_a.json()["lines"] if x["outcome"] == "refused"]
    assert len(refusals) == len(routes)
    assert {x["client"] for x in refusals} == {"cpas-b"}


def _read_all(settings: HubSettings, clients: dict[str, TestClient]) -> None:
    """Reads of a case of each CPAS, by the hub's key."""
    case_a = _known_case(settings, clients["intake"])
    case_b = _known_case(settings, clients["intake"], **PERSON_B)
    for case_id in (case_a, case_b):
        for name, path in (("intake", "/cases/{}"), ("case state", "/cases/{}")):
            answer = clients[name].get(path.format(case_id), headers=HEADERS)
            assert answer.status_code == 200, answer.text
    for cpas in (CPAS_A, CPAS_B):
        answer = clients["case state"].get(
            "/cases", params={"cpas_kbo": cpas}, headers=HEADERS
        )
        assert answer.status_code == 200, answer.text


def _journal(clients: dict[str, TestClient], key: str, **params: Any) -> Any:
    return clients["case state"].get(
        "/access-journal", params=params, headers={"X-API-Key": key}
    )


def test_adr_0026_cpas_a_cannot_see_the_journal_lines_of_cpas_b(
    settings: HubSettings, clients: dict[str, TestClient]
) -> None:
    _read_all(settings, clients)
    for key, own, other in (
        ("software-a", CPAS_A, CPAS_B),
        ("software-b", CPAS_B, CPAS_A),
    ):
        page = _journal(clients, key)
        assert page.status_code == 200, page.text
        lines = page.json()["lines"]
        assert len(lines) == 3  # two reads of its case, one list
        assert {line["cpas_kbo"] for line in lines} == {own}
        refused = _journal(clients, key, cpas_kbo=other)
        assert refused.status_code == 403
        assert refused.json()["detail"][0]["type"] == "auth.cpas"
    everything = _journal(clients, API_KEY).json()["lines"]
    assert {line["cpas_kbo"] for line in everything} == {CPAS_A, CPAS_B}


def test_adr_0026_an_auditor_sees_only_the_lines_of_its_remit(
    settings: HubSettings, clients: dict[str, TestClient]
) -> None:
    _read_all(settings, clients)
    page = _journal(clients, "auditor-b")
    assert page.status_code == 200, page.text
    assert {line["cpas_kbo"] for line in page.json()["lines"]} == {CPAS_B}
    outside = _journal(clients, "auditor-b", cpas_kbo=CPAS_A)
    assert outside.status_code == 403
    assert outside.json()["detail"][0]["type"] == "auth.remit"
    both = _journal(clients, AUDITOR_KEY).json()["lines"]
    assert {line["cpas_kbo"] for line in both} == {CPAS_A, CPAS_B}


def test_adr_0026_the_journal_is_read_a_bounded_page_at_a_time(
    settings: HubSettings, clients: dict[str, TestClient]
) -> None:
    _read_all(settings, clients)
    ids: list[int] = []
    after = 0
    while True:
        page = _journal(clients, API_KEY, limit=2, after=after).json()
        assert len(page["lines"]) <= 2
        ids += [line["id"] for line in page["lines"]]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert ids == [line["id"] for line in _lines(settings)]
    assert len(ids) == 6
    too_many = _journal(clients, API_KEY, limit=501)
    assert too_many.status_code == 422
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    assert _journal(clients, API_KEY, since=later.isoformat()).json()["lines"] == []


def test_adr_0026_the_journal_refuses_update_delete_and_truncate(
    settings: HubSettings, clients: dict[str, TestClient]
) -> None:
    _read_all(settings, clients)
    before = _lines(settings)
    for statement in (
        "UPDATE journal.access SET client = 'someone else'",
        "DELETE FROM journal.access",
        "TRUNCATE journal.access",
    ):
        # The database's owner itself: the trigger refuses every role.
        with (
            psycopg.connect(settings.database_url) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute(statement)
    assert _lines(settings) == before


def test_adr_0026_the_journal_holds_no_niss_or_name(
    settings: HubSettings, clients: dict[str, TestClient]
) -> None:
    _read_all(settings, clients)
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute("SELECT a::text FROM journal.access AS a")
        text = "\n".join(row[0] for row in rows.fetchall())
    person_a = registration()
    for person in (person_a, {**person_a, **PERSON_B}):
        for field in ("niss", "family_name", "given_name", "dossier_number"):
            assert person[field] not in text, field


def test_adr_0026_a_read_whose_line_postgresql_refuses_is_answered_503_not_the_case(
    settings: HubSettings, clients: dict[str, TestClient]
) -> None:
    case_id = _known_case(settings, clients["intake"])
    reads = [("intake", f"/cases/{case_id}"), ("case state", f"/cases/{case_id}")]
    for name, path in reads:
        assert clients[name].get(path, headers=HEADERS).status_code == 200
    before = _lines(settings)
    with psycopg.connect(settings.database_url) as conn:  # no line is taken now
        conn.execute(
            "ALTER TABLE journal.access ADD CONSTRAINT closed CHECK (false) NOT VALID"
        )
    for name, path in reads:
        answer = clients[name].get(path, headers=HEADERS)
        assert answer.status_code == 503, answer.text
        assert answer.json()["detail"][0]["type"] == "journal.unavailable"
        assert str(case_id) not in answer.text
    assert _lines(settings) == before
