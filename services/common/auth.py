"""API keys: each client (CPAS software, partner, auditor) is known and scoped.

A key grants scopes (``cases:write``, ``cases:read``) and, for a CPAS's own
software, the CPAS numbers it may act for; a request outside them is refused
with 403 before anything is read or written.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Mapping
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ApiClient",
    "PartnerSender",
    "Reader",
    "Scope",
    "Writer",
    "install_api_keys",
    "parse_api_keys",
]

log = logging.getLogger(__name__)

Scope = Literal["cases:write", "cases:read", "partner:messages"]

_HEADER = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="The client's API key."
)


class ApiClient(BaseModel):
    """Who calls, and what they may do."""

    model_config = ConfigDict(frozen=True)

    client: str = Field(description="Name of the client, for logs and metrics.")
    scopes: frozenset[Scope] = Field(description="What the client may do.")
    cpas: frozenset[str] | None = Field(
        default=None, description="KBO numbers the client may act for; null: any."
    )
    partner: str | None = Field(
        default=None,
        description="For a partner's system: the partner code it speaks for.",
    )

    def check_partner(self, code: str) -> None:
        """Refuse a partner's system speaking for another partner."""
        if self.partner is not None and self.partner != code:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"partner: client {self.client} does not speak for {code}",
            )

    def check_cpas(self, cpas_kbo: str) -> None:
        """Refuse a CPAS the client does not act for."""
        if self.cpas is not None and cpas_kbo not in self.cpas:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"cpas_kbo: client {self.client} does not act for this CPAS",
            )


def parse_api_keys(raw: str) -> dict[str, ApiClient]:
    """``{"<key>": {"client": ..., "scopes": [...], "cpas": [...]}}`` from settings."""
    if not raw.strip():
        return {}
    decoded = json.loads(raw)
    return {key: ApiClient.model_validate(value) for key, value in decoded.items()}


def install_api_keys(api: FastAPI, keys: Mapping[str, ApiClient]) -> None:
    """Give an API its clients' keys (read by the Reader/Writer dependencies)."""
    if not keys:
        log.warning("no API keys configured (HUB_API_KEYS): every request is refused")
    api.state.api_keys = dict(keys)


def _authenticator(scope: Scope) -> Callable[[Request, str | None], ApiClient]:
    def authenticate(
        request: Request, api_key: Annotated[str | None, Security(_HEADER)]
    ) -> ApiClient:
        keys: Mapping[str, ApiClient] = getattr(request.app.state, "api_keys", {})
        client = None
        for key, candidate in keys.items():
            if api_key is not None and hmac.compare_digest(key, api_key):
                client = candidate
        if client is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="X-API-Key: missing or unknown API key",
                headers={"WWW-Authenticate": "X-API-Key"},
            )
        if scope not in client.scopes:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"X-API-Key: client {client.client} lacks the scope {scope}",
            )
        return client

    return authenticate


Writer = Annotated[ApiClient, Depends(_authenticator("cases:write"))]
Reader = Annotated[ApiClient, Depends(_authenticator("cases:read"))]
PartnerSender = Annotated[ApiClient, Depends(_authenticator("partner:messages"))]
