"""Fill an intake event store fast with realistic contract events (COPY)."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg

from contracts.intake import BeneficiaryRegisteredV1, BilanCompletedV1
from contracts.regions import PartnerCode, Region
from services.common.aggregate import derive_event_id
from services.common.eventstore import eventstore_env, schema_setup, seal_event
from services.common.settings import HubSettings
from services.common.vault import settings_vault
from services.demo import make_kbo
from services.intake.application import IntakeApplication

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
