"""API keys: each client (CPAS software, partner, auditor) is known and scoped.

A key grants scopes (``cases:write``, ``cases:read``) and, for a CPAS's own
software, the CPAS numbers it may act for; a request outside them is refused
with 403 before anything is read or written. A key is 1 to `MAX_KEY_LENGTH`
printable ASCII characters: any other ``X-API-Key`` is unknown (401), never
compared.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Final, Literal

from fastapi import Depends, FastAPI, Request, Security, status
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field

from services.common.refusals import Refused

__all__ = [
    "API_KEY_HEADER",
    "MAX_KEY_LENGTH",
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

MAX_KEY_LENGTH: Final = 256
_KEY: Final = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEY_LENGTH}}}")
_WHERE: Final = ("header", "X-API-Key")

API_KEY_HEADER: Final = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description=f"The client's API key: 1 to {MAX_KEY_LENGTH} printable ASCII "
    "characters.",
)
"""The header every route with a key reads (what the OpenAPI documents declare)."""


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
            raise Refused(
                status.HTTP_403_FORBIDDEN,
                ("path", "code"),
                "auth.partner",
                f"code: client {self.client} does not speak for this partner",
            )

    def check_cpas(self, cpas_kbo: str) -> None:
        """Refuse a CPAS the client does not act for."""
        if self.cpas is not None and cpas_kbo not in self.cpas:
            raise Refused(
                status.HTTP_403_FORBIDDEN,
                ("cpas_kbo",),
                "auth.cpas",
                f"cpas_kbo: client {self.client} does not act for this CPAS",
            )

    def check_every_cpas(self) -> None:
        """Refuse a client that acts for some CPAS only (rows name every CPAS)."""
        if self.cpas is not None:
            raise Refused(
                status.HTTP_403_FORBIDDEN,
                _WHERE,
                "auth.cpas",
                f"X-API-Key: client {self.client} acts for some CPAS only",
            )


def parse_api_keys(raw: str) -> dict[str, ApiClient]:
    """``{"<key>": {"client": ..., "scopes": [...], "cpas": [...]}}`` from settings."""
    if not raw.strip():
        return {}
    decoded = json.loads(raw)
    if not all(_KEY.fullmatch(key) for key in decoded):
        # The key itself is not named: it is a secret.
        raise ValueError(
            f"HUB_API_KEYS: a key is 1 to {MAX_KEY_LENGTH} printable ASCII characters"
        )
    return {key: ApiClient.model_validate(value) for key, value in decoded.items()}


def install_api_keys(api: FastAPI, keys: Mapping[str, ApiClient]) -> None:
    """Give an API its clients' keys (read by the Reader/Writer dependencies)."""
    if not keys:
        log.warning("no API keys configured (HUB_API_KEYS): every request is refused")
    api.state.api_keys = dict(keys)


def _unauthenticated(rule: str, message: str) -> Refused:
    return Refused(
        status.HTTP_401_UNAUTHORIZED,
        _WHERE,
        rule,
        message,
        headers={"WWW-Authenticate": "X-API-Key"},
    )


def _client_of(keys: Mapping[str, ApiClient], api_key: str | None) -> ApiClient:
    """The client of a key, comparing in constant time; 401 for any other."""
    if not api_key:
        raise _unauthenticated("auth.missing_key", "X-API-Key: no API key")
    client = None
    if _KEY.fullmatch(api_key):
        presented = api_key.encode("ascii")
        for key, candidate in keys.items():
            if hmac.compare_digest(key.encode(), presented):
                client = candidate
    if client is None:
        raise _unauthenticated(
            "auth.unknown_key", "X-API-Key: not an API key this hub knows"
        )
    return client


def _authenticator(scope: Scope) -> Callable[[Request, str | None], ApiClient]:
    def authenticate(
        request: Request, api_key: Annotated[str | None, Security(API_KEY_HEADER)]
    ) -> ApiClient:
        keys: Mapping[str, ApiClient] = getattr(request.app.state, "api_keys", {})
        client = _client_of(keys, api_key)
        if scope not in client.scopes:
            raise Refused(
                status.HTTP_403_FORBIDDEN,
                _WHERE,
                "auth.scope",
                f"X-API-Key: client {client.client} lacks the scope {scope}",
            )
        return client

    return authenticate


Writer = Annotated[ApiClient, Depends(_authenticator("cases:write"))]
Reader = Annotated[ApiClient, Depends(_authenticator("cases:read"))]
PartnerSender = Annotated[ApiClient, Depends(_authenticator("partner:messages"))]
