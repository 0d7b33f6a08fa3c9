"""Write the five APIs' OpenAPI documents into docs/openapi/.

``python -m services.openapi_export`` regenerates them (``make schemas``);
``--check`` lists the stale, missing and orphaned files and exits 1 if there
are any. The documents are those the APIs serve at ``/openapi.json``, every
status of every route declared with its body (ADR 0015): an integrator can
generate a client from them without running the hub.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from fastapi import FastAPI

from contracts.export import render, stale_files, write_or_check
from services.case_state.service import create_api as case_state_api
from services.common.auth import ApiClient
from services.common.health import Readiness, install_health
from services.common.settings import HubSettings
from services.intake.api import create_api as intake_api
from services.partner_gateway.api import create_api as gateway_api
from services.piis.api import create_api as piis_api
from services.placement.api import create_api as placement_api

__all__ = ["DOCS_DIR", "FILES", "expected_documents", "served_apis", "stale_documents"]

DOCS_DIR: Final = Path(__file__).resolve().parents[1] / "docs" / "openapi"
FILES: Final = {
    "intake": "intake.json",
    "piis": "piis.json",
    "placement": "placement.json",
    "partner gateway": "partner-gateway.json",
    "case state": "case-state.json",
}
"""Each API's document file, under `DOCS_DIR`."""


def served_apis(backend: Any, keys: Mapping[str, ApiClient]) -> dict[str, FastAPI]:
    """The five APIs, with their health routes, as ``hub serve`` builds them.

    ``backend`` stands for each API's application, desk or pool: building the
    routes reads none of them.
    """
    apis = {
        "intake": intake_api(backend, keys),
        "piis": piis_api(backend, keys),
        "placement": placement_api(backend, keys),
        "partner gateway": gateway_api(backend, "", keys),
        "case state": case_state_api(backend, keys),
    }
    for api in apis.values():
        install_health(api, Readiness(HubSettings(), tuple))
    return apis


def expected_documents() -> dict[Path, str]:
    """Every document file there should be, with its text."""
    # Never served: a key with no scope, so that no "no API keys" warning is told.
    keys = {"openapi-export": ApiClient(client="openapi-export", scopes=frozenset())}
    apis = served_apis(None, keys)
    return {DOCS_DIR / FILES[name]: render(api.openapi()) for name, api in apis.items()}


def _present() -> set[Path]:
    return set(DOCS_DIR.glob("*.json")) if DOCS_DIR.exists() else set()


def stale_documents() -> list[Path]:
    """Files that differ from the APIs, are missing, or belong to none."""
    return stale_files(expected_documents(), _present())


def main(argv: list[str]) -> int:
    """Regenerate the documents, or with ``--check`` report the stale ones."""
    return write_or_check(argv, expected_documents(), _present())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
