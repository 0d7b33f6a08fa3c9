"""The five APIs as served, over applications no refused request may reach.

For tests of what the APIs declare and refuse: a request that gets past the
checks to the application, the desk or the database fails the test loudly.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI

from services.common.auth import parse_api_keys
from services.openapi_export import served_apis

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
    return served_apis(Unreachable(), KEYS)
