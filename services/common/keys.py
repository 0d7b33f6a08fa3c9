"""The API keys the hub knows, by their hashes, in PostgreSQL (ADR 0025).

``access.api_keys`` holds one row per key: the SHA-256 of the key (never the
key), its client, role attributes, when it was made and when it was revoked.
Every API process seeds it from ``HUB_API_KEYS`` at start (a key the
configuration no longer lists is revoked; a key revoked by `hub keys revoke`
stays revoked) and reads it through `StoredKeys`, a view refreshed every
``HUB_API_KEY_CACHE_SECONDS``: a key added, revoked or rotated with ``hub
keys`` is taken, or refused, by every running API within that time, without
a restart.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, ItemsView, Iterator, Mapping
from typing import Any, Final

import psycopg
from psycopg.types.json import Jsonb

from services.common.auth import ApiClient, hash_key, parse_api_keys
from services.common.settings import HubSettings

__all__ = [
    "SCHEMA",
    "StoredKeys",
    "add_key",
    "create_key_table",
    "list_keys",
    "live_keys",
    "new_key",
    "revoke_keys",
    "rotate_key",
    "seed_keys",
    "stored_keys",
]

log = logging.getLogger(__name__)

SCHEMA: Final = "access"
_TABLE: Final = f"{SCHEMA}.api_keys"
_ATTRIBUTES: Final = ("client", "scopes", "cpas", "partner", "remit")
KEY_BYTES: Final = 32
"""Random bytes in a key `hub keys` makes (what makes a fast hash right)."""


def new_key() -> str:
    """A fresh key: `KEY_BYTES` random bytes, URL-safe (43 characters)."""
    return secrets.token_urlsafe(KEY_BYTES)


def create_key_table(conn: psycopg.Connection[Any]) -> None:
    """``access.api_keys``, if it is not there yet."""
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {_TABLE} ("
        "hash text PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'), "
        "client text NOT NULL, scopes jsonb NOT NULL, cpas jsonb, partner text, "
        "remit jsonb, origin text NOT NULL DEFAULT 'cli', "
        "created_at timestamptz NOT NULL DEFAULT now(), revoked_at timestamptz)"
    )


def _row(client: ApiClient) -> tuple[Any, ...]:
    def listed(values: frozenset[str] | None) -> Jsonb | None:
        return None if values is None else Jsonb(sorted(values))

    return (
        client.client,
        Jsonb(sorted(client.scopes)),
        listed(client.cpas),
        client.partner,
        listed(client.remit),
    )


def _insert(
    conn: psycopg.Connection[Any], key_hash: str, client: ApiClient, origin: str
) -> None:
    conn.execute(
        f"INSERT INTO {_TABLE} (hash, {', '.join(_ATTRIBUTES)}, origin) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (hash) DO UPDATE SET "
        + ", ".join(f"{a} = excluded.{a}" for a in _ATTRIBUTES),
        (key_hash, *_row(client), origin),
    )


def create_tables(conn: psycopg.Connection[Any]) -> None:
    """``access.api_keys``, made by the database's owner at setup (ADR 0027)."""
    create_key_table(conn)


def seed_keys(
    conn: psycopg.Connection[Any], configured: Mapping[str, ApiClient]
) -> None:
    """The table as ``HUB_API_KEYS`` says, keeping every revocation.

    A configured key is added or has its attributes updated (never un-revoked);
    a key added from the configuration that it no longer lists is revoked.
    """
    with conn.transaction():
        create_key_table(conn)
        # One seeding at a time when every API process starts at once.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_TABLE,))
        for key_hash, client in configured.items():
            _insert(conn, key_hash, client, "config")
        conn.execute(
            f"UPDATE {_TABLE} SET revoked_at = now() WHERE origin = 'config' "
            "AND revoked_at IS NULL AND NOT (hash = ANY(%s))",
            (list(configured),),
        )


def live_keys(conn: psycopg.Connection[Any]) -> dict[str, ApiClient]:
    """Every key not revoked, by its hash."""
    rows = conn.execute(
        f"SELECT hash, {', '.join(_ATTRIBUTES)} FROM {_TABLE} WHERE revoked_at IS NULL"
    ).fetchall()
    return {
        row[0]: ApiClient.model_validate(dict(zip(_ATTRIBUTES, row[1:], strict=True)))
        for row in rows
    }


def add_key(conn: psycopg.Connection[Any], client: ApiClient) -> str:
    """A new key for ``client``: its hash stored, the key returned (shown once)."""
    key = new_key()
    with conn.transaction():
        create_key_table(conn)
        _insert(conn, hash_key(key), client, "cli")
    return key


def revoke_keys(
    conn: psycopg.Connection[Any], client: str, hash_prefix: str = ""
) -> int:
    """Revoke the live keys of ``client`` (those whose hash starts so); how many."""
    with conn.transaction():
        create_key_table(conn)
        cur = conn.execute(
            f"UPDATE {_TABLE} SET revoked_at = now() WHERE client = %s "
            "AND revoked_at IS NULL AND starts_with(hash, %s)",
            (client, hash_prefix),
        )
    return cur.rowcount


def rotate_key(conn: psycopg.Connection[Any], client: str) -> str:
    """A new key for ``client`` with the attributes of its live key, which is revoked.

    One transaction: at no time has the client no key, nor two. Refused
    (LookupError) when the client has no live key, or several that differ.
    """
    with conn.transaction():
        create_key_table(conn)
        rows = conn.execute(
            f"SELECT {', '.join(_ATTRIBUTES)} FROM {_TABLE} WHERE client = %s "
            "AND revoked_at IS NULL FOR UPDATE",
            (client,),
        ).fetchall()
        kinds = {
            ApiClient.model_validate(dict(zip(_ATTRIBUTES, row, strict=True)))
            for row in rows
        }
        if len(kinds) != 1:
            raise LookupError(
                f"client {client}: {len(kinds)} kinds of live keys; rotate needs one "
                "(`hub keys add` then `hub keys revoke --hash` otherwise)"
            )
        conn.execute(
            f"UPDATE {_TABLE} SET revoked_at = now() WHERE client = %s "
            "AND revoked_at IS NULL",
            (client,),
        )
        key = new_key()
        _insert(conn, hash_key(key), kinds.pop(), "cli")
    return key


def list_keys(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Every key, revoked ones included, by the first 12 digits of its hash."""
    create_key_table(conn)
    rows = conn.execute(
        f"SELECT left(hash, 12), {', '.join(_ATTRIBUTES)}, origin, created_at, "
        f"revoked_at FROM {_TABLE} ORDER BY client, created_at"
    ).fetchall()
    names = ("hash", *_ATTRIBUTES, "origin", "created_at", "revoked_at")
    return [dict(zip(names, row, strict=True)) for row in rows]


class StoredKeys(Mapping[str, ApiClient]):
    """The live keys by hash, read again when the last read is ``max_age`` old.

    What an API's dependencies read (`services.common.auth.install_api_keys`):
    a key revoked in the table is refused within ``max_age`` seconds. A read
    that fails raises (the API answers 503): a revocation is never missed
    because the database was away.
    """

    def __init__(
        self,
        load: Callable[[], Mapping[str, ApiClient]],
        max_age: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: Mapping[str, ApiClient] = {}
        self._read_at: float | None = None

    def _current(self) -> Mapping[str, ApiClient]:
        with self._lock:
            now = self._clock()
            if self._read_at is None or now - self._read_at >= self._max_age:
                self._keys = dict(self._load())
                self._read_at = now
            return self._keys

    def __getitem__(self, key_hash: str) -> ApiClient:
        """The client of a hash (KeyError for a hash not live)."""
        return self._current()[key_hash]

    def __iter__(self) -> Iterator[str]:
        """The live hashes."""
        return iter(self._current())

    def __len__(self) -> int:
        """How many live keys."""
        return len(self._current())

    def items(self) -> ItemsView[str, ApiClient]:
        """One read's hashes and clients (never a mix of two reads)."""
        return self._current().items()


def stored_keys(settings: HubSettings) -> StoredKeys:
    """The table seeded from ``HUB_API_KEYS``, and its view for an API process."""
    configured = parse_api_keys(settings.api_keys)
    try:
        with psycopg.connect(settings.database_url) as conn:
            seed_keys(conn, configured)
    except psycopg.errors.InsufficientPrivilege:
        # A service's role reads the keys only: the owner's setup seeded them
        # (`hub db setup`, `hub run`; ADR 0027).
        log.info("API keys seeded by the database's setup, not by this process")

    def load() -> dict[str, ApiClient]:
        with psycopg.connect(
            settings.database_url, connect_timeout=settings.database_wait_seconds
        ) as conn:
            return live_keys(conn)

    return StoredKeys(load, settings.api_key_cache_seconds)
