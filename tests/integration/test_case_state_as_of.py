"""``GET /cases/{id}?as_of=``: the case as the hub had recorded it by the end of a day.

Events recorded on three days (Brussels) are folded in one batch, as a rebuild
would; the API answers each day's state from the day snapshots, by recording
time: an evaluation dated earlier but recorded later does not change an
earlier day. The current state shows the messages kept aside about the case
by their rule, never their content.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest

from contracts.envelope import ContractEvent
from contracts.intake import CaseTransferredV1
from contracts.piis import PhaseChangedV1
from services.case_state.service import create_api, open_pool
from services.common.auth import clients_by_hash, parse_api_keys
from services.common.consumer import decode
from services.common.http import BRUSSELS
from services.common.settings import HubSettings
from services.registry import consumer
from tests.case_state.test_projection import Stream, evaluated, proposed, signed
from tests.contracts.samples import CASE, KBO, SAMPLES
from tests.integration.harness import HEADERS

pytestmark = pytest.mark.integration

REGISTERED, BILAN = SAMPLES[0], SAMPLES[1]
DAY_1, DAY_2, DAY_3 = dt.date(2026, 3, 2), dt.date(2026, 3, 5), dt.date(2026, 3, 10)


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=BRUSSELS)


def history() -> list[ContractEvent]:
    """Registered and assessed on day 1, a PIIS signed on day 2, on day 3 an
    evaluation dated day 2's eve (recorded late) and a phase."""
    piis = Stream(uuid.UUID(int=16), at(DAY_2, 9))
    events: list[ContractEvent] = [
        REGISTERED.model_copy(update={"recorded_at": at(DAY_1, 10)}),
        # 23:30 in Brussels: still day 1.
        BILAN.model_copy(update={"recorded_at": at(DAY_1, 23).replace(minute=30)}),
        proposed(piis),
        signed(piis),
    ]
    piis.recorded = at(DAY_3, 9)
    events.append(evaluated(piis, dt.date(2026, 3, 4), in_person=True))
    trajectory = Stream(uuid.UUID(int=13), at(DAY_3, 11))
    events.append(
        trajectory(
            PhaseChangedV1,
            trajectory_id=uuid.UUID(int=13),
            dossier_number="LG2026001",
            from_phase=None,
            to_phase="facilitator",
            effective_date=DAY_1,
            reason="orientation",
            decided_by="sw-1",
        )
    )
    return events


async def _answers(settings: HubSettings, days: list[str | None]) -> list[Any]:
    store = consumer("case-state").store()
    async with open_pool(settings) as pool:
        async with pool.connection() as conn:
            await store.apply(
                conn, [decode(str(CASE).encode(), e.to_json_bytes()) for e in history()]
            )
            # A message about the case that did not decode, kept aside.
            await store.apply(
                conn, [decode(str(CASE).encode(), b'{"niss": "85073003328"}')]
            )
        api = create_api(pool, parse_api_keys(settings.api_keys))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=api),
            base_url="http://case-state",
            headers=HEADERS,
        ) as client:
            return [
                await client.get(
                    f"/cases/{CASE}", params={} if day is None else {"as_of": day}
                )
                for day in days
            ]


def test_as_of_shows_the_case_as_recorded_by_the_end_of_that_day(
    hub_settings: HubSettings,
) -> None:
    before, day_1, day_2, day_9, day_3, later, now = asyncio.run(
        _answers(
            hub_settings,
            [
                "2026-03-01",
                DAY_1.isoformat(),
                DAY_2.isoformat(),
                "2026-03-09",
                DAY_3.isoformat(),
                "2027-01-01",
                None,
            ],
        )
    )
    assert before.status_code == 404
    assert before.json()["detail"][0]["type"] == "case.unknown"

    first = day_1.json()
    assert first["as_of"] == DAY_1.isoformat()
    assert first["registration"]["dossier_number"] == "LG2026001"
    assert (first["bilan"]["count"], first["version"]) == (1, 2)
    assert (first["piis"], first["trajectory"]) == (None, None)
    assert first["parked_messages"] is None  # not kept as history

    second = day_2.json()
    assert (second["piis"]["status"], second["piis"]["evaluations_total"]) == (
        "signed",
        0,
    )
    # Dated 4 March, recorded on the 10th: not what the hub knew on the 5th.
    assert second["piis"]["last_evaluated_on"] is None
    assert {**day_9.json(), "as_of": None} == {**second, "as_of": None}

    third = day_3.json()
    assert third["piis"]["last_evaluated_on"] == "2026-03-04"
    assert third["trajectory"]["phase"] == "facilitator"
    current = now.json()
    shown = {k: v for k, v in current.items() if k not in ("as_of", "parked_messages")}
    assert {k: v for k, v in third.items() if k in shown} == shown
    assert {**later.json(), "as_of": None} == {**third, "as_of": None}


def test_the_case_shows_the_messages_kept_aside_by_rule_not_content(
    hub_settings: HubSettings,
) -> None:
    [now] = asyncio.run(_answers(hub_settings, [None]))
    assert now.status_code == 200, now.text
    assert now.json()["parked_messages"] == {
        "count": 1,
        "reasons": [
            {"kept_in": "case_state", "rule": "decode", "status": "parked", "count": 1}
        ],
    }
    assert "85073003328" not in now.text


def test_a_transferred_case_and_its_history_are_read_by_the_cpas_it_is_with(
    hub_settings: HubSettings,
) -> None:
    """Its state as of a day before the transfer too; no longer by the former CPAS.

    The former CPAS gets the answer of an unknown case, not a 403 that would
    tell it the person is now a client elsewhere.
    """
    transferred = sample_transfer().model_copy(
        update={"stream_version": 3, "recorded_at": at(DAY_3, 12)}
    )
    keys = {
        "former": {"client": "former", "scopes": ["cases:read"], "cpas": [KBO]},
        "new": {"client": "new", "scopes": ["cases:read"], "cpas": [NEW_CPAS]},
    }

    async def answers() -> list[tuple[int, str]]:
        store = consumer("case-state").store()
        async with open_pool(hub_settings) as pool:
            async with pool.connection() as conn:
                events = [*history()[:2], transferred]
                await store.apply(
                    conn,
                    [decode(str(CASE).encode(), e.to_json_bytes()) for e in events],
                )
            api = create_api(pool, clients_by_hash(keys))
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=api), base_url="http://case-state"
            ) as client:
                found = []
                for key, case in (
                    ("new", CASE),
                    ("former", CASE),
                    ("former", uuid.UUID(int=404)),
                ):
                    for params in ({}, {"as_of": DAY_1.isoformat()}):
                        answer = await client.get(
                            f"/cases/{case}", params=params, headers={"X-API-Key": key}
                        )
                        found.append((answer.status_code, answer.text))
                return found

    found = asyncio.run(answers())
    assert [status for status, _ in found] == [200, 200, 404, 404, 404, 404]
    # The former CPAS's answers are an unknown case's, word for word.
    assert found[2:4] == found[4:6]


NEW_CPAS = "0202239951"


def sample_transfer() -> ContractEvent:
    return next(e for e in SAMPLES if isinstance(e, CaseTransferredV1))
