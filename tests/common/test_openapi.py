"""Every operation of the five OpenAPI documents declares every status it can answer.

Read from each operation as the document shows it (its security, parameters,
body, method and success status), independently of how `HubAPI` decides it
from the routes: a route added tomorrow is held to the same table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import Body
from pydantic import BaseModel

from services.common.auth import Writer
from services.common.http import service_api
from tests.common.apis import KEYS, five_apis

ERROR = {"$ref": "#/components/schemas/Error"}
Operation = tuple[str, str, str, dict[str, Any]]


def operations() -> Iterator[Operation]:
    for name, api in five_apis().items():
        for path, entries in api.openapi()["paths"].items():
            for method, entry in entries.items():
                yield name, method, path, entry


def needed(method: str, entry: dict[str, Any]) -> set[str]:
    """The statuses the hub's conventions say this operation can answer."""
    parameters = entry.get("parameters", [])
    body = "requestBody" in entry
    wanted = {
        "200": "201" in entry["responses"],
        "401": bool(entry.get("security")),
        "403": bool(entry.get("security")),
        "404": any(p["in"] == "path" for p in parameters),
        "409": method == "post",
        "413": body,
        "422": body or bool(parameters),
        "503": bool(entry.get("security")),
    }
    return {status for status, want in wanted.items() if want}


OPERATIONS = list(operations())


def test_the_five_documents_have_their_operations() -> None:
    assert len(OPERATIONS) > 50
    assert {name for name, *_ in OPERATIONS} == {
        "intake",
        "piis",
        "placement",
        "partner gateway",
        "case state",
    }


@pytest.mark.parametrize(
    ("name", "method", "path", "entry"),
    OPERATIONS,
    ids=[f"{n}: {m.upper()} {p}" for n, m, p, _ in OPERATIONS],
)
def test_every_status_an_operation_can_answer_is_declared_with_its_body(
    name: str, method: str, path: str, entry: dict[str, Any]
) -> None:
    responses = entry["responses"]
    missing = needed(method, entry) - set(responses)
    assert not missing, f"{name}: {method.upper()} {path} lacks {sorted(missing)}"
    for status, response in responses.items():
        if status.startswith("4") or (status == "503" and path != "/ready"):
            assert response["content"] == {"application/json": {"schema": ERROR}}
            assert response["description"]
    if "201" in responses:  # a retry answers what the first call did
        assert responses["200"]["content"] == responses["201"]["content"]


def test_ready_declares_503_with_its_checks() -> None:
    for name, method, path, entry in OPERATIONS:
        if path == "/ready":
            assert "503" in entry["responses"], name
            assert method == "get"


def test_one_error_model_serves_every_refusal() -> None:
    for api in five_apis().values():
        document = api.openapi()
        schemas = document["components"]["schemas"]
        assert "HTTPValidationError" not in schemas  # FastAPI's own, replaced
        error = schemas["Error"]
        assert error["required"] == ["detail"]
        item = schemas["ErrorItem"]
        assert set(item["required"]) == {"loc", "msg", "type"}


def test_no_constraint_is_published_under_its_python_name() -> None:
    """``ge``/``le`` mean nothing to JSON Schema: the bound would be lost."""
    for name, api in five_apis().items():
        text = json.dumps(api.openapi())
        for keyword in ("ge", "le", "gt", "lt"):
            assert f'"{keyword}":' not in text, (name, keyword)


class _Note(BaseModel):
    text: str


def test_a_new_route_is_declared_without_a_word_in_its_decorator() -> None:
    api = service_api("new", "A service written tomorrow.", KEYS)

    @api.post("/things/{thing_id}/notes", status_code=201)
    def add(thing_id: str, note: Annotated[_Note, Body()], client: Writer) -> _Note:
        return note

    @api.get("/open")
    def open_route() -> dict[str, str]:
        return {}

    paths = api.openapi()["paths"]
    added = paths["/things/{thing_id}/notes"]["post"]["responses"]
    assert set(added) == {"200", "201", "401", "403", "404", "409", "413", "422", "503"}
    assert "Retry-After" in added["503"]["headers"]
    assert set(paths["/open"]["get"]["responses"]) == {"200"}
