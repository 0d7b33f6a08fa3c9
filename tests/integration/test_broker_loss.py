"""The broker comes back empty mid-stream: the relay republishes, no loss, no double."""

from __future__ import annotations

import re
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


@pytest.mark.parametrize("same_cluster_id", [False, True], ids=["new-id", "wiped"])
def test_the_relay_refills_a_broker_that_came_back_empty(
    hub_settings: HubSettings,
    own_broker: EmbeddedBroker,
    tmp_path: Path,
    same_cluster_id: bool,
) -> None:
    """The relay refills the new copy and the consumer reads it from the start.

    A consumer that kept its position on the new copy, refilled at other
    offsets, would skip events it never read; a case none of whose later
    events comes after that position would never be projected.
    """
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
        own_broker.restart_empty(same_cluster_id=same_cluster_id)
        sender.join()
        wait_until(
            lambda: projected_cases(settings) == registrations,
            180,
            "every case projected",
        )
        republishes = httpx.get(
            f"http://127.0.0.1:{settings.relay_metrics_port}/metrics"
        ).text
    # At least once: right after its restart, the embedded broker was seen to
    # answer a content check as the old copy and the next look with its new
    # id, and a relay that cannot tell where a page went refills again (the
    # duplicates are skipped; the counts below show no double effect).
    refills = re.search(
        r'hub_relay_republish_total\{service="intake"\} (\S+)', republishes
    )
    assert refills is not None
    assert float(refills[1]) >= 1
    assert stored_events(settings) == 2 * registrations + registrations // 3
    assert_live_equals_rebuild(settings)
