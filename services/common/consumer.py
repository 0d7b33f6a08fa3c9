"""The consumer framework: batches of contract events applied exactly once.

A consumer folds each batch into its read model and records, in the same
PostgreSQL transaction, the last version it applied of every stream
(architecture.md §3.4). Redelivered versions are skipped; a version that
arrives before its predecessor is held back until the relay republishes the
missing one; a message that cannot be applied is parked with its reason, and the
later messages of the same case wait behind it (§3.5).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import psycopg
from psycopg import sql
from pydantic import ValidationError

from contracts.envelope import ContractEvent
from contracts.limits import MAX_JSON_DEPTH, json_too_deep
from contracts.registry import UnknownEventTypeError, parse_event
from contracts.text import safe_loc
from services.common import metrics
from services.common.bulk import Upsert

__all__ = [
    "BatchOutcome",
    "Envelope",
    "FoldProjection",
    "NotYetError",
    "ProjectionStore",
    "decode",
    "redrive",
]

log = logging.getLogger(__name__)

Row = TypeVar("Row")

_WAITING = "waiting behind an earlier dead letter of the same case"


class NotYetError(Exception):
    """A fold cannot apply an event yet (e.g. another topic has not caught up).

    Unlike any other failure, which parks the event, this one fails the whole
    batch: nothing is committed and the batch is delivered again later.
    """


@dataclass(frozen=True, slots=True)
class Envelope:
    """One delivered message: its key and bytes, and the event if it decoded."""

    key: str
    payload: bytes
    event: ContractEvent | None
    error: str | None = None
    source: str = ""


def decode(key: bytes | None, payload: bytes | None, *, source: str = "") -> Envelope:
    """Validate a message against its contract; a failure is kept, not raised."""
    raw = payload or b""
    # Parked with the message, the key must be text PostgreSQL stores (no NUL).
    key_text = (key or b"").decode(errors="replace").replace("\x00", "\ufffd")
    if json_too_deep(raw):
        too_deep = f"payload: JSON nested deeper than {MAX_JSON_DEPTH} levels"
        return Envelope(key_text, raw, None, too_deep, source)
    try:
        import json  # noqa: PLC0415 - local: only the event type is needed here

        event_type = json.loads(raw).get("event_type", "")
        event = parse_event(str(event_type), raw)
    except UnknownEventTypeError as exc:
        return Envelope(key_text, raw, None, str(exc), source)
    except ValidationError as exc:
        locs = (".".join(map(str, safe_loc(e["loc"]))) for e in exc.errors()[:5])
        return Envelope(
            key_text, raw, None, f"schema: invalid fields {', '.join(locs)}", source
        )
    except Exception:  # noqa: BLE001 - a decoder never raises: the message is parked
        return Envelope(key_text, raw, None, "payload: not a JSON object", source)
    return Envelope(key_text or str(event.case_id), raw, event, None, source)


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
    parked: int = 0
    last_recorded_at: dt.datetime | None = None


@dataclass
class _Parked:
    key: str
    payload: bytes
    event_type: str
    reason: str
    source: str


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
            "SELECT DISTINCT case_key FROM {} WHERE status = 'parked' "
            "AND case_key = ANY(%s)"
        ).format(self._dead)
        self._select_positions = sql.SQL(
            "SELECT stream_id, version FROM {} WHERE stream_id = ANY(%s)"
        ).format(self._positions)

    async def create_tables(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Create the schema, the read model, positions and dead letters."""
        await conn.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                sql.Identifier(self.schema)
            )
        )
        await conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (stream_id uuid PRIMARY KEY, "
                "version bigint NOT NULL)"
            ).format(self._positions)
        )
        await conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (id bigserial PRIMARY KEY, "
                "case_key text NOT NULL, event_type text NOT NULL, "
                "payload bytea NOT NULL, "
                "reason text NOT NULL, source text NOT NULL, status text NOT NULL "
                "DEFAULT 'parked', parked_at timestamptz NOT NULL DEFAULT now())"
            ).format(self._dead)
        )
        await self.projection.create_tables(conn, self.schema)
        await self._refresh_dead_letter_gauge(conn)

    async def _refresh_dead_letter_gauge(
        self, conn: psycopg.AsyncConnection[Any]
    ) -> None:
        cur = await conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE status = 'parked'").format(
                self._dead
            )
        )
        row = await cur.fetchone()
        metrics.DEAD_LETTERS.labels(self.projection.name).set(row[0] if row else 0)

    async def apply(
        self, conn: psycopg.AsyncConnection[Any], batch: Sequence[Envelope]
    ) -> BatchOutcome:
        """Apply a batch and record positions and dead letters, in one transaction.

        A parked message counts as consumed: its stream position advances, and
        a re-drive applies it from the dead-letter store, not from Kafka.
        """
        started = time.perf_counter()
        outcome = BatchOutcome()
        cases = sorted({e.event.case_id for e in batch if e.event is not None})
        streams = sorted({e.event.stream_id for e in batch if e.event is not None})
        async with conn.transaction():
            # Reads in one round trip: the pipeline syncs once, at the first fetch.
            async with conn.pipeline():
                parked_query = await conn.execute(
                    self._select_parked, (sorted({e.key for e in batch}),)
                )
                positions_query = await conn.execute(self._select_positions, (streams,))
                rows = await self.projection.load(conn, self.schema, cases)
                parked_keys = {r[0] for r in await parked_query.fetchall()}
                positions = {r[0]: int(r[1]) for r in await positions_query.fetchall()}
            accepted, parked = self._sequence(batch, positions, parked_keys, outcome)
            changed = self._fold(accepted, rows, parked_keys, parked, outcome)
            # No pipeline here: large batches write through COPY, which a
            # pipeline does not allow.
            await self.projection.store(conn, self.schema, changed)
            await self._store_positions(conn, positions)
            await self._store_parked(conn, parked)
            outcome.parked = len(parked)
        if outcome.parked:
            await self._refresh_dead_letter_gauge(conn)
        self._observe(outcome, time.perf_counter() - started)
        return outcome

    def _sequence(
        self,
        batch: Sequence[Envelope],
        positions: dict[uuid.UUID, int],
        parked_keys: set[str],
        outcome: BatchOutcome,
    ) -> tuple[list[ContractEvent], list[_Parked]]:
        """Drop redeliveries, hold back early versions, park what cannot be read."""
        accepted: list[ContractEvent] = []
        parked: list[_Parked] = []
        for env in batch:
            event = env.event
            if event is None:
                parked.append(self._park(env, env.error or "undecodable"))
                parked_keys.add(env.key)
                continue
            known = positions.get(event.stream_id, 0)
            if event.stream_version <= known:
                outcome.duplicates += 1
            elif event.stream_version > known + 1:
                outcome.gaps += 1
            else:
                positions[event.stream_id] = event.stream_version
                accepted.append(event)
        return accepted, parked

    def _fold(
        self,
        accepted: list[ContractEvent],
        rows: dict[uuid.UUID, Row],
        parked_keys: set[str],
        parked: list[_Parked],
        outcome: BatchOutcome,
    ) -> dict[uuid.UUID, Row]:
        """Fold the accepted events; a case with a dead letter waits behind it."""
        changed: dict[uuid.UUID, Row] = {}
        for event in accepted:
            key = str(event.case_id)
            if key in parked_keys:
                parked.append(self._park_event(event, _WAITING))
                continue
            try:
                row = self.projection.fold(rows.get(event.case_id), event)
            except NotYetError:
                raise
            except Exception as exc:  # noqa: BLE001 - any other failure is parked
                parked.append(self._park_event(event, f"{type(exc).__name__}: {exc}"))
                parked_keys.add(key)
                continue
            if row is not None:
                rows[event.case_id] = row
                changed[event.case_id] = row
            outcome.applied += 1
            outcome.last_recorded_at = event.recorded_at
        return changed

    def _observe(self, outcome: BatchOutcome, seconds: float) -> None:
        name = self.projection.name
        metrics.CONSUMER_APPLIED.labels(name).inc(outcome.applied)
        metrics.CONSUMER_DUPLICATES.labels(name).inc(outcome.duplicates)
        metrics.CONSUMER_GAPS.labels(name).inc(outcome.gaps)
        metrics.CONSUMER_BATCH_SECONDS.labels(name).observe(seconds)
        if outcome.last_recorded_at is not None:
            age = dt.datetime.now(dt.UTC) - outcome.last_recorded_at
            metrics.PROJECTION_LAG_SECONDS.labels(name).set(age.total_seconds())

    @staticmethod
    def _park(env: Envelope, reason: str) -> _Parked:
        event_type = env.event.event_type if env.event is not None else "unknown"
        return _Parked(env.key, env.payload, event_type, reason, env.source)

    @staticmethod
    def _park_event(event: ContractEvent, reason: str) -> _Parked:
        return _Parked(
            str(event.case_id), event.to_json_bytes(), event.event_type, reason, "fold"
        )

    async def _store_positions(
        self, conn: psycopg.AsyncConnection[Any], positions: dict[uuid.UUID, int]
    ) -> None:
        await self._upsert_positions.run(conn, positions.items())

    async def _store_parked(
        self, conn: psycopg.AsyncConnection[Any], parked: list[_Parked]
    ) -> None:
        if not parked:
            return
        for p in parked:
            log.warning("parked a %s message: %s", p.event_type, p.reason)
        async with conn.cursor() as cur:
            await cur.executemany(
                sql.SQL(
                    "INSERT INTO {} (case_key, event_type, payload, reason, source) "
                    "VALUES (%s, %s, %s, %s, %s)"
                ).format(self._dead),
                [(p.key, p.event_type, p.payload, p.reason, p.source) for p in parked],
            )


async def redrive(
    conn: psycopg.AsyncConnection[Any],
    schema: str,
    dead_letter_id: int,
    projections: Mapping[str, FoldProjection[Any]],
) -> tuple[int, str | None]:
    """Apply a parked message again, then the ones of its case behind it.

    ``projections`` are the schema's fold projections by producing service
    (the second part of an event type, e.g. ``intake``). The message must be
    the oldest parked one of its case (order per case is kept). Its position
    was advanced when it was parked, so it is folded here, not redelivered.
    Returns how many were applied and, when one fails again, why: it stays
    parked with the new reason, and those behind it wait.
    """
    dead = sql.SQL("{}.dead_letters").format(sql.Identifier(schema))
    async with conn.transaction():
        cur = await conn.execute(
            sql.SQL(
                "SELECT case_key FROM {} WHERE id = %s AND status = 'parked'"
            ).format(dead),
            (dead_letter_id,),
        )
        found = await cur.fetchone()
        if found is None:
            raise LookupError(f"id: no parked dead letter {dead_letter_id}")
        cur = await conn.execute(
            sql.SQL(
                "SELECT id, payload FROM {} WHERE case_key = %s "
                "AND status = 'parked' ORDER BY id FOR UPDATE"
            ).format(dead),
            (found[0],),
        )
        parked = list(await cur.fetchall())
        if parked[0][0] != dead_letter_id:
            raise LookupError(
                f"id: redrive {parked[0][0]} first, the oldest of its case"
            )
        applied, failure = 0, None
        for row_id, payload in parked:
            failure = await _refold(conn, schema, bytes(payload), projections)
            if failure is not None:
                await conn.execute(
                    sql.SQL("UPDATE {} SET reason = %s WHERE id = %s").format(dead),
                    (failure, row_id),
                )
                break
            await conn.execute(
                sql.SQL("UPDATE {} SET status = 'redriven' WHERE id = %s").format(dead),
                (row_id,),
            )
            applied += 1
    return applied, failure


async def _refold(
    conn: psycopg.AsyncConnection[Any],
    schema: str,
    payload: bytes,
    projections: Mapping[str, FoldProjection[Any]],
) -> str | None:
    """Fold one kept payload into its case's row; why not, if it fails."""
    envelope = decode(None, payload, source="redrive")
    event = envelope.event
    if event is None:
        return envelope.error or "undecodable"
    projection = projections.get(event.event_type.split(".")[1])
    if projection is None:
        return f"no projection of {schema} reads {event.event_type}"
    rows = await projection.load(conn, schema, [event.case_id])
    try:
        row = projection.fold(rows.get(event.case_id), event)
    except Exception as exc:  # noqa: BLE001 - kept with its reason
        return f"{type(exc).__name__}: {exc}"
    if row is not None:
        await projection.store(conn, schema, {event.case_id: row})
    return None
