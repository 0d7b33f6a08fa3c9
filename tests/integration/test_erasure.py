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
import contextlib
import datetime as dt
import functools
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

from contracts.case_state import CASE_STATE_TOPIC
from contracts.intake import BeneficiaryRegisteredV1, CaseErasedV1
from contracts.registry import SERVICE_TOPICS
from services.audit.report import AuditRun, whole_report
from services.case_state.service import statistics_of
from services.common.aggregate import CommandContext
from services.common.chain import verify_stores
from services.common.dead_letters import schemas_with_dead_letters
from services.common.errors import DomainError
from services.common.eventstore import events_table, read_rows, row_to_event
from services.common.settings import HubSettings
from services.demo import make_kbo, make_niss
from services.erasure import erase_person
from services.intake.application import RegisterBeneficiary, TransferCase
from services.intake.service import create_application
from services.partner_gateway.outbound import ERASURE_NOTICE
from services.supervisor import wait_healthy
from tests.integration.harness import (
    HEADERS,
    OPERATOR_HEADERS,
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


# -- POST /erasures under the services' own roles (ADR 0023, 0027) ------------

_PURGING = (
    "intake-api",
    "intake-relay",
    "case-state",
    "piis-api",
    "placement-api",
    "partner-gateway",
)
# What the services keep of a case, each read as the owner: (name, query).
_KEPT_OF_CASE = (
    ("routing facts", "SELECT * FROM partners.routing_facts WHERE case_id = %(c)s"),
    ("placement facts", "SELECT * FROM placement.case_facts WHERE case_id = %(c)s"),
    ("piis facts", "SELECT * FROM piis.case_facts WHERE case_id = %(c)s"),
    (
        "outbox",
        (
            "SELECT message_id, kind, payload FROM partners.outbox "
            "WHERE case_id = %(c)s ORDER BY id"
        ),
    ),
    (
        "case state",
        (
            "SELECT case_id, version, intake, piis FROM case_state.cases "
            "WHERE case_id = %(c)s"
        ),
    ),
    (
        "case days",
        "SELECT * FROM case_state.case_days WHERE case_id = %(c)s ORDER BY 2, 3",
    ),
)
# Schemas whose dead letters a test plants, one service's role each.
_PLANTED = ("intake", "partners", "federal_reporting", "placement", "piis")
_PLANTED_CASE_STATE = ("case_state", "statistics")


def _query(settings: HubSettings, query: str, case_id: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(settings.database_url) as conn:
        return conn.execute(query, {"c": uuid.UUID(case_id)}).fetchall()


def _kept_of(settings: HubSettings, case_id: str) -> dict[str, list[tuple[Any, ...]]]:
    return {name: _query(settings, q, case_id) for name, q in _KEPT_OF_CASE}


def _dead_letters_of(settings: HubSettings, case_id: str) -> dict[str, int]:
    found: dict[str, int] = {}
    with psycopg.connect(settings.database_url) as conn:
        for schema in schemas_with_dead_letters(conn):
            row = conn.execute(
                sql.SQL(
                    "SELECT count(*) FROM {}.dead_letters WHERE case_key = %s"
                ).format(sql.Identifier(schema)),
                (case_id,),
            ).fetchone()
            if row and row[0]:
                found[schema] = int(row[0])
    return found


def _plant_dead_letters(settings: HubSettings, case_ids: list[str]) -> None:
    """A dead letter of each case in each schema (of no running consumer)."""
    with psycopg.connect(settings.database_url) as conn:
        for schema in (*_PLANTED, *_PLANTED_CASE_STATE):
            for case_id in case_ids:
                conn.execute(
                    sql.SQL(
                        "INSERT INTO {}.dead_letters (case_key, event_type, payload, "
                        "reason, source, consumer, rule) VALUES (%s, 't', '', "
                        "'planted', 'test', 'planted', 'store')"
                    ).format(sql.Identifier(schema)),
                    (case_id,),
                )


def _ready(settings: HubSettings, case_ids: list[str]) -> bool:
    """Every service holds the cases, and every schema keeps dead letters."""
    with psycopg.connect(settings.database_url) as conn:
        for schema in (*_PLANTED, *_PLANTED_CASE_STATE):
            row = conn.execute(
                "SELECT to_regclass(%s)", (f"{schema}.dead_letters",)
            ).fetchone()
            if row is None or row[0] is None:
                return False
    for case_id in case_ids:
        try:
            kept = _kept_of(settings, case_id)
        except psycopg.errors.UndefinedTable:
            return False
        if not all(kept[name] for name in ("routing facts", "placement facts")):
            return False
        if not (kept["outbox"] and kept["piis facts"] and kept["case state"]):
            return False
        if kept["case state"][0][2].get("income_right") is None:
            return False
    return True


def _purged(settings: HubSettings, case_id: str) -> bool:
    """Whether every service purged its rows of the case."""
    kept = _kept_of(settings, case_id)
    [routing] = _query(
        settings,
        "SELECT sealed, niss_digest FROM partners.routing_facts WHERE case_id = %(c)s",
        case_id,
    )
    [placement] = _query(
        settings,
        "SELECT sealed FROM placement.case_facts WHERE case_id = %(c)s",
        case_id,
    )
    return (
        routing == (None, None)
        and placement == (None,)
        and {kind for _, kind, _ in kept["outbox"]} == {ERASURE_NOTICE}
        and kept["case state"] == []
        and kept["case days"] == []
        and _dead_letters_of(settings, case_id) == {}
    )


def _ask_erasure(intake: str, **extra: str) -> dict[str, Any]:
    """``POST /erasures`` of the erased person, forced, with an operator's key."""
    answer = httpx.post(
        f"{intake}/erasures",
        json={
            "person": ERASED["niss"],
            "cpas_kbo": KBO,
            "force": True,
            "reason": "court_order",
            **extra,
        },
        headers=OPERATOR_HEADERS,
        timeout=30,
    )
    assert answer.status_code == 202, answer.text
    assert ERASED["niss"] not in answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_post_erasures_under_the_services_roles_purges_each_services_rows(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    """The route answers 202 under intake's own role; each service then purges
    its own rows of the case as the erasure event reaches it."""
    intake = f"http://127.0.0.1:{hub_settings.intake_port}"
    case_state = f"http://127.0.0.1:{hub_settings.case_state_port}"
    logs = {name: tmp_path / f"{name}.log" for name in _PURGING}
    with contextlib.ExitStack() as running:
        for name in _PURGING:
            running.enter_context(component(hub_settings, name, logs[name]))
        wait_healthy(f"{intake}/openapi.json")
        wait_healthy(f"{case_state}/openapi.json")
        erased_case = _register(intake, ERASED, "D-ERASE-2")
        kept_case = _register(intake, KEPT, "D-KEEP-2")
        cases = [erased_case, kept_case]
        wait_until(lambda: _ready(hub_settings, cases), 90, "every service's rows")
        _plant_dead_letters(hub_settings, cases)
        kept_before = _kept_of(hub_settings, kept_case)
        kept_dead_letters = _dead_letters_of(hub_settings, kept_case)
        assert _dead_letters_of(hub_settings, erased_case) == kept_dead_letters

        done = _ask_erasure(intake, reference="C-2026-9")
        assert (done["case_id"], done["key_destroyed"], done["event_recorded"]) == (
            erased_case,
            True,
            True,
        )
        # Intake's own dead letters it purged itself, at once.
        assert done["purged"]["intake.dead_letters"] == 1
        assert "partner-outbound" in done["purging"]

        wait_until(
            lambda: _purged(hub_settings, erased_case),
            90,
            "every service's purge of the erased case",
        )
        states = read_topic(
            hub_settings,
            CASE_STATE_TOPIC,
            0,
            until=lambda found: any(
                m.value is None and m.key == erased_case.encode() for m in found
            ),
        )
        # Compacted, the topic keeps the last value of a key: the tombstone.
        assert [m for m in states if m.key == erased_case.encode()][-1].value is None
        # The case state answers the erased case as one it never knew.
        gone = httpx.get(f"{case_state}/cases/{erased_case}", headers=HEADERS)
        assert gone.status_code == 404, gone.text
        # The other person: every row as before.
        assert _kept_of(hub_settings, kept_case) == kept_before
        assert _dead_letters_of(hub_settings, kept_case) == kept_dead_letters
        assert _income_projected(case_state, kept_case)

        # Asked again (an operator unsure it went through): nothing new.
        again = _ask_erasure(intake)
        assert again["event_recorded"] is False
        assert set(again["purged"].values()) == {0}
        report = verify_stores(hub_settings)
        assert report.verified, report

    assert clear_in_tables(hub_settings, _markers(ERASED)) == {}
    for name, log in logs.items():
        text = log.read_bytes()
        for needle in _markers(ERASED).values():
            assert needle not in text, name
