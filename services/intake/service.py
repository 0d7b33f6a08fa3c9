"""Composition root of the intake processes: the API and the relay."""

from __future__ import annotations

import asyncio
import functools

from contracts.registry import SERVICE_TOPICS
from services.common import relay
from services.common.command_service import serve_with_consumers
from services.common.eventstore import eventstore_env, schema_setup
from services.common.keys import stored_keys
from services.common.settings import HubSettings
from services.erasure import erase_person
from services.intake.api import create_api
from services.intake.application import IntakeApplication
from services.intake.parameters import default_table
from services.registry import Applications

__all__ = ["RELAY_SPEC", "SCHEMA", "create_application", "serve_api", "serve_relay"]

SCHEMA = "intake"
RELAY_SPEC = relay.RelaySpec(
    service="intake", schema=SCHEMA, app_name="intake", topic=SERVICE_TOPICS["intake"]
)


def create_application(settings: HubSettings) -> IntakeApplication:
    """The intake application on the configured PostgreSQL."""
    env = eventstore_env(
        settings.database_url,
        app_name="intake",
        schema=SCHEMA,
        wait_seconds=settings.database_wait_seconds,
        master_keys_file=settings.master_keys_file,
    )
    with schema_setup(settings.database_url, SCHEMA):
        return IntakeApplication(
            env,
            id_secret=settings.id_secret,
            amounts=default_table(settings.ri_amounts_file),
        )


async def serve_api(settings: HubSettings, stop: asyncio.Event) -> None:
    """Serve the intake API and run its consumers until ``stop`` is set."""
    app = create_application(settings)
    try:
        api = create_api(
            app,
            stored_keys(settings),
            max_request_bytes=settings.max_request_bytes,
            eraser=functools.partial(erase_person, settings, app=app),
        )
        await serve_with_consumers(
            settings,
            stop,
            api,
            settings.intake_port,
            process="intake-api",
            apps=Applications(settings, (app,)),
        )
    finally:
        app.close()


async def serve_relay(settings: HubSettings, stop: asyncio.Event) -> None:
    """Relay the intake events until ``stop`` is set."""
    # The relay may start before the API: make sure the store exists to follow.
    create_application(settings).close()
    await relay.serve_relay(settings, stop, RELAY_SPEC, settings.relay_metrics_port)
