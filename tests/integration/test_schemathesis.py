"""The five APIs answer what their OpenAPI documents say, for whatever is sent.

Schemathesis drives every operation of every document (so a new route cannot
escape) on the real PostgreSQL: its coverage phase (each boundary, each wrong
type or format, deterministic), then hypothesis with data that fits the
schema and data that does not, on an unknown case and on one registered and
known to every service, with the test key, and once each with no key, an empty
one, a wrong one, one not in ASCII and one over the header's bound (and the
partner gateway's message route every partner's golden messages). Every
answer must be declared with its status, body and content type, never a 5xx,
and whatever the schema refuses the route refuses. Then, PostgreSQL refusing
every connection, a request reaching it answers the declared 503. The budget
is fixed (`EXAMPLES` per run, about two minutes in all) and derandomized: CI
sends the same requests every run (ADR 0015).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, get_args

import psycopg
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from psycopg_pool import AsyncConnectionPool
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from services.case_state.service import PROCESS as CASE_STATE
from services.common.consumer import decode
from services.common.health import Readiness, install_health
from services.common.settings import HubSettings
from services.partner_gateway.canonical import InboundKind
from services.partner_gateway.registry import PARTNERS
from services.registry import consumer, consumers_of
from tests.integration.harness import API_KEY, AUDITOR_KEY, HEADERS, key_for
from tests.integration.load import registration_body
from tests.integration.served import real_apis
from tests.integration.test_intake_http import NISS
from tests.integration.test_intake_http import body as registration
from tests.partner_gateway.samples import CASES as GOLDEN
from tests.partner_gateway.samples import golden_path

pytestmark = pytest.mark.integration

EXAMPLES = 12
# Cases per operation sent while PostgreSQL refuses every connection.
EXAMPLES_DATABASE_AWAY = 3
CONNECT_TIMEOUT = 1
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    negative_data_rejection,
    content_type_conformance,
]
# Every route with a key is also called once with each of these: 401.
BAD_KEYS = {
    "no key": None,
    "an empty key": "",
    "a wrong key": "wrong",
    "a key not in ASCII": "é",
    "a key over the bound": "k" * 300,
}
# The read models and services that learn a registration from the intake topic.
FACTS = (
    "case-state",
    "statistics",
    "piis-facts",
    "placement-facts",
    "partner-outbound",
)


def _opened_by_lifespan(api: FastAPI, pool: AsyncConnectionPool[Any]) -> None:
    """The case-state API's pool opened by the app's lifespan (on its loop)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await pool.open()
        async with pool.connection() as conn:
            for spec in consumers_of(CASE_STATE):
                await spec.store().create_tables(conn)
        yield
        await pool.close()

    api.router.lifespan_context = lifespan


@pytest.fixture
def apis(
    hub_settings: HubSettings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, FastAPI]]:
    # A database away is told in seconds (the 503 test).
    hub_settings = hub_settings.model_copy(
        update={"database_wait_seconds": CONNECT_TIMEOUT}
    )
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        hub_settings.database_url,
        min_size=1,
        max_size=4,
        open=False,
        timeout=CONNECT_TIMEOUT,
    )
    with real_apis(hub_settings, pool) as apis:
        _opened_by_lifespan(apis["case state"], pool)
        for api in apis.values():  # as every served API has them
            install_health(api, Readiness(hub_settings, tuple))
        yield apis
        asgi.shutdown_lifespans()


async def _known_case(settings: HubSettings, api: FastAPI) -> str:
    """A case registered at intake and told to every read model and service.

    Commands on it reach the domain rules, not only the schema's.
    """
    with TestClient(api, headers=HEADERS) as client:
        answer = client.post("/cases", json=registration())
    assert answer.status_code == 201, answer.text
    case_id: str = answer.json()["case_id"]
    async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
        rows = await conn.execute(
            "SELECT state FROM intake.intake_events WHERE originator_id = %s "
            "ORDER BY originator_version",
            (case_id,),
        )
        envelopes = [decode(case_id.encode(), row[0]) for row in await rows.fetchall()]
        assert all(e.event is not None for e in envelopes)
        for name in FACTS:
            store = consumer(name).store()
            await store.create_tables(conn)
            await store.apply(conn, envelopes)
        await conn.commit()
    return case_id


def _send(case: Any, key: str | None) -> Any:
    """Send a case with this key (or none), check the answer and return it."""
    case.headers = {
        name: value
        for name, value in (case.headers or {}).items()
        if name.lower() != "x-api-key"
    }
    if key is not None:
        case.headers["X-API-Key"] = key
    return case.call_and_validate(checks=CHECKS)


@dataclass(frozen=True)
class Fuzz:
    """Hypothesis drawing cases of one operation in one mode, with one key."""

    label: str
    mode: GenerationMode
    key: str | None
    examples: int
    path_parameters: dict[str, str] | None = None

    def __call__(self, operation: Any) -> None:
        """Run the budget (derandomized: the same cases every run)."""
        strategy = operation.as_strategy(
            generation_mode=self.mode, path_parameters=self.path_parameters
        )

        @settings(
            max_examples=self.examples,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def run(case: Any) -> None:
            _send(case, self.key)

        run()


def coverage(operation: Any) -> None:
    """Schemathesis's coverage phase, deterministic: edges, wrong types, formats.

    Both modes: each boundary of each parameter and field, and values of
    another type or format (``known_at=0``, ``as_of=true``), a required one
    missing, a property the schema does not allow.
    """
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    schema = operation.schema
    for case in CoverageGenerator(
        operation=operation,
        generation_modes=modes,
        generation_config=schema.config.generation,
        auth_storage=None,
        override=Override(),
        feedback=FeedbackSources(),
    ):
        _send(case, key_for(operation.path))


def golden_messages(operation: Any) -> None:
    """Every partner's golden messages, about the known person.

    The body is declared as an object only (its schemas are per partner and
    message type): generated ones are all refused, these are taken in (Le
    Forem's: the known person lives in Liège) or refused by a domain rule
    (the other partners' regions).
    """
    person = {"niss": NISS, "cpas_kbo": registration()["cpas_kbo"]}
    for code, language in GOLDEN:
        translator = PARTNERS[code]
        for kind in get_args(InboundKind):
            raw = golden_path(code, "inbound", kind, language).read_bytes()
            about = translator.parse(raw).model_copy(update=person)
            case = operation.Case(
                path_parameters={"code": code},
                body=json.loads(translator.render(about)),
                media_type="application/json",
            )
            answer = _send(case, key_for("/partners/", code))
            assert (answer.status_code == 202) == (code == "forem"), answer.text


def audit_reports(operation: Any) -> None:
    """The auditor's key on a CPAS of its remit: each format, as declared."""
    cpas = registration_body(0)["cpas_kbo"]
    for form in ("json", "csv", "html"):
        case = operation.Case(
            query={"cpas": cpas, "as_of": "2026-11-30", "format": form}
        )
        answer = _send(case, AUDITOR_KEY)
        assert answer.status_code == 200, answer.text


def _runs(
    entry: dict[str, Any], path: str, case_id: str
) -> Iterator[tuple[str, Callable[[Any], None]]]:
    """What each operation is run with: its document says which runs apply."""
    positive, negative = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
    yield "coverage", coverage
    if path == "/partners/{code}/messages":
        yield "golden messages", golden_messages
    yield "positive", Fuzz("valid key", positive, key_for(path), EXAMPLES)
    if path.startswith("/audit/"):  # read with an auditor's key only (ADR 0024)
        yield "an auditor's reports", audit_reports
        yield "an auditor", Fuzz("auditor", positive, AUDITOR_KEY, EXAMPLES)
    if entry.get("parameters") or entry.get("requestBody"):
        yield "negative", Fuzz("valid key", negative, key_for(path), EXAMPLES)
    if "{case_id}" in path:
        known = {"case_id": case_id}
        yield "a known case", Fuzz("known", positive, API_KEY, EXAMPLES, known)
    if entry.get("security"):
        for label, key in BAD_KEYS.items():
            yield label, Fuzz(label, positive, key, 1)


@pytest.mark.parametrize(
    "name", ["intake", "piis", "placement", "partner gateway", "case state"]
)
def test_every_operation_answers_what_its_document_declares(
    apis: dict[str, FastAPI], hub_settings: HubSettings, name: str
) -> None:
    case_id = asyncio.run(_known_case(hub_settings, apis["intake"]))
    schema = schemathesis.openapi.from_asgi("/openapi.json", apis[name])
    schema.config.generation.update(with_security_parameters=False)
    failures: list[str] = []
    runs = 0
    for path, entries in apis[name].openapi()["paths"].items():
        for method, entry in entries.items():
            operation = schema[path][method.upper()]
            for label, run in _runs(entry, path, case_id):
                runs += 1
                try:
                    run(operation)
                except Exception as error:  # every run is reported
                    failures.append(f"{operation.label}, {label}: {error}")
    assert runs > 0
    assert not failures, "\n\n".join(failures)


def _refuse_connections(settings: HubSettings) -> None:
    """PostgreSQL refuses every connection to the hub's database, open ones closed."""
    name = psycopg.conninfo.conninfo_to_dict(settings.database_url)["dbname"]
    admin = psycopg.conninfo.make_conninfo(settings.database_url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(
                psycopg.sql.Identifier(str(name))
            )
        )
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )


@pytest.mark.parametrize(
    "name", ["intake", "piis", "placement", "partner gateway", "case state"]
)
def test_a_database_away_answers_the_declared_503(
    apis: dict[str, FastAPI], hub_settings: HubSettings, name: str
) -> None:
    """PostgreSQL away: a request that reaches it answers 503 as declared.

    The operations with a key, in the document's order, one positive case
    each with the test key, until one reaches the database (the library
    retries ten times first: seconds each): each answer is declared with its
    body (a 503 ``service.unavailable`` with ``Retry-After``), and one is 503.
    """
    schema = schemathesis.openapi.from_asgi("/openapi.json", apis[name])
    schema.config.generation.update(with_security_parameters=False)
    keyed = [
        schema[path][method.upper()]
        for path, entries in apis[name].openapi()["paths"].items()
        for method, entry in entries.items()
        if entry.get("security")
    ]
    _refuse_connections(hub_settings)
    answers: dict[str, int] = {}

    def send(case: Any) -> None:
        key = key_for(case.operation.path)
        case.headers = {**(case.headers or {}), "X-API-Key": key}
        # The library retries ten times, a second each: more than the default 10 s.
        response = case.call_and_validate(checks=CHECKS[1:], timeout=60)
        answers[case.operation.label] = response.status_code
        if response.status_code >= 500:
            assert response.status_code == 503, response.text
            headers = {k.lower(): v for k, v in response.headers.items()}
            assert headers["retry-after"] == ["2"]
            assert response.json()["detail"][0]["type"] == "service.unavailable"

    for operation in keyed:
        strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
        settings(
            max_examples=1,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )(given(case=strategy)(send))()
        if 503 in answers.values():
            break
    assert 503 in answers.values(), answers
