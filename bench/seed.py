"""Fill an intake event store fast with realistic contract events (COPY)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any

import psycopg

from contracts.intake import BeneficiaryRegisteredV1, BilanCompletedV1
from contracts.regions import PartnerCode, Region
from services.common.aggregate import derive_event_id
from services.common.eventstore import eventstore_env, schema_setup, seal_event
from services.common.settings import HubSettings
from services.common.vault import settings_vault
from services.demo import make_kbo, make_niss
from services.intake.application import IntakeApplication
from services.partner_gateway.canonical import CanonicalInbound, RoutingFacts
from services.partner_gateway.facts import RoutingFactsTable
from services.partner_gateway.registry import PARTNERS

_AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
CPAS = [make_kbo(2123400 + n) for n in range(20)]


def _events(case_number: int) -> tuple[BeneficiaryRegisteredV1, BilanCompletedV1]:
    case = uuid.UUID(int=case_number + 1)
    envelope = {
        "occurred_at": _AT,
        "stream_id": case,
        "case_id": case,
        "cpas_kbo": CPAS[case_number % len(CPAS)],
        "correlation_id": case,
    }
    registered = BeneficiaryRegisteredV1(
        **envelope,
        event_id=derive_event_id(case, 1),
        stream_version=1,
        niss="85073003328",
        niss_kind="RN",
        family_name="Seed",
        given_name="Case",
        birth_date=dt.date(1985, 7, 30),
        preferred_language="fr",
        postal_code="4000",
        region=Region.WALLONIA,
        partner=PartnerCode.FOREM,
        dossier_number=f"S{case_number}",
        registered_on=dt.date(2026, 3, 2),
    )
    bilan = BilanCompletedV1(
        **envelope,
        event_id=derive_event_id(case, 2),
        stream_version=2,
        assessment_id=uuid.uuid5(case, "bilan"),
        completed_on=dt.date(2026, 3, 20),
        author="sw-1",
        needs=("housing",),
        strengths=("motivated",),
        obstacles=(),
        instrument="ZRM",
        baseline_scores={"work": case_number % 100},
        orientation="employment",
    )
    return registered, bilan


_PAGE = 5_000


def seed_intake(settings: HubSettings, events: int) -> int:
    """Append ``events`` events (half registrations, half bilans) in store order.

    Each is stored as the hub stores it, its personal data sealed with its
    person's key (the keys made a page at a time), so the relay and rebuilds
    read what they read in production.
    """
    env = eventstore_env(settings.database_url, app_name="intake", schema="intake")
    with schema_setup(settings.database_url, "intake"):
        IntakeApplication(env).close()
    vault = settings_vault(settings)
    with psycopg.connect(settings.database_url) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY intake.intake_events (originator_id, originator_version, topic, "
            "state) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["uuid", "int8", "text", "bytea"])
            for start in range(0, events // 2, _PAGE):
                cases = range(start, min(start + _PAGE, events // 2))
                vault.provision(uuid.UUID(int=n + 1) for n in cases)
                for n in cases:
                    for event in _events(n):
                        copy.write_row(
                            (
                                event.stream_id,
                                event.stream_version,
                                event.event_type,
                                seal_event(vault, event),
                            )
                        )
        conn.commit()
    return events // 2 * 2


# -- a partner's file ---------------------------------------------------------

_BORN = dt.date(1990, 1, 1)
_FOREM_CPAS = make_kbo(2123400)
# A person's journey with the partner, one message each, in its order.
_JOURNEY: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "registration_confirmed",
        {"partner_client_id": "DE-2026-{n:06d}", "registered_on": "2026-03-20"},
    ),
    (
        "training_enrolled",
        {
            "training_id": "FORM-{n:06d}",
            "title": "Aide-comptable",
            "provider": "Centre de compétence",
            "starts_on": "2026-04-06",
            "planned_end": "2026-06-26",
        },
    ),
    (
        "follow_up_report",
        {
            "report_date": "2026-05-15",
            "summary": "Présence régulière, progrès en bureautique.",
            "attendance_rate": "87.5",
            "next_appointment": "2026-06-12",
        },
    ),
    (
        "training_completed",
        {
            "training_id": "FORM-{n:06d}",
            "completed_on": "2026-06-26",
            "certified": True,
        },
    ),
    (
        "employment_started",
        {
            "employer_kbo": "0403170701",
            "starts_on": "2026-07-01",
            "contract_type": "fixed_term",
            "weekly_hours": "19.5",
        },
    ),
)


def partner_people(first: int, count: int) -> list[RoutingFacts]:
    """``count`` people followed by Le Forem, numbered from ``first``."""
    return [
        RoutingFacts(
            case_id=uuid.UUID(int=0xF0_0000_0000 + n),
            cpas_kbo=_FOREM_CPAS,
            dossier_number=f"F{n}",
            region=Region.WALLONIA.value,
            partner=PartnerCode.FOREM.value,
            preferred_language="fr",
            niss=make_niss(_BORN + dt.timedelta(days=n // 997), 1 + n % 997),
            family_name="Seed",
            given_name="Partner",
            birth_date=_BORN + dt.timedelta(days=n // 997),
        )
        for n in range(first, first + count)
    ]


def seed_partner_people(settings: HubSettings, people: Sequence[RoutingFacts]) -> None:
    """Give the gateway these people's routing facts and data keys.

    As intake's events would have: the gateway's facts table filled, each
    person's data key made at registration.
    """
    settings_vault(settings).provision(p.case_id for p in people)
    table = RoutingFactsTable()

    async def store() -> None:
        async with await psycopg.AsyncConnection.connect(
            settings.database_url, autocommit=True
        ) as conn:
            await conn.execute("CREATE SCHEMA IF NOT EXISTS partners")
            await table.create_tables(conn, "partners")
            for start in range(0, len(people), _PAGE):
                page = people[start : start + _PAGE]
                async with conn.transaction():  # the bulk upsert's stage lives in it
                    await table.store(conn, "partners", {p.case_id: p for p in page})

    asyncio.run(store())


def partner_file(people: Sequence[RoutingFacts], per_person: int) -> list[bytes]:
    """Le Forem's file, a message a line: ``per_person`` about each person.

    Each person's messages are numbered from 1 in the journey's order; the
    file lists the first message of everyone, then the second, as a partner's
    daily export does.
    """
    forem = PARTNERS[PartnerCode.FOREM.value]
    sent = dt.datetime(2026, 7, 2, 6, 0, tzinfo=dt.UTC)
    lines: list[bytes] = []
    for step in range(per_person):
        kind, body = _JOURNEY[step % len(_JOURNEY)]
        for person in people:
            n = int(person.dossier_number[1:])
            fields = {
                k: v.format(n=n) if isinstance(v, str) else v for k, v in body.items()
            }
            message = CanonicalInbound.model_validate(
                {
                    "kind": kind,
                    "partner": PartnerCode.FOREM.value,
                    "language": "fr",
                    "message_id": f"FOREM-{n}-{step + 1}",
                    "sequence": step + 1,
                    "sent_at": sent,
                    "niss": person.niss,
                    "cpas_kbo": person.cpas_kbo,
                    "body": {"kind": kind, **fields},
                }
            )
            # A file holds each message on one line (JSON Lines).
            lines.append(json.dumps(json.loads(forem.render(message))).encode())
    return lines
