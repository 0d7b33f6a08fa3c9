"""Production mode: no process starts with a development secret, password or key.

With ``HUB_PRODUCTION`` on (docker-compose turns it on), ``hub run`` and every
``hub serve`` ask `production_problems` first and refuse to start while it
names one (ADR 0025). Each problem names the setting, never its value: the
value may be a secret that is only weak, not public.

`CHECKS` is a plain list: a new secret setting adds one function to it, which
returns the problem as text or None.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Final

import psycopg

from services.common.auth import hash_key, is_key_hash
from services.common.settings import HubSettings

__all__ = [
    "CHECKS",
    "DEVELOPMENT_CLIENT",
    "DEVELOPMENT_PASSWORDS",
    "DEVELOPMENT_SECRETS",
    "ProductionRefusedError",
    "is_development_password",
    "production_problems",
    "refuse_unsafe_production",
]

DEVELOPMENT_CLIENT: Final = "development"
"""The client of the key `hub run` makes (``services.supervisor``)."""
DEVELOPMENT_SECRETS: Final = frozenset(
    {
        str(HubSettings.model_fields["id_secret"].default),
        # docker-compose's default, for a stack started without an .env file.
        "dev-only-id-secret-do-not-use-in-production",
    }
)
DEVELOPMENT_PASSWORDS: Final = frozenset(
    {"hub-dev-password", "hub", "postgres", "password", "secret", "kafka", "admin"}
)
"""docker-compose's default password, and the words a password must not be."""
DEVELOPMENT_PASSWORD_SUFFIX: Final = "dev-password"  # noqa: S105 - what is refused
"""How every other default password of docker-compose ends (one per role)."""


def is_development_password(password: str) -> bool:
    """Whether a password is one a development stack starts with."""
    weak = password.lower()
    return weak in DEVELOPMENT_PASSWORDS or weak.endswith(DEVELOPMENT_PASSWORD_SUFFIX)


Check = Callable[[HubSettings], str | None]


def _id_secret(settings: HubSettings) -> str | None:
    if settings.id_secret in DEVELOPMENT_SECRETS or not settings.id_secret:
        return "HUB_ID_SECRET is the development id secret: set a secret of your own"
    return None


def _database_password(settings: HubSettings) -> str | None:
    if not settings.database_url:
        return "HUB_DATABASE_URL is empty: the embedded PostgreSQL is for development"
    try:
        password = psycopg.conninfo.conninfo_to_dict(settings.database_url).get(
            "password"
        )
    except psycopg.ProgrammingError:
        return "HUB_DATABASE_URL is not a PostgreSQL connection string"
    if isinstance(password, str) and is_development_password(password):
        return "HUB_DATABASE_URL carries a development password"
    return None


def _kafka(settings: HubSettings) -> str | None:
    if not settings.kafka_bootstrap_servers:
        return (
            "HUB_KAFKA_BOOTSTRAP_SERVERS is empty: the embedded broker is for "
            "development"
        )
    # An empty password is a problem only where the broker asks for one.
    sasl = settings.kafka_security_protocol.upper().startswith("SASL")
    for name in HubSettings.model_fields:
        value = getattr(settings, name)
        weak = isinstance(value, str) and (
            (not value and sasl) or is_development_password(value)
        )
        if name.startswith("kafka_") and "password" in name and weak:
            return f"HUB_{name.upper()} is a development password"
    return None


def _chain_signing_key(settings: HubSettings) -> str | None:
    if settings.chain_signing_key_file is None:
        return (
            "HUB_CHAIN_SIGNING_KEY_FILE is unset: checkpoints would be signed with "
            "the generated development key"
        )
    return None


def _master_keys(settings: HubSettings) -> str | None:
    if settings.master_keys_file is None:
        return (
            "HUB_MASTER_KEYS_FILE is unset: personal data would be sealed under the "
            "development master key kept in the database itself"
        )
    return None


def _api_keys(settings: HubSettings) -> str | None:
    try:
        configured = json.loads(settings.api_keys) if settings.api_keys.strip() else {}
    except json.JSONDecodeError:
        return "HUB_API_KEYS is not JSON"
    if not isinstance(configured, dict) or not all(map(is_key_hash, configured)):
        return "HUB_API_KEYS holds something else than hashes of keys"
    development = _development_key_hash(settings.data_dir / "api-key")
    for key_hash, client in configured.items():
        named = isinstance(client, dict) and client.get("client") == DEVELOPMENT_CLIENT
        if named or key_hash == development:
            return "HUB_API_KEYS holds the development API key of `hub run`"
    return None


def _development_key_hash(path: Path) -> str | None:
    try:
        return hash_key(path.read_text().strip())
    except OSError:
        return None


CHECKS: list[Check] = [
    _id_secret,
    _database_password,
    _kafka,
    _chain_signing_key,
    _master_keys,
    _api_keys,
]
"""What production mode refuses, one function per setting (append to it)."""


def production_problems(settings: HubSettings) -> list[str]:
    """What keeps this process from starting in production mode (none outside it)."""
    if not settings.production:
        return []
    return [problem for check in CHECKS if (problem := check(settings)) is not None]


class ProductionRefusedError(RuntimeError):
    """Production mode and a development secret, password or key."""


def refuse_unsafe_production(settings: HubSettings) -> None:
    """Raise `ProductionRefusedError` naming every problem, if there is one."""
    problems = production_problems(settings)
    if problems:
        raise ProductionRefusedError(
            "HUB_PRODUCTION is on and the hub will not start: " + "; ".join(problems)
        )
