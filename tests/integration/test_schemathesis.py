"""The five APIs answer what their OpenAPI documents say, for whatever is sent.

Schemathesis drives every operation of every document (so a new route cannot
escape) on the real PostgreSQL: its coverage phase (each boundary, each wrong
type or format, deterministic), then hypothesis with data that fits the
schema and data that does not, on an unknown case and on one registered and
known to every service, with the test key, and once each with no key, an empty
one, a wrong one, one not in ASCII and one over the header's bound. Every
answer must be declared with its status, body and content type, never a 5xx,
and whatever the schema refuses the route refuses. The budget is fixed
(`EXAMPLES` per run) and derandomized: CI sends the same requests every run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

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
from services.case_state.service import create_api as case_state_api
from services.common.auth import parse_api_keys
from services.common.consumer import decode
from services.common.health import Readiness, install_health
from services.common.settings import HubSettings
from services.intake import service as intake
from services.intake.api import create_api as intake_api
from services.partner_gateway import service as gateway
from services.partner_gateway.api import create_api as gateway_api
from services.piis import service as piis
from services.piis.api import create_api as piis_api
from services.placement import service as placement
from services.placement.api import create_api as placement_api
from services.registry import consumer, consumers_of
from tests.integration.harness import API_KEY, HEADERS
from tests.integration.test_intake_http import body as registration

pytestmark = pytest.mark.integration

EXAMPLES = 12
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


def _case_state(settings: HubSettings) -> FastAPI:
    """The case-state API, its pool opened by the app's lifespan (on its loop)."""
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        settings.database_url, min_size=1, max_size=4, open=False
    )
    api = case_state_api(pool, parse_api_keys(settings.api_keys))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await pool.open()
        async with pool.connection() as conn:
            for spec in consumers_of(CASE_STATE):
                await spec.store().create_tables(conn)
        yield
        await pool.close()

    api.router.lifespan_context = lifespan
    return api


@pytest.fixture
def apis(hub_settings: HubSettings) -> Iterator[dict[str, FastAPI]]:
    keys = parse_api_keys(hub_settings.api_keys)
    intake_app = intake.create_application(hub_settings)
    piis_app = piis.create_application(hub_settings)
    placement_app = placement.create_application(hub_settings)
    gateway_app = gateway.create_application(hub_settings)
    desk = gateway.create_desk(hub_settings, gateway_app)
    apis = {
        "intake": intake_api(intake_app, keys),
        "piis": piis_api(piis_app, keys),
        "placement": placement_api(placement_app, keys),
        "partner gateway": gateway_api(desk, hub_settings.database_url, keys),
        "case state": _case_state(hub_settings),
    }
    for api in apis.values():  # as every served API has them
        install_health(api, Readiness(hub_settings, tuple))
    yield apis
    asgi.shutdown_lifespans()
    for app in (intake_app, piis_app, placement_app, gateway_app):
        app.close()


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


def _send(case: Any, key: str | None) -> None:
    """Send a case with this key (or none) and check the answer."""
    case.headers = {
        name: value
        for name, value in (case.headers or {}).items()
        if name.lower() != "x-api-key"
    }
    if key is not None:
        case.headers["X-API-Key"] = key
    case.call_and_validate(checks=CHECKS)


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
        _send(case, API_KEY)


def _runs(
    entry: dict[str, Any], path: str, case_id: str
) -> Iterator[tuple[str, Callable[[Any], None]]]:
    """What each operation is run with: its document says which runs apply."""
    positive, negative = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
    yield "coverage", coverage
    yield "positive", Fuzz("valid key", positive, API_KEY, EXAMPLES)
    if entry.get("parameters") or entry.get("requestBody"):
        yield "negative", Fuzz("valid key", negative, API_KEY, EXAMPLES)
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
