"""Erasing a person's file: gone everywhere, and everything else as it was.

A person registered with a bilan at a CPAS, another beside them. The erasure
is refused within the retention period unless forced with a reason; once
done, no API, read model, topic, outbox row, dead letter or log line gives
the person's NISS or name; their events still decode (personal fields
empty); the statistics of past dates, the hash chain and the audit report
stand; the other person reads as before (docs/decisions/0023-envelope-encryption.md).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from contracts.case_state import CASE_STATE_TOPIC
from contracts.intake import BeneficiaryRegisteredV1, CaseErasedV1
from contracts.registry import SERVICE_TOPICS
from services.audit.report import AuditRun, whole_report
from services.case_state.service import statistics_of
from services.common.aggregate import CommandContext
from services.common.chain import verify_stores
from services.common.errors import DomainError
from services.common.eventstore import events_table, read_rows, row_to_event
from services.common.settings import HubSettings
from services.demo import make_kbo, make_niss
from services.erasure import erase_person
from services.intake.application import RegisterBeneficiary, TransferCase
from services.intake.service import create_application
from services.supervisor import wait_healthy
from tests.integration.harness import (
    HEADERS,
    component,
    read_topic,
    wait_until,
    whole_topic,
)
from tests.integration.test_personal_data_at_rest import clear_in_tables

pytestmark = pytest.mark.integration

KBO = make_kbo(2123400)
ERASED = {"niss": make_niss(dt.date(1969, 4, 21), 41), "family": "Erasedqzfamily"}
KEPT = {"niss": make_niss(dt.date(1970, 5, 22), 43), "family": "Keptqzfamily"}
AS_OF = dt.date(2026, 11, 30)


def _register(intake: str, person: dict[str, str], number: str) -> str:
    answer = httpx.post(
        f"{intake}/cases",
        json={
            "command_id": str(uuid.uuid4()),
            "cpas_kbo": KBO,
            "niss": person["niss"],
            "birth_date": _birth(person["niss"]),
            "family_name": person["family"],
            "given_name": "Qzgiven",
            "preferred_language": "fr",
            "postal_code": "5000",
            "dossier_number": number,
            "registered_on": "2026-11-02",
        },
        headers=HEADERS,
    )
    assert answer.status_code == 201, answer.text
    case_id = str(answer.json()["case_id"])
    httpx.post(
        f"{intake}/cases/{case_id}/income-right",
        json={
            "command_id": str(uuid.uuid4()),
            "kind": "RIS",
            "category": 2,
            "application_date": "2026-11-02",
            "decision_date": "2026-11-20",
            "effective_date": "2026-11-02",
        },
        headers=HEADERS,
    ).raise_for_status()
    return case_id


def _birth(niss: str) -> str:
    return f"19{niss[0:2]}-{niss[2:4]}-{niss[4:6]}"


def _markers(person: dict[str, str]) -> dict[str, bytes]:
    return {"niss": person["niss"].encode(), "family_name": person["family"].encode()}


def _statistics(settings: HubSettings) -> Any:
    async def compute() -> Any:
        async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
            return await statistics_of(conn, KBO, AS_OF)

    return asyncio.run(compute())


def _audit(settings: HubSettings) -> Any:
    async def compute() -> Any:
        async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
            now = dt.datetime.now(dt.UTC)
            return await whole_report(conn, AuditRun(KBO, AS_OF, now, now))

    return asyncio.run(compute())


def _registrations(settings: HubSettings) -> dict[uuid.UUID, BeneficiaryRegisteredV1]:
    with psycopg.connect(settings.database_url) as conn:
        events = [
            row_to_event(r) for r in read_rows(conn, events_table("intake", "intake"))
        ]
    return {e.case_id: e for e in events if isinstance(e, BeneficiaryRegisteredV1)}


def _income_projected(case_state: str, case_id: str) -> bool:
    answer = httpx.get(f"{case_state}/cases/{case_id}", headers=HEADERS)
    return answer.is_success and answer.json().get("income_right") is not None


def _status(url: str) -> int:
    return httpx.get(url, headers=HEADERS).status_code


def test_an_erased_person_is_gone_everywhere_and_everything_else_stands(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    intake = f"http://127.0.0.1:{hub_settings.intake_port}"
    case_state = f"http://127.0.0.1:{hub_settings.case_state_port}"
    logs = [tmp_path / f"{name}.log" for name in ("api", "relay", "cs", "gw")]
    with (
        component(hub_settings, "intake-api", logs[0]),
        component(hub_settings, "intake-relay", logs[1]),
        component(hub_settings, "case-state", logs[2]),
        component(hub_settings, "partner-gateway", logs[3]),
    ):
        wait_healthy(f"{intake}/openapi.json")
        wait_healthy(f"{case_state}/openapi.json")
        erased_case = _register(intake, ERASED, "D-ERASE-1")
        kept_case = _register(intake, KEPT, "D-KEEP-1")
        for case in (erased_case, kept_case):
            wait_until(
                functools.partial(_income_projected, case_state, case),
                60,
                "the income right in the case state",
            )
        statistics_before = _statistics(hub_settings)
        kept_before = httpx.get(f"{intake}/cases/{kept_case}", headers=HEADERS).json()

        # Within the retention period: refused, then refused without a reason.
        with pytest.raises(DomainError) as refused:
            erase_person(hub_settings, niss=ERASED["niss"], cpas_kbo=KBO)
        assert refused.value.rule == "erasure.within_retention"
        with pytest.raises(DomainError) as no_reason:
            erase_person(hub_settings, niss=ERASED["niss"], cpas_kbo=KBO, force=True)
        assert no_reason.value.rule == "erasure.reason_required"
        assert httpx.get(f"{intake}/cases/{erased_case}", headers=HEADERS).is_success

        done = erase_person(
            hub_settings,
            niss=ERASED["niss"],
            cpas_kbo=KBO,
            force=True,
            reason="data_subject_request",
            reference="DPO-2026-17",
        )
        assert (str(done.case_id), done.forced, done.key_destroyed) == (
            erased_case,
            True,
            True,
        )
        # Run again (an interrupted erasure is finished so): nothing new.
        again = erase_person(
            hub_settings,
            niss=ERASED["niss"],
            cpas_kbo=KBO,
            force=True,
            reason="data_subject_request",
        )
        assert again.case_id == done.case_id

        # The API answers the erased case as a case it never knew.
        unknown = httpx.get(f"{intake}/cases/{uuid.uuid4()}", headers=HEADERS)
        wait_until(
            lambda: (
                httpx.get(f"{intake}/cases/{erased_case}", headers=HEADERS).status_code
                == unknown.status_code
            ),
            30,
            "the erased case answered as unknown",
        )
        gone = httpx.get(f"{intake}/cases/{erased_case}", headers=HEADERS)
        assert gone.text.replace(erased_case, "?") == unknown.text.replace(
            unknown.url.path.rsplit("/", 1)[-1], "?"
        )
        assert httpx.get(f"{intake}/cases/{kept_case}", headers=HEADERS).json() == (
            kept_before
        )

        # The history keeps its shape: every event still decodes, the erased
        # person's fields empty, the other person's whole; the erasure is in it.
        registrations = _registrations(hub_settings)
        assert registrations[uuid.UUID(erased_case)].niss is None
        assert registrations[uuid.UUID(erased_case)].family_name is None
        assert registrations[uuid.UUID(kept_case)].niss == KEPT["niss"]
        erasures = read_topic(
            hub_settings,
            SERVICE_TOPICS["intake"],
            0,
            until=lambda found: any(b"case.erased" in bytes(m.value) for m in found),
        )
        assert any(
            CaseErasedV1.model_validate_json(m.value).reason == "data_subject_request"
            for m in erasures
            if b"case.erased" in bytes(m.value)
        )

        assert _statistics(hub_settings) == statistics_before
        report = verify_stores(hub_settings)
        assert report.verified, report
        assert _audit(hub_settings) is not None

        # Tombstone on the compacted case-state topic.
        states = read_topic(
            hub_settings,
            CASE_STATE_TOPIC,
            0,
            until=lambda found: any(
                m.value is None and m.key == erased_case.encode() for m in found
            ),
        )
        assert any(m.value is None for m in states)

    # Nowhere in clear: tables, topics, logs.
    assert clear_in_tables(hub_settings, _markers(ERASED)) == {}
    for topic in [*SERVICE_TOPICS.values(), CASE_STATE_TOPIC]:
        for message in whole_topic(hub_settings, topic):
            for needle in _markers(ERASED).values():
                assert needle not in bytes(message.value or b"")
    for log in logs:
        text = log.read_bytes()
        for needle in _markers(ERASED).values():
            assert needle not in text, log.name


def test_an_erasure_names_its_field_and_rule_when_refused(
    hub_settings: HubSettings,
) -> None:
    app = create_application(hub_settings)
    niss = make_niss(dt.date(1968, 3, 3), 51)
    now = dt.datetime.now(dt.UTC)
    try:
        with pytest.raises(DomainError) as unknown:
            erase_person(hub_settings, niss=niss, cpas_kbo=KBO)
        assert (unknown.value.field, unknown.value.rule) == (
            "person",
            "erasure.unknown_case",
        )
        registered = app.register_beneficiary(
            RegisterBeneficiary(
                context=CommandContext(uuid.uuid4(), now),
                cpas_kbo=KBO,
                niss=niss,
                birth_date=dt.date(1968, 3, 3),
                family_name="Refusedqz",
                given_name="Qz",
                preferred_language="fr",
                postal_code="5000",
                dossier_number="D-REFUSED-1",
                registered_on=dt.date(2026, 11, 2),
            )
        )
        with pytest.raises(DomainError) as bad_reason:
            erase_person(
                hub_settings,
                niss=niss,
                cpas_kbo=KBO,
                force=True,
                reason="because",  # type: ignore[arg-type]
            )
        assert bad_reason.value.rule == "erasure.reason_unknown"
        assert niss not in str(bad_reason.value)
        app.transfer_case(
            TransferCase(
                context=CommandContext(uuid.uuid4(), now),
                case_id=registered.case_id,
                to_cpas_kbo=make_kbo(2123401),
                dossier_number="D-NEW-1",
                transferred_on=dt.date(2026, 11, 20),
            )
        )
        with pytest.raises(DomainError) as elsewhere:
            erase_person(hub_settings, niss=niss, cpas_kbo=KBO, force=True)
        assert (elsewhere.value.field, elsewhere.value.rule) == (
            "cpas",
            "erasure.case_elsewhere",
        )
    finally:
        app.close()
