"""The spine with real processes: HTTP, store, relay, Kafka, projection."""

from __future__ import annotations

import asyncio
import random
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from services.common.rebuild import rebuild
from services.common.settings import HubSettings
from services.registry import consumer
from services.supervisor import wait_healthy
from tests.integration.harness import (
    HEADERS,
    assert_live_equals_rebuild,
    case_rows,
    component,
    projected_cases,
    stored_events,
    wait_until,
)
from tests.integration.load import bilan_body, registration_body, send_commands

pytestmark = pytest.mark.integration


def test_a_beneficiary_registered_over_http_appears_in_the_case_state(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    intake = f"http://127.0.0.1:{hub_settings.intake_port}"
    case_state = f"http://127.0.0.1:{hub_settings.case_state_port}"
    with (
        component(hub_settings, "intake-api", tmp_path / "api.log"),
        component(hub_settings, "intake-relay", tmp_path / "relay.log"),
        component(hub_settings, "case-state", tmp_path / "case-state.log"),
    ):
        wait_healthy(f"{intake}/openapi.json")
        wait_healthy(f"{case_state}/openapi.json")
        registered = httpx.post(
            f"{intake}/cases", json=registration_body(0), headers=HEADERS
        )
        assert registered.status_code == 201
        case_id = registered.json()["case_id"]
        httpx.post(
            f"{intake}/cases/{case_id}/bilans", json=bilan_body(0), headers=HEADERS
        ).raise_for_status()

        # A cohabitant (category 1) shares the household with someone.
        httpx.post(
            f"{intake}/cases/{case_id}/household",
            json={
                "command_id": str(uuid.uuid4()),
                "effective_date": "2026-10-01",
                "other_members": 1,
            },
            headers=HEADERS,
        ).raise_for_status()
        httpx.post(
            f"{intake}/cases/{case_id}/income-right",
            json={
                "command_id": str(uuid.uuid4()),
                "kind": "ERIS",
                "category": 1,
                "application_date": "2026-10-01",
                "decision_date": "2026-10-20",
                "effective_date": "2026-10-01",
            },
            headers=HEADERS,
        ).raise_for_status()

        def bilan_projected() -> bool:
            answer = httpx.get(f"{case_state}/cases/{case_id}", headers=HEADERS)
            return (
                answer.status_code == 200
                and (answer.json()["income_right"] or {}).get("status") == "active"
            )

        wait_until(bilan_projected, 60, "the case in the case state")
        case = httpx.get(f"{case_state}/cases/{case_id}", headers=HEADERS).json()
        assert case["registration"]["region"] == "wallonia"
        assert case["registration"]["partner"] == "forem"
        assert (case["bilan"]["count"], case["income_right"]["kind"]) == (1, "ERIS")
        assert "niss" not in case
        assert "family_name" not in case
        metrics = httpx.get(
            f"http://127.0.0.1:{hub_settings.relay_metrics_port}/metrics"
        ).text
        assert 'hub_relay_published_total{service="intake"}' in metrics
        assert "hub_consumer_applied_total" in httpx.get(f"{case_state}/metrics").text
        assert "hub_commands_total" in httpx.get(f"{intake}/metrics").text
    assert_live_equals_rebuild(hub_settings)
    live = case_rows(hub_settings)
    rebuilt = asyncio.run(rebuild(hub_settings, consumer("case-state")))
    assert rebuilt == stored_events(hub_settings)
    assert case_rows(hub_settings) == live


def test_effects_are_exactly_once_when_relay_and_consumer_are_killed(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    """2,000 commands while the relay and the consumer are SIGKILLed at random."""
    intake = f"http://127.0.0.1:{hub_settings.intake_port}"
    registrations = 1500  # + 500 bilans = 2,000 commands
    rng = random.Random(20261123)
    done = threading.Event()
    kills = {"intake-relay": 0, "case-state": 0}

    with component(hub_settings, "intake-api", tmp_path / "api.log"):
        wait_healthy(f"{intake}/openapi.json")

        def chaos() -> None:
            names = list(kills)
            processes = {
                n: component(hub_settings, n, tmp_path / f"{n}.log") for n in names
            }
            running = {n: processes[n].__enter__() for n in names}
            try:
                while not done.is_set():
                    time.sleep(rng.uniform(0.3, 1.5))
                    victim = rng.choice(names)
                    processes[victim].__exit__(None, None, None)  # SIGKILL
                    kills[victim] += 1
                    time.sleep(rng.uniform(0.0, 0.5))
                    processes[victim] = component(
                        hub_settings, victim, tmp_path / f"{victim}.log"
                    )
                    running[victim] = processes[victim].__enter__()
                wait_until(
                    lambda: projected_cases(hub_settings) == registrations,
                    180,
                    "every registration in the case state",
                )
                _wait_for_equality(hub_settings)
            finally:
                for name in names:
                    processes[name].__exit__(None, None, None)

        chaos_thread = threading.Thread(target=chaos)
        chaos_thread.start()
        try:
            sent = send_commands(intake, registrations)
        finally:
            done.set()
            chaos_thread.join()
    assert sent == 2000
    assert stored_events(hub_settings) == 2 * registrations + 500
    assert kills["intake-relay"] >= 1
    assert kills["case-state"] >= 1
    assert_live_equals_rebuild(hub_settings)


def _wait_for_equality(settings: HubSettings) -> None:
    def equal() -> bool:
        try:
            assert_live_equals_rebuild(settings)
        except AssertionError:
            return False
        return True

    wait_until(equal, 120, "the live projection to equal the rebuild")
