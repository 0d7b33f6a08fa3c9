"""The access journal: every read of what the hub holds about people, appended first.

Each keyed read route of the five APIs takes its client through
`JournalledReader` (or `JournalledAuditor`) instead of ``Reader``: the
dependency notes who asks (client name and scopes), which route (its
template, never the raw path), which case (the path's ``case_id``) and the
purpose the client states in the ``X-Purpose`` header (`MAX_PURPOSE`
printable ASCII characters, no national number; absent: none stated, kept
as null). The client it hands the route records, as the route checks it,
the CPAS of the case or of the export (``check_case``, ``check_cpas``,
``check_remit``) and whether the check refused it.

`JournalGate`, an ASGI middleware every API installs (`install_journal`),
appends the line to ``journal.access`` in PostgreSQL when the route's answer
starts, before a byte of it is sent, with the status the client gets: a
line per request that reached the route. An answer that gives data (2xx)
whose line cannot be written is replaced by 503 ``journal.unavailable``; a
refusal is answered as it is (it gives nothing), its line written if the
database takes it. The table is append-only: no route changes it, and a
trigger refuses UPDATE, DELETE and TRUNCATE to every role.

An export over a CPAS's caseload (a list, a ledger, a report, the audit
report) is one line naming the CPAS, ``case_id`` null, the route's
parameters as its scope. ``GET /access-journal`` (`access_journal_router`,
on the case-state API) lets a CPAS's software read its own CPAS's lines and
an auditor the lines of its remit. The journal holds case ids, KBO numbers
and client names: never a NISS or a person's name
(docs/decisions/0026-access-journal.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import logging
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Annotated, Any, Final, Literal, Protocol

import psycopg
from eventsourcing.application import Application
from eventsourcing.postgres import PostgresRecorder
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.identifiers import names_a_national_number
from contracts.wire import AS_INTEGER_TEXT, DateTime, Uuid
from services.common.auth import (
    ApiClient,
    Auditor,
    DeadLetterReader,
    JournalReader,
    Reader,
)
from services.common.refusals import Refused, detail

__all__ = [
    "DDL",
    "MAX_PURPOSE",
    "PURPOSE_HEADER",
    "TABLE",
    "AccessLine",
    "JournalGate",
    "JournalLine",
    "JournalPage",
    "JournalStore",
    "JournalledAuditor",
    "JournalledClient",
    "JournalledDeadLetterReader",
    "JournalledReader",
    "MemoryJournal",
    "Outcome",
    "PoolJournal",
    "SyncJournal",
    "access_journal_router",
    "checked_purpose",
    "create_tables",
    "database_journal",
    "ensure_table",
    "install_journal",
    "journal_of",
    "no_journal",
]

log = logging.getLogger(__name__)

TABLE: Final = "journal.access"
"""The journal's table (its own schema): services insert, the case state reads."""
PURPOSE_HEADER: Final = "X-Purpose"
MAX_PURPOSE: Final = 200
_PRINTABLE: Final = re.compile(r"[ -~]*[!-~][ -~]*")
_PURPOSE_PATTERN: Final = f"^{_PRINTABLE.pattern}$"
# Query parameters whose validated values the journal keeps (dates, KBO
# numbers, counts, formats): the others only by name, whatever they hold.
_VALUED: Final = frozenset(
    {"as_of", "known_at", "from_month", "to_month", "year", "format", "limit"}
    | {"cpas", "cpas_kbo"}
)
_MAX_VALUE: Final = 40
_MAX_PARAMETERS: Final = 500
_SCOPE_KEY: Final = "hub.journal"
_MAX_PAGE: Final = 500

Outcome = Literal["shown", "refused", "not_shown"]


def _refused(message: str) -> Refused:
    return Refused(422, ("header", PURPOSE_HEADER), "journal.purpose", message)


def checked_purpose(purpose: str | None) -> str | None:
    """The purpose as stated, or None when none was; refused if it breaks the rule."""
    if purpose is None:
        return None
    if len(purpose) > MAX_PURPOSE or not _PRINTABLE.fullmatch(purpose):
        raise _refused(
            f"{PURPOSE_HEADER}: 1 to {MAX_PURPOSE} printable ASCII characters, "
            "not only spaces"
        )
    if names_a_national_number(purpose):
        raise _refused(
            f"{PURPOSE_HEADER}: a purpose names no person: no national number "
            "(11 digits)"
        )
    return purpose


Purpose = Annotated[
    str | None,
    Header(
        alias=PURPOSE_HEADER,
        description=f"Why the client reads (recorded in the access journal): 1 to "
        f"{MAX_PURPOSE} printable ASCII characters, never a national number "
        "(422 journal.purpose). Absent: recorded as none stated. Every answer "
        "is journalled before it is sent; one the journal cannot record is "
        "not given (503 journal.unavailable).",
        json_schema_extra={
            "minLength": 1,
            "maxLength": MAX_PURPOSE,
            "pattern": _PURPOSE_PATTERN,
        },
    ),
]


@dataclass(frozen=True, slots=True)
class AccessLine:
    """One line of the journal, as appended (the database adds id and time)."""

    client: str
    scopes: tuple[str, ...]
    service: str
    route: str
    case_id: uuid.UUID | None
    cpas_kbo: str | None
    parameters: str
    purpose: str | None
    outcome: Outcome
    status: int


@dataclass(slots=True)
class _Access:
    """What one request's journal line will say, filled in as the route runs."""

    client: ApiClient
    service: str
    route: str
    case_id: uuid.UUID | None
    purpose: str | None
    query: Sequence[tuple[str, str]]
    declared: frozenset[str]
    cpas_kbo: str | None = None
    refused: bool = False

    def line(self, status: int) -> AccessLine:
        shown = 200 <= status < 300  # noqa: PLR2004 - the success statuses
        outcome: Outcome = (
            "shown" if shown else "refused" if self.refused else "not_shown"
        )
        return AccessLine(
            client=self.client.client,
            scopes=tuple(sorted(self.client.scopes)),
            service=self.service,
            route=self.route,
            case_id=self.case_id,
            cpas_kbo=self.cpas_kbo,
            parameters=self._parameters(shown=shown),
            purpose=self.purpose,
            outcome=outcome,
            status=status,
        )

    def _parameters(self, *, shown: bool) -> str:
        """The route's parameters as given: values once validated, and safe."""
        given: dict[str, str] = {}
        for name, value in self.query:
            if name in self.declared and name not in given:
                keep = shown and name in _VALUED
                given[name] = f"{name}={value[:_MAX_VALUE]}" if keep else name
        return "&".join(given[name] for name in sorted(given))[:_MAX_PARAMETERS]


@dataclass(slots=True)
class _Pending:
    """The gate's slot for a request's access, filled by the dependency."""

    access: _Access | None = None
    written: bool = False


class JournalledClient(ApiClient):
    """The route's client: its checks tell the journal the CPAS and a refusal."""

    _access: _Access | None = PrivateAttr(default=None)

    def check_case(self, cpas_kbo: str, unknown: Exception) -> None:
        """The case's CPAS noted; an unknown-case answer for another CPAS's."""
        with self._checking(cpas_kbo):
            super().check_case(cpas_kbo, unknown)

    def check_cpas(self, cpas_kbo: str) -> None:
        """The export's CPAS noted; refused if the client does not act for it."""
        with self._checking(cpas_kbo):
            super().check_cpas(cpas_kbo)

    def check_remit(self, cpas_kbo: str) -> None:
        """The audited CPAS noted; refused outside the auditor's remit."""
        with self._checking(cpas_kbo):
            super().check_remit(cpas_kbo)

    @contextlib.contextmanager
    def _checking(self, cpas_kbo: str | None) -> Iterator[None]:
        access = self._access
        if access is not None and cpas_kbo is not None:
            access.cpas_kbo = cpas_kbo
        try:
            yield
        except Exception:
            if access is not None:
                access.refused = True
            raise


def _unavailable(message: str) -> Refused:
    return Refused(
        503,
        ("journal",),
        "journal.unavailable",
        message,
        headers={"Retry-After": "2"},
    )


def _declared_query(dependant: Dependant) -> frozenset[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _declared_query(sub)
    return frozenset(names)


def _path_case(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value is not None else None
    except ValueError:
        return None


def _opened(
    request: Request, client: ApiClient, purpose: str | None
) -> JournalledClient:
    pending = request.scope.get(_SCOPE_KEY)
    gate = request.scope.get(f"{_SCOPE_KEY}.service")
    if not isinstance(pending, _Pending) or not isinstance(gate, str):
        # A route that reads without the gate would answer unjournalled.
        raise _unavailable("this API keeps no access journal: nothing is read")
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    access = _Access(
        client=client,
        service=gate,
        route=str(getattr(route, "path", "")),
        case_id=_path_case(request.path_params.get("case_id")),
        purpose=checked_purpose(purpose),
        query=list(request.query_params.multi_items()),
        declared=_declared_query(dependant) if dependant else frozenset(),
    )
    journalled = JournalledClient.model_construct(
        **{name: getattr(client, name) for name in type(client).model_fields}
    )
    journalled._access = access  # noqa: SLF001 - set once, by its maker
    pending.access = access
    return journalled


async def _reading(
    request: Request, client: Reader, purpose: Purpose = None
) -> JournalledClient:
    return _opened(request, client, purpose)


async def _auditing(
    request: Request, client: Auditor, purpose: Purpose = None
) -> JournalledClient:
    return _opened(request, client, purpose)


async def _reading_dead_letters(
    request: Request, client: DeadLetterReader, purpose: Purpose = None
) -> JournalledClient:
    return _opened(request, client, purpose)


JournalledReader = Annotated[JournalledClient, Depends(_reading)]
"""A ``Reader`` whose read is journalled (the route reads what people are)."""
JournalledAuditor = Annotated[JournalledClient, Depends(_auditing)]
"""An ``Auditor`` whose read is journalled."""
JournalledDeadLetterReader = Annotated[JournalledClient, Depends(_reading_dead_letters)]
"""A ``DeadLetterReader`` (operator or partner) whose read is journalled."""


# --- where the lines go ---------------------------------------------------------


class JournalStore(Protocol):
    """Where an API appends its lines."""

    async def append(self, line: AccessLine) -> None:
        """Append one line, or raise: the read is then not answered."""


# A row when the table and both its triggers are there.
_READY = (
    "SELECT 1 WHERE (SELECT count(*) FROM pg_catalog.pg_trigger WHERE tgrelid = "
    "to_regclass('journal.access') AND tgname = ANY(%s)) = 2"
)
_TRIGGERS = ["access_append_only", "access_no_truncate"]
# What creates the journal: run by the first service that writes when it is
# missing, or by deploy/postgres/init.sql with the owner's role.
DDL: Final = (
    "SELECT pg_advisory_xact_lock(hashtext('hub-journal:access'))",
    "CREATE SCHEMA IF NOT EXISTS journal",
    """CREATE TABLE IF NOT EXISTS journal.access (
        id bigserial PRIMARY KEY,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        client text NOT NULL,
        scopes text[] NOT NULL,
        service text NOT NULL,
        route text NOT NULL,
        case_id uuid,
        cpas_kbo text,
        parameters text NOT NULL DEFAULT '',
        purpose text CHECK (char_length(purpose) BETWEEN 1 AND 200),
        outcome text NOT NULL CHECK (outcome IN ('shown', 'refused', 'not_shown')),
        status smallint NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS access_cpas ON journal.access (cpas_kbo, id)",
    "CREATE INDEX IF NOT EXISTS access_case ON journal.access (case_id, id)",
    "CREATE INDEX IF NOT EXISTS access_time ON journal.access (recorded_at)",
    """CREATE OR REPLACE FUNCTION journal.refuse_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'journal.access is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$""",
    (
        "CREATE OR REPLACE TRIGGER access_append_only BEFORE UPDATE OR DELETE "
        "ON journal.access FOR EACH ROW EXECUTE FUNCTION journal.refuse_change()"
    ),
    (
        "CREATE OR REPLACE TRIGGER access_no_truncate BEFORE TRUNCATE ON "
        "journal.access FOR EACH STATEMENT EXECUTE FUNCTION journal.refuse_change()"
    ),
)
_INSERT = (
    "INSERT INTO journal.access (client, scopes, service, route, case_id, "
    "cpas_kbo, parameters, purpose, outcome, status) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def _values(line: AccessLine) -> tuple[Any, ...]:
    return (
        line.client,
        list(line.scopes),
        line.service,
        line.route,
        line.case_id,
        line.cpas_kbo,
        line.parameters,
        line.purpose,
        line.outcome,
        line.status,
    )


class _Executes(Protocol):
    def execute(self, query: Any, params: Any = ..., /) -> Any: ...


def ensure_table(conn: _Executes) -> None:
    """Create the journal (schema, table, triggers) unless it is there already.

    Checked first: a service's role that may only insert never needs to
    create it once ``deploy/postgres/init.sql`` or a first service did.
    """
    if conn.execute(_READY, (_TRIGGERS,)).fetchone() is not None:
        return
    for statement in DDL:
        conn.execute(statement)


def create_tables(conn: psycopg.Connection[Any]) -> None:
    """The journal, made by the database's owner at setup (ADR 0027)."""
    ensure_table(conn)


class SyncJournal:
    """Lines appended over a blocking connection, in a worker thread."""

    def __init__(
        self, connect: Callable[[], AbstractContextManager[_Executes]]
    ) -> None:
        self._connect = connect
        self._ready = False

    async def append(self, line: AccessLine) -> None:
        """Append in a thread (the event loop goes on)."""
        await asyncio.to_thread(self._append, line)

    def _append(self, line: AccessLine) -> None:
        with self._connect() as conn:  # commits on leaving
            if not self._ready:
                ensure_table(conn)
            conn.execute(_INSERT, _values(line))
        self._ready = True


async def _ensure_async(conn: psycopg.AsyncConnection[Any]) -> None:
    cur = await conn.execute(_READY, (_TRIGGERS,))
    if await cur.fetchone() is not None:
        return
    for statement in DDL:
        await conn.execute(statement)


class PoolJournal:
    """Lines appended over the case-state process's connection pool."""

    def __init__(self, pool: AsyncConnectionPool[Any]) -> None:
        self.pool = pool
        self._ready = False

    async def append(self, line: AccessLine) -> None:
        """Append on a pooled connection (committed on leaving)."""
        async with self.pool.connection() as conn:
            await self.ensure(conn)
            await conn.execute(_INSERT, _values(line))

    async def ensure(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """The table, created once per process if it is not there."""
        if not self._ready:
            await _ensure_async(conn)
            self._ready = True


@dataclass
class MemoryJournal:
    """Lines kept in memory: for an application whose events are in memory too."""

    lines: list[tuple[int, dt.datetime, AccessLine]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    async def append(self, line: AccessLine) -> None:
        """Keep the line with an id and the time."""
        self.lines.append((next(self._ids), dt.datetime.now(dt.UTC), line))


class _Unavailable:
    async def append(self, line: AccessLine) -> None:  # noqa: ARG002 - none kept
        raise RuntimeError("no access journal: the API was built without a database")


def no_journal() -> JournalStore:
    """An API without a database (documents only): every read is refused 503."""
    return _Unavailable()


def database_journal(database_url: str) -> JournalStore:
    """Lines appended on a connection of their own (an API with a database URL)."""
    if not database_url:
        return no_journal()
    return SyncJournal(lambda: psycopg.connect(database_url))


class _ApplicationJournal:
    """The journal where an application keeps its events, found on first use."""

    def __init__(self, app: Application[Any]) -> None:
        self._app = app
        self._store: JournalStore | None = None

    async def append(self, line: AccessLine) -> None:
        if self._store is None:
            recorder = self._app.recorder
            if isinstance(recorder, PostgresRecorder):
                datastore = recorder.datastore
                self._store = SyncJournal(lambda: datastore.transaction(commit=True))
            else:  # events in memory (tests): the journal with them
                self._store = MemoryJournal()
        await self._store.append(line)


def journal_of(app: Application[Any]) -> JournalStore:
    """The journal in the application's PostgreSQL (its pool), in memory for POPO."""
    return _ApplicationJournal(app)


# --- the gate -------------------------------------------------------------------


class _NotJournalled(Exception):  # noqa: N818 - a signal, not an error to report
    """A 2xx whose line could not be written: the answer must not go out."""


def _not_journalled(exc: BaseException) -> bool:
    if isinstance(exc, _NotJournalled):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return exc.subgroup(_NotJournalled) is not None
    return False


class JournalGate:
    """ASGI middleware: a journalled request's line is appended before its answer."""

    def __init__(self, app: ASGIApp, service: str, store: JournalStore) -> None:
        self.app = app
        self.service = service
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; journal its answer as it starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        pending = _Pending()
        scope[_SCOPE_KEY] = pending
        scope[f"{_SCOPE_KEY}.service"] = self.service

        async def journalled(message: Message) -> None:
            if message["type"] == "http.response.start" and not pending.written:
                await self._write(pending, int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, journalled)
        except BaseException as exc:
            if not _not_journalled(exc):
                if isinstance(exc, Exception):
                    await self._write(pending, 500)
                raise
            log.warning("access journal unavailable: a read was not answered")
            answer = JSONResponse(
                detail(
                    ["journal"],
                    "journal.unavailable",
                    "the access journal could not record this read, so it is "
                    "not answered; send it again shortly",
                ),
                status_code=503,
                headers={"Retry-After": "2"},
            )
            await answer(scope, receive, send)

    async def _write(self, pending: _Pending, status: int) -> None:
        access = pending.access
        if access is None or pending.written:
            return
        pending.written = True
        try:
            await self.store.append(access.line(status))
        except Exception as exc:
            if 200 <= status < 300:  # noqa: PLR2004 - the answers that give data
                raise _NotJournalled from exc
            # A refusal gives nothing: it goes out, its line lost.
            log.warning(
                "access journal: the line of a refused read was not written (%s)",
                type(exc).__name__,
            )


def install_journal(api: FastAPI, service: str, store: JournalStore) -> None:
    """Journal the API's journalled routes in ``store`` (``service``: its name)."""
    api.add_middleware(JournalGate, service=service, store=store)


# --- the query route --------------------------------------------------------------


class JournalLine(BaseModel):
    """One read recorded: who, which client, which case, when, which route, why."""

    model_config = ConfigDict(frozen=True)

    id: int = Field(description="Position in the journal (the page cursor).")
    recorded_at: dt.datetime = Field(description="When, by the database's clock.")
    client: str = Field(description="The client's name (its API key's).")
    scopes: list[str] = Field(description="The client's scopes.")
    service: str = Field(description="The API read (intake, case state…).")
    route: str = Field(description="The route's template, e.g. /cases/{case_id}.")
    case_id: uuid.UUID | None = Field(
        description="The case read; null for an export over a CPAS's caseload."
    )
    cpas_kbo: str | None = Field(
        description="The case's CPAS or the export's; null: no case found, or "
        "every CPAS."
    )
    parameters: str = Field(
        description="The route's query parameters (values of dates, KBO "
        "numbers, counts and formats once validated; other names only)."
    )
    purpose: str | None = Field(description="The purpose stated; null: none.")
    outcome: Outcome = Field(
        description="shown (the answer gave the data); refused (the client may "
        "not read it: answered as an unknown case or 403); not_shown (nothing "
        "found, or a failure)."
    )
    status: int = Field(description="The HTTP status the client got.")


class JournalPage(BaseModel):
    """Lines in journal order, and where the next page starts."""

    model_config = ConfigDict(frozen=True)

    lines: list[JournalLine]
    next_after: int | None = Field(
        description="Pass as `after` for the next page; null: no more."
    )


def _allowed(client: ApiClient, cpas_kbo: str | None) -> frozenset[str] | None:
    """The CPAS whose lines the client reads (None: every CPAS), checked."""
    auditor = client.remit is not None
    allowed = client.remit if auditor else client.cpas
    if cpas_kbo is not None and allowed is not None and cpas_kbo not in allowed:
        rule, does = ("auth.remit", "audit") if auditor else ("auth.cpas", "act for")
        raise Refused(
            403,
            ("query", "cpas_kbo"),
            rule,
            f"cpas_kbo: client {client.client} does not {does} this CPAS",
        )
    return frozenset({cpas_kbo}) if cpas_kbo is not None else allowed


_SELECT = (
    "SELECT id, recorded_at, client, scopes, service, route, case_id, cpas_kbo, "
    "parameters, purpose, outcome, status FROM journal.access "
    "WHERE id > %(after)s "
    "AND (%(allowed)s::text[] IS NULL OR cpas_kbo = ANY(%(allowed)s::text[])) "
    "AND (%(case_id)s::uuid IS NULL OR case_id = %(case_id)s::uuid) "
    "AND (%(since)s::timestamptz IS NULL OR recorded_at >= %(since)s::timestamptz) "
    "AND (%(until)s::timestamptz IS NULL OR recorded_at < %(until)s::timestamptz) "
    "ORDER BY id LIMIT %(limit)s"
)
_NAMES = tuple(JournalLine.model_fields)


def access_journal_router(journal: PoolJournal) -> APIRouter:
    """``GET /access-journal`` over the journal the case-state process writes."""
    router = APIRouter(tags=["access journal"])

    @router.get(
        "/access-journal",
        summary="Who read which case, when, by which route and why",
        description="The access journal's lines, oldest first, a page at a "
        "time: every read over the hub's APIs of a case or of a CPAS's "
        "caseload (docs/decisions/0026-access-journal.md). A CPAS's software "
        "(cases:read) reads the lines of its own CPAS's cases and exports, an "
        "auditor (audit:read) those of its remit; a line of another CPAS's "
        "case is never shown (the same empty page as an unknown case). "
        "Reading the journal is not journalled: it names no person.",
        response_model=JournalPage,
    )
    async def read_journal(
        client: JournalReader,
        *,
        case_id: Annotated[Uuid | None, Query(description="Only this case")] = None,
        cpas_kbo: Annotated[
            str | None,
            Query(
                pattern=r"^[01]\d{9}$",
                max_length=10,
                description="Only this CPAS (one the client acts for or audits)",
            ),
        ] = None,
        since: Annotated[
            DateTime | None, Query(description="Recorded at or after")
        ] = None,
        until: Annotated[DateTime | None, Query(description="Recorded before")] = None,
        after: Annotated[
            int,
            Query(ge=0, description="After this line id (the cursor)"),
            AS_INTEGER_TEXT,
        ] = 0,
        limit: Annotated[
            int,
            Query(ge=1, le=_MAX_PAGE, description="Lines per page"),
            AS_INTEGER_TEXT,
        ] = 100,
    ) -> JournalPage:
        allowed = _allowed(client, cpas_kbo)
        params = {
            "after": after,
            "allowed": None if allowed is None else sorted(allowed),
            "case_id": case_id,
            "since": since,
            "until": until,
            "limit": limit + 1,
        }
        async with journal.pool.connection() as conn:
            await journal.ensure(conn)
            cur = await conn.execute(_SELECT, params)
            rows = await cur.fetchall()
        lines = [JournalLine(**dict(zip(_NAMES, row, strict=True))) for row in rows]
        more = len(lines) > limit
        lines = lines[:limit]
        return JournalPage(lines=lines, next_after=lines[-1].id if more else None)

    return router
