"""Health of a hub process: alive (``/health``) and ready (``/ready``).

Ready means PostgreSQL and the broker answer and the process's backlog (its
consumer groups' lag, or its relay's events not yet acknowledged) is under
``HUB_READY_MAX_LAG``. Every process serves both, an API beside its routes, a
relay on its metrics port; docker-compose's healthchecks ask ``/ready``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

import psycopg
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from services.common.kafka import client_security
from services.common.settings import HubSettings

__all__ = ["LAGS", "Readiness", "install_health", "record_lag"]

# The latest backlog of each consumer group or relay of this process.
LAGS: dict[str, float] = {}
_CACHE_SECONDS = 1.0
_TIMEOUT_SECONDS = 3.0


def record_lag(name: str, value: float) -> None:
    """Remember a backlog for the readiness check (and its metric beside it)."""
    LAGS[name] = value


class Alive(BaseModel):
    """The process answers."""

    status: str = Field(description="Always 'alive'.")


class Ready(BaseModel):
    """Whether the process can do its work, and each check's finding."""

    ready: bool = Field(description="Every check passed.")
    checks: dict[str, str] = Field(
        description="postgres, broker, lag (and consumers while they start): "
        "'ok' or why not."
    )


class Readiness:
    """The checks of one process, each run at most once a second."""

    def __init__(
        self,
        settings: HubSettings,
        backlog: Callable[[], Iterable[str]] = lambda: LAGS,
        *,
        started: Callable[[], bool] = lambda: True,
    ) -> None:
        self._settings = settings
        self._backlog = backlog
        self._started = started
        self._last: tuple[float, dict[str, str]] | None = None
        self._lock = asyncio.Lock()

    async def checks(self) -> dict[str, str]:
        """Each check's finding: "ok" or why not."""
        async with self._lock:
            now = time.monotonic()
            if self._last is not None and now - self._last[0] < _CACHE_SECONDS:
                return self._last[1]
            postgres, broker = await asyncio.gather(self._postgres(), self._broker())
            found = {"postgres": postgres, "broker": broker, "lag": self._lag()}
            if not self._started():
                found["consumers"] = "starting (joining their groups)"
            self._last = (time.monotonic(), found)
            return found

    async def _postgres(self) -> str:
        try:
            async with asyncio.timeout(_TIMEOUT_SECONDS):
                conn = await psycopg.AsyncConnection.connect(
                    self._settings.database_url, connect_timeout=2
                )
                async with conn:
                    await conn.execute("SELECT 1")
        except (OSError, TimeoutError, psycopg.Error) as exc:
            return f"unreachable ({type(exc).__name__})"
        return "ok"

    async def _broker(self) -> str:
        client = AIOKafkaAdminClient(
            bootstrap_servers=self._settings.kafka_bootstrap_servers,
            request_timeout_ms=int(_TIMEOUT_SECONDS * 1000),
            **client_security(self._settings),
        )
        try:
            async with asyncio.timeout(_TIMEOUT_SECONDS):
                await client.start()
                await client.describe_cluster()
        except Exception as exc:  # noqa: BLE001 - any failure means not reachable
            return f"unreachable ({type(exc).__name__})"
        finally:
            try:
                async with asyncio.timeout(_TIMEOUT_SECONDS):
                    await client.close()
            except Exception:  # noqa: BLE001, S110 - closing a failed client
                pass
        return "ok"

    def _lag(self) -> str:
        bound = self._settings.ready_max_lag
        behind = {name: LAGS[name] for name in self._backlog() if name in LAGS}
        over = sorted(name for name, lag in behind.items() if lag > bound)
        if over:
            return f"over {bound}: {', '.join(over)}"
        return "ok"


def install_health(api: FastAPI, readiness: Readiness) -> None:
    """``GET /health`` and ``GET /ready`` on an app."""

    @api.get(
        "/health",
        response_model=Alive,
        summary="The process is alive",
        tags=["operations"],
    )
    async def health() -> Alive:
        return Alive(status="alive")

    @api.get(
        "/ready",
        response_model=Ready,
        summary="PostgreSQL and the broker answer and the backlog is under its bound",
        tags=["operations"],
        responses={503: {"model": Ready, "description": "Not ready: see checks"}},
    )
    async def ready() -> Any:
        checks = await readiness.checks()
        ok = all(value == "ok" for value in checks.values())
        body = Ready(ready=ok, checks=checks).model_dump()
        return JSONResponse(body, status_code=200 if ok else 503)
