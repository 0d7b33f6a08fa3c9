"""The vault: one data key per person, wrapped by a master key, destroyable.

Envelope encryption (docs/decisions/0023-envelope-encryption.md). Each case
(a person's file at one CPAS) has its own 256-bit AES-GCM data key; what a
contract marks as personal data is sealed with it (`contracts.sealing`)
before it is stored or published. The data keys are kept in
``vault.person_keys``, each wrapped by a master key that never enters the
database: `MasterKeys` is the one interface a KMS or an HSM would implement,
`LocalMasterKeys` reads a key file (``HUB_MASTER_KEYS_FILE``). Rotating the
master key rewraps the data keys, never an event. Erasing a person destroys
their data key: every box sealed with it stays where it is, unreadable, and
the hash chain over the rows does not move.

Without a key file the hub keeps a development master key in the database
itself (``vault.development_master_key``), so every process of one
development hub finds the same one; that protects nothing, and the
production mode refuses it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import enum
import hashlib
import hmac
import itertools
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

import psycopg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from contracts.sealing import SEALED_KEY, Plan, merge_personal, split_personal
from services.common.combiner import WriteCombiner
from services.common.connections import check_before_use
from services.common.settings import HubSettings

__all__ = [
    "DEVELOPMENT_MASTER_KEY_ID",
    "KeyStore",
    "LocalMasterKeys",
    "MasterKeys",
    "MemoryKeyStore",
    "PersonErasedError",
    "PostgresKeyStore",
    "Vault",
    "VaultError",
    "create_tables",
    "current_vault",
    "install_vault",
    "master_keys_from_file",
    "settings_vault",
    "vault_for",
    "vault_restored",
]

DEVELOPMENT_MASTER_KEY_ID: Final = "development"
_NONCE: Final = 12
_KEY_BYTES: Final = 32
_CACHE_SECONDS: Final = 5.0
# Keys kept per process at most: a national replay meets millions of persons.
_CACHE_MAX: Final = 200_000
_POOL_SIZE: Final = 4
_POOL_IDLE_SECONDS: Final = 10.0
_POOL_WAIT_SECONDS: Final = 5.0
# The person of a sealed box, as `Vault.seal` writes it into compact JSON.
_SEALED_PERSON: Final = re.compile(rb'"sealed":\{"person":"([0-9a-f-]{36})"')


class VaultError(RuntimeError):
    """A box that cannot be opened for a reason other than an erasure."""


class PersonErasedError(VaultError):
    """The person's data key is destroyed: nothing new is sealed for them."""

    def __init__(self) -> None:
        super().__init__("the person's file is erased: no personal data is kept")


class MasterKeys(Protocol):
    """What wraps and unwraps data keys: a key file here, a KMS or HSM elsewhere."""

    @property
    def current_id(self) -> str:
        """The id of the key new data keys are wrapped with."""
        ...

    @property
    def development(self) -> bool:
        """Whether this is the development key (the production mode refuses it)."""
        ...

    def wrap(self, data_key: bytes, person: uuid.UUID) -> tuple[str, bytes]:
        """The wrapped data key and the id of the master key that wrapped it."""
        ...

    def unwrap(self, key_id: str, wrapped: bytes, person: uuid.UUID) -> bytes:
        """The data key; VaultError if ``key_id`` is not held or it does not open."""
        ...


class LocalMasterKeys:
    """Master keys held in this process (AES-256-GCM, bound to the person's id)."""

    def __init__(
        self, keys: Mapping[str, bytes], current: str, *, development: bool = False
    ) -> None:
        if current not in keys:
            raise ValueError(f"master keys: the current key {current!r} is not given")
        if any(len(key) != _KEY_BYTES for key in keys.values()):
            raise ValueError(f"master keys: each key is {_KEY_BYTES} bytes")
        self._keys = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._current = current
        self._development = development

    @property
    def current_id(self) -> str:
        """The key new data keys are wrapped with."""
        return self._current

    @property
    def development(self) -> bool:
        """Whether the key is the database's development key."""
        return self._development

    def wrap(self, data_key: bytes, person: uuid.UUID) -> tuple[str, bytes]:
        """Wrap with the current key."""
        nonce = os.urandom(_NONCE)
        box = self._keys[self._current].encrypt(nonce, data_key, person.bytes)
        return self._current, nonce + box

    def unwrap(self, key_id: str, wrapped: bytes, person: uuid.UUID) -> bytes:
        """Unwrap with the key that wrapped it."""
        key = self._keys.get(key_id)
        if key is None:
            raise VaultError(f"master key {key_id!r} is not among the configured keys")
        try:
            return key.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], person.bytes)
        except InvalidTag:
            raise VaultError(
                f"master key {key_id!r} does not open a data key"
            ) from None


def master_keys_from_file(path: Path) -> LocalMasterKeys:
    """``{"current": "<id>", "keys": {"<id>": "<base64 of 32 bytes>"}}``."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        keys = {
            str(key_id): base64.b64decode(value, validate=True)
            for key_id, value in raw["keys"].items()
        }
        return LocalMasterKeys(keys, str(raw["current"]))
    except (OSError, ValueError, KeyError, TypeError, binascii.Error) as exc:
        # The message names the file and the rule, never a key.
        raise ValueError(
            f"HUB_MASTER_KEYS_FILE {path}: not a master-key file "
            f'({{"current": id, "keys": {{id: base64 of {_KEY_BYTES} bytes}}}}): '
            f"{type(exc).__name__}"
        ) from None


# (key id, wrapped data key), or None once destroyed.
Wrapped = tuple[str, bytes] | None


class _Absent(enum.Enum):
    """No row for the person in the key store."""

    ABSENT = enum.auto()


_ABSENT: Final = _Absent.ABSENT
Found = Wrapped | _Absent


class KeyStore(Protocol):
    """Where wrapped data keys are kept."""

    def fetch(self, persons: Iterable[uuid.UUID]) -> dict[uuid.UUID, Wrapped]:
        """The keys of those persons that have one (None: destroyed)."""
        ...

    def create_many(
        self, keys: Mapping[uuid.UUID, tuple[str, bytes]]
    ) -> dict[uuid.UUID, Wrapped]:
        """Keep new keys of persons who have none; the key each person has."""
        ...

    def destroy(self, person: uuid.UUID) -> bool:
        """Destroy a person's key; whether there was one to destroy."""
        ...

    def wrapped_with_other_than(
        self, key_id: str, limit: int
    ) -> list[tuple[uuid.UUID, str, bytes]]:
        """Up to ``limit`` live keys wrapped by another master key than ``key_id``."""
        ...

    def replace(
        self, person: uuid.UUID, old: tuple[str, bytes], new: tuple[str, bytes]
    ) -> bool:
        """Swap a wrapped key for its rewrapped form, unless it changed meanwhile."""
        ...


class MemoryKeyStore:
    """A key store in this process (stores without a database, in unit tests)."""

    def __init__(self) -> None:
        self._keys: dict[uuid.UUID, Wrapped] = {}
        self._lock = threading.Lock()

    def fetch(self, persons: Iterable[uuid.UUID]) -> dict[uuid.UUID, Wrapped]:
        """The kept keys among ``persons``."""
        with self._lock:
            return {p: self._keys[p] for p in persons if p in self._keys}

    def create_many(
        self, keys: Mapping[uuid.UUID, tuple[str, bytes]]
    ) -> dict[uuid.UUID, Wrapped]:
        """Keep unless kept."""
        with self._lock:
            return {p: self._keys.setdefault(p, key) for p, key in keys.items()}

    def destroy(self, person: uuid.UUID) -> bool:
        """Destroy."""
        with self._lock:
            had = self._keys.get(person) is not None
            self._keys[person] = None
            return had

    def wrapped_with_other_than(
        self, key_id: str, limit: int
    ) -> list[tuple[uuid.UUID, str, bytes]]:
        """Keys of other master keys."""
        with self._lock:
            found = [
                (p, w[0], w[1]) for p, w in self._keys.items() if w and w[0] != key_id
            ]
        return found[:limit]

    def replace(
        self, person: uuid.UUID, old: tuple[str, bytes], new: tuple[str, bytes]
    ) -> bool:
        """Compare and swap."""
        with self._lock:
            if self._keys.get(person) != old:
                return False
            self._keys[person] = new
            return True


_SCHEMA_SQL: Final = (
    "CREATE SCHEMA IF NOT EXISTS vault",
    (
        "CREATE TABLE IF NOT EXISTS vault.person_keys (person uuid PRIMARY KEY, "
        "master_key_id text, wrapped bytea, created_at timestamptz NOT NULL "
        "DEFAULT now(), destroyed_at timestamptz, "
        "CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL)))"
    ),
    (
        "CREATE TABLE IF NOT EXISTS vault.development_master_key (id boolean "
        "PRIMARY KEY DEFAULT true CHECK (id), key bytea NOT NULL)"
    ),
)


class PostgresKeyStore:
    """Wrapped data keys in ``vault.person_keys`` of the hub's database."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._pool: ConnectionPool[psycopg.Connection[Any]] | None = None
        self._setup_done = False
        self._setup_lock = threading.Lock()

    @contextlib.contextmanager
    def _conn(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection of the store's small pool (idle ones close after a while)."""
        if self._pool is None:
            with self._setup_lock:
                if self._pool is None:
                    # Few connections: a key is fetched once per person and
                    # cache period; idle ones go, so many stores of one test
                    # process do not hold PostgreSQL's connections.
                    self._pool = ConnectionPool(
                        self._url,
                        min_size=0,
                        max_size=_POOL_SIZE,
                        max_idle=_POOL_IDLE_SECONDS,
                        kwargs={"autocommit": True},
                        check=check_before_use,
                        open=True,
                    )
        try:
            pooled = self._pool.connection(timeout=_POOL_WAIT_SECONDS)
            conn = pooled.__enter__()
        except PoolTimeout as exc:
            # The database away: what every reader already waits out.
            msg = "the vault's database is unreachable"
            raise psycopg.OperationalError(msg) from exc
        with contextlib.ExitStack() as stack:
            stack.push(pooled)
            if not self._setup_done:
                with self._setup_lock:
                    if not self._setup_done:
                        create_tables(conn)
                        self._setup_done = True
            yield conn

    def close(self) -> None:
        """Close the store's connections."""
        if self._pool is not None:
            self._pool.close()

    def development_master_key(self) -> bytes:
        """The development master key, made once per database."""
        select = "SELECT key FROM vault.development_master_key"
        with self._conn() as conn:
            row = conn.execute(select).fetchone()
            if row is None:  # the first process of a development hub makes it
                conn.execute(
                    "INSERT INTO vault.development_master_key (key) VALUES (%s) "
                    "ON CONFLICT DO NOTHING",
                    (os.urandom(_KEY_BYTES),),
                )
                row = conn.execute(select).fetchone()
        if row is None:
            raise VaultError("the development master key could not be kept")
        return bytes(row[0])

    def fetch(self, persons: Iterable[uuid.UUID]) -> dict[uuid.UUID, Wrapped]:
        """One round trip for a batch of persons."""
        wanted = list(persons)
        if not wanted:
            return {}
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT person, master_key_id, wrapped FROM vault.person_keys "
                "WHERE person = ANY(%s)",
                (wanted,),
            ).fetchall()
        return {
            person: None if wrapped is None else (key_id, bytes(wrapped))
            for person, key_id, wrapped in rows
        }

    def create_many(
        self, keys: Mapping[uuid.UUID, tuple[str, bytes]]
    ) -> dict[uuid.UUID, Wrapped]:
        """Insert those not present and read the others, in one round trip.

        The rows kept before this statement began come back from its
        snapshot; a row another process inserts meanwhile is in neither part,
        and is read after (committed before use).
        """
        if not keys:
            return {}
        persons = list(keys)
        with self._conn() as conn:
            rows = conn.execute(
                "WITH made AS (INSERT INTO vault.person_keys (person, master_key_id, "
                "wrapped) SELECT * FROM unnest(%s::uuid[], %s::text[], %s::bytea[]) "
                "ON CONFLICT (person) DO NOTHING "
                "RETURNING person, master_key_id, wrapped) "
                "SELECT person, master_key_id, wrapped FROM made UNION ALL "
                "SELECT person, master_key_id, wrapped FROM vault.person_keys "
                "WHERE person = ANY(%s::uuid[])",
                (
                    persons,
                    [keys[p][0] for p in persons],
                    [keys[p][1] for p in persons],
                    persons,
                ),
            ).fetchall()
        kept: dict[uuid.UUID, Wrapped] = {
            person: None if wrapped is None else (key_id, bytes(wrapped))
            for person, key_id, wrapped in rows
        }
        late = [p for p in persons if p not in kept]  # made first elsewhere
        return kept | self.fetch(late)

    def destroy(self, person: uuid.UUID) -> bool:
        """Overwrite the wrapped key with nothing; the row says when."""
        with self._conn() as conn:
            cur = conn.execute(
                "UPDATE vault.person_keys SET wrapped = NULL, master_key_id = NULL, "
                "destroyed_at = now() WHERE person = %s AND wrapped IS NOT NULL",
                (person,),
            )
            if cur.rowcount:
                return True
            # A person never sealed for gets a destroyed row all the same:
            # nothing may be sealed for them later.
            conn.execute(
                "INSERT INTO vault.person_keys (person, destroyed_at) "
                "VALUES (%s, now()) ON CONFLICT (person) DO NOTHING",
                (person,),
            )
            return False

    def wrapped_with_other_than(
        self, key_id: str, limit: int
    ) -> list[tuple[uuid.UUID, str, bytes]]:
        """Live keys of older master keys, a page."""
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT person, master_key_id, wrapped FROM vault.person_keys "
                "WHERE wrapped IS NOT NULL AND master_key_id <> %s "
                "ORDER BY person LIMIT %s",
                (key_id, limit),
            ).fetchall()
        return [(p, k, bytes(w)) for p, k, w in rows]

    def replace(
        self, person: uuid.UUID, old: tuple[str, bytes], new: tuple[str, bytes]
    ) -> bool:
        """Compare and swap (an erasure meanwhile wins)."""
        with self._conn() as conn:
            cur = conn.execute(
                "UPDATE vault.person_keys SET master_key_id = %s, wrapped = %s "
                "WHERE person = %s AND master_key_id = %s AND wrapped = %s",
                (new[0], new[1], person, old[0], old[1]),
            )
        return cur.rowcount == 1


def create_tables(conn: psycopg.Connection[Any]) -> None:
    """The vault's schema and tables, unless they are there (the owner's, ADR 0027).

    Checked first: a service's role may not create in the schema, not even
    ``IF NOT EXISTS``; once the owner made them it never needs to.
    """
    ready = conn.execute(
        "SELECT to_regclass('vault.person_keys') IS NOT NULL "
        "AND to_regclass('vault.development_master_key') IS NOT NULL"
    ).fetchone()
    if ready and ready[0]:
        return
    # Concurrent first starts of several processes: one creates, the others wait.
    conn.execute("SELECT pg_advisory_lock(hashtext('hub-schema:vault'))")
    try:
        for statement in _SCHEMA_SQL:
            conn.execute(sql.SQL(statement))
    finally:
        conn.execute("SELECT pg_advisory_unlock(hashtext('hub-schema:vault'))")


@dataclass(frozen=True, slots=True)
class _PersonKey:
    """What a data key gives: the sealing key and the key its nonces come from."""

    cipher: AESGCM
    nonce_key: bytes

    @classmethod
    def of(cls, data_key: bytes) -> _PersonKey:
        # Two keys from one: the same key never serves AES-GCM and HMAC.
        return cls(
            AESGCM(hmac.digest(data_key, b"hub-seal", hashlib.sha256)),
            hmac.digest(data_key, b"hub-nonce", hashlib.sha256),
        )

    def seal(self, data: bytes, aad: bytes) -> bytes:
        """A box; its nonce is a keyed digest of what it seals (synthetic IV).

        The same data under the same associated data gives the same box, so
        a rebuilt read model equals the live one byte for byte; a nonce is
        only ever reused for the very same message, which AES-GCM allows.
        """
        framed = len(aad).to_bytes(4, "big") + aad + data
        nonce = hmac.digest(self.nonce_key, framed, hashlib.sha256)[:_NONCE]
        return nonce + self.cipher.encrypt(nonce, data, aad)

    def open(self, box: bytes, aad: bytes) -> bytes:
        """What a box holds (InvalidTag when altered or misplaced)."""
        return self.cipher.decrypt(box[:_NONCE], box[_NONCE:], aad)


@dataclass(slots=True)
class _Cached:
    key: _PersonKey | None  # None: destroyed
    until: float


class Vault:
    """Seals and opens the personal data of events with each person's key.

    Data keys are cached a few seconds: an erasure reaches every process
    within that time (`cache_seconds`).
    """

    def __init__(
        self,
        store: KeyStore,
        master: MasterKeys,
        *,
        cache_seconds: float = _CACHE_SECONDS,
    ) -> None:
        self.store = store
        self.master = master
        self._cache: dict[uuid.UUID, _Cached] = {}
        self.cache_seconds = cache_seconds
        self.digest_key = b"cpas-hub-lookup:"
        self._lock = threading.Lock()
        # Concurrent commands missing their persons' keys share a round trip,
        # as their appends share a transaction
        # (docs/decisions/0029-connection-check.md).
        self._creating: WriteCombiner[tuple[uuid.UUID, tuple[str, bytes]], Found] = (
            WriteCombiner(self._create_batch)
        )
        self._fetching: WriteCombiner[uuid.UUID, Found] = WriteCombiner(
            self._fetch_batch
        )

    def _create_batch(
        self, asked: Sequence[tuple[uuid.UUID, tuple[str, bytes]]]
    ) -> list[Found]:
        kept = self.store.create_many(dict(asked))
        return [kept.get(person, _ABSENT) for person, _ in asked]

    def _fetch_batch(self, persons: Sequence[uuid.UUID]) -> list[Found]:
        kept = self.store.fetch(set(persons))
        return [kept.get(person, _ABSENT) for person in persons]

    # -- keys ---------------------------------------------------------------

    def _remember(self, person: uuid.UUID, wrapped: Wrapped) -> _PersonKey | None:
        key = (
            None
            if wrapped is None
            else _PersonKey.of(self.master.unwrap(wrapped[0], wrapped[1], person))
        )
        with self._lock:
            self._cache.pop(person, None)  # re-inserted last: the oldest go first
            self._cache[person] = _Cached(key, time.monotonic() + self.cache_seconds)
            if len(self._cache) > _CACHE_MAX:
                for oldest in list(itertools.islice(self._cache, _CACHE_MAX // 10)):
                    del self._cache[oldest]
        return key

    def _cached(self, person: uuid.UUID) -> _Cached | None:
        with self._lock:
            hit = self._cache.get(person)
        if hit is not None and hit.until > time.monotonic():
            return hit
        return None

    def prefetch(self, persons: Iterable[uuid.UUID]) -> None:
        """Fetch in one round trip the keys a batch will need."""
        missing = {p for p in set(persons) if self._cached(p) is None}
        if not missing:
            return
        for person, wrapped in self.store.fetch(missing).items():
            self._remember(person, wrapped)

    def prefetch_sealed(self, payloads: Iterable[bytes | None]) -> None:
        """`prefetch` the keys of the persons whose boxes these messages carry."""
        # A person's events come together: each id parsed and looked up once.
        found = {
            m
            for payload in payloads
            if payload
            for m in _SEALED_PERSON.findall(payload)
        }
        self.prefetch(uuid.UUID(match.decode()) for match in found)

    def _key(self, person: uuid.UUID, *, create: bool) -> _PersonKey | None:
        hit = self._cached(person)
        if hit is not None:
            return hit.key
        found = (  # creating: one trip gives the key kept, or keeps this new one
            self._creating.save(
                (person, self.master.wrap(os.urandom(_KEY_BYTES), person))
            )
            if create
            else self._fetching.save(person)
        )
        if found is _ABSENT:
            raise VaultError("no data key for this person: the box cannot be opened")
        return self._remember(person, found)

    def provision(self, persons: Iterable[uuid.UUID]) -> None:
        """Make, in one round trip, the data keys of persons who have none.

        For a bulk load (`hub generate`, a benchmark's seed): sealing each
        new person's data would otherwise cost a round trip per person.
        """
        new = {
            p: self.master.wrap(os.urandom(_KEY_BYTES), p)
            for p in {p for p in persons if self._cached(p) is None}
        }
        for person, wrapped in self.store.create_many(new).items():
            self._remember(person, wrapped)

    def erase(self, person: uuid.UUID) -> bool:
        """Destroy a person's data key here and in the store."""
        destroyed = self.store.destroy(person)
        with self._lock:
            self._cache[person] = _Cached(None, float("inf"))
        return destroyed

    def erased_among(self, persons: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these persons are erased, asked of the store now (one trip)."""
        found = self.store.fetch(persons)
        return {person for person, wrapped in found.items() if wrapped is None}

    def rotate(self, *, page: int = 1000) -> int:
        """Rewrap every live data key with the current master key; how many."""
        current = self.master.current_id
        done = 0
        while batch := self.store.wrapped_with_other_than(current, page):
            for person, key_id, wrapped in batch:
                data_key = self.master.unwrap(key_id, wrapped, person)
                new = self.master.wrap(data_key, person)
                done += self.store.replace(person, (key_id, wrapped), new)
        return done

    def digest(self, value: str) -> str:
        """A keyed digest of a value a sealed row is looked up by (a NISS)."""
        return hmac.new(self.digest_key, value.encode(), hashlib.sha256).hexdigest()

    # -- boxes ----------------------------------------------------------------

    def seal_bytes(self, person: uuid.UUID, data: bytes, aad: bytes) -> bytes:
        """A box of ``data`` under the person's key (PersonErasedError once erased)."""
        key = self._key(person, create=True)
        if key is None:
            raise PersonErasedError
        return key.seal(data, aad)

    def open_bytes(self, person: uuid.UUID, box: bytes, aad: bytes) -> bytes | None:
        """What a box holds; None once the person's key is destroyed."""
        key = self._key(person, create=False)
        if key is None:
            return None
        try:
            return key.open(box, aad)
        except InvalidTag:
            msg = "a sealed box does not open: altered or misplaced"
            raise VaultError(msg) from None

    def _box(self, person: uuid.UUID, value: Any, aad: bytes) -> dict[str, str]:
        box = self.seal_bytes(person, json.dumps(value).encode(), aad)
        return {"person": str(person), "box": base64.b64encode(box).decode("ascii")}

    def _unbox(self, sealed: Any, aad: bytes) -> tuple[bool, Any]:
        """(opened, what the box held); (False, None) once erased."""
        try:
            person = uuid.UUID(sealed["person"])
            box = base64.b64decode(sealed["box"], validate=True)
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise VaultError("sealed: not a sealed box") from None
        opened = self.open_bytes(person, box, aad)
        return (False, None) if opened is None else (True, json.loads(opened))

    def seal(
        self, data: dict[str, Any], plan: Plan, person: uuid.UUID, aad: bytes
    ) -> dict[str, Any]:
        """Take a model's personal data out of its JSON into a sealed box (in place)."""
        taken = split_personal(data, plan) if plan else None
        if taken is not None:
            data[SEALED_KEY] = self._box(person, taken, aad)
        return data

    def open(self, data: dict[str, Any], aad: bytes) -> bool:
        """Put a sealed box's personal data back (in place); False once erased."""
        sealed = data.pop(SEALED_KEY, None)
        if sealed is None:
            return True
        opened, taken = self._unbox(sealed, aad)
        if opened:
            merge_personal(data, taken)
        return opened

    def seal_document(
        self, person: uuid.UUID, document: Any, aad: bytes
    ) -> dict[str, Any]:
        """A whole document (a partner's message) in a box: ``{"sealed": …}``."""
        return {SEALED_KEY: self._box(person, document, aad)}

    def open_document(self, document: Any, aad: bytes) -> Any:
        """What `seal_document` sealed; None once erased.

        A document stored before the hub sealed is returned as it is.
        """
        if isinstance(document, dict) and document.keys() == {SEALED_KEY}:
            return self._unbox(document[SEALED_KEY], aad)[1]
        return document


_CURRENT: list[Vault] = []


def install_vault(settings: HubSettings) -> Vault:
    """Make the vault of these settings the process's (each entry point does)."""
    vault = settings_vault(settings)
    _CURRENT[:] = [vault]
    return vault


@contextlib.contextmanager
def vault_restored() -> Iterator[None]:
    """Give back the process's vault afterwards (around a test that installs one)."""
    saved = list(_CURRENT)
    try:
        yield
    finally:
        _CURRENT[:] = saved


def current_vault() -> Vault:
    """The process's vault: the installed one, or the environment's settings'."""
    return _CURRENT[0] if _CURRENT else install_vault(HubSettings())


_VAULTS: dict[tuple[str, str | None], Vault] = {}
_VAULTS_LOCK = threading.Lock()


def settings_vault(settings: HubSettings) -> Vault:
    """The vault of the hub's database, as the settings configure it."""
    vault = vault_for(settings.database_url, settings.master_keys_file)
    vault.cache_seconds = settings.vault_cache_seconds
    vault.digest_key = f"cpas-hub-lookup:{settings.id_secret}".encode()
    return vault


def vault_for(database_url: str, master_keys_file: Path | None = None) -> Vault:
    """The process's vault of one database (one per database and key file).

    No database: a vault in memory, for stores in memory (unit tests).
    """
    name = (database_url, str(master_keys_file) if master_keys_file else None)
    with _VAULTS_LOCK:
        vault = _VAULTS.get(name)
        if vault is None:
            vault = _VAULTS[name] = _new_vault(database_url, master_keys_file)
        return vault


def _new_vault(database_url: str, master_keys_file: Path | None) -> Vault:
    if not database_url:
        memory = LocalMasterKeys(
            {DEVELOPMENT_MASTER_KEY_ID: os.urandom(_KEY_BYTES)},
            DEVELOPMENT_MASTER_KEY_ID,
            development=True,
        )
        return Vault(MemoryKeyStore(), memory)
    store = PostgresKeyStore(database_url)
    master: MasterKeys
    if master_keys_file is not None:
        master = master_keys_from_file(master_keys_file)
    else:
        master = LocalMasterKeys(
            {DEVELOPMENT_MASTER_KEY_ID: store.development_master_key()},
            DEVELOPMENT_MASTER_KEY_ID,
            development=True,
        )
    return Vault(store, master)
