"""Every route of every OpenAPI document the hub serves answers its role only.

The routes are those of the served documents (`services.openapi_export`),
not a list kept by hand: a route added tomorrow is tried too. Each refuses a
call without a key (401), with a revoked key (401, the answer of a key never
issued), and with the key of every role the route is not for (403): a
partner's key reads no case, an auditor's writes nothing, an operator's reads
no case, a CPAS's software posts no partner message and reads no dead letter
or audit. On every case route of intake, PIIS and placement, a case of
another CPAS gets the status and the body of an unknown case (the case
state's, over PostgreSQL: ``tests/integration/test_case_state_as_of.py``).

Nothing here reaches an application: a refused request that got past its key
to the stand-in backend fails the test (`tests.common.apis.Unreachable`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from services.common.auth import ApiClient, Role, clients_by_hash, hash_key
from services.common.keys import StoredKeys
from services.openapi_export import served_apis
from tests.common.apis import (
    AUDITOR,
    CLEAR_KEYS,
    KEY,
    LIEGE,
    OPERATOR,
    PARTNER,
    Unreachable,
)
from tests.common.test_other_cpas_is_unknown import HEADERS as OTHER
from tests.common.test_other_cpas_is_unknown import UNKNOWN, _intake, _piis, _placement
from tests.integration.test_bounded_input import valid

# The role of a key that each route lets in, whatever the route is.
ROLE_KEYS: dict[str, str] = {
    "cpas": KEY,
    "cpas of one CPAS": LIEGE,
    "partner": PARTNER,
    "auditor": AUDITOR,
    "operator": OPERATOR,
}
# A key of each role, revoked once the APIs are built.
REVOKED: dict[Role, str] = {
    "cpas": "revoked-cpas-key",
    "partner": "revoked-partner-key",
    "auditor": "revoked-auditor-key",
    "operator": "revoked-operator-key",
}
_REVOKED_CLIENTS: dict[str, dict[str, Any]] = {
    REVOKED["cpas"]: {"client": "old-cpas", "scopes": ["cases:write", "cases:read"]},
    REVOKED["partner"]: {
        "client": "old-forem",
        "scopes": ["partner:messages"],
        "partner": "forem",
    },
    REVOKED["auditor"]: {
        "client": "old-auditor",
        "scopes": ["audit:read"],
        "remit": ["0212345668"],
    },
    REVOKED["operator"]: {"client": "old-operator", "scopes": ["operations"]},
}
NEVER_ISSUED = "a-key-the-hub-never-issued"
UNKEYED = {"/health", "/ready"}
"""Routes without a key: liveness and readiness, for the orchestrator."""


class Clock:
    """A clock the test moves (no sleeping, no timing)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        """The time it says."""
        return self.now


class Served:
    """The five APIs over one keys table the test revokes keys in."""

    def __init__(self) -> None:
        self.table: dict[str, ApiClient] = clients_by_hash(
            {**CLEAR_KEYS, **_REVOKED_CLIENTS}
        )
        self.clock = Clock()
        self.keys = StoredKeys(lambda: self.table, max_age=2.0, clock=self.clock)
        self.apis: dict[str, FastAPI] = served_apis(Unreachable(), self.keys)

    def revoke(self, key: str) -> None:
        """Revoke ``key`` and let the cache window pass."""
        del self.table[hash_key(key)]
        self.clock.now += 2.0


@pytest.fixture(scope="module")
def served() -> Served:
    hub = Served()
    for key in REVOKED.values():
        hub.revoke(key)
    return hub


def _scopes(dependant: Dependant) -> frozenset[str]:
    """The scopes the route's key dependency lets in (empty: no key asked)."""
    found: frozenset[str] = getattr(dependant.call, "scopes", frozenset())
    for sub in dependant.dependencies:
        found |= _scopes(sub)
    return found


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """The API routes, those of included routers too (none has a prefix)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # FastAPI's included router
            yield from _api_routes(route.original_router.routes)


def _operations(apis: dict[str, FastAPI]) -> Iterator[tuple[str, str, str, APIRoute]]:
    """(API, method, path, route) for every operation of every document."""
    for name, api in apis.items():
        documented = api.openapi()["paths"]
        routes = {
            (method, route.path): route
            for route in _api_routes(api.routes)
            for method in route.methods or ()
        }
        for path, operations in documented.items():
            for method in operations:
                yield name, method.upper(), path, routes[(method.upper(), path)]


def _role_of(method: str, path: str) -> set[str]:
    """The roles the route is for, by the role model (not read from the code)."""
    if path.startswith("/audit/"):
        return {"auditor"}
    if path == "/partners/{code}/messages":
        return {"partner"}
    if path == "/dead-letters":
        return {"operator", "partner"}
    if path == "/erasures":
        return {"operator"}
    if path == "/access-journal":
        return {"cpas", "cpas of one CPAS", "auditor"}
    return {"cpas", "cpas of one CPAS"}


def _url(path: str) -> str:
    return re.sub(
        r"\{(\w+)\}",
        lambda m: "forem" if m.group(1) == "code" else str(uuid.UUID(int=42)),
        path,
    )


def _call(api: FastAPI, method: str, path: str, key: str | None) -> Any:
    headers = {} if key is None else {"X-API-Key": key}
    with TestClient(api) as client:
        return client.request(method, _url(path), headers=headers, json={})


def _all() -> list[tuple[str, str, str]]:
    return [(n, m, p) for n, m, p, _ in _operations(Served().apis)]


OPERATIONS = _all()
KEYED = [op for op in OPERATIONS if op[2] not in UNKEYED]


def test_adr_0025_the_documents_list_every_role_s_routes() -> None:
    paths = {path for _, _, path in OPERATIONS}
    assert {"/partners/{code}/messages", "/dead-letters", "/audit/report"} <= paths
    assert len({name for name, _, _ in OPERATIONS}) == len(Served().apis)
    assert paths >= UNKEYED


@pytest.mark.parametrize(("name", "method", "path"), OPERATIONS)
def test_adr_0025_every_route_asks_a_key_of_its_role(
    served: Served, name: str, method: str, path: str
) -> None:
    routes = {(m, p): r for _, m, p, r in _operations({name: served.apis[name]})}
    scopes = _scopes(routes[(method, path)].dependant)
    if path in UNKEYED:
        assert not scopes
        return
    for role, key in ROLE_KEYS.items():
        client = served.table[hash_key(key)]
        lets_in = bool(scopes & client.scopes)
        assert lets_in == (role in _role_of(method, path)), (role, scopes)
    if method != "GET" and path != "/erasures":  # an operator erases, no more
        assert not scopes & {"audit:read", "operations", "cases:read"}


@pytest.mark.parametrize(("name", "method", "path"), KEYED)
def test_adr_0025_every_route_refuses_a_call_without_a_key(
    served: Served, name: str, method: str, path: str
) -> None:
    answer = _call(served.apis[name], method, path, None)
    assert answer.status_code == 401, answer.text
    assert answer.json()["detail"][0]["type"] == "auth.missing_key"


@pytest.mark.parametrize(("name", "method", "path"), KEYED)
def test_adr_0025_every_route_refuses_a_revoked_key_as_an_unknown_one(
    served: Served, name: str, method: str, path: str
) -> None:
    api = served.apis[name]
    never = _call(api, method, path, NEVER_ISSUED)
    assert never.status_code == 401, never.text
    for role, key in REVOKED.items():
        if role in _role_of(method, path):  # a key that would have been let in
            revoked = _call(api, method, path, key)
            assert revoked.status_code == 401, revoked.text
            assert revoked.json() == never.json()


@pytest.mark.parametrize(("name", "method", "path"), KEYED)
def test_adr_0025_every_route_refuses_each_role_outside_its_scope(
    served: Served, name: str, method: str, path: str
) -> None:
    for role, key in ROLE_KEYS.items():
        if role in _role_of(method, path):
            continue
        answer = _call(served.apis[name], method, path, key)
        assert answer.status_code == 403, (role, answer.text)
        assert answer.json()["detail"][0]["type"] == "auth.scope", role


CASE_SERVICES = {"intake": _intake, "piis": _piis, "placement": _placement}
VALID_KBO = "0212345668"


def _with_valid_kbos(value: Any) -> Any:
    """A generated body with real KBO numbers (their checksum is a rule)."""
    if isinstance(value, dict):
        return {
            k: VALID_KBO if k.endswith("_kbo") else _with_valid_kbos(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_with_valid_kbos(v) for v in value]
    return value


def _case_operations() -> list[tuple[str, str, str]]:
    return [
        (name, method, path)
        for name, method, path in OPERATIONS
        if name in CASE_SERVICES and "{case_id}" in path
    ]


@pytest.mark.parametrize(("name", "method", "path"), _case_operations())
def test_adr_0025_on_every_case_route_another_cpas_s_case_is_an_unknown_case(
    name: str, method: str, path: str
) -> None:
    api, case_id = CASE_SERVICES[name]()
    document = api.openapi()
    components = document.get("components", {}).get("schemas", {})
    operation = document["paths"][path][method.lower()]
    parameters = {
        p["name"]: valid(p["schema"], components)
        for p in operation.get("parameters", ())
        if p["in"] == "path" or p.get("required")
    }
    content = operation.get("requestBody", {}).get("content", {})
    body = None
    if "application/json" in content:
        schema = content["application/json"]["schema"]
        body = _with_valid_kbos(valid(schema, components))

    def ask(case: uuid.UUID) -> Any:
        url, query = path, {}
        for key, value in {**parameters, "case_id": case}.items():
            if f"{{{key}}}" in url:
                url = url.replace(f"{{{key}}}", str(value))
            else:
                query[key] = value
        with TestClient(api) as client:
            return client.request(method, url, headers=OTHER, json=body, params=query)

    other, unknown = ask(case_id), ask(UNKNOWN)
    # The route reached its case check: its own answer for a case it does not know.
    assert unknown.json()["detail"][0]["type"] == "case.unknown", unknown.text
    assert other.status_code == unknown.status_code, other.text
    assert other.json() == unknown.json()
