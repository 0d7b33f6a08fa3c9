"""API keys: each client is known, of one role, and scoped (ADR 0025).

Every key is of one role, and its scopes are that role's:

* a CPAS's software: ``cases:write`` and/or ``cases:read``, and the CPAS
  numbers it acts for; a request outside them is refused with 403 before
  anything is read or written, except a case of another CPAS, answered
  exactly as an unknown case;
* a partner's system: ``partner:messages`` alone, with the partner code it
  speaks for (required); it posts its own messages and lists the dead letters
  of its own messages, and never reads a case;
* an auditor: ``audit:read`` alone and a remit (the CPAS numbers it audits);
  it reads the audit endpoints of its remit and nothing else, and writes
  nothing (ADR 0024);
* an operator: ``operations`` alone: the dead letters (never their payloads),
  no case and no personal data.

The hub keeps only the SHA-256 of each key (`hash_key`): a request's key is
hashed and compared, in constant time, with every live hash. A key is 1 to
`MAX_KEY_LENGTH` printable ASCII characters: any other ``X-API-Key`` is
unknown (401), never compared; a revoked key is unknown too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal

from fastapi import Depends, FastAPI, Request, Security, status
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.common.refusals import Refused

__all__ = [
    "API_KEY_HEADER",
    "MAX_KEY_LENGTH",
    "ApiClient",
    "Auditor",
    "DeadLetterReader",
    "JournalReader",
    "Operator",
    "PartnerSender",
    "Reader",
    "Role",
    "Scope",
    "Writer",
    "clients_by_hash",
    "hash_key",
    "install_api_keys",
    "is_key_hash",
    "parse_api_keys",
]

log = logging.getLogger(__name__)

Scope = Literal[
    "cases:write", "cases:read", "partner:messages", "audit:read", "operations"
]
Role = Literal["cpas", "partner", "auditor", "operator"]
AUDIT: Final = "audit:read"
PARTNER: Final = "partner:messages"
OPERATIONS: Final = "operations"
CASES: Final = frozenset({"cases:write", "cases:read"})

MAX_KEY_LENGTH: Final = 256
_KEY: Final = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEY_LENGTH}}}")
_WHERE: Final = ("header", "X-API-Key")
_KBO: Final = re.compile(r"[01]\d{9}")
_HASH: Final = re.compile(r"[0-9a-f]{64}")


def hash_key(key: str) -> str:
    """What the hub keeps of a key: its SHA-256, in lowercase hex.

    A fast hash is right here: a key is 32 random bytes or more (`hub keys
    add` makes them), so no dictionary or brute force reaches it, and every
    request hashes the key it carries (ADR 0025).
    """
    return hashlib.sha256(key.encode()).hexdigest()


def is_key_hash(text: str) -> bool:
    """Whether ``text`` is what `hash_key` gives (64 lowercase hex digits)."""
    return _HASH.fullmatch(text) is not None


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

    @property
    def role(self) -> Role:
        """The client's role, which its scopes are of (one role per key)."""
        if AUDIT in self.scopes:
            return "auditor"
        if PARTNER in self.scopes:
            return "partner"
        if OPERATIONS in self.scopes:
            return "operator"
        return "cpas"

    def _require(self, holds: bool, rule: str) -> None:
        """Refuse the key, naming its client and the rule it breaks."""
        if not holds:
            raise ValueError(f"client {self.client}: {rule}")

    @model_validator(mode="after")
    def _partner_and_operator_are_their_own_kind(self) -> ApiClient:
        """A partner's key speaks for one partner, reads no case; so an operator's."""
        partner = PARTNER in self.scopes
        self._require(
            not partner
            or (self.scopes == {PARTNER} and bool(self.partner) and self.cpas is None),
            f"a partner's key has the scope {PARTNER} alone, the partner code it "
            "speaks for, and no cpas",
        )
        self._require(
            partner or self.partner is None,
            "only a partner's key has a partner code",
        )
        self._require(
            OPERATIONS not in self.scopes
            or (self.scopes == {OPERATIONS} and self.cpas is None),
            f"an operator's key has the scope {OPERATIONS} alone, and no cpas",
        )
        return self

    @model_validator(mode="after")
    def _auditor_is_its_own_kind(self) -> ApiClient:
        """An auditor's key reads audits of its remit only; no other key has one."""
        auditor = AUDIT in self.scopes
        self._require(
            not auditor
            or (
                self.scopes == {AUDIT}
                and bool(self.remit)
                and self.cpas is None
                and self.partner is None
            ),
            f"an auditor's key has the scope {AUDIT} alone, a remit of at least "
            "one CPAS, and no cpas or partner",
        )
        self._require(
            not auditor or all(_KBO.fullmatch(kbo) for kbo in self.remit or ()),
            "a remit lists KBO numbers of ten digits, as the audit route is asked "
            "for them",
        )
        self._require(
            auditor or self.remit is None, "only an auditor's key has a remit"
        )
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
        if self.partner != code:
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


def parse_api_keys(raw: str) -> dict[str, ApiClient]:
    """``{"<SHA-256 of a key>": {"client": ..., "scopes": [...], ...}}`` from settings.

    The configuration holds the hash of each key (`hash_key`), never a key:
    anything else is refused, and not named (it may be a key).
    """
    if not raw.strip():
        return {}
    decoded = json.loads(raw)
    if not all(isinstance(key, str) and is_key_hash(key) for key in decoded):
        raise ValueError(
            "HUB_API_KEYS: each entry is the SHA-256 of a key in lowercase hex "
            "(64 digits), never the key itself: `hub keys hash` prints it"
        )
    return {key: ApiClient.model_validate(value) for key, value in decoded.items()}


def clients_by_hash(clear: Mapping[str, Mapping[str, Any]]) -> dict[str, ApiClient]:
    """Clients under the hashes of clear keys (the development key, tests).

    A key is 1 to `MAX_KEY_LENGTH` printable ASCII characters, as a header
    carries it; the key is not named in the error.
    """
    if not all(_KEY.fullmatch(key) for key in clear):
        raise ValueError(f"a key is 1 to {MAX_KEY_LENGTH} printable ASCII characters")
    return {hash_key(key): ApiClient.model_validate(c) for key, c in clear.items()}


def install_api_keys(api: FastAPI, keys: Mapping[str, ApiClient]) -> None:
    """Give an API its clients, under the hashes of their keys.

    ``keys`` may be a live view (`services.common.keys.StoredKeys`): each
    request reads it, so a revoked key is refused as soon as the view drops it.
    """
    if not keys:
        log.warning("no API keys configured (HUB_API_KEYS): every request is refused")
    api.state.api_keys = keys


def _unauthenticated(rule: str, message: str) -> Refused:
    return Refused(
        status.HTTP_401_UNAUTHORIZED,
        _WHERE,
        rule,
        message,
        headers={"WWW-Authenticate": "X-API-Key"},
    )


def _client_of(keys: Mapping[str, ApiClient], api_key: str | None) -> ApiClient:
    """The client of a key, its hash compared in constant time; 401 for any other.

    Every live hash is compared, whichever matches: the time taken tells
    nothing of which hash, if any, is the key's. A revoked key is not among
    them, so it gets the answer of a key the hub never knew.
    """
    if not api_key:
        raise _unauthenticated("auth.missing_key", "X-API-Key: no API key")
    client = None
    if _KEY.fullmatch(api_key):
        presented = hash_key(api_key).encode("ascii")
        for key, candidate in list(keys.items()):
            if hmac.compare_digest(key.encode(), presented):
                client = candidate
    if client is None:
        raise _unauthenticated(
            "auth.unknown_key", "X-API-Key: not an API key this hub knows"
        )
    return client


class _Authenticator:
    """The dependency of a route: a known key holding one of ``scopes``."""

    def __init__(self, *scopes: Scope) -> None:
        self.scopes: frozenset[Scope] = frozenset(scopes)
        self._named = " or ".join(scopes)

    def __call__(
        self,
        request: Request,
        api_key: Annotated[str | None, Security(API_KEY_HEADER)],
    ) -> ApiClient:
        """The client of the request's key, or the refusal (401, 403)."""
        keys: Mapping[str, ApiClient] = getattr(request.app.state, "api_keys", {})
        client = _client_of(keys, api_key)
        if not self.scopes & client.scopes:
            raise Refused(
                status.HTTP_403_FORBIDDEN,
                _WHERE,
                "auth.scope",
                f"X-API-Key: client {client.client} lacks the scope {self._named}",
            )
        return client


# A CPAS's software (any CPAS for the hub's own tools: the demo, the generator).
Writer = Annotated[ApiClient, Depends(_Authenticator("cases:write"))]
Reader = Annotated[ApiClient, Depends(_Authenticator("cases:read"))]
# Only a partner's key has this scope, with its partner code, and no other.
PartnerSender = Annotated[ApiClient, Depends(_Authenticator(PARTNER))]
# Only an auditor's key has this scope (ApiClient refuses it beside any other).
Auditor = Annotated[ApiClient, Depends(_Authenticator(AUDIT))]
# Only an operator's key has this scope: what the hub keeps aside, no case.
Operator = Annotated[ApiClient, Depends(_Authenticator(OPERATIONS))]
# The dead letters: an operator's (all), a partner's (its own messages').
DeadLetterReader = Annotated[ApiClient, Depends(_Authenticator(OPERATIONS, PARTNER))]
# The access journal: a CPAS's software (its lines) or an auditor (its remit's).
JournalReader = Annotated[ApiClient, Depends(_Authenticator("cases:read", AUDIT))]
