"""The five APIs over real applications on a test's database."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from services.case_state.service import create_api as case_state_api
from services.common.auth import parse_api_keys
from services.common.settings import HubSettings
from services.erasure import erase_person
from services.intake import service as intake
from services.intake.api import create_api as intake_api
from services.partner_gateway import service as gateway
from services.partner_gateway.api import create_api as gateway_api
from services.piis import service as piis
from services.piis.api import create_api as piis_api
from services.placement import service as placement
from services.placement.api import create_api as placement_api

__all__ = ["real_apis"]


@contextmanager
def real_apis(
    settings: HubSettings, pool: AsyncConnectionPool[Any]
) -> Iterator[dict[str, FastAPI]]:
    """Intake, PIIS, placement and the gateway over their applications (closed
    after), the case state over ``pool``; the settings' API keys."""
    keys = parse_api_keys(settings.api_keys)
    intake_app = intake.create_application(settings)
    piis_app = piis.create_application(settings)
    placement_app = placement.create_application(settings)
    gateway_app = gateway.create_application(settings)
    desk = gateway.create_desk(settings, gateway_app)
    try:
        yield {
            "intake": intake_api(
                intake_app,
                keys,
                # The operator's erasure, as `hub serve intake-api` has it.
                eraser=functools.partial(erase_person, settings, app=intake_app),
            ),
            "piis": piis_api(piis_app, keys),
            "placement": placement_api(placement_app, keys),
            "partner gateway": gateway_api(desk, settings.database_url, keys),
            "case state": case_state_api(pool, keys),
        }
    finally:
        for app in (intake_app, piis_app, placement_app, gateway_app):
            app.close()
