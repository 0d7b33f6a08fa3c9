"""The event store: eventsourcing on PostgreSQL, storing contract events as they are.

One definition per event (ADR 0002): the stored state of an event is the JSON of
its contract model without ``recorded_at``, which PostgreSQL sets in its own
column when the event is appended. Reading a row back and adding that column
gives exactly the published event.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from contracts.envelope import ContractEvent
from contracts.registry import parse_stored_event

__all__ = [
    "ContractMapper",
    "HubApplicationRecorder",
    "StoredRow",
    "events_table",
    "eventstore_env",
    "read_rows",
    "row_to_event",
    "schema_setup",
]

_RECORDED_AT = "recorded_at"


class ContractMapper(Mapper[uuid.UUID]):
    """Maps contract events to stored events and back, with no second hierarchy."""

    def __init__(self, *_: Any, **__: Any) -> None:
        # The library hands a transcoder, cipher and compressor; the contract
        # model is its own codec, and per-person encryption comes with the
        # personal-data marker (ADR 0002), not with one key per application.
        pass

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """The stored form: the contract JSON, its type string as topic."""
        if not isinstance(domain_event, ContractEvent):
            raise TypeError(f"not a contract event: {type(domain_event).__name__}")
        return StoredEvent(
            originator_id=domain_event.stream_id,
            originator_version=domain_event.stream_version,
            topic=domain_event.event_type,
            state=domain_event.model_dump_json(exclude={_RECORDED_AT}).encode(),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        """The contract event of a stored event (``recorded_at`` unset).

        Read without the text, list and map bounds: an aggregate must load the
        events it stored before a bound existed (ADR 0010).
        """
        return parse_stored_event(stored_event.topic, stored_event.state)


class HubApplicationRecorder(PostgresApplicationRecorder):
    """The library's recorder plus a store-time column and a one-trip batch append.

    The library's exclusive table lock stays: it makes commit order equal
    notification order, so a reader following ``notification_id`` never passes
    a gap that a slower transaction fills later (anchors.md §3). The append is
    one call of a database function taking four arrays in binary form, instead
    of a composite per event dumped as text (the cost that dominated a batch).
    """

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = sql.Identifier(self.datastore.schema)
        table = sql.Identifier(self.events_table_name)
        function = sql.Identifier(f"{self.events_table_name}_append")
        self.sql_create_statements.append(
            sql.SQL(
                "ALTER TABLE {schema}.{table} ADD COLUMN IF NOT EXISTS recorded_at "
                "timestamptz NOT NULL DEFAULT clock_timestamp()"
            ).format(schema=schema, table=table)
        )
        self.sql_create_statements.append(
            sql.SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}("
                "ids uuid[], versions bigint[], topics text[], states bytea[]) "
                "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ BEGIN "
                "SET LOCAL lock_timeout = '{lock_timeout}s'; "
                "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
                "NOTIFY {channel}; "
                "RETURN QUERY INSERT INTO {schema}.{table} "
                "(originator_id, originator_version, topic, state) "
                "SELECT * FROM unnest(ids, versions, topics, states) "
                "RETURNING notification_id; END; $BODY$"
            ).format(
                schema=schema,
                function=function,
                lock_timeout=self.datastore.lock_timeout,
                table=table,
                channel=sql.Identifier(self.channel_name),
            )
        )
        self._append = sql.SQL(
            "SELECT {}.{}(%b, %b, %b, %b) AS notification_id"
        ).format(schema, function)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Append a batch in one transaction and one round trip."""
        if kwargs.get("tracking") is not None or not stored_events:
            ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return ids
        params = (
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
        )
        with self.datastore.get_connection() as conn:
            # One statement is its own transaction: autocommit saves the round
            # trip of a separate COMMIT, and the lock still lasts to the end.
            conn.autocommit = True
            try:
                with conn.cursor() as cur:
                    cur.execute(self._append, params, prepare=True)
                    return [int(row["notification_id"]) for row in cur.fetchall()]
            finally:
                conn.autocommit = False


def eventstore_env(database_url: str, *, app_name: str, schema: str) -> dict[str, str]:
    """The eventsourcing environment of one service's application."""
    params = conninfo_to_dict(database_url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(params.get("dbname", "postgres")),
        "POSTGRES_HOST": str(params.get("host", "127.0.0.1")),
        "POSTGRES_PORT": str(params.get("port", "5432")),
        "POSTGRES_USER": str(params.get("user", "postgres")),
        "POSTGRES_PASSWORD": str(params.get("password", "")),
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_POOL_SIZE": "8",
        "POSTGRES_MAX_OVERFLOW": "8",
        "POSTGRES_LOCK_TIMEOUT": "10",
        # Aggregates stay cached between commands; a stale one meets the
        # version check on append, is dropped and the command re-runs.
        "AGGREGATE_CACHE_MAXSIZE": "100000",
        "AGGREGATE_CACHE_FASTFORWARD": "n",
        "MAPPER_TOPIC": "services.common.eventstore:ContractMapper",
        "APPLICATION_RECORDER_TOPIC": (
            "services.common.eventstore:HubApplicationRecorder"
        ),
        f"{app_name.upper()}_POSTGRES_SCHEMA": schema,
    }


@contextlib.contextmanager
def schema_setup(database_url: str, schema: str) -> Iterator[None]:
    """Create a service's schema, holding a lock while its tables are created.

    The library creates its tables when an application starts; the API and the
    relay of one service start together, and concurrent ``CREATE TABLE IF NOT
    EXISTS`` of the same table can fail in PostgreSQL.
    """
    lock_key = f"hub-schema:{schema}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (lock_key,))
        try:
            conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
            )
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (lock_key,))


def events_table(schema: str, app_name: str) -> sql.Composed:
    """The qualified name of an application's events table."""
    return sql.SQL("{}.{}").format(
        sql.Identifier(schema), sql.Identifier(f"{app_name.lower()}_events")
    )


@dataclass(frozen=True, slots=True)
class StoredRow:
    """One row of an events table, as the relay and the rebuilds read it."""

    notification_id: int
    topic: str
    state: bytes
    recorded_at: dt.datetime


def row_to_event(row: StoredRow) -> ContractEvent:
    """The published event of a stored row: the stored contract plus store time.

    Read without the bounds, like every stored event (ADR 0010).
    """
    event = parse_stored_event(row.topic, row.state)
    # The event was validated a line above and nobody else holds it yet: set
    # the store time in place (model_copy would copy every field again).
    event.__dict__[_RECORDED_AT] = row.recorded_at
    event.__pydantic_fields_set__.add(_RECORDED_AT)
    return event


def select_rows_sql(table: sql.Composable) -> sql.Composed:
    """Ordered page of an events table after a notification id."""
    return sql.SQL(
        "SELECT notification_id, topic, state, recorded_at FROM {} "
        "WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
    ).format(table)


def read_rows(
    conn: psycopg.Connection[Any],
    table: sql.Composable,
    *,
    after: int = 0,
    page: int = 5000,
) -> Iterator[StoredRow]:
    """Every row of an events table in notification order, page by page."""
    query = select_rows_sql(table)
    while True:
        rows = conn.execute(query, (after, page)).fetchall()
        for notification_id, topic, state, recorded_at in rows:
            yield StoredRow(notification_id, topic, bytes(state), recorded_at)
        if len(rows) < page:
            return
        after = rows[-1][0]
