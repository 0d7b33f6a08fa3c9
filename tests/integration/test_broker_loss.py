"""The broker comes back empty mid-stream: the relay republishes, no loss, no double."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from services.common.runtime import EmbeddedBroker
from services.common.settings import HubSettings
from services.supervisor import wait_healthy
from tests.integration.harness import (
    assert_live_equals_rebuild,
    component,
    projected_cases,
    stored_events,
    wait_until,
)
from tests.integration.load import send_commands

pytestmark = pytest.mark.integration


def test_the_relay_refills_a_broker_that_came_back_empty(
    hub_settings: HubSettings, own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    settings = hub_settings.model_copy(
        update={"kafka_bootstrap_servers": own_broker.bootstrap_servers}
    )
    intake = f"http://127.0.0.1:{settings.intake_port}"
    registrations = 600
    with (
        component(settings, "intake-api", tmp_path / "api.log"),
        component(settings, "intake-relay", tmp_path / "relay.log"),
        component(settings, "case-state", tmp_path / "case-state.log"),
    ):
        wait_healthy(f"{intake}/openapi.json")
        wait_healthy(f"http://127.0.0.1:{settings.case_state_port}/openapi.json")
        sender = threading.Thread(target=send_commands, args=(intake, registrations))
        sender.start()
        wait_until(lambda: projected_cases(settings) >= 100, 60, "the first cases")
        own_broker.restart_empty()
        sender.join()
        wait_until(
            lambda: projected_cases(settings) == registrations,
            180,
            "every case projected",
        )
        republishes = httpx.get(
            f"http://127.0.0.1:{settings.relay_metrics_port}/metrics"
        ).text
    assert 'hub_relay_republish_total{service="intake"} 1.0' in republishes
    assert stored_events(settings) == 2 * registrations + registrations // 3
    assert_live_equals_rebuild(settings)
