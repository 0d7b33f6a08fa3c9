"""The five APIs as served, over applications no refused request may reach.

For tests of what the APIs declare and refuse: a request that gets past the
checks to the application, the desk or the database fails the test loudly.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from services.common.auth import clients_by_hash
from services.openapi_export import served_apis

# One key of each role (ADR 0025), the API knowing their hashes only.
KEY = "cpas-software-of-every-cpas"
READER = "reader-only"
LIEGE = "liege-only"
PARTNER = "forem-system"
OPERATOR = "hub-operator"
AUDITOR = "auditor-of-liege"
LIEGE_KBO = "0212345668"
CLEAR_KEYS: dict[str, dict[str, Any]] = {
    KEY: {"client": "test", "scopes": ["cases:write", "cases:read"]},
    READER: {"client": "reader", "scopes": ["cases:read"]},
    LIEGE: {
        "client": "liege",
        "scopes": ["cases:write", "cases:read"],
        "cpas": [LIEGE_KBO],
    },
    PARTNER: {"client": "forem", "scopes": ["partner:messages"], "partner": "forem"},
    OPERATOR: {"client": "operator", "scopes": ["operations"]},
    AUDITOR: {
        "client": "federal-inspection",
        "scopes": ["audit:read"],
        "remit": [LIEGE_KBO],
    },
}
KEYS = clients_by_hash(CLEAR_KEYS)


class Unreachable:
    """Stands for an application, a desk or a pool: reaching it fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a refused request reached the application ({name})")


def five_apis() -> dict[str, FastAPI]:
    """Each API with its health routes, as ``hub serve`` builds it."""
    return served_apis(Unreachable(), KEYS)
