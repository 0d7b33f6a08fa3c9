"""Erasing a person's file at a CPAS: ``hub erase --person NISS --cpas KBO``.

After the retention period (``HUB_ERASURE_RETENTION_YEARS`` from the case's
last stored event), or before it when forced with a reason, the hub:

1. records ``CaseErasedV1`` on the case (a code and a reference, no personal
   data), through intake's command path, so the erasure is in the history;
2. destroys the case's data key (the vault): every personal-data field of
   every event of the case, in every store, topic copy and dead letter,
   stops opening; the rows, their hash chain and every other person's data
   stay as they were;
3. deletes intake's own dead letters of the case.

That is all intake's database role may do (ADR 0027), and all it needs to:
each service that keeps data of the person purges its own rows when
``hub.intake.case.erased.v1`` reaches the consumer that folds intake's events
into its read model (``erase`` of its projection, services/common/erasure.py):
the partner gateway its routing facts' sealed columns, its outbox (but the
erasure notices it writes for the partners that hold the file) and dead
letters; placement its case facts' sealed columns and dead letters; PIIS its
dead letters; the case state its rows, its dead letters and a tombstone for
the case on the compacted ``hub.case-state.v1``.

Statistics and the subsidy ledger are computed from fields that are not
personal data (dates, codes, amounts): they do not move. Every step is
idempotent: an erasure interrupted half-way is finished by running it again,
and a redelivered erasure event purges nothing more.
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

from contracts.identifiers import names_a_national_number, normalise_kbo, parse_niss
from contracts.intake import ErasureReason
from services.audit.replay import last_activity
from services.common.aggregate import CommandContext
from services.common.erasure import Erasing, purge_dead_letters, schemas_of_role
from services.common.errors import DomainError
from services.common.settings import HubSettings
from services.common.vault import settings_vault
from services.intake.application import EraseCase, IntakeApplication
from services.registry import CONSUMERS

__all__ = [
    "FORCED_REASONS",
    "PURGED_BY_SERVICES",
    "ErasureDone",
    "erase_person",
    "purging_consumers",
]

log = logging.getLogger(__name__)

FORCED_REASONS: Final[frozenset[ErasureReason]] = frozenset(
    {"data_subject_request", "court_order", "registered_in_error"}
)

# Where the purge happens, said in every answer.
PURGED_BY_SERVICES: Final = (
    "each service purges its own rows of the case (read models, outbox, dead "
    "letters; the case state writes a tombstone on hub.case-state.v1) as "
    "hub.intake.case.erased.v1 reaches it; messages already on a partner's "
    "topics, in its format, are dropped by the broker within "
    "HUB_PARTNER_TOPIC_RETENTION_HOURS"
)


@dataclass(frozen=True, slots=True)
class ErasureDone:
    """What an erasure did (no personal data)."""

    case_id: uuid.UUID
    erased_on: dt.date
    forced: bool
    key_destroyed: bool
    recorded: bool = True  # False: the erasure event was recorded before
    purged: dict[str, int] = field(default_factory=dict)

    def answer(self) -> dict[str, Any]:
        """What ``POST /erasures`` and ``hub erase`` answer."""
        return {
            "case_id": str(self.case_id),
            "erased_on": self.erased_on.isoformat(),
            "forced": self.forced,
            "key_destroyed": self.key_destroyed,
            "event_recorded": self.recorded,
            "purged": self.purged,
            "purging": list(purging_consumers()),
            "then": PURGED_BY_SERVICES,
        }


def purging_consumers() -> tuple[str, ...]:
    """The consumers that purge their service's rows of an erased case."""
    return tuple(
        spec.name
        for spec in CONSUMERS
        if "intake" in spec.services
        and spec.replayable
        and isinstance(spec.projection(), Erasing)
    )


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
    if reference is not None and names_a_national_number(reference):
        # The erasure event outlives the person's key: it must name nobody.
        raise DomainError(
            "reference",
            "erasure.reference_names_a_person",
            "the reference of the decision names no person: no national number "
            "(11 digits)",
        )
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
    purged = asyncio.run(_purge_own(settings, case.id))
    log.warning("case %s erased (%s%s)", case.id, why, ", forced" if forced else "")
    return ErasureDone(
        case.id, moment.date(), forced, destroyed, not case.erased, purged
    )


async def _purge_own(settings: HubSettings, case_id: uuid.UUID) -> dict[str, int]:
    """Intake's own dead letters of the case (its role's schemas)."""
    async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
        return await purge_dead_letters(conn, schemas_of_role("intake"), [case_id])


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
