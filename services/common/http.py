"""HTTP conventions of the hub's APIs: errors name the field and the rule.

Every refusal, whatever its status, is one `Error` body
(``services/common/refusals.py``), and every status a route can answer is
declared in its OpenAPI entry (``services/common/openapi.py``, ADR 0015).
Every API refuses, before a route reads it, a request body larger than
``max_request_bytes`` (413 ``body.too_large``, whether it announces its length
or streams in chunks) and a JSON body nested deeper than `MAX_JSON_DEPTH`
(422 ``json.too_deep``): see `BoundedBody` and ADR 0010.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import zoneinfo
from collections.abc import Mapping
from typing import Any, TypeVar

import psycopg
import uvicorn
from eventsourcing import persistence
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.identifiers import IdentifierError
from contracts.limits import MAX_JSON_DEPTH, json_too_deep
from contracts.text import safe_loc
from services.common.application import Outcome
from services.common.auth import ApiClient, install_api_keys
from services.common.errors import ConflictError, DomainError
from services.common.openapi import HubAPI
from services.common.refusals import detail
from services.common.settings import MIB
from services.common.vault import PersonErasedError

__all__ = [
    "BRUSSELS",
    "BoundedBody",
    "business_time",
    "created",
    "error_body",
    "install_error_handlers",
    "install_metrics",
    "install_rule_errors",
    "serve_until",
    "service_api",
]


R = TypeVar("R")

log = logging.getLogger(__name__)

BRUSSELS = zoneinfo.ZoneInfo("Europe/Brussels")


def business_time(day: dt.date) -> dt.datetime:
    """A business date as the start of that day in Brussels."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=BRUSSELS)


def created(outcome: Outcome[R], response: Response) -> R:
    """A creating command's answer: 201, or 200 for a retry of one already handled."""
    if not outcome.stored:
        response.status_code = 200
    return outcome.result


def error_body(field: str, rule: str, message: str, **extra: Any) -> dict[str, Any]:
    """One error in FastAPI's ``detail`` shape, with the rule as ``type``."""
    return detail(["body", field], rule, message, **extra)


# Starlette's own refusals (a path no route has, a method it does not take).
_ROUTING_RULES = {404: "route.unknown", 405: "method.not_allowed"}


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    """An HTTPException in the `Error` shape (a `Refused` is in it already)."""
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for it
    if isinstance(exc.__cause__, UnicodeDecodeError):  # FastAPI's 400 for a body
        at = f"byte {exc.__cause__.start}"
        refusal = detail(["body"], "json.not_utf8", f"body: JSON is UTF-8 ({at})")
        return JSONResponse(refusal, status_code=422)
    if isinstance(exc.detail, list):
        content = {"detail": exc.detail}
    else:
        rule = _ROUTING_RULES.get(exc.status_code, f"http.{exc.status_code}")
        content = detail([], rule, str(exc.detail))
    return JSONResponse(content, status_code=exc.status_code, headers=exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for it
    # The submitted value is left out on purpose: it may be a NISS or a name.
    errors = [
        {
            "loc": safe_loc(e.get("loc", ())),
            "msg": e.get("msg", ""),
            "type": e.get("type", ""),
        }
        for e in exc.errors()
    ]
    return JSONResponse(status_code=422, content={"detail": errors})


def _rule_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IdentifierError | DomainError)  # noqa: S101 - registered for it
    code = 409 if isinstance(exc, ConflictError) else 422
    # A conflict may name the record it conflicts with (e.g. the existing case).
    extra = {"case_id": str(exc.case_id)} if hasattr(exc, "case_id") else {}
    return JSONResponse(
        status_code=code, content=error_body(exc.field, exc.rule, str(exc), **extra)
    )


def _erased(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PersonErasedError)  # noqa: S101 - registered for it
    return JSONResponse(
        status_code=410,
        content=detail(
            ["path", "case_id"], "case.erased", "case_id: the person's file is erased"
        ),
    )


def install_rule_errors(api: FastAPI) -> None:
    """Broken rules answer 422 (409 for a conflict), naming the field and the rule.

    PostgreSQL unreachable answers 503 with ``Retry-After``: the command may
    or may not be stored (a connection lost during the commit), and the same
    command (the same id) may be sent again; it is stored once.
    """
    api.add_exception_handler(IdentifierError, _rule_error)
    api.add_exception_handler(DomainError, _rule_error)
    # A command that would seal new personal data of an erased person.
    api.add_exception_handler(PersonErasedError, _erased)
    api.add_exception_handler(psycopg.OperationalError, _unavailable)
    api.add_exception_handler(PoolTimeout, _unavailable)
    # The event store's own names for the same failures.
    api.add_exception_handler(persistence.OperationalError, _unavailable)
    api.add_exception_handler(persistence.InterfaceError, _unavailable)


def _unavailable(_: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %s", type(exc).__name__)
    return JSONResponse(
        status_code=503,
        content=error_body(
            "database",
            "service.unavailable",
            "the hub's database is unreachable, so the command may not have been "
            "stored; send the same command (the same command id) again shortly: "
            "it is stored once",
        ),
        headers={"Retry-After": "2"},
    )


def service_api(
    title: str,
    description: str,
    keys: Mapping[str, ApiClient],
    *,
    max_request_bytes: int = MIB,
) -> FastAPI:
    """A service's FastAPI app: bounded bodies, errors naming field and rule, API keys.

    Also /metrics.
    """
    api = HubAPI(title=f"CPAS hub — {title}", version="1", description=description)
    api.add_middleware(BoundedBody, max_bytes=max_request_bytes)
    install_error_handlers(api)
    install_rule_errors(api)
    install_api_keys(api, keys)
    install_metrics(api)
    return api


def install_metrics(app: FastAPI) -> None:
    """/metrics answered at that path itself (a mount would redirect to /metrics/)."""

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def install_error_handlers(api: FastAPI) -> None:
    """422 bodies without the submitted values (they may be personal data).

    And every HTTPException in the same shape.
    """
    api.add_exception_handler(RequestValidationError, _validation_error)
    api.add_exception_handler(HTTPException, _http_error)


class BoundedBody:
    """ASGI middleware: a request body is at most ``max_bytes`` and nests little.

    The body is read here, chunk by chunk, and the answer is 413 as soon as the
    announced length or the bytes received pass the cap (nothing more is read),
    or 422 when its JSON nests deeper than `MAX_JSON_DEPTH`; otherwise the
    route gets the body as sent.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the body, then pass the request on (or answer for the route)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = b""
        if _announced_length(scope) <= self.max_bytes:
            read = await self._read(receive)
            if read is None:  # the client left: nobody to answer
                return
            body = read
        if len(body) > self.max_bytes or _announced_length(scope) > self.max_bytes:
            too_large = f"a request body is at most {self.max_bytes} bytes"
            refusal = _body_refused(413, "body.too_large", too_large)
        elif json_too_deep(body):
            too_deep = f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
            refusal = _body_refused(422, "json.too_deep", too_deep)
        else:
            await self.app(scope, _replay(body, receive), send)
            return
        await refusal(scope, receive, send)

    async def _read(self, receive: Receive) -> bytes | None:
        """The body, stopping once it passes the cap; None if the client left."""
        chunks: list[bytes] = []
        size = 0
        while size <= self.max_bytes:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk: bytes = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _body_refused(status: int, rule: str, message: str) -> JSONResponse:
    """The answer for a body refused whole, before any route reads it."""
    content = detail(["body"], rule, f"body: {message}")
    return JSONResponse(content, status_code=status)


def _announced_length(scope: Scope) -> int:
    """The Content-Length of a request (0 when it streams in chunks)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body already read, then the rest."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


# Longer than a client pool keeps an idle connection (httpx: 5 s). A server
# that closes an idle connection first races the client's next request on it:
# the client sees a reset for a request the server never read.
KEEP_ALIVE_SECONDS = 75


async def serve_until(api: FastAPI, host: str, port: int, stop: asyncio.Event) -> None:
    """Serve an ASGI app until ``stop`` is set or the server stops by itself."""
    server = uvicorn.Server(
        uvicorn.Config(
            api,
            host=host,
            port=port,
            log_level="warning",
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
    )
    serving = asyncio.create_task(server.serve())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopping.cancel()
    await serving
