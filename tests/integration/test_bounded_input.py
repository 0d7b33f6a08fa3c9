"""Bad input is refused on every route and nothing is stored; big events still travel.

The routes and fields come from the five APIs' OpenAPI documents: a NUL in
any text of any request body, query or path parameter answers 422 naming that
field, so a new route or field cannot escape. The largest event validation
allows of every type goes through the real broker with the hub's producer.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from aiokafka import AIOKafkaConsumer
from eventsourcing.persistence import StoredEvent
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg_pool import AsyncConnectionPool

from contracts.intake import BilanCompletedV1
from contracts.registry import EVENT_TYPES
from services.common.consumer import decode
from services.common.kafka import BrokerAdmin, make_producer
from services.common.settings import HubSettings
from services.intake import service as intake
from tests.contracts.largest import largest_event
from tests.integration.harness import (
    HEADERS,
    PARTNER_HEADERS,
    count,
    key_for,
    stored_events,
)
from tests.integration.served import real_apis
from tests.integration.test_intake_http import body as registration

pytestmark = pytest.mark.integration

STORES = (
    "intake.intake_events",
    "piis.piis_events",
    "placement.placement_events",
    "partners.partners_events",
    "partner_messages.dead_letters",
)
# Values that satisfy the patterns the APIs publish (KBO, NISS, postal code).
CANDIDATES = ("x", "0212345668", "85073003328", "4000", "2026-03")
Path = tuple[Any, ...]


def stored(settings: HubSettings) -> int:
    return sum(count(settings, f"SELECT count(*) FROM {table}") for table in STORES)


@pytest.fixture
def apis(hub_settings: HubSettings) -> Iterator[dict[str, FastAPI]]:
    # Never opened: no request that fails validation reaches a route, and one
    # that would fails loudly.
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        hub_settings.database_url, open=False
    )
    with real_apis(hub_settings, pool) as apis:
        yield apis


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def valid(schema: dict[str, Any], components: dict[str, Any]) -> Any:  # noqa: PLR0911
    """A value the schema accepts, every optional field present."""
    schema = _resolve(schema, components)
    if "anyOf" in schema:
        choices = [c for c in schema["anyOf"] if c.get("type") != "null"]
        return valid(choices[0], components)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        return {n: valid(p, components) for n, p in schema["properties"].items()}
    if kind == "object":
        return {"work": valid(schema.get("additionalProperties", {}), components)}
    if kind == "array":
        return [valid(schema["items"], components)] * max(1, schema.get("minItems", 0))
    if kind == "string":
        return _string(schema)
    if kind in {"integer", "number"}:
        return max(1, schema.get("minimum", 1))
    return False


def _string(schema: dict[str, Any]) -> str:
    formats = {
        "date": "2026-03-02",
        "date-time": "2026-03-02T09:30:00+00:00",
        "uuid": str(uuid.UUID(int=7)),
    }
    if schema.get("format") in formats:
        return str(formats[schema["format"]])
    pattern = re.compile(schema.get("pattern", ".*"))
    for candidate in CANDIDATES:
        text: str = candidate * max(1, schema.get("minLength", 1))
        if pattern.search(text) and len(text) <= schema.get("maxLength", len(text)):
            return text
    raise AssertionError(f"no sample value for {schema}")


def texts(
    schema: dict[str, Any], value: Any, components: dict[str, Any], path: Path = ()
) -> Iterator[Path]:
    """The path of every text in a valid value; ``(..., key, None)`` for a map's key."""
    schema = _resolve(schema, components)
    if "anyOf" in schema:
        schema = next(c for c in schema["anyOf"] if c.get("type") != "null")
    if isinstance(value, str):
        yield path
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from texts(schema["items"], item, components, (*path, i))
    elif isinstance(value, dict) and "properties" in schema:
        for name, item in value.items():
            yield from texts(
                schema["properties"][name], item, components, (*path, name)
            )
    elif isinstance(value, dict) and "additionalProperties" in schema:
        for key, item in value.items():
            yield (*path, key, None)
            values = schema["additionalProperties"]
            yield from texts(values, item, components, (*path, key))
    # An object of any shape (a partner's message, read by its own parser,
    # tests/partner_gateway/) has no text of its own to test here.


def with_nul(value: Any, path: tuple[Any, ...]) -> Any:
    changed = copy.deepcopy(value)
    *parents, last = path
    if last is None:  # a map's key
        *parents, key = parents
        holder = changed
        for part in parents:
            holder = holder[part]
        holder[f"{key}\x00"] = holder.pop(key)
        return changed
    holder = changed
    for part in parents:
        holder = holder[part]
    holder[last] = f"{holder[last]}\x00"
    return changed


def _operations(api: FastAPI) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for route, methods in api.openapi()["paths"].items():
        for method, operation in methods.items():
            yield route, method, operation


def _requests(api: FastAPI) -> Iterator[Request]:
    """Every request with one NUL in one text, with where that text is."""
    components = api.openapi().get("components", {}).get("schemas", {})
    for route, method, operation in _operations(api):
        params = {p["name"]: p for p in operation.get("parameters", ())}
        values = {n: valid(p["schema"], components) for n, p in params.items()}
        content = operation.get("requestBody", {}).get("content", {})
        body, schema = None, {}
        if "application/json" in content:
            schema = content["application/json"]["schema"]
            body = valid(schema, components)
        in_header = tuple(n for n, p in params.items() if p["in"] == "header")
        for name, param in params.items():
            if isinstance(values[name], str):
                bad = {**values, name: f"{values[name]}\x00"}
                yield Request(method, route, [param["in"], name], bad, body, in_header)
        for path in texts(schema, body, components):
            loc = ["body", *path]
            if path[-1] is None:  # a map's key: masked in the answer
                loc = [*loc[:-2], "(key)", "[key]"]
            yield Request(method, route, loc, values, with_nul(body, path), in_header)


@dataclass(frozen=True)
class Request:
    """One request an API must refuse, and the location its error must name."""

    method: str
    route: str
    loc: list[Any]
    params: dict[str, Any]
    body: Any
    in_header: tuple[str, ...] = ()

    def send(self, client: TestClient) -> Any:
        """Send it: path parameters in the URL (percent-encoded), header
        parameters as headers, others as query."""
        in_path = set(re.findall(r"{(\w+)}", self.route))
        url = self.route
        for name in in_path:
            url = url.replace(f"{{{name}}}", quote(str(self.params[name]), safe=""))
        query = {
            k: v
            for k, v in self.params.items()
            if k not in in_path and k not in self.in_header
        }
        # Each route with a key of its role (ADR 0024, ADR 0025).
        headers = {"X-API-Key": key_for(self.route)}
        headers |= {
            k: v for k in self.in_header if isinstance(v := self.params[k], str)
        }
        return client.request(
            self.method, url, params=query, json=self.body, headers=headers or None
        )


def test_a_nul_in_any_text_of_any_route_is_refused_naming_that_field(
    apis: dict[str, FastAPI], hub_settings: HubSettings
) -> None:
    checked = 0
    for name, api in apis.items():
        with TestClient(api, headers=HEADERS) as client:
            for request in _requests(api):
                answer = request.send(client)
                what = f"{name}: {request.method.upper()} {request.route} {request.loc}"
                assert answer.status_code == 422, f"{what}: {answer.text}"
                locs = [e["loc"] for e in answer.json()["detail"]]
                # The field itself; a list holding it may add that it is short
                # of the items that validated (pydantic counts only those).
                assert request.loc in locs, f"{what}: {locs}"
                assert all(request.loc[: len(loc)] == loc for loc in locs), what
                checked += 1
    assert checked > 100  # every API has text fields
    assert stored(hub_settings) == 0


def test_a_free_text_with_a_nul_is_refused_by_the_hub_rule(
    apis: dict[str, FastAPI],
) -> None:
    with TestClient(apis["piis"], headers=HEADERS) as client:
        answer = client.post(
            f"/cases/{uuid.uuid4()}/piis-exemption",
            json={
                "command_id": str(uuid.uuid4()),
                "ground": "health",
                "motivation": "Treatment\x00 until May",
                "decided_on": "2026-03-02",
            },
        )
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": [
            {
                "loc": ["body", "motivation"],
                "msg": "contains a control character (U+0000); prose allows only "
                "tab, line feed and carriage return",
                "type": "text.control_character",
            }
        ]
    }


def _bilan(**changes: Any) -> dict[str, Any]:
    return {
        "command_id": str(uuid.uuid4()),
        "completed_on": "2026-11-20",
        "author": "sw-1",
        "orientation": "training",
        **changes,
    }


OVER_LIMITS = [
    pytest.param({"needs": ["x" * 2_000_000]}, 413, "body.too_large", id="2 MB need"),
    pytest.param({"needs": ["x" * 1001]}, 422, "text.too_long", id="long need"),
    pytest.param({"needs": ["x"] * 31}, 422, "list.too_long", id="31 needs"),
    pytest.param({"author": "a" * 65}, 422, "text.too_long", id="long author"),
    pytest.param({"author": "sw\n1"}, 422, "text.control_character", id="2 lines"),
    pytest.param(
        {"baseline_scores": {f"d{n}": 1 for n in range(31)}},
        422,
        "map.too_long",
        id="31 scores",
    ),
    pytest.param(
        {
            "needs": [
                [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
            ]
        },
        422,
        "json.too_deep",
        id="deep JSON",
    ),
]


@pytest.mark.parametrize(("changes", "status", "rule"), OVER_LIMITS)
def test_an_over_limit_bilan_is_refused_and_nothing_stored(
    apis: dict[str, FastAPI],
    hub_settings: HubSettings,
    changes: dict[str, Any],
    status: int,
    rule: str,
) -> None:
    with TestClient(apis["intake"], headers=HEADERS) as client:
        case_id = client.post("/cases", json=registration()).json()["case_id"]
        before = stored_events(hub_settings)
        answer = client.post(f"/cases/{case_id}/bilans", json=_bilan(**changes))
        assert (answer.status_code, answer.json()["detail"][0]["type"]) == (
            status,
            rule,
        )
        assert stored_events(hub_settings) == before == 2
        accepted = client.post(f"/cases/{case_id}/bilans", json=_bilan())
        assert accepted.status_code == 201


def test_a_name_with_a_nul_is_refused_and_never_reaches_postgresql(
    apis: dict[str, FastAPI], hub_settings: HubSettings
) -> None:
    with TestClient(apis["intake"], headers=HEADERS) as client:
        answer = client.post("/cases", json=registration(family_name="Du\x00mont"))
        chunked = client.post(
            "/cases",
            content=(b"x" * 65536 for _ in range(17)),  # no Content-Length
            headers={"Content-Type": "application/json"},
        )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "family_name"]
    assert "Du" not in answer.text
    assert (chunked.status_code, chunked.json()["detail"][0]["type"]) == (
        413,
        "body.too_large",
    )
    assert stored_events(hub_settings) == 0


def test_a_partner_message_over_the_cap_is_refused_by_the_shared_limit(
    apis: dict[str, FastAPI], hub_settings: HubSettings
) -> None:
    big = json.dumps({"resume": "x" * (1024 * 1024)}).encode()
    with TestClient(apis["partner gateway"], headers=PARTNER_HEADERS["forem"]) as c:
        answer = c.post("/partners/forem/messages", content=big)
    assert answer.status_code == 413
    assert answer.json() == {
        "detail": [
            {
                "loc": ["body"],
                "msg": "body: a request body is at most 1048576 bytes",
                "type": "body.too_large",
            }
        ]
    }
    assert stored(hub_settings) == 0


def test_a_stored_bilan_over_today_s_limits_still_loads_its_case(
    apis: dict[str, FastAPI], hub_settings: HubSettings
) -> None:
    """History stays readable; the same bytes arriving on a topic are parked."""
    with TestClient(apis["intake"], headers=HEADERS) as client:
        case_id = uuid.UUID(
            client.post("/cases", json=registration()).json()["case_id"]
        )
    app = intake.create_application(hub_settings)
    try:
        case = app.get_beneficiary(case_id)
        registered = case.registration
        assert registered is not None
        old = BilanCompletedV1.model_construct(
            **{
                **registered.model_dump(
                    include={"case_id", "cpas_kbo", "correlation_id", "occurred_at"}
                ),
                "event_id": uuid.uuid4(),
                "causation_id": uuid.uuid4(),
                "stream_id": case_id,
                "stream_version": case.version + 1,
                "assessment_id": uuid.uuid4(),
                "completed_on": dt.date(2025, 6, 1),
                "author": "sw-1",
                "needs": ("x" * 2_000_000,),  # stored before the limits existed
                "strengths": (),
                "obstacles": (),
                "instrument": "ZRM",
                "baseline_scores": {},
                "orientation": "training",
            }
        )
        state = old.model_dump_json(exclude={"recorded_at"}).encode()
        app.recorder.insert_events(
            [StoredEvent(case_id, case.version + 1, old.event_type, state)]
        )
        fresh = intake.create_application(hub_settings)
        try:
            loaded = fresh.get_beneficiary(case_id)
            assert (len(loaded.bilans), loaded.last_bilan_on) == (
                1,
                dt.date(2025, 6, 1),
            )
            assert loaded.version == case.version + 1
        finally:
            fresh.close()
    finally:
        app.close()
    on_topic = decode(str(case_id).encode(), state)
    assert on_topic.event is None
    assert on_topic.error == "needs.0: text.too_long"


async def _through_the_broker(settings: HubSettings) -> dict[str, bytes]:
    topic = settings.topic(f"largest-{uuid.uuid4().hex[:8]}")
    admin = BrokerAdmin(settings)
    await admin.start()
    await admin.ensure_topics([topic])
    await admin.close()
    sent = {t: largest_event(t)[0].to_json_bytes() for t in sorted(EVENT_TYPES)}
    producer = make_producer(settings)
    await producer.start()
    try:
        for event_type, value in sent.items():
            await producer.send_and_wait(topic, value, key=event_type.encode())
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=f"largest-{uuid.uuid4().hex[:8]}",
    )
    await consumer.start()
    received: dict[str, bytes] = {}
    try:
        while len(received) < len(sent):
            batches = await consumer.getmany(timeout_ms=2000)
            for records in batches.values():
                for record in records:
                    received[(record.key or b"").decode()] = record.value or b""
    finally:
        await consumer.stop()
    return {t: received[t] for t in sent} | {"": b"".join(sent.values())}


def test_the_largest_event_of_every_type_travels_through_the_broker(
    hub_settings: HubSettings,
) -> None:
    received = asyncio.run(
        asyncio.wait_for(_through_the_broker(hub_settings), timeout=120)
    )
    sent = received.pop("")
    assert b"".join(received.values()) == sent
    for event_type, value in received.items():
        decoded = decode(b"k", value)
        assert decoded.error is None, event_type
        assert decoded.event == largest_event(event_type)[0]
