"""Composition root of the PIIS processes: API with its consumers; relay."""

from __future__ import annotations

import asyncio

from contracts.registry import SERVICE_TOPICS
from services.common import relay
from services.common.command_service import serve_with_consumers
from services.common.eventstore import eventstore_env, schema_setup
from services.common.keys import stored_keys
from services.common.row_table import RowReader
from services.common.settings import HubSettings
from services.piis.api import create_api
from services.piis.application import PiisApplication
from services.piis.facts import CaseFactsProjection
from services.registry import Applications

__all__ = ["RELAY_SPEC", "SCHEMA", "create_application", "serve_api", "serve_relay"]

SCHEMA = "piis"
RELAY_SPEC = relay.RelaySpec(
    service="piis", schema=SCHEMA, app_name="piis", topic=SERVICE_TOPICS["piis"]
)


def create_application(settings: HubSettings) -> PiisApplication:
    """The PIIS application on the configured PostgreSQL."""
    env = eventstore_env(
        settings.database_url,
        app_name="piis",
        schema=SCHEMA,
        wait_seconds=settings.database_wait_seconds,
        master_keys_file=settings.master_keys_file,
    )
    with schema_setup(settings.database_url, SCHEMA):
        return PiisApplication(
            env,
            facts=RowReader(CaseFactsProjection(), settings.database_url, SCHEMA),
            id_secret=settings.id_secret,
        )


async def serve_api(settings: HubSettings, stop: asyncio.Event) -> None:
    """Serve the PIIS API and run its consumers until ``stop`` is set."""
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
            settings.piis_port,
            process="piis-api",
            apps=Applications(settings, (app,)),
        )
    finally:
        app.close()


async def serve_relay(settings: HubSettings, stop: asyncio.Event) -> None:
    """Relay the PIIS events until ``stop`` is set."""
    create_application(settings).close()
    await relay.serve_relay(
        settings, stop, RELAY_SPEC, settings.piis_relay_metrics_port
    )
