"""The five APIs as served, over applications no refused request may reach.

For tests of what the APIs declare and refuse: a request that gets past the
checks to the application, the desk or the database fails the test loudly.
"""

from __future__ import annotations

import json
from typing import Any, cast

from fastapi import FastAPI

from services.case_state.service import create_api as case_state_api
from services.common.auth import parse_api_keys
from services.common.health import Readiness, install_health
from services.common.settings import HubSettings
from services.intake.api import create_api as intake_api
from services.partner_gateway.api import create_api as gateway_api
from services.piis.api import create_api as piis_api
from services.placement.api import create_api as placement_api

KEY = "all-scopes"
READER = "reader-only"
LIEGE = "liege-only"
KEYS = parse_api_keys(
    json.dumps(
        {
            KEY: {
                "client": "test",
                "scopes": ["cases:write", "cases:read", "partner:messages"],
            },
            READER: {"client": "auditor", "scopes": ["cases:read"]},
            LIEGE: {
                "client": "liege",
                "scopes": ["cases:read", "partner:messages"],
                "cpas": ["0212345668"],
                "partner": "forem",
            },
        }
    )
)


class Unreachable:
    """Stands for an application, a desk or a pool: reaching it fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a refused request reached the application ({name})")


def five_apis() -> dict[str, FastAPI]:
    """Each API with its health routes, as ``hub serve`` builds it."""
    nothing = cast("Any", Unreachable())
    apis = {
        "intake": intake_api(nothing, KEYS),
        "piis": piis_api(nothing, KEYS),
        "placement": placement_api(nothing, KEYS),
        "partner gateway": gateway_api(nothing, "", KEYS),
        "case state": case_state_api(nothing, KEYS),
    }
    for api in apis.values():
        install_health(api, Readiness(HubSettings(), tuple))
    return apis
