"""A 2xx means stored: 64 concurrent callers against two intake API processes.

Each round mixes new registrations, registrations reusing a file number that
is taken, several commands on one case at once, retries of a command (same
id, same body) and command ids reused for another command. Afterwards every
2xx answer has its events in the store, every refusal is a 409 or a 422 with
its rule, no stream has a version gap, and a fresh process reads what the
processes that answered read.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from services.common.runtime import free_port, wait_for_port
from services.common.settings import HubSettings
from services.demo import make_kbo, make_niss
from services.intake.service import create_application
from tests.integration.harness import HEADERS, component

pytestmark = pytest.mark.integration

CALLERS = 64
ROUNDS = 6
CPAS = make_kbo(2123401)


@dataclass(frozen=True)
class Answer:
    """One call and what the hub said."""

    group: str  # calls that compete: a request and its retry, or one case's grants
    kind: str
    payload: Any
    status: int
    body: Any

    @property
    def command_id(self) -> str:
        """The command id the caller sent."""
        return str(self.payload["command_id"])

    @property
    def rule(self) -> str | None:
        """The rule of a refusal."""
        return self.body["detail"][0]["type"] if self.status >= 400 else None


def registration(person: int, dossier: str, command_id: str | None = None) -> Any:
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=person % 9000)
    return {
        "command_id": command_id or str(uuid.uuid4()),
        "cpas_kbo": CPAS,
        "niss": make_niss(birth, 1 + person // 9000),
        "birth_date": birth.isoformat(),
        "family_name": f"Family{person}",
        "given_name": "Test",
        "preferred_language": "fr",
        "postal_code": "4000",
        "dossier_number": dossier,
        "registered_on": "2026-11-02",
    }


def bilan(command_id: str | None = None, author: str = "sw-1") -> Any:
    return {
        "command_id": command_id or str(uuid.uuid4()),
        "completed_on": "2026-11-20",
        "author": author,
        "needs": ["housing"],
        "orientation": "employment",
    }


def grant(command_id: str | None = None) -> Any:
    return {
        "command_id": command_id or str(uuid.uuid4()),
        "kind": "RIS",
        "category": 2,
        "application_date": "2026-11-02",
        "decision_date": "2026-11-20",
        "effective_date": "2026-11-02",
    }


@dataclass(frozen=True)
class Call:
    group: str
    kind: str
    path: str
    payload: Any


async def call(
    clients: list[httpx.AsyncClient],
    gate: asyncio.Semaphore,
    planned: Call,
    answers: list[Answer],
) -> None:
    async with gate:
        client = random.choice(clients)
        response = await client.post(planned.path, json=planned.payload)
    answers.append(
        Answer(
            planned.group,
            planned.kind,
            planned.payload,
            response.status_code,
            response.json(),
        )
    )


async def run_round(
    clients: list[httpx.AsyncClient],
    number: int,
    cases: list[str],
) -> list[Answer]:
    """One round of mixed calls, all at once; the answers."""
    gate = asyncio.Semaphore(CALLERS)
    answers: list[Answer] = []
    calls: list[Call] = []
    for person in range(number * 1000, number * 1000 + 300):
        dossier = f"R{number}-{person}"
        payload = registration(person, dossier)
        group = f"person-{person}"
        calls.append(Call(group, "register", "/cases", payload))
        if person % 10 == 0:  # a retry of the same request
            calls.append(Call(group, "retry", "/cases", payload))
        if person % 10 == 1:  # the same id for another person
            other = registration(person + 500, f"X{number}-{person}")
            other["command_id"] = payload["command_id"]
            calls.append(Call(group, "reused-id", "/cases", other))
        if person % 10 == 2:  # another person, the same file number
            taken = registration(person + 700, dossier)
            calls.append(Call(group, "taken-number", "/cases", taken))
    for case_id in random.sample(cases, min(len(cases), 40)):
        # Several commands on one case at once, a retry and a reused id among them.
        path = f"/cases/{case_id}/bilans"
        calls += [
            Call(f"bilan-{uuid.uuid4()}", "bilan", path, bilan()) for _ in range(5)
        ]
        first = bilan()
        group = f"bilan-{first['command_id']}"
        calls.append(Call(group, "bilan", path, first))
        calls.append(Call(group, "retry", path, first))
        reused = bilan(first["command_id"], author="sw-2")
        calls.append(Call(group, "reused-id", path, reused))
        path = f"/cases/{case_id}/income-right"
        calls += [Call(f"grant-{case_id}", "grant", path, grant()) for _ in range(3)]
    random.shuffle(calls)
    await asyncio.gather(*(call(clients, gate, c, answers) for c in calls))
    return answers


def stored_commands(settings: HubSettings) -> dict[str, list[tuple[str, str]]]:
    """Per command id, the (event type, stream) of its stored events."""
    found: dict[str, list[tuple[str, str]]] = {}
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute(
            "SELECT convert_from(state, 'UTF8')::jsonb ->> 'causation_id', topic, "
            "originator_id::text FROM intake.intake_events"
        ).fetchall()
    for command, topic, stream in rows:
        found.setdefault(command, []).append((topic, stream))
    return found


def version_gaps(settings: HubSettings) -> list[Any]:
    with psycopg.connect(settings.database_url) as conn:
        return conn.execute(
            "SELECT originator_id, count(*), max(originator_version) "
            "FROM intake.intake_events GROUP BY originator_id "
            "HAVING count(*) <> max(originator_version)"
        ).fetchall()


def check_competition(group: str, competing: list[Answer]) -> int:
    """Calls that competed got true answers; how many were told to retry."""
    busy = sum(a.rule == "case.concurrent_writes" for a in competing)
    won = [a for a in competing if a.status == 201]
    if group.startswith("grant-"):
        # Three grants of one case at once: one right, the others refused.
        assert len(won) == 1, competing
        assert {a.rule for a in competing if a is not won[0]} <= {
            "income_right.already_active",
            "case.concurrent_writes",
        }, competing
        return busy
    if busy:
        return busy  # told to send again: nothing stored (checked with the store)
    # Whichever came first won; a retry of it answers the same with 200,
    # another command under its id, or under its file number, a 409.
    assert len(won) == 1, competing
    (first,) = won
    for other in competing:
        if other is first:
            continue
        if other.payload == first.payload:
            assert (other.status, other.body) == (200, first.body), competing
        elif other.command_id == first.command_id:
            assert other.rule == "command_id.reused", competing
        else:
            assert other.rule == "dossier_number.reused", competing
    return 0


def check_store(settings: HubSettings, answers: list[Answer]) -> None:
    """Every 2xx has its events stored, every 409 of its own id has none."""
    stored = stored_commands(settings)
    winners = {a.command_id for a in answers if a.status == 201}
    for answer in answers:
        events = stored.get(answer.command_id, [])
        if answer.status == 201 and answer.group.startswith("person-"):
            registered = (
                "hub.intake.beneficiary.registered.v1",
                answer.body["case_id"],
            )
            assert registered in events, answer
        elif answer.status in {200, 201}:
            assert events, f"{answer.kind} answered {answer.status}, stored nothing"
        elif answer.command_id not in winners:
            assert not events, f"{answer.kind} refused ({answer.rule}) but stored"
    grants = Counter(
        stream
        for events in stored.values()
        for topic, stream in events
        if topic == "hub.intake.income_right.granted.v1"
    )
    assert set(grants.values()) == {1}
    assert version_gaps(settings) == []


def test_every_2xx_is_stored_and_every_conflict_is_a_409(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    second = hub_settings.model_copy(update={"intake_port": free_port()})
    with (
        component(hub_settings, "intake-api", tmp_path / "api-1.log"),
        component(second, "intake-api", tmp_path / "api-2.log"),
    ):
        for settings in (hub_settings, second):
            wait_for_port(settings.host, settings.intake_port, timeout=60)

        async def drive() -> tuple[list[Answer], dict[str, Any]]:
            urls = [f"http://{s.host}:{s.intake_port}" for s in (hub_settings, second)]
            limits = httpx.Limits(max_connections=CALLERS)
            clients = [
                httpx.AsyncClient(
                    base_url=u, headers=HEADERS, timeout=60, limits=limits
                )
                for u in urls
            ]
            everything: list[Answer] = []
            cases: list[str] = []
            try:
                for number in range(ROUNDS):
                    answers = await run_round(clients, number, cases)
                    everything += answers
                    cases += [
                        a.body["case_id"]
                        for a in answers
                        if a.status == 201 and a.group.startswith("person-")
                    ]
                views = {}
                for case_id in cases:
                    views[case_id] = [
                        (await c.get(f"/cases/{case_id}")).json() for c in clients
                    ]
            finally:
                for c in clients:
                    await c.aclose()
            return everything, views

        answers, views = asyncio.run(drive())

    statuses = Counter(a.status for a in answers)
    assert len(answers) > 3000, statuses
    assert set(statuses) <= {200, 201, 409}, statuses
    groups: dict[str, list[Answer]] = {}
    for answer in answers:
        groups.setdefault(answer.group, []).append(answer)
    busy = sum(check_competition(group, calls) for group, calls in groups.items())
    assert busy <= len(answers) * 0.01, busy
    check_store(hub_settings, answers)
    fresh = create_application(hub_settings)
    try:
        for case_id, (one, other) in views.items():
            case = fresh.get_beneficiary(uuid.UUID(case_id))
            assert one == other, case_id
            assert (one["version"], one["bilans"]) == (case.version, len(case.bilans))
    finally:
        fresh.close()
