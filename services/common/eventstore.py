"""The event store: eventsourcing on PostgreSQL, storing contract events as they are.

One definition per event (ADR 0002): the stored state of an event is the JSON of
its contract model without ``recorded_at``, which PostgreSQL sets in its own
column when the event is appended. Reading a row back and adding that column
gives exactly the published event.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import uuid
from collections.abc import Container, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.persistence import IntegrityError, Mapper, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from pydantic import BaseModel, TypeAdapter

from contracts.envelope import ContractEvent
from contracts.registry import (
    event_class,
    parse_event,
    parse_stored_data,
    parse_stored_event,
)
from contracts.sealing import (
    SEALED_KEY,
    erased_validator,
    personal_plan,
    split_personal,
)
from services.common.chain import chain_statements
from services.common.connections import install_check
from services.common.privilege import create_schema_sql
from services.common.vault import PersonErasedError, Vault, current_vault, vault_for

__all__ = [
    "CONFLICT",
    "REUSED",
    "STORED",
    "AppendRequest",
    "ContractMapper",
    "HubApplicationRecorder",
    "StoredRow",
    "case_of",
    "events_table",
    "eventstore_env",
    "open_event",
    "published_form",
    "read_rows",
    "relay_form",
    "row_to_event",
    "rows_to_events",
    "schema_setup",
    "seal_event",
    "vault_of_env",
]

_RECORDED_AT = "recorded_at"


class ContractMapper(Mapper[uuid.UUID]):
    """Maps contract events to stored events and back, with no second hierarchy.

    The stored state is the event's sealed form (`contracts.sealing`): its
    personal data in a box under its person's key, from the vault.
    """

    def __init__(self, *_: Any, vault: Vault | None = None, **__: Any) -> None:
        # The library hands a transcoder, cipher and compressor; the contract
        # model is its own codec, and encryption is per person (the vault,
        # ADR 0023), not one key per application.
        self.vault = vault or current_vault()

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """The stored form: the sealed contract JSON, its type string as topic."""
        if not isinstance(domain_event, ContractEvent):
            raise TypeError(f"not a contract event: {type(domain_event).__name__}")
        return StoredEvent(
            originator_id=domain_event.stream_id,
            originator_version=domain_event.stream_version,
            topic=domain_event.event_type,
            state=seal_event(self.vault, domain_event),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        """The contract event of a stored event (``recorded_at`` unset).

        Read without the text, list and map bounds: an aggregate must load the
        events it stored before a bound existed (ADR 0010).
        """
        return open_event(self.vault, stored_event.topic, stored_event.state)


def seal_event(vault: Vault, event: ContractEvent) -> bytes:
    """The stored and published form of an event, without ``recorded_at``."""
    plan = personal_plan(type(event))
    if not plan:
        return event.model_dump_json(exclude={_RECORDED_AT}).encode()
    data = event.model_dump(mode="json", exclude={_RECORDED_AT})
    vault.seal(data, plan, event.case_id, event.event_id.bytes)
    return json.dumps(data, separators=(",", ":")).encode()


def open_event(
    vault: Vault, event_type: str, payload: bytes | str, *, stored: bool = True
) -> ContractEvent:
    """The event of a sealed payload, its box opened.

    ``stored``: read as the store reads its own rows (without the bounds, ADR
    0010); otherwise with every bound, as what arrives from a topic. A person
    whose key is destroyed reads with their personal-data fields None.
    """
    cls = event_class(event_type)
    raw = payload.encode() if isinstance(payload, str) else payload
    if not personal_plan(cls) or _SEALED not in raw:
        return (
            parse_stored_event(event_type, raw)
            if stored
            else parse_event(event_type, raw)
        )
    data = json.loads(raw)
    if not isinstance(data, dict):
        return parse_event(event_type, raw)
    try:
        event_id = uuid.UUID(str(data.get("event_id"))).bytes
    except ValueError:
        return parse_event(event_type, raw)
    if not vault.open(data, event_id):
        event: ContractEvent = erased_validator(cls).validate_json(json.dumps(data))
        return event
    if stored:
        return parse_stored_data(event_type, data)
    return parse_event(event_type, json.dumps(data, separators=(",", ":")))


_SEALED = f'"{SEALED_KEY}"'.encode()
_STORE_TIME: TypeAdapter[dt.datetime] = TypeAdapter(dt.datetime)


def published_form(vault: Vault, row: StoredRow, event: ContractEvent) -> bytes:
    """The message of a stored row: its sealed JSON and its store time.

    A row sealed when stored is sent as stored; one stored in clear (before
    the hub sealed) is sealed now, so no topic carries personal data in
    clear; one of an erased person goes without its personal data.
    """
    plan = personal_plan(type(event))
    if not plan:
        return event.to_json_bytes()
    if _SEALED in row.state and row.state.rstrip().endswith(b"}"):
        stored = row.state.rstrip()
    else:
        try:
            stored = seal_event(vault, event)
        except PersonErasedError:
            data = event.model_dump(mode="json", exclude={_RECORDED_AT})
            split_personal(data, plan)
            stored = json.dumps(data, separators=(",", ":")).encode()
    return _with_store_time(stored, row.recorded_at)


class _CaseKey(BaseModel):
    """The one field a relay needs of a stored event: its case, the message key."""

    case_id: uuid.UUID


def relay_form(vault: Vault, row: StoredRow) -> tuple[uuid.UUID, bytes]:
    """The message key and bytes of a stored row, its box left closed.

    The same bytes as `published_form`: a row already in its published form
    (sealed, or holding no personal data) is sent as stored with its store
    time added, and only its case id is read. Opening a sealed box and
    validating every field again, as `row_to_event` does, cost the relay four
    fifths of its time; the store validated the event when it appended it,
    and every consumer validates what it receives. A row stored in clear
    before the hub sealed is read whole and sealed now.
    """
    cls = event_class(row.topic)
    state = row.state.rstrip()
    if (
        not state.endswith(b"}")
        or (personal_plan(cls) and _SEALED not in state)
        or _RECORDED_AT_KEY in state
    ):
        event = row_to_event(row, vault)
        return event.case_id, published_form(vault, row, event)
    case_id = _CaseKey.model_validate_json(state).case_id
    return case_id, _with_store_time(state, row.recorded_at)


_RECORDED_AT_KEY = f'"{_RECORDED_AT}"'.encode()


def case_of(row: StoredRow) -> uuid.UUID | None:
    """The case of a stored row, its box left closed (None: not an event's JSON)."""
    try:
        return _CaseKey.model_validate_json(row.state).case_id
    except ValueError:
        return None


def _with_store_time(state: bytes, recorded_at: dt.datetime) -> bytes:
    stamp = _STORE_TIME.dump_json(recorded_at)
    return state[:-1] + b"," + _RECORDED_AT_KEY + b":" + stamp + b"}"


@dataclass(frozen=True, slots=True)
class AppendRequest:
    """The events of one command, appended atomically or not at all."""

    events: Sequence[StoredEvent]
    command_id: uuid.UUID | None = None
    digest: str | None = None


# What became of one request of a batch.
STORED, CONFLICT, REUSED = "stored", "conflict", "reused"


class HubApplicationRecorder(PostgresApplicationRecorder):
    """The library's recorder plus a store-time column and a one-trip batch append.

    The library's exclusive table lock stays: it makes commit order equal
    notification order, so a reader following ``notification_id`` never passes
    a gap that a slower transaction fills later. The append is one call of a
    database function taking the batch as arrays in binary form. Under the lock
    it refuses, request by request, what would break a stream (a version taken
    or skipped) or reuse a command id for another command, and inserts the
    rest: one request's conflict never costs the others their append
    (docs/decisions/0011-one-command-path.md).
    """

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        install_check(datastore.pool)
        schema = sql.Identifier(self.datastore.schema)
        table = sql.Identifier(self.events_table_name)
        commands = sql.Identifier(
            self.events_table_name.removesuffix("_events") + "_commands"
        )
        function = sql.Identifier(f"{self.events_table_name}_append_requests")
        self.sql_create_statements.append(
            sql.SQL(
                "ALTER TABLE {schema}.{table} ADD COLUMN IF NOT EXISTS recorded_at "
                "timestamptz NOT NULL DEFAULT clock_timestamp()"
            ).format(schema=schema, table=table)
        )
        self.sql_create_statements.append(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{commands} (command_id uuid "
                "PRIMARY KEY, digest text, stream_id uuid NOT NULL, recorded_at "
                "timestamptz NOT NULL DEFAULT clock_timestamp())"
            ).format(schema=schema, commands=commands)
        )
        self.sql_create_statements.append(
            sql.SQL(_APPEND_REQUESTS).format(
                schema=schema,
                function=function,
                lock_timeout=self.datastore.lock_timeout,
                table=table,
                commands=commands,
                channel=sql.Identifier(self.channel_name),
            )
        )
        # Tamper evidence: every inserted row is chained by a trigger (ADR 0020).
        self.sql_create_statements += chain_statements(
            self.datastore.schema, self.events_table_name
        )
        self._append_requests = sql.SQL(
            "SELECT o_request, o_status, o_notification "
            "FROM {}.{}(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[], %b::int[], "
            "%b::uuid[], %b::text[], %b::uuid[])"
        ).format(schema, function)
        self._select_streams = sql.SQL(
            "SELECT t.originator_id, t.originator_version, t.topic, t.state "
            "FROM {}.{} t JOIN unnest(%b::uuid[], %b::bigint[]) AS u(id, after) "
            "ON t.originator_id = u.id AND t.originator_version > u.after "
            "ORDER BY t.originator_id, t.originator_version"
        ).format(schema, table)

    def select_streams(
        self, after: Mapping[uuid.UUID, int]
    ) -> dict[uuid.UUID, list[StoredEvent]]:
        """The events of many streams after a version each, in one round trip."""
        found: dict[uuid.UUID, list[StoredEvent]] = {}
        if not after:
            return found
        with self.datastore.get_connection() as conn, conn.cursor() as cur:
            cur.execute(
                self._select_streams,
                (list(after), list(after.values())),
                prepare=True,
            )
            for row in cur.fetchall():
                found.setdefault(row["originator_id"], []).append(
                    StoredEvent(
                        originator_id=row["originator_id"],
                        originator_version=row["originator_version"],
                        topic=row["topic"],
                        state=bytes(row["state"]),
                    )
                )
        return found

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Append a batch in one transaction; any conflict refuses it all."""
        if kwargs.get("tracking") is not None or not stored_events:
            ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return ids
        status, notification_ids = self.insert_requests([AppendRequest(stored_events)])[
            0
        ]
        if status != STORED:
            raise IntegrityError(f"append refused: {status}")
        return notification_ids

    def insert_requests(
        self, requests: Sequence[AppendRequest]
    ) -> list[tuple[str, list[int]]]:
        """Append each request atomically, in one round trip; per request its fate.

        Returns, in the order given, ``(STORED, notification ids)``,
        ``(CONFLICT, [])`` (a version was taken or skipped: decide again on
        fresh state) or ``(REUSED, [])`` (the command id is recorded for a
        different command).
        """
        events = [(n, e) for n, r in enumerate(requests) for e in r.events]
        params = (
            [e.originator_id for _, e in events],
            [e.originator_version for _, e in events],
            [e.topic for _, e in events],
            [e.state for _, e in events],
            [n for n, _ in events],
            [r.command_id for r in requests],
            [r.digest for r in requests],
            [r.events[0].originator_id for r in requests],
        )
        fates: list[tuple[str, list[int]]] = [(STORED, []) for _ in requests]
        with self.datastore.get_connection() as conn:
            # One statement is its own transaction: autocommit saves the round
            # trip of a separate COMMIT, and the lock still lasts to the end.
            conn.autocommit = True
            try:
                with conn.cursor() as cur:
                    cur.execute(self._append_requests, params, prepare=True)
                    for request, status, notification_id in (
                        (r["o_request"], r["o_status"], r["o_notification"])
                        for r in cur.fetchall()
                    ):
                        if status == STORED:
                            fates[request][1].append(int(notification_id))
                        else:
                            fates[request] = (status, [])
            finally:
                conn.autocommit = False
        return fates


# The function runs as the store's owner (SECURITY DEFINER): a service's role
# appends only through it, holding no INSERT, UPDATE or DELETE on the table
# (ADR 0027), and the exclusive lock it takes needs the owner's right.
# Under the table lock, a request is refused when its command id is recorded
# already (for another command: "reused"; for the same one, a concurrent
# retry: "conflict", decided again; recorded for a stream the request does
# not write, it is another command, whatever its digest), when one of its
# streams does not start
# right after the stored head (a version taken by a concurrent writer, or
# skipped: decided on state that was never stored), or when an earlier
# request of the batch, not refused itself, writes the same stream. The rest
# is inserted in the order given, so notification order is the callers'.
_APPEND_REQUESTS = """
CREATE OR REPLACE FUNCTION {schema}.{function}(
    ids uuid[], versions bigint[], topics text[], states bytea[], requests int[],
    command_ids uuid[], digests text[], streams uuid[])
RETURNS TABLE (o_request int, o_status text, o_notification bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $BODY$
DECLARE
    reused int[];
    refused int[];
BEGIN
    SET LOCAL lock_timeout = '{lock_timeout}s';
    LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;
    -- Command ids: known already, or given twice in this batch.
    SELECT coalesce(array_agg(x.req) FILTER (WHERE x.other_command), '{{}}'),
           coalesce(array_agg(x.req) FILTER (WHERE NOT x.other_command), '{{}}')
      INTO reused, refused
      FROM (SELECT c.req, CASE WHEN k.command_id IS NOT NULL
                     THEN k.digest IS DISTINCT FROM c.digest OR NOT EXISTS (
                          SELECT 1 FROM unnest(ids, requests) AS e(id, req)
                           WHERE e.req = c.req AND e.id = k.stream_id)
                     ELSE c.first_digest IS DISTINCT FROM c.digest OR NOT EXISTS (
                          SELECT 1 FROM unnest(ids, requests) AS e(id, req)
                           WHERE e.req = c.req AND e.id = c.first_stream) END
                     AS other_command
              FROM (SELECT u.id, u.digest, (u.req - 1)::int AS req,
                           first_value(u.digest) OVER w AS first_digest,
                           first_value(u.stream) OVER w AS first_stream,
                           row_number() OVER w AS nth
                      FROM unnest(command_ids, digests, streams) WITH ORDINALITY
                           AS u(id, digest, stream, req)
                     WHERE u.id IS NOT NULL
                    WINDOW w AS (PARTITION BY u.id ORDER BY u.req)) c
              LEFT JOIN {schema}.{commands} k ON k.command_id = c.id
             WHERE k.command_id IS NOT NULL OR c.nth > 1) x;
    -- Streams: each must go on from its stored head.
    refused := refused || coalesce((
        SELECT array_agg(DISTINCT f.req) FROM (
            SELECT u.id, u.req, min(u.v) AS first_version
              FROM unnest(ids, versions, requests) AS u(id, v, req)
             GROUP BY u.id, u.req) f
         WHERE f.first_version <> coalesce((
            SELECT max(t.originator_version) FROM {schema}.{table} t
             WHERE t.originator_id = f.id), 0) + 1), '{{}}');
    -- Of the requests left, one per stream: the first.
    refused := refused || coalesce((
        SELECT array_agg(DISTINCT r.req) FROM (
            SELECT u.req, dense_rank() OVER (PARTITION BY u.id ORDER BY u.req) AS nth
              FROM unnest(ids, requests) AS u(id, req)
             WHERE NOT (u.req = ANY(reused || refused))) r
         WHERE r.nth > 1), '{{}}');
    refused := array(SELECT unnest(refused) EXCEPT SELECT unnest(reused));
    RETURN QUERY SELECT r, 'reused', NULL::bigint FROM unnest(reused) AS r;
    RETURN QUERY SELECT r, 'conflict', NULL::bigint FROM unnest(refused) AS r;
    INSERT INTO {schema}.{commands} (command_id, digest, stream_id)
        SELECT c.id, c.digest, c.stream
        FROM unnest(command_ids, digests, streams) WITH ORDINALITY
            AS c(id, digest, stream, req)
        WHERE c.id IS NOT NULL
          AND NOT ((c.req - 1)::int = ANY(refused || reused));
    NOTIFY {channel};
    RETURN QUERY WITH inserted AS (
        INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)
        SELECT u.id, u.v, u.t, u.s
        FROM unnest(ids, versions, topics, states, requests) WITH ORDINALITY
            AS u(id, v, t, s, req, ord)
        WHERE NOT (u.req = ANY(refused || reused))
        ORDER BY u.ord
        RETURNING originator_id, originator_version, notification_id)
    SELECT u.req, 'stored', i.notification_id
      FROM inserted i
      JOIN unnest(ids, versions, requests) AS u(id, v, req)
        ON u.id = i.originator_id AND u.v = i.originator_version
      ORDER BY i.notification_id;
END; $BODY$
"""


def eventstore_env(
    database_url: str,
    *,
    app_name: str,
    schema: str,
    wait_seconds: int = 3,
    master_keys_file: Path | None = None,
) -> dict[str, str]:
    """The eventsourcing environment of one service's application."""
    params = conninfo_to_dict(database_url)
    return {
        _VAULT_URL: database_url,
        _MASTER_KEYS: str(master_keys_file or ""),
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
        # A connection PostgreSQL dropped (a restart) is replaced, not used;
        # the recorder swaps the stock ping for a look at the socket (ADR 0029).
        "POSTGRES_PRE_PING": "y",
        # The library tries ten times, each waiting this long for a connection
        # (30 s by default): with PostgreSQL away a caller would wait minutes.
        "POSTGRES_CONNECT_TIMEOUT": str(wait_seconds),
        # Aggregates stay cached between commands; a stale one meets the
        # version check on append, is dropped and the command re-runs.
        "AGGREGATE_CACHE_MAXSIZE": "100000",
        "AGGREGATE_CACHE_FASTFORWARD": "n",
        "MAPPER_TOPIC": "services.common.eventstore:ContractMapper",
        "APPLICATION_RECORDER_TOPIC": (
            "services.common.eventstore:HubApplicationRecorder"
        ),
        f"{app_name.upper()}_POSTGRES_SCHEMA": schema,
        # A service's own role appends to a store the owner made (ADR 0027):
        # it creates nothing there, and could not.
        "CREATE_TABLE": "y"
        if may_create_store(database_url, schema, app_name, wait_seconds)
        else "n",
    }


_VAULT_URL, _MASTER_KEYS = "HUB_VAULT_DATABASE_URL", "HUB_MASTER_KEYS_FILE"


def vault_of_env(env: Mapping[str, str]) -> Vault:
    """The vault of an application's event store (in memory for a store in memory)."""
    keys = env.get(_MASTER_KEYS)
    return vault_for(env.get(_VAULT_URL, ""), Path(keys) if keys else None)


def may_create_store(
    database_url: str, schema: str, app_name: str, wait_seconds: int = 3
) -> bool:
    """Whether the URL's role makes the store's tables: it owns them, or the schema.

    A service's role owns neither (ADR 0027): it never creates its store,
    even before the owner did. Unreachable, the library's own start decides
    (and waits as it does).
    """
    table = f'"{schema}"."{app_name.lower()}_events"'
    try:
        with psycopg.connect(database_url, connect_timeout=wait_seconds) as conn:
            row = conn.execute(
                "SELECT (SELECT pg_has_role(current_user, relowner, 'USAGE') "
                "FROM pg_class WHERE oid = to_regclass(%s)), "
                "(SELECT pg_has_role(current_user, nspowner, 'USAGE') "
                "FROM pg_namespace WHERE nspname = %s)",
                (table, schema),
            ).fetchone()
    except psycopg.Error:
        return True
    owns_table, owns_schema = row or (None, None)
    if owns_table is not None:
        return bool(owns_table)
    return owns_schema is None or bool(owns_schema)


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
            conn.execute(create_schema_sql(schema))
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


def row_to_event(
    row: StoredRow, vault: Vault | None = None, *, personal: bool = True
) -> ContractEvent:
    """The published event of a stored row: the stored contract plus store time.

    Read without the bounds, like every stored event (ADR 0010), its box
    opened with the vault. ``personal`` false: the box left shut, the event
    read as an erased person's (its personal-data fields None), for a reader
    that reads none of them (ADR 0033).
    """
    cls = event_class(row.topic)
    if not personal and personal_plan(cls):
        event: ContractEvent = erased_validator(cls).validate_json(row.state)
    else:
        event = open_event(vault or current_vault(), row.topic, row.state)
    # The event was validated a line above and nobody else holds it yet: set
    # the store time in place (model_copy would copy every field again).
    event.__dict__[_RECORDED_AT] = row.recorded_at
    event.__pydantic_fields_set__.add(_RECORDED_AT)
    return event


def rows_to_events(
    rows: Sequence[StoredRow],
    vault: Vault | None = None,
    *,
    opened: Container[str] | None = None,
) -> list[ContractEvent]:
    """`row_to_event` of a page: the keys of its persons fetched in one round trip.

    Opening row by row would fetch each new person's key alone: a rebuild or
    a replay, which meets a new person every few rows, spent most of its
    time on those round trips. ``opened``: the event types whose boxes are
    opened (None: every one); the others' stay shut and need no key.
    """
    vault = vault or current_vault()
    if opened is None:
        vault.prefetch_sealed(row.state for row in rows)
        return [row_to_event(row, vault) for row in rows]
    vault.prefetch_sealed(row.state for row in rows if row.topic in opened)
    return [row_to_event(row, vault, personal=row.topic in opened) for row in rows]


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
