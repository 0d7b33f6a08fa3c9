"""HTTP conventions of the hub's APIs: errors name the field and the rule."""

from __future__ import annotations

import asyncio
import datetime as dt
import zoneinfo
from collections.abc import Mapping
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import make_asgi_app

from contracts.identifiers import IdentifierError
from services.common.application import Outcome
from services.common.auth import ApiClient, install_api_keys
from services.common.errors import ConflictError, DomainError

__all__ = [
    "BRUSSELS",
    "business_time",
    "created",
    "error_body",
    "install_error_handlers",
    "install_rule_errors",
    "serve_until",
    "service_api",
]


R = TypeVar("R")

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
    return {"detail": [{"loc": ["body", field], "msg": message, "type": rule, **extra}]}


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for it
    # The submitted value is left out on purpose: it may be a NISS or a name.
    detail = [
        {
            "loc": list(e.get("loc", ())),
            "msg": e.get("msg", ""),
            "type": e.get("type", ""),
        }
        for e in exc.errors()
    ]
    return JSONResponse(status_code=422, content={"detail": detail})


def _rule_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IdentifierError | DomainError)  # noqa: S101 - registered for it
    code = 409 if isinstance(exc, ConflictError) else 422
    # A conflict may name the record it conflicts with (e.g. the existing case).
    extra = {"case_id": str(exc.case_id)} if hasattr(exc, "case_id") else {}
    return JSONResponse(
        status_code=code, content=error_body(exc.field, exc.rule, str(exc), **extra)
    )


def install_rule_errors(api: FastAPI) -> None:
    """Broken rules answer 422 (409 for a conflict), naming the field and the rule."""
    api.add_exception_handler(IdentifierError, _rule_error)
    api.add_exception_handler(DomainError, _rule_error)


def service_api(title: str, description: str, keys: Mapping[str, ApiClient]) -> FastAPI:
    """A service's FastAPI app: errors naming field and rule, API keys, /metrics."""
    api = FastAPI(title=f"CPAS hub — {title}", version="1", description=description)
    install_error_handlers(api)
    install_rule_errors(api)
    install_api_keys(api, keys)
    api.mount("/metrics", make_asgi_app())
    return api


def install_error_handlers(api: FastAPI) -> None:
    """422 bodies without the submitted values (they may be personal data)."""
    api.add_exception_handler(RequestValidationError, _validation_error)


async def serve_until(api: FastAPI, host: str, port: int, stop: asyncio.Event) -> None:
    """Serve an ASGI app until ``stop`` is set or the server stops by itself."""
    server = uvicorn.Server(
        uvicorn.Config(api, host=host, port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopping.cancel()
    await serving
