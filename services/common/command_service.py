"""A process's consumers, as the registry declares them, beside its HTTP API.

Every process that consumes (the case-state process, the PIIS and placement
APIs, the partner gateway) runs through ``serve_with_consumers``: it creates the
tables of the process's consumers (``services/registry.py``), subscribes one
consumer group per topic (``<process>.<service>``) feeding every consumer of
the process that reads it, exports each group's lag, sweeps the dead letters
that resolve by themselves, and serves the API until ``stop``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from psycopg_pool import AsyncConnectionPool
from tenacity import AsyncRetrying, retry_if_exception_type, wait_random_exponential

from contracts.registry import SERVICE_TOPICS
from services.common.consumer import ProjectionStore
from services.common.health import Readiness, install_health
from services.common.http import serve_until
from services.common.settings import HubSettings
from services.common.subscriber import (
    ensure_topics,
    follow_copies,
    new_broker,
    subscribe,
    sweep_dead_letters,
    watch_lag,
)
from services.registry import Applications, consumers_of, group_of

__all__ = ["process_stores", "serve_with_consumers", "subscribe_process"]

log = logging.getLogger(__name__)

Setup = Callable[
    [KafkaBroker, AsyncConnectionPool[Any]], Awaitable[Sequence[Awaitable[None]]]
]


def process_stores(
    process: str, apps: Applications
) -> dict[str, list[ProjectionStore[Any]]]:
    """The stores of a process's consumers, by the service whose topic they read."""
    by_service: dict[str, list[ProjectionStore[Any]]] = {}
    for spec in consumers_of(process):
        store = ProjectionStore(spec.projection(apps), spec.schema)
        for service in spec.services:
            by_service.setdefault(service, []).append(store)
    return by_service


def subscribe_process(
    broker: KafkaBroker,
    settings: HubSettings,
    pool: AsyncConnectionPool[Any],
    process: str,
    stores: Mapping[str, Sequence[ProjectionStore[Any]]],
) -> None:
    """One subscriber per topic the process reads, in its consumer group."""
    for service, group in stores.items():
        subscribe(
            broker,
            settings,
            pool,
            group,
            topic=SERVICE_TOPICS[service],
            group=group_of(process, service),
        )


async def serve_with_consumers(
    settings: HubSettings,
    stop: asyncio.Event,
    api: FastAPI,
    port: int,
    *,
    process: str,
    apps: Applications,
    pool: AsyncConnectionPool[Any] | None = None,
    setup: Setup | None = None,
) -> None:
    """Create the consumers' tables, consume, serve the API; stop them all together.

    ``setup`` may add subscribers to the broker before it starts and return
    background work (e.g. publishers) that runs until ``stop``.
    """
    own_pool = pool is None
    pool = pool or AsyncConnectionPool(
        settings.database_url, min_size=1, max_size=4, open=False
    )
    if own_pool:
        await pool.open()
    try:
        stores = process_stores(process, apps)
        unique = list({id(s): s for group in stores.values() for s in group}.values())
        async with pool.connection() as conn:
            for store in unique:
                await store.create_tables(conn)
        await ensure_topics(settings, *(SERVICE_TOPICS[s] for s in stores))
        broker = new_broker(settings)
        subscribe_process(broker, settings, pool, process, stores)
        background = list(await setup(broker, pool)) if setup else []
        background.append(sweep_dead_letters(pool, unique, stop))
        background.append(follow_copies(settings, broker, stop))
        # Joining the consumer groups takes seconds each: the API answers
        # meanwhile (its commands do not wait for the consumers).
        started = asyncio.Event()
        tasks = [asyncio.ensure_future(_start_broker(broker, started, stop))]
        tasks += [asyncio.ensure_future(work) for work in background]
        for task in tasks:
            task.add_done_callback(_stop_when_failed(stop))
        lags = [
            asyncio.create_task(
                watch_lag(
                    settings,
                    group=group_of(process, service),
                    topic=SERVICE_TOPICS[service],
                    consumer=group_of(process, service),
                    stop=stop,
                )
            )
            for service in stores
        ]
        groups = [group_of(process, service) for service in stores]
        install_health(api, Readiness(settings, lambda: groups, started=started.is_set))
        try:
            await serve_until(api, settings.host, port, stop)
        finally:
            for task in (*lags, *tasks):
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await broker.stop()
    finally:
        if own_pool:
            await pool.close()


async def _start_broker(
    broker: KafkaBroker, started: asyncio.Event, stop: asyncio.Event
) -> None:
    """Start the subscribers, again and again while the broker is away."""
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type(Exception),
        wait=wait_random_exponential(multiplier=0.5, max=10),
        before_sleep=lambda state: log.warning(
            "consumers could not start (attempt %d); retrying", state.attempt_number
        ),
    ):
        with attempt:
            if stop.is_set():
                return
            try:
                await broker.start()
            except Exception:
                await broker.stop()
                raise
    started.set()


def _stop_when_failed(stop: asyncio.Event) -> Callable[[asyncio.Future[Any]], None]:
    """A failed consumer or publisher stops the process (its supervisor restarts it)."""

    def check(task: asyncio.Future[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("a background task failed; stopping", exc_info=task.exception())
            stop.set()

    return check
