"""Erasing a person's file at a CPAS: ``hub erase --person NISS --cpas KBO``.

After the retention period (``HUB_ERASURE_RETENTION_YEARS`` from the case's
last stored event), or before it when forced with a reason, the hub:

1. records ``CaseErasedV1`` on the case (a code and a reference, no personal
   data), through intake's command path, so the erasure is in the history;
2. destroys the case's data key (the vault): every personal-data field of
   every event of the case, in every store, topic copy and dead letter,
   stops opening; the rows, their hash chain and every other person's data
   stay as they were;
3. purges what read models and the outbox hold of the person: the sealed
   columns of the routing and placement facts, the case's outbox rows and
   dead letters; the outbox keeps the erasure notices the partner gateway
   writes for the partners that hold the file (``case_erased``, no personal
   data, sealed under keys of their own);
4. writes a tombstone for the case on the compacted ``hub.case-state.v1``.

Statistics and the subsidy ledger are computed from fields that are not
personal data (dates, codes, amounts): they do not move. The steps are
idempotent: an erasure interrupted half-way is finished by running it again.
docs/decisions/0023-envelope-encryption.md says why this is enough.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import typing
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

import psycopg
from psycopg import sql

from contracts.case_state import CASE_STATE_TOPIC
from contracts.identifiers import normalise_kbo, parse_niss
from contracts.intake import ErasureReason
from services.audit.replay import last_activity
from services.common.aggregate import CommandContext
from services.common.dead_letters import schemas_with_dead_letters
from services.common.errors import DomainError
from services.common.kafka import make_producer
from services.common.settings import HubSettings
from services.common.vault import settings_vault
from services.intake.application import EraseCase, IntakeApplication
from services.partner_gateway.facts import RoutingFactsTable
from services.partner_gateway.outbound import ERASURE_NOTICE
from services.placement.facts import PlacementFactsProjection

__all__ = ["FORCED_REASONS", "ErasureDone", "ErasureNotPermittedError", "erase_person"]

log = logging.getLogger(__name__)

FORCED_REASONS: Final[frozenset[ErasureReason]] = frozenset(
    {"data_subject_request", "court_order", "registered_in_error"}
)

# Read models whose rows seal personal data: (schema, table).
_SEALED_TABLES: Final = (
    ("partners", RoutingFactsTable),
    ("placement", PlacementFactsProjection),
)


class ErasureNotPermittedError(PermissionError):
    """This process's database role may not erase (a service's, ADR 0027)."""

    def __init__(self, table: str) -> None:
        super().__init__(
            f"the database role of this process may not purge {table}: run "
            "`hub erase` as the operator"
        )


@dataclass(frozen=True, slots=True)
class ErasureDone:
    """What an erasure did (no personal data)."""

    case_id: uuid.UUID
    erased_on: dt.date
    forced: bool
    key_destroyed: bool
    purged: dict[str, int] = field(default_factory=dict)


def erase_person(
    settings: HubSettings,
    *,
    niss: str,
    cpas_kbo: str,
    force: bool = False,
    reason: ErasureReason | None = None,
    reference: str | None = None,
    now: dt.datetime | None = None,
    app: IntakeApplication | None = None,
) -> ErasureDone:
    """Erase the person's file at the CPAS; DomainError (field, rule) when refused.

    ``app``: intake's application of the calling process (the API's); without
    it, one is made for the call and closed after.
    """
    moment = now or dt.datetime.now(dt.UTC)
    person = parse_niss(niss, field="person").value
    kbo = normalise_kbo(cpas_kbo, field="cpas")
    if app is None:
        # Imported here: the intake API imports this module for its route.
        from services.intake.service import create_application  # noqa: PLC0415

        with contextlib.closing(create_application(settings)) as made:
            return erase_person(
                settings,
                niss=person,
                cpas_kbo=kbo,
                force=force,
                reason=reason,
                reference=reference,
                now=moment,
                app=made,
            )
    with psycopg.connect(settings.database_url) as conn:
        _check_permitted(conn)
    case = app.find_case(kbo, person)
    if case is None:
        raise DomainError(
            "person",
            "erasure.unknown_case",
            "this CPAS has no file of this person",
        )
    if case.cpas_kbo != kbo:
        raise DomainError(
            "cpas",
            "erasure.case_elsewhere",
            "the file was transferred to another CPAS, which now keeps it: "
            "erase it there",
        )
    last = asyncio.run(_last_activity(settings, case.id)) or moment
    allowed_from = _add_years(last.date(), settings.erasure_retention_years)
    forced = moment.date() < allowed_from
    why = _reason(forced=forced, force=force, reason=reason, until=allowed_from)
    if not case.erased:
        app.erase_case(
            EraseCase(
                context=CommandContext(uuid.uuid4(), moment),
                case_id=case.id,
                last_activity_on=last.date(),
                reason=why,
                forced=forced,
                reference=reference,
            )
        )
    destroyed = settings_vault(settings).erase(case.id)
    with psycopg.connect(settings.database_url) as conn:
        purged = _purge(conn, case.id)
    asyncio.run(_tombstone(settings, case.id))
    log.warning("case %s erased (%s%s)", case.id, why, ", forced" if forced else "")
    return ErasureDone(case.id, moment.date(), forced, destroyed, purged)


async def _last_activity(
    settings: HubSettings, case_id: uuid.UUID
) -> dt.datetime | None:
    async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
        return await last_activity(conn, case_id)


def _reason(
    *,
    forced: bool,
    force: bool,
    reason: ErasureReason | None,
    until: dt.date,
) -> ErasureReason:
    reasons = typing.get_args(ErasureReason)
    if reason is not None and reason not in reasons:
        raise DomainError(
            "reason",
            "erasure.reason_unknown",
            f"not a reason of erasure: one of {', '.join(reasons)}",
        )
    if not forced:
        return reason or "retention_period_ended"
    if not force:
        raise DomainError(
            "force",
            "erasure.within_retention",
            f"the file's retention period runs until {until.isoformat()}: erase it "
            "then, or force it with a reason",
        )
    if reason not in FORCED_REASONS:
        raise DomainError(
            "reason",
            "erasure.reason_required",
            "an erasure forced before the end of the retention period needs its "
            f"reason: one of {', '.join(sorted(FORCED_REASONS))}",
        )
    return reason


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


def _check_permitted(conn: psycopg.Connection[Any]) -> None:
    """Refuse before any change when the role could not finish the erasure."""
    needed = [("vault.person_keys", "UPDATE"), ("partners.outbox", "DELETE")]
    needed += [
        (f"{schema}.{table.table}", "UPDATE") for schema, table in _SEALED_TABLES
    ]
    needed += [(f"{s}.dead_letters", "DELETE") for s in schemas_with_dead_letters(conn)]
    for table, privilege in needed:
        row = conn.execute(
            "SELECT to_regclass(%s) IS NULL OR has_table_privilege(%s, %s)",
            (table, table, privilege),
        ).fetchone()
        if not (row and row[0]):
            raise ErasureNotPermittedError(table)


def _purge(conn: psycopg.Connection[Any], case_id: uuid.UUID) -> dict[str, int]:
    """Remove what read models, the outbox and dead letters hold of the case."""
    purged: dict[str, int] = {}
    for schema, table in _SEALED_TABLES:
        stored = dict(table.stored_columns())
        emptied = [*table.sealed, "sealed"]
        emptied += [f"{name}_digest" for name in table.looked_up]
        statement = sql.SQL("UPDATE {}.{} SET {} WHERE {} = %s").format(
            sql.Identifier(schema),
            sql.Identifier(table.table),
            sql.SQL(", ").join(
                sql.SQL("{} = NULL").format(sql.Identifier(n))
                for n in emptied
                if n in stored
            ),
            sql.Identifier(table.columns[0][0]),
        )
        purged[f"{schema}.{table.table}"] = _rowcount(conn, statement, case_id)
    # The erasure notices stay: sealed under keys of their own, they name no
    # personal data, and the partners are still to be told (routing.py).
    purged["partners.outbox"] = _rowcount(
        conn,
        sql.SQL("DELETE FROM partners.outbox WHERE case_id = %s AND kind <> {}").format(
            sql.Literal(ERASURE_NOTICE)
        ),
        case_id,
    )
    for schema in schemas_with_dead_letters(conn):
        purged[f"{schema}.dead_letters"] = _rowcount(
            conn,
            sql.SQL("DELETE FROM {}.dead_letters WHERE case_key = %s").format(
                sql.Identifier(schema)
            ),
            str(case_id),
        )
    conn.commit()
    return purged


def _rowcount(
    conn: psycopg.Connection[Any], statement: sql.SQL | sql.Composed, key: Any
) -> int:
    try:
        with conn.transaction():
            return int(conn.execute(statement, (key,)).rowcount)
    except psycopg.errors.UndefinedTable:
        return 0  # the service never stored anything here


async def _tombstone(settings: HubSettings, case_id: uuid.UUID) -> None:
    """A null value for the case on the compacted case-state topic."""
    producer = make_producer(settings)
    await producer.start()
    try:
        await producer.send_and_wait(
            settings.topic(CASE_STATE_TOPIC), value=None, key=str(case_id).encode()
        )
    finally:
        await producer.stop()
