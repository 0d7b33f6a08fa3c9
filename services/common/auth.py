"""API keys: each client (CPAS software, partner, auditor) is known and scoped.

A key grants scopes (``cases:write``, ``cases:read``) and, for a CPAS's own
software, the CPAS numbers it may act for; a request outside them is refused
with 403 before anything is read or written, except a case of another CPAS,
answered exactly as an unknown case. An auditor's key is of its own
kind: the one scope ``audit:read`` and a remit (the CPAS numbers it audits);
it reads the audit endpoints of its remit and nothing else, and no other key
reads an audit endpoint (ADR 0024). A key is 1 to `MAX_KEY_LENGTH`
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
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.common.refusals import Refused

__all__ = [
    "API_KEY_HEADER",
    "MAX_KEY_LENGTH",
    "ApiClient",
    "Auditor",
    "PartnerSender",
    "Reader",
    "Scope",
    "Writer",
    "install_api_keys",
    "parse_api_keys",
]

log = logging.getLogger(__name__)

Scope = Literal["cases:write", "cases:read", "partner:messages", "audit:read"]
AUDIT: Final = "audit:read"

MAX_KEY_LENGTH: Final = 256
_KEY: Final = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEY_LENGTH}}}")
_WHERE: Final = ("header", "X-API-Key")
_KBO: Final = re.compile(r"[01]\d{9}")

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
    remit: frozenset[str] | None = Field(
        default=None,
        description="For an auditor (scope audit:read, and no other): the KBO "
        "numbers of the CPAS it audits.",
    )

    @model_validator(mode="after")
    def _auditor_is_its_own_kind(self) -> ApiClient:
        """An auditor's key reads audits of its remit only; no other key has one."""
        auditor = AUDIT in self.scopes
        if auditor and (
            self.scopes != {AUDIT}
            or not self.remit
            or self.cpas is not None
            or self.partner is not None
        ):
            msg = (
                f"client {self.client}: an auditor's key has the scope {AUDIT} "
                "alone, a remit of at least one CPAS, and no cpas or partner"
            )
            raise ValueError(msg)
        if auditor and not all(_KBO.fullmatch(kbo) for kbo in self.remit or ()):
            msg = (
                f"client {self.client}: a remit lists KBO numbers of ten digits, "
                "as the audit route is asked for them"
            )
            raise ValueError(msg)
        if not auditor and self.remit is not None:
            msg = f"client {self.client}: only an auditor's key has a remit"
            raise ValueError(msg)
        return self

    def check_remit(self, cpas_kbo: str) -> None:
        """Refuse an audit of a CPAS outside the auditor's remit."""
        if self.remit is None or cpas_kbo not in self.remit:
            raise Refused(
                status.HTTP_403_FORBIDDEN,
                ("query", "cpas"),
                "auth.remit",
                f"cpas: client {self.client} does not audit this CPAS",
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

    def check_case(self, cpas_kbo: str, unknown: Exception) -> None:
        """Answer a case of a CPAS the client does not act for as an unknown case.

        ``unknown``: what the route answers for a case id it does not know.
        A 403 would tell a CPAS's software that the person is a client of
        another CPAS; the same answer tells it nothing.
        """
        if self.cpas is not None and cpas_kbo not in self.cpas:
            raise unknown

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
# Only an auditor's key has this scope (ApiClient refuses it beside any other).
Auditor = Annotated[ApiClient, Depends(_authenticator("audit:read"))]
