"""Composition root of the PIIS processes: API with its facts consumer; relay."""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client import start_http_server
from psycopg_pool import AsyncConnectionPool

from contracts.registry import SERVICE_TOPICS
from services.common.auth import parse_api_keys
from services.common.consumer import ProjectionStore
from services.common.eventstore import eventstore_env, schema_setup
from services.common.http import serve_until
from services.common.relay import Relay, RelaySpec
from services.common.settings import HubSettings
from services.common.subscriber import ensure_topics, new_broker, subscribe, watch_lag
from services.piis.api import create_api
from services.piis.application import PiisApplication
from services.piis.facts import CaseFactsProjection, PostgresCaseFacts

__all__ = ["RELAY_SPEC", "SCHEMA", "create_application", "serve_api", "serve_relay"]

SCHEMA = "piis"
FACTS_GROUP = "piis-facts"
RELAY_SPEC = RelaySpec(
    service="piis", schema=SCHEMA, app_name="piis", topic=SERVICE_TOPICS["piis"]
)


def create_application(settings: HubSettings) -> PiisApplication:
    """The PIIS application on the configured PostgreSQL."""
    env = eventstore_env(settings.database_url, app_name="piis", schema=SCHEMA)
    with schema_setup(settings.database_url, SCHEMA):
        return PiisApplication(
            env,
            facts=PostgresCaseFacts(settings.database_url, SCHEMA),
            id_secret=settings.id_secret,
        )


async def serve_api(settings: HubSettings, stop: asyncio.Event) -> None:
    """Serve the PIIS API and keep its case facts until ``stop`` is set."""
    app = create_application(settings)
    store: ProjectionStore[Any] = ProjectionStore(CaseFactsProjection(), SCHEMA)
    async with AsyncConnectionPool(
        settings.database_url, min_size=1, max_size=4, open=False
    ) as pool:
        async with pool.connection() as conn:
            await store.create_tables(conn)
        await ensure_topics(settings, SERVICE_TOPICS["intake"])
        broker = new_broker(settings)
        subscribe(
            broker,
            settings,
            pool,
            [store],
            topic=SERVICE_TOPICS["intake"],
            group=FACTS_GROUP,
        )
        await broker.start()
        lag = asyncio.create_task(
            watch_lag(
                settings,
                group=FACTS_GROUP,
                topic=SERVICE_TOPICS["intake"],
                consumer=CaseFactsProjection.name,
                stop=stop,
            )
        )
        try:
            api = create_api(app, parse_api_keys(settings.api_keys))
            await serve_until(api, settings.host, settings.piis_port, stop)
        finally:
            lag.cancel()
            await broker.stop()
            app.close()


async def serve_relay(settings: HubSettings, stop: asyncio.Event) -> None:
    """Relay the PIIS events until ``stop`` is set."""
    create_application(settings).close()
    start_http_server(settings.piis_relay_metrics_port, addr=settings.host)
    await Relay(settings, RELAY_SPEC).run(stop)
