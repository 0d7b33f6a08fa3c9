"""The consumer framework: batches of contract events applied exactly once.

A consumer folds each batch into its read model and records, in the same
PostgreSQL transaction, the last version it applied of every stream. A
redelivered version is skipped; a version that arrives ahead of its
predecessor gets the missing ones from the producing service's event store
(the record) and applies them first: a gap is reported and healed, never
skipped. Folds of the same case serialize across consumers and processes (an
advisory lock per read model and case, taken in the effect's transaction), so
a read model fed by several topics never loses an update.

A message that cannot be applied is parked with its reason, and the later
messages of its case wait behind it (docs/decisions/0012-nothing-stuck.md):
decode errors at once; fold errors per event; anything else (a row the
database refuses, a fold that is "not yet" possible) after the batch failed a
bounded number of times, when the batch is applied case by case and only the
cases that still fail are parked. Other cases keep flowing.

An erasure (``hub.intake.case.erased.v1``) waits behind no dead letter of its
case: a projection that keeps data of the person (``Erasing``,
services/common/erasure.py) purges its service's rows of the case in the
transaction that folds it, and on a re-drive of it (ADR 0023).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, Final, Generic, Protocol, TypeVar

import psycopg
from psycopg import sql
from pydantic import ValidationError

from contracts.envelope import ContractEvent
from contracts.intake import CaseErasedV1
from contracts.limits import MAX_JSON_DEPTH, json_too_deep
from contracts.registry import SERVICE_TOPICS, UnknownEventTypeError
from contracts.text import safe_loc
from services.common import metrics
from services.common.bulk import Upsert
from services.common.erasure import Erasing
from services.common.eventstore import (
    StoredRow,
    events_table,
    open_event,
    published_form,
    row_to_event,
)
from services.common.privilege import create_schema_sql
from services.common.vault import Vault, current_vault

__all__ = [
    "RETRYABLE_RULES",
    "BatchOutcome",
    "Envelope",
    "FoldProjection",
    "NotYetError",
    "ProjectionStore",
    "case_lock_key",
    "create_dead_letters",
    "decode",
    "redrive",
    "stored_after",
]

log = logging.getLogger(__name__)

Row = TypeVar("Row")

_WAITING = "waiting behind an earlier dead letter of the same case"
# Rules of dead letters that resolve by themselves (another topic catches up, a
# lock frees): the consumer's sweep re-drives them with a growing delay.
RETRYABLE_RULES = frozenset({"not_yet", "transient"})


class NotYetError(Exception):
    """A fold cannot apply an event yet (e.g. another topic has not caught up).

    The batch is delivered again (with a growing delay, a bounded number of
    times); if the case is still not ready then, its events are parked and
    the consumer's sweep re-drives them later.
    """


@dataclass(frozen=True, slots=True)
class Envelope:
    """One delivered message: its key and bytes, and the event if it decoded."""

    key: str
    payload: bytes
    event: ContractEvent | None
    error: str | None = None
    source: str = ""


_SHOWN_ERRORS = 5
# An unknown type written as the hub writes its types is named (an operator
# sees which producer is ahead); any other text is not: it may be anything.
_EVENT_TYPE_NAME: Final = re.compile(r"hub(\.[a-z][a-z0-9_]{0,40}){1,6}\.v[0-9]{1,4}")


def _invalid_fields(exc: ValidationError) -> str:
    """``field: rule`` of the first failures (a map's odd key masked, no value)."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    found = ", ".join(
        f"{'.'.join(map(str, safe_loc(error['loc']))) or 'payload'}: {error['type']}"
        for error in errors[:_SHOWN_ERRORS]
    )
    more = len(errors) - _SHOWN_ERRORS
    return found + (f" (and {more} more)" if more > 0 else "")


def _json_object(raw: bytes) -> dict[str, Any] | str:
    """The message's JSON object, or why it is none (``field: rule (why)``)."""
    if json_too_deep(raw):
        return f"payload: json.too_deep (nested deeper than {MAX_JSON_DEPTH} levels)"
    try:
        data = json.loads(raw)
    except ValueError:  # not JSON, not UTF-8, a number past Python's digits
        return "payload: json.invalid (not a JSON document)"
    if not isinstance(data, dict):
        return "payload: json.not_object (a message is a JSON object)"
    return data


def _unknown_type(event_type: object) -> str:
    named = isinstance(event_type, str) and _EVENT_TYPE_NAME.fullmatch(event_type)
    which = f"no contract has {event_type}" if named else "no contract has this type"
    return f"event_type: event_type.unknown ({which})"


def decode(
    key: bytes | None,
    payload: bytes | None,
    *,
    source: str = "",
    vault: Vault | None = None,
) -> Envelope:
    """Validate a message against its contract; a failure is kept, never raised.

    The failure names the field and the rule (``field: rule (why)``; a schema's,
    ``field: rule`` of each field), never a value of the message.
    """
    raw = payload or b""
    # Parked with the message, the key must be text PostgreSQL stores (no NUL).
    key_text = (key or b"").decode(errors="replace").replace("\x00", "\ufffd")
    data = _json_object(raw)
    error: str | None = data if isinstance(data, str) else None
    if isinstance(data, dict):
        event_type = data.get("event_type")
        try:
            event = open_event(
                vault or current_vault(),
                event_type if isinstance(event_type, str) else "",
                raw,
                stored=False,
            )
        except UnknownEventTypeError:  # not echoed: it may be anything
            error = _unknown_type(event_type)
        except ValidationError as exc:
            error = _invalid_fields(exc)
        except psycopg.OperationalError:
            # The vault's database away: the batch again, nothing parked for it.
            raise
        except Exception as exc:  # noqa: BLE001 - a decoder never raises: it parks
            error = f"payload: decode.failed ({type(exc).__name__})"
        else:
            return Envelope(key_text or str(event.case_id), raw, event, None, source)
    return Envelope(key_text, raw, None, error, source)


class FoldProjection(Protocol[Row]):
    """A read model defined as a pure fold of events into rows keyed by case."""

    name: str

    def fold(self, row: Row | None, event: ContractEvent) -> Row | None:
        """The row after one event (None: no row for this case yet)."""
        ...

    async def create_tables(
        self, conn: psycopg.AsyncConnection[Any], schema: str
    ) -> None:
        """Create the read-model tables in a schema."""
        ...

    async def load(
        self, conn: psycopg.AsyncConnection[Any], schema: str, keys: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Row]:
        """The current rows of some cases."""
        ...

    async def store(
        self,
        conn: psycopg.AsyncConnection[Any],
        schema: str,
        rows: dict[uuid.UUID, Row],
    ) -> None:
        """Upsert changed rows."""
        ...


@dataclass
class BatchOutcome:
    """What one batch did."""

    applied: int = 0
    duplicates: int = 0
    gaps: int = 0
    healed: int = 0
    parked: int = 0
    last_recorded_at: dt.datetime | None = None
    erased: list[uuid.UUID] = field(default_factory=list)


@dataclass
class _Parked:
    key: str
    payload: bytes
    event_type: str
    reason: str
    source: str
    rule: str
    service: str


def case_lock_key(schema: str, case_id: uuid.UUID | str) -> int:
    """The advisory lock of one case in one read model (a signed 64-bit key)."""
    digest = hashlib.blake2b(f"{schema}:{case_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# The subquery orders the keys; the outer scan locks them in that order, so
# two transactions never wait for each other in a cycle.
_LOCK_CASES = sql.SQL(
    "SELECT count(pg_advisory_xact_lock(k)) FROM "
    "(SELECT DISTINCT unnest(%s::bigint[]) AS k ORDER BY 1) AS keys"
)


async def create_dead_letters(conn: psycopg.AsyncConnection[Any], schema: str) -> None:
    """A schema's dead-letter table (shared by its consumers, a row names its own)."""
    table = sql.SQL("{}.dead_letters").format(sql.Identifier(schema))
    await conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (id bigserial PRIMARY KEY, "
            "case_key text NOT NULL, event_type text NOT NULL, "
            "payload bytea NOT NULL, "
            "reason text NOT NULL, source text NOT NULL, status text NOT NULL "
            "DEFAULT 'parked', parked_at timestamptz NOT NULL DEFAULT now())"
        ).format(table)
    )
    for column, kind in _DEAD_LETTER_COLUMNS:
        await conn.execute(
            sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                table, sql.Identifier(column), sql.SQL(kind)
            )
        )
    await conn.execute(
        sql.SQL(
            "CREATE INDEX IF NOT EXISTS dead_letters_parked ON {} "
            "(case_key) WHERE status = 'parked'"
        ).format(table)
    )
    # A message parked from the broker and delivered again (the process died
    # before its offset was committed) is the same dead letter, kept once.
    # Repeats kept before this rule existed stay, marked, out of its way.
    await conn.execute(
        sql.SQL(
            "UPDATE {0} SET rule = rule || '.repeated' WHERE id IN (SELECT id FROM "
            "(SELECT id, row_number() OVER (PARTITION BY consumer, source ORDER BY "
            "id) AS n FROM {0} WHERE rule IN ('decode', 'gap')) x WHERE n > 1)"
        ).format(table)
    )
    await conn.execute(
        sql.SQL(
            "CREATE UNIQUE INDEX IF NOT EXISTS dead_letters_delivery ON {} "
            "(consumer, source) WHERE rule IN ('decode', 'gap')"
        ).format(table)
    )


_DEAD_LETTER_COLUMNS = (
    ("consumer", "text"),
    ("service", "text"),
    ("rule", "text"),
    ("attempts", "integer NOT NULL DEFAULT 0"),
    ("retry_at", "timestamptz"),
)


@dataclass
class ProjectionStore(Generic[Row]):
    """Applies batches of envelopes to a fold projection in one transaction each."""

    projection: FoldProjection[Row]
    schema: str
    _dead: sql.Composed = field(init=False)
    _positions: sql.Composed = field(init=False)
    _upsert_positions: Upsert = field(init=False)
    _select_parked: sql.Composed = field(init=False)
    _select_positions: sql.Composed = field(init=False)

    def __post_init__(self) -> None:
        ident = sql.Identifier(self.schema)
        self._dead = sql.SQL("{}.dead_letters").format(ident)
        self._positions = sql.SQL("{}.stream_positions").format(ident)
        self._upsert_positions = Upsert(
            self._positions,
            ("stream_id", "version"),
            "stream_id",
            only_if=sql.SQL("{}.version < EXCLUDED.version").format(self._positions),
        )
        self._select_parked = sql.SQL(
            "SELECT DISTINCT case_key, coalesce(service, '*') FROM {} "
            "WHERE status = 'parked' AND case_key = ANY(%s) "
            "AND (consumer = %s OR consumer IS NULL)"
        ).format(self._dead)
        self._select_positions = sql.SQL(
            "SELECT stream_id, version FROM {} WHERE stream_id = ANY(%s)"
        ).format(self._positions)

    @property
    def name(self) -> str:
        """The consumer's name (its projection's)."""
        return self.projection.name

    async def streams_behind(
        self, conn: psycopg.AsyncConnection[Any], service: str
    ) -> dict[uuid.UUID, int]:
        """Streams of a service's store past this read model: its position on each."""
        try:
            async with conn.transaction():
                cur = await conn.execute(
                    sql.SQL(
                        "SELECT s.stream_id, coalesce(p.version, 0) FROM "
                        "(SELECT originator_id AS stream_id, max(originator_version) "
                        "AS version FROM {} GROUP BY originator_id) s "
                        "LEFT JOIN {} p USING (stream_id) "
                        "WHERE coalesce(p.version, 0) < s.version"
                    ).format(events_table(service, service), self._positions)
                )
                return {
                    stream: int(version) for stream, version in await cur.fetchall()
                }
        except psycopg.errors.UndefinedTable:
            return {}

    async def create_tables(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Create the schema, the read model, positions and dead letters."""
        await conn.execute(create_schema_sql(self.schema))
        await conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (stream_id uuid PRIMARY KEY, "
                "version bigint NOT NULL)"
            ).format(self._positions)
        )
        await create_dead_letters(conn, self.schema)
        await self.projection.create_tables(conn, self.schema)
        await self.refresh_dead_letter_gauge(conn)

    async def refresh_dead_letter_gauge(
        self, conn: psycopg.AsyncConnection[Any]
    ) -> None:
        """Export how many messages this consumer holds parked."""
        cur = await conn.execute(
            sql.SQL(
                "SELECT count(*) FROM {} WHERE status = 'parked' AND "
                "(consumer = %s OR consumer IS NULL)"
            ).format(self._dead),
            (self.name,),
        )
        row = await cur.fetchone()
        metrics.DEAD_LETTERS.labels(self.name).set(row[0] if row else 0)

    def lock_keys(self, batch: Sequence[Envelope]) -> list[int]:
        """The advisory locks of the cases a batch touches in this read model."""
        cases = {e.event.case_id for e in batch if e.event is not None}
        return [case_lock_key(self.schema, case) for case in cases]

    async def apply(
        self,
        conn: psycopg.AsyncConnection[Any],
        batch: Sequence[Envelope],
        *,
        isolate: bool = False,
    ) -> BatchOutcome:
        """Apply a batch and record positions and dead letters, in one transaction.

        A parked message counts as consumed: its stream position advances, and
        a re-drive applies it from the dead-letter store, not from Kafka.
        ``isolate`` applies case by case, each in a savepoint, and parks the
        cases whose fold or rows fail (``NotYetError`` included) instead of
        failing the batch.
        """
        started = time.perf_counter()
        outcome = BatchOutcome()
        cases = sorted({e.event.case_id for e in batch if e.event is not None})
        streams = sorted({e.event.stream_id for e in batch if e.event is not None})
        async with conn.transaction():
            # Reads in one round trip: the pipeline syncs once, at the first
            # fetch; the server takes the case locks before it runs the reads.
            async with conn.pipeline():
                await conn.execute(_LOCK_CASES, (sorted(self.lock_keys(batch)),))
                parked_query = await conn.execute(
                    self._select_parked, (sorted({e.key for e in batch}), self.name)
                )
                positions_query = await conn.execute(self._select_positions, (streams,))
                rows = await self.projection.load(conn, self.schema, cases)
                parked_keys = {
                    _chain(r[0], r[1]) for r in await parked_query.fetchall()
                }
                positions = {r[0]: int(r[1]) for r in await positions_query.fetchall()}
            healed = await self._heal(conn, batch, positions, outcome)
            accepted, parked, held = self._sequence(batch, positions, outcome, healed)
            if isolate:
                await self._fold_case_by_case(
                    conn,
                    accepted,
                    rows,
                    parked_keys=parked_keys,
                    parked=parked,
                    outcome=outcome,
                    held=held,
                )
            else:
                changed = self._fold(
                    accepted, rows, parked_keys, parked, outcome, held=held
                )
                # No pipeline here: large batches write through COPY, which a
                # pipeline does not allow.
                await self.projection.store(conn, self.schema, changed)
                await _erase(conn, self.projection, self.schema, outcome.erased)
            await self._upsert_positions.run(conn, positions.items())
            await self._store_parked(conn, parked)
            outcome.parked = len(parked)
        if outcome.parked:
            await self.refresh_dead_letter_gauge(conn)
        self._observe(outcome, time.perf_counter() - started)
        return outcome

    async def _heal(
        self,
        conn: psycopg.AsyncConnection[Any],
        batch: Sequence[Envelope],
        positions: Mapping[uuid.UUID, int],
        outcome: BatchOutcome,
    ) -> dict[tuple[uuid.UUID, int], list[ContractEvent]]:
        """The stored events missing before each version that skips some.

        Keyed by (stream, version of the event that arrived early); a gap the
        store cannot fill is left out.
        """
        expected = dict(positions)
        gaps: list[tuple[uuid.UUID, int, int, str]] = []
        for env in batch:
            event = env.event
            if event is None:
                continue
            known = expected.get(event.stream_id, 0)
            if event.stream_version > known + 1:
                service = event.event_type.split(".")[1]
                gaps.append((event.stream_id, known, event.stream_version, service))
            expected[event.stream_id] = max(known, event.stream_version)
        healed: dict[tuple[uuid.UUID, int], list[ContractEvent]] = {}
        for stream, known, version, service in gaps:
            found = await _stored_versions(conn, service, stream, known, version)
            if len(found) == version - known - 1:
                healed[stream, version] = found
                outcome.healed += len(found)
        outcome.gaps += len(gaps)
        if gaps:
            log.warning(
                "%s: %d version gap(s) on arrival; %d event(s) read from the store",
                self.name,
                len(gaps),
                outcome.healed,
            )
        return healed

    def _sequence(
        self,
        batch: Sequence[Envelope],
        positions: dict[uuid.UUID, int],
        outcome: BatchOutcome,
        healed: Mapping[tuple[uuid.UUID, int], list[ContractEvent]],
    ) -> tuple[list[ContractEvent], list[_Parked], set[tuple[uuid.UUID, int]]]:
        """Drop redeliveries, fill gaps from the store, park what cannot be read.

        Also returns the accepted events that came after a message of their
        case parked here (they wait behind it); those before it are applied.
        """
        accepted: list[ContractEvent] = []
        parked: list[_Parked] = []
        blocked: set[str] = set()
        held: set[tuple[uuid.UUID, int]] = set()
        for env in batch:
            event = env.event
            if event is None:
                parked.append(self._park(env, env.error or "undecodable", "decode"))
                blocked.add(_chain(env.key, _service_of(env)))
                continue
            known = positions.get(event.stream_id, 0)
            if event.stream_version > known + 1:
                missing = healed.get((event.stream_id, event.stream_version))
                if missing is None:
                    # Not in the store: not an event the hub recorded.
                    reason = (
                        f"gap: versions {known + 1} to {event.stream_version - 1} of "
                        "its stream are not in the event store (or not readable)"
                    )
                    parked.append(self._park(env, reason, "gap"))
                    blocked.add(_chain(env.key, _service_of(env)))
                    continue
                accepted += missing
                known = event.stream_version - 1
            else:
                missing = []
            if event.stream_version <= known:
                outcome.duplicates += 1
                continue
            positions[event.stream_id] = event.stream_version
            accepted.append(event)
            if _waits(_chain(str(event.case_id), _service(event)), blocked):
                held.update((e.stream_id, e.stream_version) for e in (*missing, event))
        return accepted, parked, held

    def _fold(
        self,
        accepted: list[ContractEvent],
        rows: dict[uuid.UUID, Row],
        parked_keys: set[str],
        parked: list[_Parked],
        outcome: BatchOutcome,
        *,
        held: AbstractSet[tuple[uuid.UUID, int]],
    ) -> dict[uuid.UUID, Row]:
        """Fold the accepted events; a case with a dead letter waits behind it."""
        changed: dict[uuid.UUID, Row] = {}
        for event in accepted:
            key = _chain(str(event.case_id), _service(event))
            if isinstance(event, CaseErasedV1):
                # An erasure waits behind nothing: it purges what is parked.
                outcome.erased.append(event.case_id)
            elif (event.stream_id, event.stream_version) in held or _waits(
                key, parked_keys
            ):
                parked.append(self._park_event(event, _WAITING, "waiting"))
                continue
            try:
                row = self.projection.fold(rows.get(event.case_id), event)
            except NotYetError:
                raise
            except Exception as exc:  # noqa: BLE001 - any other failure is parked
                parked.append(self._park_event(event, _describe(exc), "fold"))
                parked_keys.add(key)
                continue
            if row is not None:
                rows[event.case_id] = row
                changed[event.case_id] = row
            outcome.applied += 1
            outcome.last_recorded_at = event.recorded_at
        return changed

    async def _fold_case_by_case(
        self,
        conn: psycopg.AsyncConnection[Any],
        accepted: list[ContractEvent],
        rows: dict[uuid.UUID, Row],
        *,
        parked_keys: set[str],
        parked: list[_Parked],
        outcome: BatchOutcome,
        held: AbstractSet[tuple[uuid.UUID, int]],
    ) -> None:
        """Fold and store each case in a savepoint; park the cases that fail."""
        by_case: dict[tuple[uuid.UUID, str], list[ContractEvent]] = {}
        for event in accepted:
            by_case.setdefault((event.case_id, _service(event)), []).append(event)
        for (case_id, service), events in by_case.items():
            key = _chain(str(case_id), service)
            if _waits(key, parked_keys):
                # An erasure waits behind nothing: it purges what is parked.
                waiting = [e for e in events if not isinstance(e, CaseErasedV1)]
                parked += [self._park_event(e, _WAITING, "waiting") for e in waiting]
                if len(waiting) == len(events):
                    continue
                events = [e for e in events if isinstance(e, CaseErasedV1)]  # noqa: PLW2901
            mine, kept = BatchOutcome(), list[_Parked]()
            try:
                async with conn.transaction():
                    case_rows = {case_id: rows[case_id]} if case_id in rows else {}
                    changed = self._fold(
                        events, case_rows, set(), kept, mine, held=held
                    )
                    await self.projection.store(conn, self.schema, changed)
                    await _erase(conn, self.projection, self.schema, mine.erased)
            except NotYetError as exc:
                failure, rule = f"not yet: {exc}", "not_yet"
            except Exception as exc:  # noqa: BLE001 - the case is parked with it
                failure, rule = _describe(exc), "store"
            else:
                parked += kept
                outcome.applied += mine.applied
                outcome.erased += mine.erased
                outcome.last_recorded_at = (
                    mine.last_recorded_at or outcome.last_recorded_at
                )
                continue
            parked_keys.add(key)
            parked.append(self._park_event(events[0], failure, rule))
            parked += [self._park_event(e, _WAITING, "waiting") for e in events[1:]]

    def _observe(self, outcome: BatchOutcome, seconds: float) -> None:
        name = self.name
        metrics.CONSUMER_APPLIED.labels(name).inc(outcome.applied)
        metrics.CONSUMER_DUPLICATES.labels(name).inc(outcome.duplicates)
        metrics.CONSUMER_GAPS.labels(name).inc(outcome.gaps)
        metrics.CONSUMER_HEALED.labels(name).inc(outcome.healed)
        metrics.CONSUMER_BATCH_SECONDS.labels(name).observe(seconds)
        if outcome.last_recorded_at is not None:
            age = dt.datetime.now(dt.UTC) - outcome.last_recorded_at
            metrics.PROJECTION_LAG_SECONDS.labels(name).set(age.total_seconds())

    @staticmethod
    def _park(env: Envelope, reason: str, rule: str) -> _Parked:
        event_type = env.event.event_type if env.event is not None else "unknown"
        return _Parked(
            env.key, env.payload, event_type, reason, env.source, rule, _service_of(env)
        )

    @staticmethod
    def _park_event(event: ContractEvent, reason: str, rule: str) -> _Parked:
        return _Parked(
            str(event.case_id),
            event.to_json_bytes(),
            event.event_type,
            reason,
            "fold",
            rule,
            _service(event),
        )

    async def _store_parked(
        self, conn: psycopg.AsyncConnection[Any], parked: list[_Parked]
    ) -> None:
        if not parked:
            return
        for p in parked:
            log.warning("%s parked a %s message: %s", self.name, p.event_type, p.rule)
        async with conn.cursor() as cur:
            await cur.executemany(
                sql.SQL(
                    "INSERT INTO {} (case_key, event_type, payload, reason, source, "
                    "consumer, rule, service, retry_at) VALUES (%s, %s, %s, %s, %s, "
                    "%s, %s, %s, CASE WHEN %s THEN now() + interval '1 second' END) "
                    "ON CONFLICT (consumer, source) WHERE rule IN ('decode', 'gap') "
                    "DO NOTHING"
                ).format(self._dead),
                [
                    (
                        p.key,
                        p.event_type,
                        p.payload,
                        p.reason,
                        p.source,
                        self.name,
                        p.rule,
                        None if p.service == "*" else p.service,
                        p.rule in RETRYABLE_RULES,
                    )
                    for p in parked
                ],
            )


async def _erase(
    conn: psycopg.AsyncConnection[Any],
    projection: FoldProjection[Any],
    schema: str,
    case_ids: Sequence[uuid.UUID],
) -> None:
    """The projection's purge of the cases erased in a batch (if it keeps any)."""
    if not case_ids or not isinstance(projection, Erasing):
        return
    cases = sorted(set(case_ids))
    purged = await projection.erase(conn, schema, cases)
    log.warning(
        "%s purged its rows of %d erased case(s): %s",
        projection.name,
        len(cases),
        ", ".join(f"{table} {n}" for table, n in sorted(purged.items())) or "none",
    )


def _service(event: ContractEvent) -> str:
    """The producing service of an event (its topic)."""
    return event.event_type.split(".")[1]


def _service_of(env: Envelope) -> str:
    """The producing service of a delivered message, decoded or not."""
    if env.event is not None:
        return _service(env.event)
    topic = env.source.split("/", 1)[0]
    for service, name in SERVICE_TOPICS.items():
        if topic.endswith(name):
            return service
    return "*"


def _chain(case_key: str, service: str) -> str:
    """One case's messages from one topic: they keep their order, parked or not."""
    return f"{case_key}|{service}"


def _waits(chain: str, parked: set[str]) -> bool:
    """Whether a chain has a dead letter ahead (one of unknown topic holds all)."""
    return chain in parked or f"{chain.rsplit('|', 1)[0]}|*" in parked


def _describe(exc: BaseException) -> str:
    """Why something failed, for a dead letter: the kind and the message."""
    return f"{type(exc).__name__}: {exc}"[:2000]


async def _stored_versions(
    conn: psycopg.AsyncConnection[Any],
    service: str,
    stream: uuid.UUID,
    after: int,
    before: int,
) -> list[ContractEvent]:
    """Versions ``after < v < before`` of a stream, read from its event store."""
    table = events_table(service, service)
    try:
        async with conn.transaction():
            cur = await conn.execute(
                sql.SQL(
                    "SELECT notification_id, topic, state, recorded_at FROM {} "
                    "WHERE originator_id = %s AND originator_version > %s "
                    "AND originator_version < %s ORDER BY originator_version"
                ).format(table),
                (stream, after, before),
            )
            rows = await cur.fetchall()
    except psycopg.errors.UndefinedTable:
        return []
    try:
        return [row_to_event(StoredRow(n, t, bytes(s), r)) for n, t, s, r in rows]
    except Exception as exc:  # noqa: BLE001 - a row no reader can parse: still a gap
        # The relay parks such a row and publishes the case's later events;
        # raising here would fail the batch, case by case too, for ever.
        log.warning("stream %s: a stored event is not readable (%s)", stream, exc)
        return []


async def stored_after(
    conn: psycopg.AsyncConnection[Any],
    service: str,
    positions: Mapping[uuid.UUID, int],
) -> list[Envelope]:
    """The stored events of these streams after each one's position, in store order.

    Each as the relay would have published it; a row no reader can parse is
    left out (the relay parks it and says so).
    """
    cur = await conn.execute(
        sql.SQL(
            "SELECT notification_id, topic, state, recorded_at, originator_id, "
            "originator_version FROM {} WHERE originator_id = ANY(%s) "
            "ORDER BY notification_id"
        ).format(events_table(service, service)),
        (list(positions),),
    )
    vault = current_vault()
    found: list[Envelope] = []
    for n, topic, state, recorded_at, stream, version in await cur.fetchall():
        if version <= positions[stream]:
            continue
        row = StoredRow(n, topic, bytes(state), recorded_at)
        try:
            event = row_to_event(row, vault)
            payload = published_form(vault, row, event)
        except psycopg.OperationalError:
            raise
        except Exception as exc:  # noqa: BLE001 - the relay parks such a row
            log.warning("stream %s: a stored event is not readable (%s)", stream, exc)
            continue
        found.append(Envelope(str(event.case_id), payload, event, source=f"store:{n}"))
    return found


async def redrive(
    conn: psycopg.AsyncConnection[Any],
    schema: str,
    dead_letter_id: int,
    projections: Mapping[str, FoldProjection[Any]],
) -> tuple[int, str | None]:
    """Apply a parked message again, then the ones of its case behind it.

    ``projections`` are the schema's fold projections by consumer name (and,
    for rows parked before dead letters named their consumer, by producing
    service). The message must be the oldest parked one of its case and
    consumer (order per case is kept). Its position was advanced when it was
    parked, so it is folded here, not redelivered. Returns how many were
    applied and, when one fails again, why: it stays parked with the new
    reason, and those behind it wait.
    """
    dead = sql.SQL("{}.dead_letters").format(sql.Identifier(schema))
    async with conn.transaction():
        cur = await conn.execute(
            sql.SQL(
                "SELECT case_key, consumer, service FROM {} "
                "WHERE id = %s AND status = 'parked'"
            ).format(dead),
            (dead_letter_id,),
        )
        found = await cur.fetchone()
        if found is None:
            raise LookupError(f"id: no parked dead letter {dead_letter_id}")
        case_key, consumer_name, service = found
        await conn.execute(_LOCK_CASES, ([case_lock_key(schema, case_key)],))
        cur = await conn.execute(
            sql.SQL(
                "SELECT id, payload FROM {} WHERE case_key = %s "
                "AND status = 'parked' AND consumer IS NOT DISTINCT FROM %s "
                "AND (service IS NOT DISTINCT FROM %s OR %s::text IS NULL) "
                "ORDER BY id FOR UPDATE"
            ).format(dead),
            (case_key, consumer_name, service, service),
        )
        parked = list(await cur.fetchall())
        if not parked:  # re-driven meanwhile (the sweep, another operator)
            raise LookupError(f"id: no parked dead letter {dead_letter_id}")
        if parked[0][0] != dead_letter_id:
            raise LookupError(
                f"id: redrive {parked[0][0]} first, the oldest of its case"
            )
        applied, failure = 0, None
        for row_id, payload in parked:
            failure, not_yet = await _refold(
                conn, schema, bytes(payload), consumer_name, projections
            )
            if failure is not None:
                # The one that failed now heads its case's chain: "not yet"
                # again, it is the one the sweep tries later, whichever it is.
                await conn.execute(
                    sql.SQL(
                        "UPDATE {} SET reason = %s, attempts = attempts + 1, "
                        "rule = CASE WHEN %s THEN 'not_yet' ELSE rule END, "
                        "retry_at = CASE WHEN %s THEN coalesce(retry_at, now() + "
                        "interval '1 second') ELSE retry_at END WHERE id = %s"
                    ).format(dead),
                    (failure, not_yet, not_yet, row_id),
                )
                break
            await conn.execute(
                sql.SQL(
                    "UPDATE {} SET status = 'redriven', retry_at = NULL WHERE id = %s"
                ).format(dead),
                (row_id,),
            )
            applied += 1
    return applied, failure


async def _refold(
    conn: psycopg.AsyncConnection[Any],
    schema: str,
    payload: bytes,
    consumer_name: str | None,
    projections: Mapping[str, FoldProjection[Any]],
) -> tuple[str | None, bool]:
    """Fold one kept payload into its case's row; why not, and whether "not yet"."""
    envelope = decode(None, payload, source="redrive")
    event = envelope.event
    if event is None:
        return envelope.error or "undecodable", False
    projection = projections.get(consumer_name or event.event_type.split(".")[1])
    if projection is None:
        return f"no projection of {schema} reads {event.event_type}", False
    try:
        async with conn.transaction():
            rows = await projection.load(conn, schema, [event.case_id])
            row = projection.fold(rows.get(event.case_id), event)
            if row is not None:
                await projection.store(conn, schema, {event.case_id: row})
            if isinstance(event, CaseErasedV1):
                await _erase(conn, projection, schema, [event.case_id])
    except NotYetError as exc:
        return f"not yet: {exc}", True
    except Exception as exc:  # noqa: BLE001 - kept with its reason
        return _describe(exc), False
    return None, False
