"""Composition root of the placement processes: API with its facts consumer; relay."""

from __future__ import annotations

import asyncio

from contracts.registry import SERVICE_TOPICS
from services.common import relay
from services.common.command_service import serve_with_consumers
from services.common.eventstore import eventstore_env, schema_setup
from services.common.keys import stored_keys
from services.common.row_table import RowReader
from services.common.settings import HubSettings
from services.placement.api import create_api
from services.placement.application import PlacementApplication
from services.placement.facts import PlacementFactsProjection
from services.registry import Applications

__all__ = ["RELAY_SPEC", "SCHEMA", "create_application", "serve_api", "serve_relay"]

SCHEMA = "placement"
RELAY_SPEC = relay.RelaySpec(
    service="placement",
    schema=SCHEMA,
    app_name="placement",
    topic=SERVICE_TOPICS["placement"],
)


def create_application(settings: HubSettings) -> PlacementApplication:
    """The placement application on the configured PostgreSQL."""
    env = eventstore_env(
        settings.database_url,
        app_name="placement",
        schema=SCHEMA,
        wait_seconds=settings.database_wait_seconds,
        master_keys_file=settings.master_keys_file,
    )
    with schema_setup(settings.database_url, SCHEMA):
        return PlacementApplication(
            env,
            facts=RowReader(PlacementFactsProjection(), settings.database_url, SCHEMA),
            id_secret=settings.id_secret,
        )


async def serve_api(settings: HubSettings, stop: asyncio.Event) -> None:
    """Serve the placement API and keep its case facts until ``stop`` is set."""
    app = create_application(settings)
    try:
        api = create_api(
            app,
            stored_keys(settings),
            max_request_bytes=settings.max_request_bytes,
        )
        await serve_with_consumers(
            settings,
            stop,
            api,
            settings.placement_port,
            process="placement-api",
            apps=Applications(settings, (app,)),
        )
    finally:
        app.close()


async def serve_relay(settings: HubSettings, stop: asyncio.Event) -> None:
    """Relay the placement events until ``stop`` is set."""
    create_application(settings).close()
    await relay.serve_relay(
        settings, stop, RELAY_SPEC, settings.placement_relay_metrics_port
    )
