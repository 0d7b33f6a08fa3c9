"""The outbox relay: follows a service's event store in order and publishes to Kafka.

At-least-once (architecture.md §3): the position is recorded only after the
broker acknowledged every event up to it. A broker that comes back empty (a new
cluster id) is refilled from the start, because Kafka is a replayable copy of
the PostgreSQL record, not the record itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from aiokafka import AIOKafkaProducer
from psycopg import sql

from services.common import metrics
from services.common.eventstore import (
    StoredRow,
    events_table,
    row_to_event,
    select_rows_sql,
)
from services.common.kafka import BrokerAdmin, make_producer
from services.common.settings import HubSettings

__all__ = ["Relay", "RelaySpec"]

log = logging.getLogger(__name__)

_BROKER_CHECK_SECONDS = 1.0
_IDLE_WAIT_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class RelaySpec:
    """Which store a relay follows and where it publishes."""

    service: str
    schema: str
    app_name: str
    topic: str


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
        self._spec = spec
        self._topic = settings.topic(spec.topic)
        self._table = events_table(spec.schema, spec.app_name)
        self._positions = sql.SQL("{}.relay_positions").format(
            sql.Identifier(spec.schema)
        )
        self._select = select_rows_sql(self._table)
        self._producer: AIOKafkaProducer | None = None
        self._admin: BrokerAdmin | None = None
        self._cluster_id = ""
        self._acked = 0
        self._last_broker_check = -_BROKER_CHECK_SECONDS

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set; every failure is retried from the last ack."""
        async with await psycopg.AsyncConnection.connect(
            self._settings.database_url, autocommit=True
        ) as conn:
            await self._ensure_table(conn)
            await conn.execute(
                sql.SQL("LISTEN {}").format(
                    sql.Identifier(f"{self._spec.app_name}_events")
                )
            )
            while not stop.is_set():
                try:
                    await self._connect()
                    await self._relay_until(stop, conn)
                except psycopg.OperationalError:
                    raise  # database gone: exit, the supervisor restarts us
                except Exception:
                    metrics.RELAY_ERRORS.labels(self._spec.service).inc()
                    log.exception("relay round failed; retrying from the last ack")
                    await self._disconnect()
                    self._last_broker_check = -_BROKER_CHECK_SECONDS
                    await asyncio.sleep(0.5)
            await self._disconnect()

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
                await self._publish_lag(conn, self._acked)
                self._last_broker_check = loop.time()
            rows = await self._read(conn, self._acked)
            if not rows:
                await self._publish_lag(conn, self._acked)
                await self._wait_for_appends(conn)
                continue
            await self._publish(rows)
            await self._save_position(conn, rows[-1].notification_id)
            metrics.RELAY_POSITION.labels(self._spec.service).set(
                rows[-1].notification_id
            )

    async def _check_broker(self, conn: psycopg.AsyncConnection[Any]) -> None:
        assert self._admin is not None  # noqa: S101 - set by _connect
        cluster_id = await self._admin.cluster_id()
        stored = await conn.execute(
            sql.SQL("SELECT cluster_id, position FROM {} WHERE topic = %s").format(
                self._positions
            ),
            (self._topic,),
        )
        row = await stored.fetchone()
        if row is not None and row[0] == cluster_id:
            self._cluster_id = cluster_id
            self._acked = int(row[1])
            return
        await self._admin.ensure_topics([self._topic])
        if row is not None:
            log.warning(
                "broker cluster changed for %s; republishing from the start",
                self._topic,
            )
            metrics.RELAY_REPUBLISHES.labels(self._spec.service).inc()
        await conn.execute(
            sql.SQL(
                "INSERT INTO {} (topic, position, cluster_id) VALUES (%s, 0, %s) "
                "ON CONFLICT (topic) DO UPDATE SET position = 0, cluster_id = "
                "EXCLUDED.cluster_id, updated_at = now()"
            ).format(self._positions),
            (self._topic, cluster_id),
        )
        self._cluster_id = cluster_id
        self._acked = 0

    async def _read(
        self, conn: psycopg.AsyncConnection[Any], after: int
    ) -> list[StoredRow]:
        cur = await conn.execute(self._select, (after, self._settings.relay_batch_size))
        return [StoredRow(n, t, bytes(s), r) for n, t, s, r in await cur.fetchall()]

    async def _publish(self, rows: list[StoredRow]) -> None:
        assert self._producer is not None  # noqa: S101 - set by _connect
        futures = []
        for row in rows:
            event = row_to_event(row)
            futures.append(
                await self._producer.send(
                    self._topic,
                    value=event.to_json_bytes(),
                    key=str(event.case_id).encode(),
                    headers=[
                        ("content-type", b"application/json"),
                        ("event_type", event.event_type.encode()),
                    ],
                )
            )
        await asyncio.gather(*futures)
        now = dt.datetime.now(dt.UTC)
        latency = metrics.RELAY_PUBLISH_SECONDS.labels(self._spec.service)
        for row in rows:
            latency.observe((now - row.recorded_at).total_seconds())
        metrics.RELAY_PUBLISHED.labels(self._spec.service).inc(len(rows))
        if self._on_acked is not None:
            self._on_acked(rows, now)

    async def _save_position(
        self, conn: psycopg.AsyncConnection[Any], position: int
    ) -> None:
        # Guarded by the cluster id: a position acked by a broker that has since
        # been replaced must not overwrite the reset to 0.
        await conn.execute(
            sql.SQL(
                "UPDATE {} SET position = %s, updated_at = now() "
                "WHERE topic = %s AND cluster_id = %s"
            ).format(self._positions),
            (position, self._topic, self._cluster_id),
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

    @staticmethod
    async def _wait_for_appends(conn: psycopg.AsyncConnection[Any]) -> None:
        # Woken by the NOTIFY of an append, or after a short wait at the latest.
        async for _ in conn.notifies(timeout=_IDLE_WAIT_SECONDS, stop_after=1):
            break

    async def _ensure_table(self, conn: psycopg.AsyncConnection[Any]) -> None:
        await conn.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                sql.Identifier(self._spec.schema)
            )
        )
        await conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (topic text PRIMARY KEY, "
                "position bigint NOT NULL, cluster_id text NOT NULL, "
                "updated_at timestamptz NOT NULL DEFAULT now())"
            ).format(self._positions)
        )
