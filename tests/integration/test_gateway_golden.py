"""Golden files, both ways, through the real broker and the real gateway process.

The sample people of ``tests/partner_gateway/samples.py`` are registered by
publishing their BeneficiaryRegistered on the intake topic, and the sample hub
events behind every outbound message on the topics of their services: what
each partner's outbound topic then carries must equal its golden files, byte
for byte once parsed. Every golden inbound file, published in a shuffled order
on its partner's inbound topic, is recorded once and in the partner's order.
The closure comes last: each person then moves to another region. The
erasure, after which the gateway keeps nothing of the person to route by, is
checked on a hub of its own: the registration, then the erasure notice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import uuid
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, get_args

import psycopg
import pytest

from contracts.envelope import ContractEvent
from contracts.income import IncomeRightWithdrawnV1
from contracts.intake import BeneficiaryRegisteredV1
from contracts.regions import PartnerCode, Region
from contracts.registry import SERVICE_TOPICS
from services.common.eventstore import events_table, read_rows, row_to_event
from services.common.kafka import make_producer
from services.common.settings import HubSettings
from services.partner_gateway.canonical import InboundKind, OutboundKind, RoutingFacts
from services.partner_gateway.outbound import outbound_topic
from services.partner_gateway.service import inbound_topic
from services.supervisor import wait_healthy
from tests.contracts.samples import SAMPLES
from tests.integration.harness import component, read_topic, wait_until
from tests.partner_gateway.samples import CASES, FACTS, golden_path, outbound_event

pytestmark = pytest.mark.integration

SERVICE_OF = {
    "registration_request": "intake",
    "integration_contract_signed": "piis",
    "phase_changed": "piis",
    "article60_started": "placement",
    "article60_ended": "placement",
    "case_closed": "intake",
    "case_erased": "intake",
}
POSTAL = {"forem": "4000", "actiris": "1000", "vdab": "9000", "adg": "4700"}


def registered(facts: RoutingFacts) -> BeneficiaryRegisteredV1:
    return BeneficiaryRegisteredV1(
        event_id=uuid.uuid5(facts.case_id, "registered"),
        occurred_at=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC),
        correlation_id=uuid.uuid5(facts.case_id, "correlation"),
        stream_id=facts.case_id,
        stream_version=1,
        case_id=facts.case_id,
        cpas_kbo=facts.cpas_kbo,
        niss=facts.niss,
        niss_kind="RN",
        family_name=facts.family_name,
        given_name=facts.given_name,
        birth_date=facts.birth_date,
        preferred_language=facts.preferred_language,
        postal_code=POSTAL[facts.partner],
        region=Region(facts.region),
        partner=PartnerCode(facts.partner),
        dossier_number=facts.dossier_number,
        registered_on=dt.date(2026, 3, 2),
    )


def withdrawn(facts: RoutingFacts) -> ContractEvent:
    """The income right ended before the move: the closure, no new registration."""
    sample = next(e for e in SAMPLES if isinstance(e, IncomeRightWithdrawnV1))
    event = sample.model_copy(
        update={"case_id": facts.case_id, "cpas_kbo": facts.cpas_kbo}
    )
    return on_its_own_stream(event, "withdrawn")


def on_its_own_stream(event: ContractEvent, kind: str) -> ContractEvent:
    """The sample event as the first of a stream of its own (no position clash)."""
    return event.model_copy(
        update={"stream_id": uuid.uuid5(event.case_id, kind), "stream_version": 1}
    )


def publish(settings: HubSettings, messages: list[tuple[str, bytes, bytes]]) -> None:
    async def send() -> None:
        producer = make_producer(settings)
        await producer.start()
        try:
            for topic, key, value in messages:
                await producer.send_and_wait(settings.topic(topic), value, key)
        finally:
            await producer.stop()

    asyncio.run(send())


def recorded_reports(settings: HubSettings) -> list[Any]:
    with psycopg.connect(settings.database_url) as conn:
        try:
            return [
                row_to_event(row)
                for row in read_rows(conn, events_table("partners", "partners"))
            ]
        except psycopg.errors.UndefinedTable:
            return []


def assert_topics_hold(settings: HubSettings, kinds: Sequence[str]) -> None:
    """Each partner's topic carries the golden files of these kinds, no more."""
    expected: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for code, language in CASES:
        for kind in kinds:
            path = golden_path(code, "outbound", kind, language)
            expected[code].append(json.loads(path.read_text()))
    for code, messages in expected.items():
        received = read_topic(settings, outbound_topic(code), len(messages))
        got = sorted(json.dumps(json.loads(r.value), sort_keys=True) for r in received)
        assert got == sorted(json.dumps(m, sort_keys=True) for m in messages), code


# Last of a person's messages: the gateway then purges its rows of the case.
ERASURE: tuple[OutboundKind, ...] = ("case_erased",)


def _hub_message(facts: RoutingFacts, kind: OutboundKind) -> tuple[str, bytes, bytes]:
    """The hub event behind a kind of outbound message, on its service's topic."""
    event = on_its_own_stream(outbound_event(kind, facts), kind)
    topic = SERVICE_TOPICS[SERVICE_OF[kind]]
    return topic, str(facts.case_id).encode(), event.to_json_bytes()


def _registration(facts: RoutingFacts) -> tuple[str, bytes, bytes]:
    key = str(facts.case_id).encode()
    return SERVICE_TOPICS["intake"], key, registered(facts).to_json_bytes()


def test_golden_files_hold_through_the_broker_both_ways(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    with component(hub_settings, "partner-gateway", tmp_path / "gateway.log"):
        wait_healthy(f"http://127.0.0.1:{hub_settings.partner_gateway_port}/docs")
        hub_messages: list[tuple[str, bytes, bytes]] = []
        closures: list[tuple[str, bytes, bytes]] = []
        for facts in FACTS.values():
            key = str(facts.case_id).encode()
            hub_messages.append(_registration(facts))
            for kind in get_args(OutboundKind):
                if kind in ERASURE:
                    continue
                message = _hub_message(facts, kind)
                if kind == "case_closed":
                    # Last: the person then lives in another region, whose
                    # partner the inbound golden files are not from.
                    closures.append((message[0], key, withdrawn(facts).to_json_bytes()))
                    closures.append(message)
                else:
                    hub_messages.append(message)
        publish(hub_settings, hub_messages)
        kinds = [k for k in get_args(OutboundKind) if k not in ERASURE]
        assert_topics_hold(hub_settings, [k for k in kinds if k != "case_closed"])

        inbound: list[tuple[str, bytes, bytes]] = []
        for code, language in CASES:
            facts = FACTS[code, language]
            for kind in get_args(InboundKind):
                raw = golden_path(code, "inbound", kind, language).read_bytes()
                inbound.append((inbound_topic(code), facts.niss.encode(), raw))
        random.Random(5).shuffle(inbound)
        publish(hub_settings, inbound)
        want = len(CASES) * len(get_args(InboundKind))
        wait_until(
            lambda: len(recorded_reports(hub_settings)) == want,
            90,
            "every golden inbound message recorded",
        )
        by_case: dict[uuid.UUID, list[int]] = defaultdict(list)
        for report in recorded_reports(hub_settings):
            by_case[report.case_id].append(report.partner_sequence)
        assert len(by_case) == len(CASES)
        for sequences in by_case.values():
            assert sequences == list(range(1, len(get_args(InboundKind)) + 1))

        publish(hub_settings, closures)
        assert_topics_hold(hub_settings, kinds)


def test_the_erasure_golden_files_hold_through_the_broker(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    """Each partner holding the file is told of its erasure in its golden form."""
    with component(hub_settings, "partner-gateway", tmp_path / "gateway.log"):
        wait_healthy(f"http://127.0.0.1:{hub_settings.partner_gateway_port}/docs")
        publish(
            hub_settings,
            [
                message
                for facts in FACTS.values()
                for message in (
                    _registration(facts),
                    _hub_message(facts, "registration_request"),
                )
            ],
        )
        assert_topics_hold(hub_settings, ["registration_request"])
        publish(
            hub_settings,
            [_hub_message(facts, kind) for facts in FACTS.values() for kind in ERASURE],
        )
        assert_topics_hold(hub_settings, ["registration_request", *ERASURE])
