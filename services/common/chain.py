"""Tamper evidence of the event stores: a hash chain per store, signed checkpoints.

Every row of an events table has a row in ``<table>_chain``, written by a
trigger in the transaction that inserts it, so no writer can skip it:

* ``digest`` = SHA-256 of the record as stored: originator id (16 bytes),
  originator version (8), topic (4-byte length, UTF-8), state (4-byte length,
  the bytes as stored: ciphertext once personal data is encrypted), recorded
  at (8: microseconds since 2000-01-01 UTC); integers big-endian, which is
  PostgreSQL's binary form of each type;
* ``link`` = SHA-256 of the previous link and this digest; the first link
  follows the store's genesis, SHA-256 of ``cpas-hub event chain v1 <store>``;
* ``previous`` = the position (notification id) of the row chained before.

A relay signs the chain's head every ``HUB_CHAIN_CHECKPOINT_SECONDS`` when it
moved (Ed25519, ``<table>_checkpoints``): a signature pins every link up to
its position, which catches a rewrite that recomputed the links and a tail
deleted with its links. ``verify_stores`` (``hub audit verify``) recomputes
every chain and names the first broken position
(docs/decisions/0020-tamper-evident-event-stores.md, docs/audit/tamper-evidence.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import heapq
import itertools
import logging
import multiprocessing
import os
import struct
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import psycopg
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from psycopg import sql
from pydantic import BaseModel

from contracts.registry import SERVICE_TOPICS
from services.common.chain_pass import Span, Step, check_elsewhere, check_span
from services.common.metrics import (
    CHAIN_CHECKPOINT_FAILURES,
    CHAIN_CHECKPOINT_TIME,
    CHAIN_UNSIGNED,
)
from services.common.settings import HubSettings

__all__ = [
    "ChainProblem",
    "ChainReport",
    "ChainStore",
    "Checkpoint",
    "KeptCheckpoint",
    "Link",
    "Row",
    "StoreVerdict",
    "chain_statements",
    "genesis",
    "kept_checkpoints",
    "key_id",
    "link_of",
    "load_public_key",
    "own_public_keys",
    "public_key_pem",
    "record_bytes",
    "run_checkpoints",
    "signing_key",
    "store_exists",
    "store_named",
    "stores",
    "verify_store",
    "verify_stores",
    "walk",
    "write_checkpoint",
]

log = logging.getLogger(__name__)

ChainProblem = Literal[
    "chain.record_changed",
    "chain.record_missing",
    "chain.link_missing",
    "chain.link_changed",
    "chain.order_changed",
    "chain.checkpoint_mismatch",
    "chain.checkpoint_signature",
    "chain.tail_removed",
]

_GENESIS = "cpas-hub event chain v1 "
_CHECKPOINT = "cpas-hub chain checkpoint v1"
_PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_FETCH = 20_000
_LAST_POSITION = 2**63 - 1
# A stretch worth a process of its own: fewer positions, and one process does.
_ROWS_PER_WORKER = 50_000
# After the first broken position, how many later rows are searched for the
# record that was chained there (a reorder) before it is called changed.
_REORDER_WINDOW = 10_000


@dataclass(frozen=True, slots=True)
class ChainStore:
    """One event store: its schema and events table, and the tables of its chain."""

    schema: str
    table: str

    @property
    def name(self) -> str:
        """The store's name in reports and in its genesis: ``schema.table``."""
        return f"{self.schema}.{self.table}"

    def ident(self, suffix: str = "") -> sql.Composed:
        """A qualified table of the store (the events table, or ``_chain`` …)."""
        return sql.SQL("{}.{}").format(
            sql.Identifier(self.schema), sql.Identifier(self.table + suffix)
        )


def stores() -> tuple[ChainStore, ...]:
    """Every event store of the hub: one per service with a topic of events."""
    return tuple(ChainStore(s, f"{s}_events") for s in SERVICE_TOPICS)


def store_named(name: str) -> ChainStore:
    """A store by service (``intake``) or by name (``intake.intake_events``)."""
    for store in stores():
        if name in (store.schema, store.name):
            return store
    known = ", ".join(s.schema for s in stores())
    raise LookupError(f"store: no event store {name!r} (known: {known})")


# -- the record and its links: one definition in SQL, one in Python ---------

# The stored record as bytes, in SQL, of a row ``r`` (pg_catalog's send
# functions are each type's binary form).
_RECORD_SQL = (
    "pg_catalog.uuid_send({r}.originator_id) "
    "|| pg_catalog.int8send({r}.originator_version) "
    "|| pg_catalog.int4send(pg_catalog.octet_length("
    "pg_catalog.convert_to({r}.topic, 'UTF8'))) "
    "|| pg_catalog.convert_to({r}.topic, 'UTF8') "
    "|| pg_catalog.int4send(pg_catalog.length({r}.state)) || {r}.state "
    "|| pg_catalog.timestamptz_send({r}.recorded_at)"
)


def record_bytes(
    originator_id: uuid.UUID,
    originator_version: int,
    topic: str,
    state: bytes,
    recorded_at: dt.datetime,
) -> bytes:
    """The stored record as bytes, as the trigger chains it (the auditor's spec)."""
    micros = (recorded_at - _PG_EPOCH) // dt.timedelta(microseconds=1)
    encoded = topic.encode()
    return b"".join(
        (
            originator_id.bytes,
            struct.pack(">qi", originator_version, len(encoded)),
            encoded,
            struct.pack(">i", len(state)),
            state,
            struct.pack(">q", micros),
        )
    )


def genesis(store: str) -> bytes:
    """The link before a store's first record: its chain is its own."""
    return hashlib.sha256((_GENESIS + store).encode()).digest()


def link_of(previous: bytes, digest: bytes) -> bytes:
    """The link of a record: the previous link and the record's digest."""
    return hashlib.sha256(previous + digest).digest()


# Chains the rows of ``source`` (in notification order) after the chain's
# head; refuses a row that would go before the head (chain order is
# notification order). Flushed in slices, so a first chaining of a large
# store stays within memory.
_CHAIN_ROWS = """
DECLARE
    prev_id bigint;
    prev_link bytea;
    r record;
    ids bigint[] := '{{}}';
    prevs bigint[] := '{{}}';
    digests bytea[] := '{{}}';
    links bytea[] := '{{}}';
BEGIN
    {guard}
    SELECT c.notification_id, c.link INTO prev_id, prev_link
      FROM {chain} c ORDER BY c.notification_id DESC LIMIT 1;
    IF prev_id IS NULL THEN
        prev_id := 0;
        prev_link := pg_catalog.sha256(pg_catalog.convert_to({genesis}, 'UTF8'));
    END IF;
    FOR r IN SELECT s.notification_id, pg_catalog.sha256({record}) AS digest
               FROM {source} s ORDER BY s.notification_id LOOP
        IF r.notification_id <= prev_id THEN
            RAISE EXCEPTION 'event % would be chained after %: append through '
                'the store''s append function', r.notification_id, prev_id;
        END IF;
        prev_link := pg_catalog.sha256(prev_link || r.digest);
        ids := ids || r.notification_id;
        prevs := prevs || prev_id;
        digests := digests || r.digest;
        links := links || prev_link;
        prev_id := r.notification_id;
        IF pg_catalog.cardinality(ids) >= 10000 THEN
            INSERT INTO {chain} (notification_id, previous, digest, link)
                SELECT * FROM unnest(ids, prevs, digests, links);
            ids := '{{}}'; prevs := '{{}}'; digests := '{{}}'; links := '{{}}';
        END IF;
    END LOOP;
    INSERT INTO {chain} (notification_id, previous, digest, link)
        SELECT * FROM unnest(ids, prevs, digests, links);
"""


def chain_statements(schema: str, table: str) -> list[sql.Composed]:
    """What the recorder creates for a store's chain (after its events table).

    The chain table is created once; the rows stored before it (an upgraded
    database) are chained then, under the table lock, and never later: a row
    that later appears without its link stays without it, for the
    verification to name.
    """
    store = ChainStore(schema, table)
    events, chain = store.ident(), store.ident("_chain")
    name = sql.Literal(_GENESIS + store.name)
    lock_fn, chain_fn = store.ident("_chain_lock"), store.ident("_chain_append")
    chain_all = store.ident("_chain_all")
    lock_trigger = sql.Identifier(f"{table}_chain_lock")
    chain_trigger = sql.Identifier(f"{table}_chain_append")
    regclass = sql.Literal(f"{schema}.{table}")

    def rows_of(source: sql.Composable, guard: str = "") -> sql.Composed:
        return sql.SQL(_CHAIN_ROWS).format(
            chain=chain,
            genesis=name,
            record=sql.SQL(_RECORD_SQL.format(r="s")),
            source=source,
            guard=sql.SQL(guard),
        )

    return [
        # Rows get their notification ids after this lock, so two inserts
        # never chain in another order than their ids. The append function
        # holds the table's exclusive lock already; other writers hold only
        # the insert's lock, and would deadlock upgrading it: they are
        # serialised on a transaction lock of the store's instead. A writer
        # in REPEATABLE READ or SERIALIZABLE would read the head of a
        # snapshot taken before the lock, and fork the chain: it is refused.
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS "
            "$BODY$ BEGIN "
            "IF pg_catalog.current_setting('transaction_isolation') "
            "<> 'read committed' THEN RAISE EXCEPTION USING "
            "MESSAGE = 'an insert into ' "
            "|| {store} || ' runs in READ COMMITTED, not ' || "
            "pg_catalog.current_setting('transaction_isolation') || ': its chain "
            "link follows the committed head (ADR 0020)'; END IF; "
            "PERFORM pg_catalog.pg_advisory_xact_lock("
            "pg_catalog.hashtext({key})); RETURN NULL; END; $BODY$"
        ).format(
            fn=lock_fn,
            key=sql.Literal(f"hub-chain:{store.name}"),
            store=sql.Literal(store.name),
        ),
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS "
            "$BODY${rows} RETURN NULL; END; $BODY$"
        ).format(
            fn=chain_fn,
            rows=rows_of(
                sql.Identifier("inserted"),
                # A batch whose every request was refused inserted nothing.
                "IF NOT EXISTS (SELECT 1 FROM inserted) THEN RETURN NULL; END IF;",
            ),
        ),
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {fn}() RETURNS void LANGUAGE plpgsql AS "
            "$BODY${rows} END; $BODY$"
        ).format(fn=chain_all, rows=rows_of(events)),
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {chain} (notification_id bigint PRIMARY KEY, "
            "previous bigint NOT NULL, digest bytea NOT NULL, link bytea NOT NULL)"
        ).format(chain=chain),
        # Installed once, under the table lock: the rows stored before the
        # chain existed (an upgraded database) are chained then, only when no
        # row is chained yet and no checkpoint table exists.
        sql.SQL(
            "DO $BODY$ BEGIN "
            "IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid = "
            "{regclass}::regclass AND tgname = {chain_trigger_name}) THEN "
            "LOCK TABLE {events} IN EXCLUSIVE MODE; "
            "IF NOT EXISTS (SELECT 1 FROM {chain}) AND to_regclass({checkpoints_name}) "
            "IS NULL THEN PERFORM {chain_all}(); END IF; "
            "CREATE TRIGGER {lock_trigger} BEFORE INSERT ON {events} "
            "FOR EACH STATEMENT EXECUTE FUNCTION {lock_fn}(); "
            "CREATE TRIGGER {chain_trigger} AFTER INSERT ON {events} "
            "REFERENCING NEW TABLE AS inserted "
            "FOR EACH STATEMENT EXECUTE FUNCTION {chain_fn}(); "
            "END IF; END; $BODY$"
        ).format(
            regclass=regclass,
            chain_trigger_name=sql.Literal(f"{table}_chain_append"),
            events=events,
            chain=chain,
            checkpoints_name=sql.Literal(f"{schema}.{table}_checkpoints"),
            chain_all=chain_all,
            lock_trigger=lock_trigger,
            lock_fn=lock_fn,
            chain_trigger=chain_trigger,
            chain_fn=chain_fn,
        ),
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {checkpoints} (position bigint PRIMARY KEY, "
            "link bytea NOT NULL, signed_at timestamptz NOT NULL, key_id text NOT "
            "NULL, signature bytea NOT NULL)"
        ).format(checkpoints=store.ident("_checkpoints")),
    ]


# -- the signing key and checkpoints -----------------------------------------


def signing_key(settings: HubSettings, *, create: bool = True) -> Ed25519PrivateKey:
    """The key checkpoints are signed with: the configured file, or a development key.

    Without ``HUB_CHAIN_SIGNING_KEY_FILE`` a key is generated once under the
    data folder (mode 0600) and kept; concurrent first uses keep the same one.
    ``create`` false: a missing development key is an error, not made.
    """
    path = settings.chain_signing_key_file or (
        settings.data_dir / "chain-signing-key.pem"
    )
    if settings.chain_signing_key_file is None and not path.exists():
        if not create:
            raise LookupError(
                f"public-key: no signing key at {path}; give the public key "
                "checkpoints are signed with (--public-key)"
            )
        _create_key(path)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise TypeError(f"{path}: not an Ed25519 private key")
    return loaded


def own_public_keys(settings: HubSettings) -> list[Ed25519PublicKey]:
    """The keys this process verifies checkpoints with.

    The public half of the hub's own signing key, if it has one here, and the
    public keys the settings name (``HUB_CHAIN_PUBLIC_KEY_FILES``).
    """
    keys = [
        load_public_key(path.read_bytes()) for path in settings.chain_public_key_files
    ]
    try:
        return [signing_key(settings, create=False).public_key(), *keys]
    except LookupError:
        return keys


def _create_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    draft = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    try:
        # A link never replaces: the first key written stays the key.
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        draft.unlink()


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The public key, as the PEM an auditor is given."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """A public key from its PEM."""
    loaded = serialization.load_pem_public_key(pem)
    if not isinstance(loaded, Ed25519PublicKey):
        raise TypeError("not an Ed25519 public key")
    return loaded


def key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """A short name of a key: the first 16 hex digits of its raw public key's hash."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement: the store's chain had ``link`` at ``position``."""

    store: str
    position: int
    link: bytes
    signed_at: dt.datetime
    key_id: str
    signature: bytes

    @staticmethod
    def message(
        store: str, position: int, link: bytes, signed_at: dt.datetime
    ) -> bytes:
        """The signed bytes: four lines of text after a header line."""
        at = signed_at.astimezone(dt.UTC).isoformat(timespec="microseconds")
        return f"{_CHECKPOINT}\n{store}\n{position}\n{link.hex()}\n{at}\n".encode()

    def signed_bytes(self) -> bytes:
        """What the signature covers."""
        return self.message(self.store, self.position, self.link, self.signed_at)

    def valid_under(self, key: Ed25519PublicKey) -> bool:
        """Whether the signature is the key's over this checkpoint."""
        try:
            key.verify(self.signature, self.signed_bytes())
        except InvalidSignature:
            return False
        return True


def write_checkpoint(
    conn: psycopg.Connection[Any], store: ChainStore, key: Ed25519PrivateKey
) -> Checkpoint | None:
    """Sign the chain's head when it moved past the last checkpoint; the new one.

    The store's checkpoint gauges say what it found: the records past the
    last checkpoint (until this one is committed) and when that was signed.
    """
    head = conn.execute(
        sql.SQL(
            "SELECT notification_id, link FROM {} ORDER BY notification_id DESC LIMIT 1"
        ).format(store.ident("_chain"))
    ).fetchone()
    last = conn.execute(
        sql.SQL(
            "SELECT position, signed_at FROM {} ORDER BY position DESC LIMIT 1"
        ).format(store.ident("_checkpoints"))
    ).fetchone()
    if last is not None:
        CHAIN_CHECKPOINT_TIME.labels(store.name).set(last[1].timestamp())
    signed_to = 0 if last is None else int(last[0])
    if head is None or signed_to >= head[0]:
        CHAIN_UNSIGNED.labels(store.name).set(0)
        return None
    CHAIN_UNSIGNED.labels(store.name).set(int(head[0]) - signed_to)
    position, link = int(head[0]), bytes(head[1])
    signed_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    message = Checkpoint.message(store.name, position, link, signed_at)
    checkpoint = Checkpoint(
        store.name, position, link, signed_at, key_id(key), key.sign(message)
    )
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (position, link, signed_at, key_id, signature) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (position) DO NOTHING"
        ).format(store.ident("_checkpoints")),
        (position, link, signed_at, checkpoint.key_id, checkpoint.signature),
    )
    conn.commit()
    CHAIN_UNSIGNED.labels(store.name).set(0)
    CHAIN_CHECKPOINT_TIME.labels(store.name).set(signed_at.timestamp())
    return checkpoint


async def run_checkpoints(
    settings: HubSettings, store: ChainStore, stop: asyncio.Event
) -> None:
    """Sign the store's chain head every interval while it moves, until ``stop``.

    A failure (PostgreSQL away) is logged and tried again at the next tick.
    """
    key = signing_key(settings)

    def once() -> Checkpoint | None:
        with psycopg.connect(
            settings.database_url, connect_timeout=settings.database_wait_seconds
        ) as conn:
            return write_checkpoint(conn, store, key)

    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.chain_checkpoint_seconds)
        if stop.is_set():
            return
        try:
            written = await asyncio.to_thread(once)
        except (psycopg.Error, OSError) as exc:
            CHAIN_CHECKPOINT_FAILURES.labels(store.name).inc()
            log.warning(
                "%s: checkpoint not written (%s)", store.name, type(exc).__name__
            )
            continue
        if written is not None:
            log.info("%s: checkpoint signed at %d", store.name, written.position)


class KeptCheckpoint(BaseModel):
    """A checkpoint as an auditor keeps it (JSON), and gives back to verify."""

    store: str
    position: int
    link: str  # hex
    signed_at: dt.datetime
    key_id: str
    signature: str  # hex

    @classmethod
    def of(cls, checkpoint: Checkpoint) -> KeptCheckpoint:
        """The checkpoint in its kept form."""
        return cls(
            store=checkpoint.store,
            position=checkpoint.position,
            link=checkpoint.link.hex(),
            signed_at=checkpoint.signed_at,
            key_id=checkpoint.key_id,
            signature=checkpoint.signature.hex(),
        )

    def checkpoint(self) -> Checkpoint:
        """The checkpoint it keeps."""
        return Checkpoint(
            self.store,
            self.position,
            bytes.fromhex(self.link),
            self.signed_at,
            self.key_id,
            bytes.fromhex(self.signature),
        )


# -- verification -----------------------------------------------------------


class StoreVerdict(BaseModel):
    """What the verification of one store's chain found."""

    store: str
    verified: bool
    records: int  # records whose link was recomputed and verified
    verified_up_to: int  # the last position verified (0: none)
    checkpoints: int  # checkpoints whose signature and link verified
    signed_up_to: int | None  # position of the last verified checkpoint
    signed_at: dt.datetime | None
    # The last verified checkpoint whole: what an auditor keeps outside the
    # database and gives back to ``hub audit verify --expect``.
    last_checkpoint: KeptCheckpoint | None = None
    broken_at: int | None = None
    problem: ChainProblem | None = None
    detail: str | None = None


class ChainReport(BaseModel):
    """The verification of every chain: what an audit report states."""

    verified: bool
    checked_at: dt.datetime
    key_ids: list[str]
    stores: list[StoreVerdict]


class _Broken(Exception):  # noqa: N818 - a finding, not a failure of the code
    def __init__(self, problem: ChainProblem, position: int, detail: str) -> None:
        super().__init__(problem)
        self.problem, self.position, self.detail = problem, position, detail


Row = tuple[int, bytes | None]  # position, the record as bytes
Link = tuple[int, int, bytes, bytes]  # position, previous, digest, link


@dataclass(slots=True)
class _Walk:
    store: str
    keys: dict[str, Ed25519PublicKey]
    progress: Callable[[int], None] | None = None
    position: int = 0
    link: bytes = b""
    records: int = 0
    checkpoints: int = 0
    signed_up_to: int | None = None
    signed_at: dt.datetime | None = None
    last: Checkpoint | None = None

    def signed(self, checkpoint: Checkpoint) -> None:
        key = self.keys.get(checkpoint.key_id)
        if key is None:
            raise _Broken(
                "chain.checkpoint_signature",
                checkpoint.position,
                f"the checkpoint is signed by key {checkpoint.key_id}, not one "
                "of the keys given",
            )
        if not checkpoint.valid_under(key):
            raise _Broken(
                "chain.checkpoint_signature",
                checkpoint.position,
                "the checkpoint's signature does not verify",
            )

    def verdict(self, broken: _Broken | None = None) -> StoreVerdict:
        return StoreVerdict(
            store=self.store,
            verified=broken is None,
            records=self.records,
            verified_up_to=self.position,
            checkpoints=self.checkpoints,
            signed_up_to=self.signed_up_to,
            signed_at=self.signed_at,
            last_checkpoint=None if self.last is None else KeptCheckpoint.of(self.last),
            broken_at=None if broken is None else broken.position,
            problem=None if broken is None else broken.problem,
            detail=None if broken is None else broken.detail,
        )


def walk(
    store: str,
    rows: Iterable[Row],
    links: Iterable[Link],
    checkpoints: Iterable[Checkpoint],
    *,
    keys: Sequence[Ed25519PublicKey],
    progress: Callable[[int], None] | None = None,
) -> StoreVerdict:
    """Recompute a chain in position order; the first broken position and why.

    ``rows``, ``links`` and ``checkpoints`` are each in position order and
    read once (flat memory).
    """
    state = _Walk(store, {key_id(k): k for k in keys}, progress, 0, genesis(store))
    row_iter, link_iter, cp_iter = iter(rows), iter(links), iter(checkpoints)
    try:
        _walk(state, row_iter, link_iter, cp_iter)
    except _Broken as broken:
        return state.verdict(broken)
    return state.verdict()


def _walk(
    state: _Walk,
    rows: Iterator[Row],
    links: Iterator[Link],
    checkpoints: Iterator[Checkpoint],
) -> None:
    row, link, cp = next(rows, None), next(links, None), next(checkpoints, None)
    while row is not None or link is not None:
        position = min(x[0] for x in (row, link) if x is not None)
        if cp is not None and cp.position < position:
            state.signed(cp)
            raise _Broken(
                "chain.record_missing",
                cp.position,
                "a signed checkpoint names this position; neither its record "
                "nor its link is stored",
            )
        if row is None or row[0] != position:
            raise _Broken(
                "chain.record_missing",
                position,
                "the link is stored, the record is not",
            )
        if link is None or link[0] != position:
            raise _Broken(
                "chain.link_missing", position, "the record is stored without a link"
            )
        stored_link = _follows(state, position, row[1], link, links)
        if cp is not None and cp.position == position:
            _signed_here(state, cp, stored_link)
            cp = next(checkpoints, None)
        state.position, state.link = position, stored_link
        state.records += 1
        if state.progress is not None and state.records % 10_000 == 0:
            state.progress(position)
        row, link = next(rows, None), next(links, None)
    if cp is not None:
        state.signed(cp)
        raise _Broken(
            "chain.tail_removed",
            cp.position,
            f"a checkpoint signed at {cp.signed_at.isoformat()} names this "
            f"position; the chain ends at {state.position}",
        )


def _follows(
    state: _Walk,
    position: int,
    record: bytes | None,
    link: Link,
    links: Iterator[Link],
) -> bytes:
    """The stored link at a position, once it follows the chain and the record."""
    _, previous, digest, stored_link = link
    if previous != state.position:
        if state.position < previous < position:
            raise _Broken(
                "chain.record_missing",
                previous,
                f"the link at {position} follows this position, whose record "
                "and link are gone",
            )
        raise _Broken(
            "chain.link_changed",
            position,
            f"the link names {previous} as the position before it, the "
            f"store has {state.position}",
        )
    if record is None or hashlib.sha256(record).digest() != digest:
        _changed_record(position, record, links)
    if hashlib.sha256(state.link + digest).digest() != stored_link:
        raise _Broken(
            "chain.link_changed",
            position,
            "the link does not follow from the link before it and the record",
        )
    return stored_link


def _signed_here(state: _Walk, cp: Checkpoint, stored_link: bytes) -> None:
    """A checkpoint at the walk's position: its signature, and the link it signed."""
    state.signed(cp)
    if cp.link != stored_link:
        raise _Broken(
            "chain.checkpoint_mismatch",
            cp.position,
            f"the chain here is not the one signed at "
            f"{cp.signed_at.isoformat()}: it was rewritten up to here",
        )
    state.checkpoints += 1
    state.signed_up_to, state.signed_at = cp.position, cp.signed_at
    state.last = cp


def _changed_record(position: int, record: bytes | None, links: Iterator[Link]) -> None:
    """The record at a position is not the one chained there: moved, or changed."""
    if record is not None:
        found = hashlib.sha256(record).digest()
        for n, (other, _, digest, _) in enumerate(links):
            if n >= _REORDER_WINDOW:
                break
            if digest == found:
                raise _Broken(
                    "chain.order_changed",
                    position,
                    f"the record stored here was chained at {other}",
                )
    raise _Broken(
        "chain.record_changed",
        position,
        "the record stored here is not the one chained here",
    )


def _exists(conn: psycopg.Connection[Any], table: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
    return bool(row and row[0])


def store_exists(conn: psycopg.Connection[Any], store: ChainStore) -> bool:
    """Whether a store's chain tables exist (its service started once)."""
    return _exists(conn, f"{store.name}_checkpoints")


def _cursor_rows(
    conn: psycopg.Connection[Any], name: str, query: sql.Composed
) -> Iterator[tuple[Any, ...]]:
    with conn.cursor(name, binary=True) as cur:
        cur.itersize = _FETCH
        cur.execute(query)
        yield from cur


def verify_store(
    conn: psycopg.Connection[Any],
    store: ChainStore,
    keys: Sequence[Ed25519PublicKey],
    progress: Callable[[int], None] | None = None,
    kept: Sequence[Checkpoint] = (),
    *,
    parallel: Parallel | None = None,
    step: Step = "compiled",
) -> StoreVerdict:
    """Verify one store's chain, in one snapshot of the connection's transaction.

    ``parallel``: processes share the recomputation (in the same snapshot).
    ``step``: the per-row step of that recomputation (`chain_pass.Step`).

    ``kept``: checkpoints of this store an auditor kept outside the database;
    each is checked like the stored ones (and in place of a stored one at its
    position), so a tail deleted with its stored checkpoints is still named.
    """
    if not _exists(conn, store.name):
        return walk(store.name, (), (), (), keys=keys)
    if not _exists(conn, f"{store.name}_chain"):
        first = conn.execute(
            sql.SQL("SELECT min(notification_id) FROM {}").format(store.ident())
        ).fetchone()
        if first is None or first[0] is None:
            return walk(store.name, (), (), (), keys=keys)
        return _Walk(store.name, {}).verdict(
            _Broken(
                "chain.link_missing",
                int(first[0]),
                "the store has no chain: start its service once to chain it",
            )
        )
    checkpoints = _checkpoints(conn, store, kept)
    fast = _verified_in_one_pass(
        conn, store, keys, checkpoints, progress=progress, parallel=parallel, step=step
    )
    if fast is not None:
        return fast
    # Something is off: the detailed walk names the first broken position and why.
    rows = (
        (int(n), None if r is None else bytes(r))
        for n, r in _cursor_rows(
            conn,
            "chain_rows",
            sql.SQL(
                "SELECT e.notification_id, {record} FROM {events} e "
                "ORDER BY e.notification_id"
            ).format(record=sql.SQL(_RECORD_SQL.format(r="e")), events=store.ident()),
        )
    )
    links = (
        (int(n), int(p), bytes(d), bytes(k))
        for n, p, d, k in _cursor_rows(
            conn,
            "chain_links",
            sql.SQL(
                "SELECT notification_id, previous, digest, link FROM {} "
                "ORDER BY notification_id"
            ).format(store.ident("_chain")),
        )
    )
    return walk(
        store.name, rows, links, iter(checkpoints), keys=keys, progress=progress
    )


def _checkpoints(
    conn: psycopg.Connection[Any], store: ChainStore, kept: Sequence[Checkpoint]
) -> list[Checkpoint]:
    """The stored checkpoints and the kept ones (in place of a stored one), in order.

    Checkpoints are few (one a minute at most): held in memory.
    """
    stored: list[Checkpoint] = []
    if _exists(conn, f"{store.name}_checkpoints"):
        stored = [
            Checkpoint(store.name, int(p), bytes(k), at, kid, bytes(s))
            for p, k, at, kid, s in conn.execute(
                sql.SQL(
                    "SELECT position, link, signed_at, key_id, signature FROM {} "
                    "ORDER BY position"
                ).format(store.ident("_checkpoints"))
            ).fetchall()
        ]
    ours = sorted((c for c in kept if c.store == store.name), key=lambda c: c.position)
    positions = {c.position for c in ours}
    return list(
        heapq.merge(
            (c for c in stored if c.position not in positions),
            ours,
            key=lambda c: c.position,
        )
    )


def _verified_in_one_pass(
    conn: psycopg.Connection[Any],
    store: ChainStore,
    keys: Sequence[Ed25519PublicKey],
    checkpoints: Sequence[Checkpoint],
    *,
    progress: Callable[[int], None] | None,
    parallel: Parallel | None = None,
    step: Step = "compiled",
) -> StoreVerdict | None:
    """The verdict of a whole chain, when nothing in it is off; None otherwise.

    The same recomputation as `walk` (each record's digest and link, by
    Python's own SHA-256, from the record as the auditor's spec defines
    it), in ordered passes over records and links side by side (`check_span`):
    a row is checked by two hashes and three comparisons. The stored digest
    is not read: a link that follows from the previous link and the
    recomputed digest proves the record is the one chained. ``parallel``:
    the chain is cut into stretches, each checked by a process of its own
    in the snapshot of ``conn``; a stretch starts from the stored link of
    the row the stretch before it ends with, which that stretch verifies.
    On the first anomaly it gives up, and the detailed walk says what broke.
    """
    keyring = {key_id(k): k for k in keys}
    state = _Walk(store.name, keyring, progress, 0, genesis(store.name))
    try:
        for checkpoint in checkpoints:
            state.signed(checkpoint)
    except _Broken:
        return None  # a signature that does not verify: the walk names it
    marks = frozenset(c.position for c in checkpoints)
    spans = [
        _span(store, after, until, marks, step)
        for after, until in _stretches(conn, store, parallel.workers if parallel else 1)
    ]
    if parallel is None or len(spans) == 1:
        stretches = [check_span(conn, spans[0], progress)]
    else:
        exported = conn.execute("SELECT pg_catalog.pg_export_snapshot()").fetchone()
        snapshot = str(exported[0]) if exported else ""
        spawn = multiprocessing.get_context("spawn")  # a clean process each
        with ProcessPoolExecutor(len(spans), mp_context=spawn) as pool:
            stretches = list(
                pool.map(
                    check_elsewhere,
                    itertools.repeat(parallel.database_url),
                    itertools.repeat(snapshot),
                    spans,
                )
            )
    seen: dict[int, bytes] = {}
    for before, stretch in zip([None, *stretches], stretches, strict=False):
        # A stretch starts where the one before it ended, in one snapshot.
        if not stretch.intact or (
            before is not None
            and (before.position, before.link) != (stretch.after, stretch.seed)
        ):
            return None
        seen.update(stretch.marks)
    for checkpoint in checkpoints:
        # A checkpoint past the end, or at a position with no record: the walk.
        if seen.get(checkpoint.position) != checkpoint.link:
            return None
        state.checkpoints += 1
        state.signed_up_to, state.signed_at = checkpoint.position, checkpoint.signed_at
        state.last = checkpoint
    last = stretches[-1]
    if _links_after(conn, store, last.position):
        return None
    state.position, state.link = last.position, last.link
    state.records = sum(s.records for s in stretches)
    if progress is not None:
        progress(state.position)
    return state.verdict()


@dataclass(frozen=True, slots=True)
class Parallel:
    """Where the processes of a parallel pass connect, and how many there are."""

    database_url: str
    workers: int


def _stretches(
    conn: psycopg.Connection[Any], store: ChainStore, workers: int
) -> list[tuple[int | None, int | None]]:
    """Each stretch's bounds: the row it starts from (None: the genesis), its last.

    The positions are cut in equal ranges; a stretch starts from the last
    row at or before its cut, the last row the stretch before it checks.
    The last stretch ends at the snapshot's last row: a process that did
    not join the snapshot could not check more than the others.
    """
    whole: list[tuple[int | None, int | None]] = [(None, None)]
    if workers <= 1:
        return whole
    span = conn.execute(
        sql.SQL("SELECT min(notification_id), max(notification_id) FROM {}").format(
            store.ident()
        )
    ).fetchone()
    if span is None or span[0] is None:
        return whole
    low, high = int(span[0]), int(span[1])
    if high - low < _ROWS_PER_WORKER * workers:
        return whole
    seeds: list[int | None] = [None]
    for n in range(1, workers):
        cut = low + (high - low) * n // workers
        found = conn.execute(
            sql.SQL(
                "SELECT max(notification_id) FROM {} WHERE notification_id <= %s"
            ).format(store.ident()),
            (cut,),
        ).fetchone()
        if found and found[0] is not None and found[0] != seeds[-1]:
            seeds.append(int(found[0]))
    return list(zip(seeds, [*seeds[1:], high], strict=True))


def _span(
    store: ChainStore,
    after: int | None,
    until: int | None,
    marks: frozenset[int],
    step: Step,
) -> Span:
    """A stretch's COPY of its range's records and links, side by side.

    From the genesis, every position at or below ``until`` (a row forged at
    a negative position too); after a row, from that row on. The full join
    gives a record with no link, and a link with no record, a row each, with
    NULLs where the other is missing; the merge of both indexes gives the
    rows in position order (a full join's order cannot be asked of the
    planner without a sort; the pass checks it instead).
    """
    low = sql.Literal(-_LAST_POSITION - 1 if after is None else after)
    high = sql.Literal(_LAST_POSITION if until is None else until)
    query = sql.SQL(
        "COPY (SELECT e.notification_id, {record}, c.previous, c.link "
        "FROM (SELECT * FROM {events} "
        "WHERE notification_id BETWEEN {low} AND {high}) e "
        "FULL JOIN (SELECT notification_id, previous, link FROM {chain} "
        "WHERE notification_id BETWEEN {low} AND {high}) c "
        "ON c.notification_id = e.notification_id) TO STDOUT (FORMAT BINARY)"
    ).format(
        record=sql.SQL(_RECORD_SQL.format(r="e")),
        events=store.ident(),
        chain=store.ident("_chain"),
        low=low,
        high=high,
    )
    return Span(query.as_string().encode(), genesis(store.name), after, marks, step)


def _links_after(
    conn: psycopg.Connection[Any], store: ChainStore, position: int
) -> bool:
    """Whether a link is stored past a position (the last record's: a tail removed).

    A link with no record before it breaks the ``previous`` of the next
    record's link; only one after the last record needs looking for.
    """
    row = conn.execute(
        sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE notification_id > %s)").format(
            store.ident("_chain")
        ),
        (position,),
    ).fetchone()
    return bool(row and row[0])


def store_head(conn: psycopg.Connection[Any], store: ChainStore) -> int:
    """The highest position of a store (0 when empty or absent)."""
    if not _exists(conn, store.name):
        return 0
    row = conn.execute(
        sql.SQL("SELECT coalesce(max(notification_id), 0) FROM {}").format(
            store.ident()
        )
    ).fetchone()
    return int(row[0]) if row else 0


def kept_checkpoints(report_json: bytes) -> list[Checkpoint]:
    """Each store's last checkpoint in a report of ``hub audit verify --json``."""
    report = ChainReport.model_validate_json(report_json)
    return [
        v.last_checkpoint.checkpoint()
        for v in report.stores
        if v.last_checkpoint is not None
    ]


def verify_stores(
    settings: HubSettings,
    *,
    only: Sequence[ChainStore] | None = None,
    public_keys: Sequence[Ed25519PublicKey] | None = None,
    progress: Callable[[ChainStore, int, int], None] | None = None,
    kept: Sequence[Checkpoint] = (),
) -> ChainReport:
    """Verify every store's chain (or some), each in one consistent snapshot.

    ``public_keys``: the keys checkpoints may be signed with (by default the
    public half of the configured signing key). ``progress(store, position,
    head)`` is called as the walk goes (with more than one worker,
    ``HUB_VERIFY_WORKERS``, once the workers are done).
    """
    keys = list(public_keys or own_public_keys(settings))
    parallel = (
        Parallel(settings.database_url, settings.verify_workers)
        if settings.verify_workers > 1
        else None
    )
    verdicts: list[StoreVerdict] = []
    for store in only or stores():
        with psycopg.connect(settings.database_url) as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            with conn.transaction():
                head = store_head(conn, store)
                report: Callable[[int], None] | None = None
                if progress is not None:
                    progress(store, 0, head)

                    def report(
                        position: int, s: ChainStore = store, end: int = head
                    ) -> None:
                        progress(s, position, end)

                verdicts.append(
                    verify_store(
                        conn,
                        store,
                        keys,
                        report,
                        kept,
                        parallel=parallel,
                        step=settings.verify_step,
                    )
                )
                if progress is not None:
                    progress(store, head, head)
    return ChainReport(
        verified=all(v.verified for v in verdicts),
        checked_at=dt.datetime.now(dt.UTC),
        key_ids=[key_id(k) for k in keys],
        stores=verdicts,
    )
