"""The process of a command service: its HTTP API beside the consumers it needs.

A command service (PIIS, placement) keeps its own tables of what other
services' events told it (facts, policies); this runs those consumers, their
lag probes and the API in one process until ``stop``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from psycopg_pool import AsyncConnectionPool

from contracts.registry import SERVICE_TOPICS
from services.common.consumer import ProjectionStore
from services.common.http import serve_until
from services.common.settings import HubSettings
from services.common.subscriber import ensure_topics, new_broker, subscribe, watch_lag

__all__ = ["Subscription", "serve_with_consumers"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Subscription:
    """Stores fed from one producing service's topic by one consumer group."""

    service: str
    group: str
    stores: Sequence[ProjectionStore[Any]]

    @property
    def topic(self) -> str:
        """The producing service's topic."""
        return SERVICE_TOPICS[self.service]


Setup = Callable[
    [KafkaBroker, AsyncConnectionPool[Any]], Awaitable[Sequence[Awaitable[None]]]
]


async def serve_with_consumers(
    settings: HubSettings,
    stop: asyncio.Event,
    api: FastAPI,
    port: int,
    subscriptions: Sequence[Subscription],
    *,
    setup: Setup | None = None,
) -> None:
    """Create the stores' tables, consume, serve the API; stop them all together.

    ``setup`` may add subscribers to the broker before it starts and return
    background work (e.g. publishers) that runs until ``stop``.
    """
    async with AsyncConnectionPool(
        settings.database_url, min_size=1, max_size=4, open=False
    ) as pool:
        async with pool.connection() as conn:
            for subscription in subscriptions:
                for store in subscription.stores:
                    await store.create_tables(conn)
        await ensure_topics(settings, *(s.topic for s in subscriptions))
        broker = new_broker(settings)
        for subscription in subscriptions:
            subscribe(
                broker,
                settings,
                pool,
                subscription.stores,
                topic=subscription.topic,
                group=subscription.group,
            )
        background = list(await setup(broker, pool)) if setup else []
        # Joining the consumer groups takes seconds each: the API answers
        # meanwhile (its commands do not wait for the consumers).
        tasks = [asyncio.ensure_future(broker.start())]
        tasks += [asyncio.ensure_future(work) for work in background]
        for task in tasks:
            task.add_done_callback(_stop_when_failed(stop))
        lags = [
            asyncio.create_task(
                watch_lag(
                    settings,
                    group=s.group,
                    topic=s.topic,
                    consumer="+".join(store.projection.name for store in s.stores),
                    stop=stop,
                )
            )
            for s in subscriptions
        ]
        try:
            await serve_until(api, settings.host, port, stop)
        finally:
            for task in (*lags, *tasks):
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await broker.stop()


def _stop_when_failed(stop: asyncio.Event) -> Callable[[asyncio.Future[Any]], None]:
    """A failed consumer or publisher stops the process (its supervisor restarts it)."""

    def check(task: asyncio.Future[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("a background task failed; stopping", exc_info=task.exception())
            stop.set()

    return check
