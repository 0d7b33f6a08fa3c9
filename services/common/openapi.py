"""OpenAPI documents that declare every status a route can answer, with its body.

An integrator generates a client from the documents, so each operation lists
what its route can really answer, decided here once from what the route is
(ADR 0015), never by hand in a decorator:

* A route that reads the API key: 401 (``auth.missing_key``,
  ``auth.unknown_key``) and 403 (``auth.scope``, ``auth.cpas``,
  ``auth.partner``).
* A path parameter: 404 (nothing recorded under that path).
* A command (POST): 409 (``command_id.reused``, ``case.concurrent_writes``…).
* A body: 413 (``body.too_large``).
* A body or parameters: 422 (a field breaks a rule).
* 201: also 200 with the same body, a retry of a command already applied.
* A route that reads the API key serves what PostgreSQL holds (a health
  route has no key and declares its own answers): 503 (``service.unavailable``)
  with ``Retry-After`` when the database is unreachable.

Every refusal is an `Error` (`services/common/refusals.py`), one named
component. A route's own ``responses=`` may give a status a more precise
description; the body stays the `Error`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any, Final

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from services.common.auth import API_KEY_HEADER
from services.common.refusals import Error

__all__ = ["HubAPI", "declared_statuses"]

_ERROR_REF: Final = {"$ref": "#/components/schemas/Error"}
_DESCRIPTIONS: Final[dict[int, str]] = {
    200: "A retry of a command already applied: the same answer, nothing stored",
    401: "No API key, or not one the hub knows (auth.missing_key, auth.unknown_key)",
    403: "The key lacks the scope, or acts for another CPAS or partner, or "
    "audits another CPAS (auth.scope, auth.cpas, auth.partner, auth.remit)",
    404: "Nothing recorded under this path (e.g. case.unknown)",
    409: "The command conflicts with what is recorded (e.g. command_id.reused, "
    "case.concurrent_writes)",
    413: "The body is larger than the hub takes (body.too_large)",
    422: "A field breaks a rule: loc names it, type the rule, msg explains",
    503: "The hub's database is unreachable (service.unavailable): nothing may "
    "have been stored; send the same request (the same command id) again after "
    "Retry-After seconds",
}
_RETRY_AFTER: Final = {
    "Retry-After": {
        "description": "Seconds to wait before sending the same request again",
        "schema": {"type": "integer", "minimum": 1},
    }
}
# FastAPI's own validation models, replaced by `Error` wherever they were used.
_FASTAPI_ERRORS: Final = ("HTTPValidationError", "ValidationError")


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def declared_statuses(route: APIRoute | RouteContext) -> list[int]:
    """The statuses a route can answer beyond its success, from what it reads."""
    dependants = list(_dependants(route.dependant))
    keyed = any(d.call is API_KEY_HEADER for d in dependants)
    in_path = any(d.path_params for d in dependants)
    parameters = in_path or any(
        d.query_params or d.header_params or d.cookie_params for d in dependants
    )
    body = route.body_field is not None or "requestBody" in (route.openapi_extra or {})
    wanted = {
        200: route.status_code == 201,  # noqa: PLR2004 - the status itself
        401: keyed,
        403: keyed,
        404: in_path,
        409: "POST" in (route.methods or ()),
        413: body,
        422: body or parameters,
        503: keyed,
    }
    return [status for status, needed in wanted.items() if needed]


def _declare(route: APIRoute | RouteContext, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    for status in declared_statuses(route):
        own = route.responses.get(status) or route.responses.get(str(status)) or {}
        if status == 200:  # noqa: PLR2004 - a retry answers what the first did
            content = copy.deepcopy(responses[str(route.status_code)].get("content"))
        else:
            content = {"application/json": {"schema": dict(_ERROR_REF)}}
        entry = {"description": own.get("description", _DESCRIPTIONS[status])}
        if content:
            entry["content"] = content
        if status == 503:  # noqa: PLR2004 - the status itself
            entry["headers"] = copy.deepcopy(_RETRY_AFTER)
        responses[str(status)] = entry


class HubAPI(FastAPI):
    """A FastAPI app whose OpenAPI document declares every answer of every route."""

    def openapi(self) -> dict[str, Any]:
        """The document, each operation's refusals declared (built once)."""
        if self.openapi_schema:
            return self.openapi_schema
        document = super().openapi()
        # Included routers' routes too, as FastAPI itself renders them.
        for route in iter_route_contexts(self.routes):
            if not isinstance(route.original_route, APIRoute):
                continue
            if not route.include_in_schema:
                continue
            operations = document["paths"][route.path_format]
            for method in route.methods or ():
                _declare(route, operations[method.lower()])
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        error = Error.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(error.pop("$defs", {}))
        schemas["Error"] = error
        for name in _FASTAPI_ERRORS:  # HTTPValidationError names ValidationError
            if f'"#/components/schemas/{name}"' not in json.dumps(document):
                schemas.pop(name, None)
        self.openapi_schema = document
        return document
