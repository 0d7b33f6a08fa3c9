"""The case-state process: the read models, their read API, the case-state topic."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

import psycopg
from fastapi import FastAPI, Query, Response
from faststream.kafka import KafkaBroker
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, ConfigDict, Field

from contracts.case_state import CaseStateV1
from contracts.registry import SERVICE_TOPICS
from contracts.text import Identifier
from contracts.wire import AS_INTEGER_TEXT, Date, DateTime, Uuid
from services.audit.api import install_audit
from services.case_state.activation import progress_of_cpas, report_of_cpas
from services.case_state.activation_report import as_csv
from services.case_state.deadlines import overdue_for
from services.case_state.projection import (
    load_state,
    load_state_as_of,
    states_of_cpas,
)
from services.case_state.roster import Roster, roster
from services.case_state.roster import load_cpas as load_roster
from services.case_state.statistics import IspStatistics, isp_statistics, load_cpas
from services.case_state.subsidies_api import subsidy_router
from services.case_state.topic import publish_case_states
from services.common.auth import (
    ApiClient,
)
from services.common.chain import ChainReport, verify_stores
from services.common.command_service import (
    process_stores,
    serve_with_consumers,
    subscribe_process,
)
from services.common.dead_letters import kept_for_case
from services.common.http import service_api
from services.common.journal import (
    JournalledReader,
    PoolJournal,
    access_journal_router,
    install_journal,
)
from services.common.keys import stored_keys
from services.common.refusals import Refused
from services.common.relay import RelaySpec, relay_schema
from services.common.settings import MIB, HubSettings
from services.common.subscriber import new_broker
from services.partner_gateway.quarantine import QUARANTINE
from services.registry import CONSUMERS, Applications, consumer, consumers_of

__all__ = [
    "PROCESS",
    "SCHEMA",
    "activation_report_of",
    "create_api",
    "create_broker",
    "serve",
]

log = logging.getLogger(__name__)

PROCESS = "case-state"
SCHEMA = consumer("case-state").schema
ROSTER = consumer("roster").schema
STATISTICS = consumer("statistics").schema
ACTIVATION = consumer("activation").schema
DEADLINES = consumer("deadlines").schema
SUBSIDIES = consumer("subsidies").schema
_KBO = r"^[01]\d{9}$"
_Cpas = Annotated[
    str, Query(pattern=_KBO, max_length=10, description="KBO of the CPAS")
]
_Year = Annotated[
    int, Query(ge=2000, le=2100, description="Calendar year"), AS_INTEGER_TEXT
]
_KnownAt = Annotated[
    DateTime | None,
    Query(description="Only what the hub had recorded by then (audit)"),
]
_REPORT = (
    "The annual social-activation report of a CPAS for a calendar year: "
    "participants, trajectories framed by a PIIS, evaluations held, progress "
    "against the bilan's baseline at 31 December or at the end, qualitative "
    "objectives as recorded (docs/domain/trajectory-and-activation.md). With "
    "known_at: only what the hub had recorded by then, the report it gave then."
)
# Where the hub keeps messages it could not apply or deliver: every consumer's
# schema, every relay's, the partner gateway's.
KEPT_IN = tuple(
    sorted(
        {c.schema for c in CONSUMERS}
        | {relay_schema(RelaySpec(s, s, s, t)) for s, t in SERVICE_TOPICS.items()}
        | {QUARANTINE}
    )
)


class CsvResponse(Response):
    """A CSV document (``indicator,value`` lines)."""

    media_type = "text/csv"


class ParkedReason(BaseModel):
    """How many of the case's messages one place keeps, for one rule."""

    model_config = ConfigDict(frozen=True)

    kept_in: str = Field(description="Schema of the dead-letter table keeping them.")
    rule: str = Field(description="Why, as the hub's rule (decode, gap, fold…).")
    status: str = Field(description="parked, or held (a partner message waiting).")
    count: int = Field(ge=1, description="How many.")


class ParkedMessages(BaseModel):
    """Messages about the case the hub keeps aside (no payload: personal data)."""

    model_config = ConfigDict(frozen=True)

    count: int = Field(ge=0, description="How many, everywhere.")
    reasons: tuple[ParkedReason, ...] = Field(description="By place, rule and status.")


class CaseView(CaseStateV1):
    """The case's whole state, and what the hub keeps aside about it."""

    as_of: dt.date | None = Field(
        default=None, description="The day asked for (null: the current state)."
    )
    parked_messages: ParkedMessages | None = Field(
        default=None,
        description="Messages about the case the hub keeps parked or held (null "
        "with as_of: not kept as history).",
    )


def create_broker(settings: HubSettings, pool: AsyncConnectionPool[Any]) -> KafkaBroker:
    """The broker with one subscriber per topic, feeding every read model of it."""
    broker = new_broker(settings)
    stores = process_stores(PROCESS, Applications(settings))
    subscribe_process(broker, settings, pool, PROCESS, stores)
    return broker


def create_api(
    pool: AsyncConnectionPool[Any],
    keys: Mapping[str, ApiClient],
    *,
    count_article_60: bool = True,
    max_request_bytes: int = MIB,
    verify_chains: Callable[[], ChainReport] | None = None,
) -> FastAPI:
    """HTTP read access to the case state (bodies capped, 413 beyond).

    ``verify_chains``: how the audit report verifies the stores' hash chains.
    """
    api = service_api(
        "case state",
        "Current state of each case, rebuilt from the event log. No personal "
        "data: ask intake for identity.",
        keys,
        max_request_bytes=max_request_bytes,
    )
    journal = PoolJournal(pool)
    install_journal(api, "case state", journal)
    api.include_router(access_journal_router(journal))

    @api.get(
        "/cases/{case_id}",
        summary="One case's whole state, now or as it stood at the end of a day",
        description="Everything current about the case, rebuilt from every "
        "service's events (the same state `hub.case-state.v1` carries), and the "
        "messages about it the hub keeps parked. With `as_of`: the state as it "
        "stood at the end of that day (Brussels), from the events the hub had "
        "recorded by then (recording time, not business dates: a correction "
        "recorded later does not change it); parked messages are not history.",
        response_model=CaseView,
    )
    async def get_case(
        case_id: Uuid,
        client: JournalledReader,
        as_of: Annotated[
            Date | None,
            Query(description="The state at the end of this day, by recording time"),
        ] = None,
    ) -> CaseView:
        unknown = Refused(
            404,
            ("path", "case_id"),
            "case.unknown",
            "no case with this id in the case state"
            + ("" if as_of is None else " by the end of that day"),
        )
        async with pool.connection() as conn:
            state = current = await load_state(conn, SCHEMA, case_id)
            if current is not None:
                # The CPAS the case is with now holds its history too (a
                # transferred case goes with it, ADR 0017).
                client.check_case(current.cpas_kbo, unknown)
            if as_of is not None:
                state = await load_state_as_of(conn, SCHEMA, case_id, as_of)
            if state is None:
                raise unknown
            kept = None if as_of is not None else await _kept(conn, str(case_id))
        return CaseView(**dict(state), as_of=as_of, parked_messages=kept)

    @api.get(
        "/cases",
        summary="Cases of a CPAS",
        response_model=list[CaseStateV1],
    )
    async def list_cases(
        cpas_kbo: Annotated[
            str, Query(pattern=_KBO, max_length=10, description="KBO of the CPAS")
        ],
        client: JournalledReader,
        limit: Annotated[int, Query(ge=1, le=1000), AS_INTEGER_TEXT] = 100,
    ) -> list[CaseStateV1]:
        client.check_cpas(cpas_kbo)
        async with pool.connection() as conn:
            return await states_of_cpas(conn, SCHEMA, cpas_kbo, limit=limit)

    @api.get("/statistics/isp", summary="ISP statistics of a CPAS as of a date")
    async def isp(
        client: JournalledReader,
        cpas_kbo: Annotated[
            str, Query(pattern=_KBO, max_length=10, description="KBO of the CPAS")
        ],
        as_of: Annotated[Date, Query(description="Date of the figures")],
        known_at: Annotated[
            DateTime | None,
            Query(
                description="Only what the hub had recorded by then (audit). "
                "Default: everything recorded up to now, corrections dated "
                "before as_of included (unlike the subsidy ledger and the "
                "roster, whose past months never change: their default is the "
                "end of as_of)"
            ),
        ] = None,
    ) -> dict[str, Any]:
        client.check_cpas(cpas_kbo)
        async with pool.connection() as conn:
            stats = await statistics_of(
                conn, cpas_kbo, as_of, known_at, count_article_60=count_article_60
            )
        return stats.as_dict()

    @api.get(
        "/placements/roster",
        summary="Article 60/61 roster of a CPAS as of a date",
        description="Contracts being worked on the date, ending within 30/60/90 "
        "days, work days remaining and user organisations, as the hub knew them "
        "at the end of that day (Brussels) unless known_at says otherwise.",
    )
    async def placements_roster(
        client: JournalledReader,
        cpas_kbo: Annotated[
            str, Query(pattern=_KBO, max_length=10, description="KBO of the CPAS")
        ],
        as_of: Annotated[Date, Query(description="Date of the roster")],
        known_at: Annotated[
            DateTime | None,
            Query(
                description="Only what the hub had recorded by then (default: "
                "the end of as_of in Brussels)"
            ),
        ] = None,
    ) -> dict[str, Any]:
        client.check_cpas(cpas_kbo)
        async with pool.connection() as conn:
            found = await roster_of(conn, cpas_kbo, as_of, known_at)
        return found.as_dict()

    api.include_router(subsidy_router(pool, SUBSIDIES))

    @api.get(
        "/statistics/social-activation",
        summary="Social-activation progress of a CPAS, per person and on average",
    )
    async def activation(
        client: JournalledReader,
        cpas_kbo: Annotated[
            str, Query(pattern=_KBO, max_length=10, description="KBO of the CPAS")
        ],
    ) -> dict[str, Any]:
        client.check_cpas(cpas_kbo)
        async with pool.connection() as conn:
            return await progress_of_cpas(conn, ACTIVATION, cpas_kbo)

    _report_routes(api, pool)

    @api.get("/deadlines", summary="Missed PIIS deadlines of a CPAS")
    async def deadlines(
        client: JournalledReader,
        cpas_kbo: Annotated[
            str, Query(pattern=_KBO, max_length=10, description="KBO of the CPAS")
        ],
        caseworker: Annotated[
            Identifier | None, Query(description="Only this caseworker's")
        ] = None,
    ) -> list[dict[str, Any]]:
        client.check_cpas(cpas_kbo)
        async with pool.connection() as conn:
            return await overdue_for(conn, DEADLINES, cpas_kbo, caseworker)

    install_audit(
        api, pool, count_article_60=count_article_60, verify_chains=verify_chains
    )
    return api


def _report_routes(api: FastAPI, pool: AsyncConnectionPool[Any]) -> None:
    """The annual social-activation report, as JSON and as CSV figures."""

    @api.get(
        "/reports/social-activation",
        summary="Annual social-activation report of a CPAS (JSON)",
        description=_REPORT,
    )
    async def activation_report(
        client: JournalledReader,
        cpas_kbo: _Cpas,
        year: _Year,
        known_at: _KnownAt = None,
    ) -> dict[str, Any]:
        client.check_cpas(cpas_kbo)
        async with pool.connection() as conn:
            return await activation_report_of(conn, cpas_kbo, year, known_at)

    @api.get(
        "/reports/social-activation.csv",
        summary="Annual social-activation report of a CPAS (CSV figures)",
        description=f"{_REPORT} The figures only, one indicator a line.",
        response_class=CsvResponse,
    )
    async def activation_report_csv(
        client: JournalledReader,
        cpas_kbo: _Cpas,
        year: _Year,
        known_at: _KnownAt = None,
    ) -> CsvResponse:
        client.check_cpas(cpas_kbo)
        async with pool.connection() as conn:
            report = await activation_report_of(conn, cpas_kbo, year, known_at)
        return CsvResponse(as_csv(report))


async def statistics_of(
    conn: psycopg.AsyncConnection[Any],
    cpas_kbo: str,
    as_of: dt.date,
    known_at: dt.datetime | None = None,
    *,
    count_article_60: bool = True,
) -> IspStatistics:
    """The Molenbeek figures of one CPAS, from the statistics read model."""
    histories = await load_cpas(conn, STATISTICS, cpas_kbo)
    return isp_statistics(
        histories,
        cpas_kbo=cpas_kbo,
        as_of=as_of,
        known_at=known_at,
        count_article_60=count_article_60,
    )


async def activation_report_of(
    conn: psycopg.AsyncConnection[Any],
    cpas_kbo: str,
    year: int,
    known_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The annual social-activation report of one CPAS, from its read model.

    The entry point for other reports (an audit): the same figures as the API
    and ``hub report social-activation``.
    """
    return await report_of_cpas(conn, ACTIVATION, cpas_kbo, year, known_at)


async def roster_of(
    conn: psycopg.AsyncConnection[Any],
    cpas_kbo: str,
    as_of: dt.date,
    known_at: dt.datetime | None = None,
) -> Roster:
    """The article 60/61 roster of one CPAS, from the roster read model."""
    histories = await load_roster(conn, ROSTER, cpas_kbo)
    return roster(histories, cpas_kbo=cpas_kbo, as_of=as_of, known_at=known_at)


async def _kept(conn: psycopg.AsyncConnection[Any], case_key: str) -> ParkedMessages:
    found = await kept_for_case(conn, case_key, KEPT_IN)
    return ParkedMessages(
        count=sum(n for *_, n in found),
        reasons=tuple(
            ParkedReason(kept_in=schema, rule=rule, status=status, count=n)
            for schema, rule, status, n in found
        ),
    )


@asynccontextmanager
async def open_pool(settings: HubSettings) -> AsyncIterator[AsyncConnectionPool[Any]]:
    """A connection pool with the read models' tables created."""
    async with AsyncConnectionPool(
        settings.database_url, min_size=1, max_size=4, open=False
    ) as pool:
        async with pool.connection() as conn:
            for spec in consumers_of(PROCESS):
                await spec.store().create_tables(conn)
        yield pool


async def serve(settings: HubSettings, stop: asyncio.Event) -> None:
    """Consume, publish the case states and serve until ``stop`` is set."""

    async def publisher(
        _: KafkaBroker, pool: AsyncConnectionPool[Any]
    ) -> Sequence[Awaitable[None]]:
        return [publish_case_states(settings, pool, stop, schema=SCHEMA)]

    async with open_pool(settings) as pool:
        api = create_api(
            pool,
            stored_keys(settings),
            count_article_60=settings.stats_count_article_60,
            max_request_bytes=settings.max_request_bytes,
            verify_chains=functools.partial(verify_stores, settings),
        )
        await serve_with_consumers(
            settings,
            stop,
            api,
            settings.case_state_port,
            process=PROCESS,
            apps=Applications(settings),
            pool=pool,
            setup=publisher,
        )
