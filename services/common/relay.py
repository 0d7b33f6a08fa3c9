"""The outbox relay: follows a service's event store in order and publishes to Kafka.

At-least-once: the position is recorded only after the broker acknowledged
every event up to it. Kafka is a replayable copy of the PostgreSQL record,
not the record itself: a broker that comes back empty (a new cluster id, or
the same id with fewer messages than the relay had acknowledged) is refilled
from the start.

No single event stops the relay (docs/decisions/0013-the-broker-is-a-copy.md).
An event the broker cannot carry (larger than its limit, or refused for good)
parks its case in ``<schema>_relay.dead_letters``: its later events are
parked behind it, other cases flow on, and consumers that see the case's next
events read the missing ones from the store. ``hub dead-letters redrive
<schema>_relay ID`` asks the relay to publish the case's parked events, in
order, and to release the case.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from psycopg import sql

from services.common import metrics
from services.common.chain import ChainStore, run_checkpoints
from services.common.consumer import create_dead_letters
from services.common.eventstore import (
    StoredRow,
    events_table,
    relay_form,
    select_rows_sql,
)
from services.common.health import Readiness, install_health, record_lag
from services.common.http import install_metrics, serve_until
from services.common.kafka import (
    REFUSED_FOR_GOOD,
    BrokerAdmin,
    CopyWatch,
    Outgoing,
    make_producer,
    send_in_batches,
)
from services.common.privilege import create_schema_sql
from services.common.settings import HubSettings
from services.common.vault import settings_vault

__all__ = ["Relay", "RelaySpec", "relay_schema", "request_redrive", "serve_relay"]

log = logging.getLogger(__name__)

_BROKER_CHECK_SECONDS = 1.0
_IDLE_WAIT_SECONDS = 0.5
# Rounds in a row one event may fail while others of its round go through
# before it is taken for the event's fault rather than the broker's.
_ATTEMPTS_PER_EVENT = 5


@dataclass(frozen=True, slots=True)
class RelaySpec:
    """Which store a relay follows and where it publishes."""

    service: str
    schema: str
    app_name: str
    topic: str


def relay_schema(spec: RelaySpec) -> str:
    """Where a relay keeps the events it parked (apart from the service's own)."""
    return f"{spec.schema}_relay"


@dataclass(frozen=True, slots=True)
class _Message:
    row: StoredRow
    case_key: str
    value: bytes | None  # None: it could not be made into a message
    problem: str | None = None

    def outgoing(self) -> Outgoing:
        """What the broker gets: keyed by case, the event type in a header."""
        return Outgoing(self.case_key.encode(), self.value, _headers(self.row.topic))


@functools.lru_cache(maxsize=1024)  # a few event types: made once each
def _headers(event_type: str) -> list[tuple[str, bytes]]:
    return [("content-type", b"application/json"), ("event_type", event_type.encode())]


class Relay:
    """Publishes one service's events, in notification order, keyed by case id."""

    def __init__(
        self,
        settings: HubSettings,
        spec: RelaySpec,
        *,
        on_acked: Callable[[list[StoredRow], dt.datetime], None] | None = None,
    ) -> None:
        self._on_acked = on_acked
        self._settings = settings
        self._vault = settings_vault(settings)
        self._spec = spec
        self._topic = settings.topic(spec.topic)
        self._table = events_table(spec.schema, spec.app_name)
        self._positions = sql.SQL("{}.relay_positions").format(
            sql.Identifier(spec.schema)
        )
        self._dead_schema = relay_schema(spec)
        self._dead = sql.SQL("{}.dead_letters").format(
            sql.Identifier(self._dead_schema)
        )
        self._select = select_rows_sql(self._table)
        self._producer: AIOKafkaProducer | None = None
        self._admin: BrokerAdmin | None = None
        self._cluster_id = ""
        self._acked = 0
        self._acked_messages = 0  # on this copy of the topic
        self._watch = CopyWatch()
        self._parked: set[str] = set()
        self._failures: dict[int, int] = {}  # notification id -> rounds it failed
        self._last_broker_check = -_BROKER_CHECK_SECONDS

    @property
    def name(self) -> str:
        """The relay's name in metrics and dead letters."""
        return f"{self._spec.service}-relay"

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set; every failure is retried from the last ack.

        PostgreSQL going away is waited out (the process stays, not ready), so
        the relay goes on from its recorded position when it is back.
        """
        try:
            while not stop.is_set():
                try:
                    await self._run_connected(stop)
                except (psycopg.OperationalError, OSError) as exc:
                    metrics.RELAY_ERRORS.labels(self._spec.service).inc()
                    log.warning(
                        "%s: PostgreSQL unreachable (%s); waiting",
                        self.name,
                        type(exc).__name__,
                    )
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 2.0)
        finally:
            await self._disconnect()

    async def _run_connected(self, stop: asyncio.Event) -> None:
        async with await psycopg.AsyncConnection.connect(
            self._settings.database_url, autocommit=True
        ) as conn:
            await self._ensure_tables(conn)
            # What this connection writes (its position, the events it parks)
            # is a relay's progress, not a fact: after a crash that lost the
            # last commits, it publishes those events again (at least once,
            # ADR 0003). So its commits do not wait for the disk.
            await conn.execute("SET synchronous_commit = off")
            await conn.execute(
                sql.SQL("LISTEN {}").format(
                    sql.Identifier(f"{self._spec.app_name}_events")
                )
            )
            while not stop.is_set():
                try:
                    await self._connect()
                    await self._relay_until(stop, conn)
                except (psycopg.OperationalError, OSError):
                    raise  # PostgreSQL gone: reconnect
                except Exception:
                    metrics.RELAY_ERRORS.labels(self._spec.service).inc()
                    log.exception("relay round failed; retrying from the last ack")
                    await self._disconnect()
                    self._last_broker_check = -_BROKER_CHECK_SECONDS
                    await asyncio.sleep(0.5)

    async def _connect(self) -> None:
        if self._producer is None:
            self._producer = make_producer(self._settings)
            await self._producer.start()
        if self._admin is None:
            self._admin = BrokerAdmin(self._settings)
            await self._admin.start()

    async def _disconnect(self) -> None:
        producer, admin = self._producer, self._admin
        self._producer = self._admin = None
        if producer is not None:
            await producer.stop()
        if admin is not None:
            await admin.close()

    async def _relay_until(
        self, stop: asyncio.Event, conn: psycopg.AsyncConnection[Any]
    ) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            if loop.time() - self._last_broker_check > _BROKER_CHECK_SECONDS:
                await self._check_broker(conn)
                await self._redrive_requested(conn)
                await self._publish_lag(conn, self._acked)
                self._last_broker_check = loop.time()
            rows = await self._read(conn, self._acked)
            if not rows:
                await self._publish_lag(conn, self._acked)
                await self._wait_for_appends(conn)
                continue
            await self._publish(conn, rows)
            await self._save_position(conn, rows[-1].notification_id)
            if not self._watch.knows_copy:
                self._last_broker_check = -_BROKER_CHECK_SECONDS
            metrics.RELAY_POSITION.labels(self._spec.service).set(
                rows[-1].notification_id
            )

    async def _check_broker(self, conn: psycopg.AsyncConnection[Any]) -> None:
        assert self._admin is not None  # noqa: S101 - set by _connect
        cluster_id = await self._admin.cluster_id()
        stored = await conn.execute(
            sql.SQL(
                "SELECT cluster_id, position, acked_messages FROM {} WHERE topic = %s"
            ).format(self._positions),
            (self._topic,),
        )
        row = await stored.fetchone()
        if row is not None and row[0] == cluster_id:
            lost = await self._watch.lost(self._admin, self._topic, int(row[2]))
            if lost is None:
                self._cluster_id = cluster_id
                self._acked = int(row[1])
                self._acked_messages = int(row[2])
                return
            log.warning("broker lost messages of %s (%s)", self._topic, lost)
        self._watch = CopyWatch()
        await self._admin.ensure_topics([self._topic])
        if row is not None:
            log.warning("broker of %s is a new copy; republishing", self._topic)
            metrics.RELAY_REPUBLISHES.labels(self._spec.service).inc()
        await conn.execute(
            sql.SQL(
                "INSERT INTO {} (topic, position, cluster_id, acked_messages) "
                "VALUES (%s, 0, %s, 0) ON CONFLICT (topic) DO UPDATE SET "
                "position = 0, cluster_id = EXCLUDED.cluster_id, acked_messages = 0, "
                "updated_at = now()"
            ).format(self._positions),
            (self._topic, cluster_id),
        )
        self._cluster_id = cluster_id
        self._acked = 0
        self._acked_messages = 0

    async def _read(
        self, conn: psycopg.AsyncConnection[Any], after: int
    ) -> list[StoredRow]:
        cur = await conn.execute(self._select, (after, self._settings.relay_batch_size))
        # No data key is fetched: a sealed row is sent with its box closed.
        return [StoredRow(n, t, bytes(s), r) for n, t, s, r in await cur.fetchall()]

    def _message(self, row: StoredRow) -> _Message:
        """The bytes of one stored event, or why there are none."""
        try:
            case_id, value = relay_form(self._vault, row)
        except psycopg.OperationalError:
            raise  # the vault's database away: waited out, never a parked row
        except Exception as exc:  # noqa: BLE001 - a stored row that is no event
            return _Message(row, "unknown", None, f"not a readable event: {exc}")
        key = str(case_id)
        if len(value) > self._settings.kafka_max_message_bytes:
            return _Message(
                row,
                key,
                None,
                f"{len(value)} bytes, over the broker's limit of "
                f"{self._settings.kafka_max_message_bytes}",
            )
        return _Message(row, key, value)

    async def _publish(
        self, conn: psycopg.AsyncConnection[Any], rows: list[StoredRow]
    ) -> None:
        """Publish a page; what cannot be published is parked by case, in order.

        A round that must be tried again leaves nothing behind: it is redone
        from the last acknowledgement, parking included.
        """
        before = set(self._parked)
        try:
            await self._publish_once(conn, rows)
        except BaseException:
            self._parked = before
            raise

    async def _publish_once(
        self, conn: psycopg.AsyncConnection[Any], rows: list[StoredRow]
    ) -> None:
        parked: list[tuple[_Message, str, str]] = []
        sent: list[_Message] = []
        for message in map(self._message, rows):
            if message.case_key in self._parked:
                parked.append((message, "waiting", _WAITING))
            elif message.value is None:
                self._parked.add(message.case_key)
                parked.append((message, "unpublishable", message.problem or ""))
            else:
                sent.append(message)
        assert self._producer is not None  # noqa: S101 - set by _connect
        results = await send_in_batches(
            self._producer,
            self._topic,
            [m.outgoing() for m in sent],
            max_message_bytes=self._settings.kafka_max_message_bytes,
        )
        now = dt.datetime.now(dt.UTC)
        failed = self._acknowledge(sent, results, now)
        if failed:
            parked += self._give_up_on(failed, delivered=len(sent) - len(failed))
        if parked:
            await self._park(conn, parked)
        if self._on_acked is not None:
            self._on_acked(rows, now)

    def _acknowledge(
        self,
        sent: list[_Message],
        results: list[Any],
        now: dt.datetime,
    ) -> list[tuple[_Message, BaseException]]:
        """Record the offsets and latencies of what the broker took; what it did not."""
        failed: list[tuple[_Message, BaseException]] = []
        latency = metrics.RELAY_PUBLISH_SECONDS.labels(self._spec.service)
        for message, result in zip(sent, results, strict=True):
            if isinstance(result, BaseException):
                failed.append((message, result))
                continue
            self._acked_messages += 1
            self._failures.pop(message.row.notification_id, None)
            latency.observe((now - message.row.recorded_at).total_seconds())
        metrics.RELAY_PUBLISHED.labels(self._spec.service).inc(len(sent) - len(failed))
        return failed

    def _give_up_on(
        self, failed: list[tuple[_Message, BaseException]], *, delivered: int
    ) -> list[tuple[_Message, str, str]]:
        """The failed events to park; raises when the round must be tried again.

        An event the broker refused for good is parked at once. Otherwise the
        round is tried again from the last acknowledgement; an event that
        keeps failing while the others of its round go through is parked
        after a few rounds. When nothing goes through, the broker is at fault
        and nothing is parked.
        """
        parked: list[tuple[_Message, str, str]] = []
        retry: list[BaseException] = []
        for message, error in failed:
            n = message.row.notification_id
            self._failures[n] = self._failures.get(n, 0) + 1
            if isinstance(error, REFUSED_FOR_GOOD) or (
                delivered and self._failures[n] >= _ATTEMPTS_PER_EVENT
            ):
                parked.append(
                    (
                        message,
                        "refused",
                        f"the broker refused it: {type(error).__name__}",
                    )
                )
                self._parked.add(message.case_key)
                self._failures.pop(n, None)
            else:
                retry.append(error)
        if retry:
            raise retry[0]
        return parked

    async def _park(
        self,
        conn: psycopg.AsyncConnection[Any],
        parked: list[tuple[_Message, str, str]],
    ) -> None:
        async with conn.cursor() as cur:
            await cur.executemany(
                sql.SQL(
                    "INSERT INTO {} (case_key, event_type, payload, reason, source, "
                    "consumer, rule) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                ).format(self._dead),
                [
                    (
                        m.case_key,
                        m.row.topic,
                        m.row.state,
                        reason,
                        f"store:{m.row.notification_id}",
                        self.name,
                        rule,
                    )
                    for m, rule, reason in parked
                ],
            )
        for m, rule, _ in parked:
            if rule != "waiting":
                log.error(
                    "%s parked case %s at event %d (%s)",
                    self.name,
                    m.case_key,
                    m.row.notification_id,
                    rule,
                )
        metrics.RELAY_PARKED.labels(self._spec.service).inc(len(parked))
        await self._refresh_parked_gauge(conn)

    async def _refresh_parked_gauge(self, conn: psycopg.AsyncConnection[Any]) -> None:
        cur = await conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE status = 'parked'").format(
                self._dead
            )
        )
        row = await cur.fetchone()
        metrics.DEAD_LETTERS.labels(self.name).set(row[0] if row else 0)

    async def _redrive_requested(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Publish the parked events of the cases an operator asked to release."""
        cur = await conn.execute(
            sql.SQL(
                "SELECT id, case_key, source FROM {} WHERE status = 'redrive' "
                "ORDER BY id"
            ).format(self._dead)
        )
        requested = await cur.fetchall()
        for dead_letter_id, case_key, source in requested:
            notification_id = int(str(source).removeprefix("store:"))
            rows = await conn.execute(
                sql.SQL(
                    "SELECT notification_id, topic, state, recorded_at FROM {} "
                    "WHERE notification_id = %s"
                ).format(self._table),
                (notification_id,),
            )
            found = await rows.fetchone()
            status, reason = "redriven", None
            if found is None:
                status, reason = "unpublishable", "the event is gone from the store"
            else:
                message = self._message(
                    StoredRow(found[0], found[1], bytes(found[2]), found[3])
                )
                if message.value is None:
                    status, reason = "unpublishable", message.problem
                else:
                    assert self._producer is not None  # noqa: S101 - connected
                    [result] = await send_in_batches(
                        self._producer,
                        self._topic,
                        [message.outgoing()],
                        max_message_bytes=self._settings.kafka_max_message_bytes,
                    )
                    if isinstance(result, REFUSED_FOR_GOOD):
                        status = "unpublishable"
                        reason = f"the broker refused it: {type(result).__name__}"
                    elif isinstance(result, BaseException):
                        raise result
            # An event the broker can never carry stays in the store: consumers
            # that see the case's next events read it from there.
            await conn.execute(
                sql.SQL(
                    "UPDATE {} SET status = %s, reason = coalesce(%s, reason) "
                    "WHERE id = %s"
                ).format(self._dead),
                (status, reason, dead_letter_id),
            )
            still = await conn.execute(
                sql.SQL(
                    "SELECT 1 FROM {} WHERE case_key = %s AND status IN "
                    "('parked', 'redrive') LIMIT 1"
                ).format(self._dead),
                (case_key,),
            )
            if await still.fetchone() is None:
                self._parked.discard(case_key)
        if requested:
            await self._refresh_parked_gauge(conn)

    async def _save_position(
        self, conn: psycopg.AsyncConnection[Any], position: int
    ) -> None:
        # Guarded by the cluster id: a position acked by a broker that has since
        # been replaced must not overwrite the reset to 0.
        await conn.execute(
            sql.SQL(
                "UPDATE {} SET position = %s, acked_messages = %s, updated_at = now() "
                "WHERE topic = %s AND cluster_id = %s"
            ).format(self._positions),
            (position, self._acked_messages, self._topic, self._cluster_id),
        )
        self._acked = position

    async def _publish_lag(
        self, conn: psycopg.AsyncConnection[Any], position: int
    ) -> None:
        cur = await conn.execute(
            sql.SQL("SELECT coalesce(max(notification_id), 0) FROM {}").format(
                self._table
            )
        )
        row = await cur.fetchone()
        head = int(row[0]) if row else 0
        metrics.RELAY_LAG.labels(self._spec.service).set(max(0, head - position))
        record_lag(self.name, max(0, head - position))

    @staticmethod
    async def _wait_for_appends(conn: psycopg.AsyncConnection[Any]) -> None:
        # Woken by the NOTIFY of an append, or after a short wait at the latest.
        async for _ in conn.notifies(timeout=_IDLE_WAIT_SECONDS, stop_after=1):
            break

    async def _ensure_tables(self, conn: psycopg.AsyncConnection[Any]) -> None:
        await conn.execute(create_schema_sql(self._spec.schema))
        await conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (topic text PRIMARY KEY, "
                "position bigint NOT NULL, cluster_id text NOT NULL, "
                "updated_at timestamptz NOT NULL DEFAULT now())"
            ).format(self._positions)
        )
        await conn.execute(
            sql.SQL(
                "ALTER TABLE {} ADD COLUMN IF NOT EXISTS acked_messages bigint "
                "NOT NULL DEFAULT 0"
            ).format(self._positions)
        )
        await conn.execute(create_schema_sql(self._dead_schema))
        await create_dead_letters(conn, self._dead_schema)
        cur = await conn.execute(
            sql.SQL(
                "SELECT DISTINCT case_key FROM {} WHERE status IN ('parked', 'redrive')"
            ).format(self._dead)
        )
        self._parked = {row[0] for row in await cur.fetchall()}
        await self._refresh_parked_gauge(conn)


_WAITING = "waiting behind an earlier event of the same case the relay parked"


def request_redrive(
    conn: psycopg.Connection[Any], schema: str, dead_letter_id: int
) -> list[int]:
    """Ask a relay to publish a parked case's events again; the ids it will try.

    The relay publishes them itself (it is the only writer of its topic, so
    the case's order holds), within a second or two while it runs.
    """
    dead = sql.SQL("{}.dead_letters").format(sql.Identifier(schema))
    with conn.transaction():
        row = conn.execute(
            sql.SQL(
                "SELECT case_key FROM {} WHERE id = %s AND status = 'parked'"
            ).format(dead),
            (dead_letter_id,),
        ).fetchone()
        if row is None:
            raise LookupError(f"id: no parked dead letter {dead_letter_id}")
        ids = [
            r[0]
            for r in conn.execute(
                sql.SQL(
                    "SELECT id FROM {} WHERE case_key = %s AND status = 'parked' "
                    "ORDER BY id FOR UPDATE"
                ).format(dead),
                (row[0],),
            ).fetchall()
        ]
        if not ids:  # asked for meanwhile, by another operator
            raise LookupError(f"id: no parked dead letter {dead_letter_id}")
        if ids[0] != dead_letter_id:
            raise LookupError(f"id: redrive {ids[0]} first, the oldest of its case")
        conn.execute(
            sql.SQL("UPDATE {} SET status = 'redrive' WHERE id = ANY(%s)").format(dead),
            (ids,),
        )
    return ids


async def serve_relay(
    settings: HubSettings, stop: asyncio.Event, spec: RelaySpec, port: int
) -> None:
    """A relay process: the relay, and /metrics, /health and /ready on its port."""
    relay = Relay(settings, spec)
    # The relay's process signs its store's chain head too (ADR 0020).
    checkpoints = asyncio.create_task(
        run_checkpoints(
            settings, ChainStore(spec.schema, f"{spec.app_name}_events"), stop
        )
    )
    app = FastAPI(title=f"CPAS hub — {relay.name}", version="1")
    install_metrics(app)
    install_health(app, Readiness(settings, lambda: (relay.name,)))
    server = asyncio.create_task(serve_until(app, settings.host, port, stop))
    try:
        await relay.run(stop)
    finally:
        stop.set()
        await server
        await checkpoints
