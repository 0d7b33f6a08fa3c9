"""Every process says whether it is alive and ready; ready follows its servers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.common.runtime import EmbeddedBroker, EmbeddedPostgres, create_database
from services.common.settings import HubSettings
from services.registry import PROCESSES
from tests.integration.harness import component, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def own_servers(
    tmp_path: Path, hub_settings: HubSettings
) -> Iterator[tuple[HubSettings, EmbeddedPostgres, EmbeddedBroker]]:
    postgres = EmbeddedPostgres(tmp_path / "pgdata")
    broker = EmbeddedBroker(log_path=tmp_path / "broker.log")
    url = create_database(postgres.start(), f"h_{uuid.uuid4().hex[:8]}")
    broker.start()
    settings = hub_settings.model_copy(
        update={
            "database_url": url,
            "kafka_bootstrap_servers": broker.bootstrap_servers,
        }
    )
    try:
        yield settings, postgres, broker
    finally:
        broker.stop()
        postgres.stop()


def ready(url: str) -> tuple[int, dict[str, str]]:
    try:
        answer = httpx.get(f"{url}/ready", timeout=10)
    except httpx.HTTPError:
        return 0, {}
    return answer.status_code, answer.json().get("checks", {})


@pytest.mark.parametrize("name", ["intake-api", "intake-relay", "case-state"])
def test_ready_turns_false_with_postgres_or_the_broker_down_and_back(
    own_servers: tuple[HubSettings, EmbeddedPostgres, EmbeddedBroker],
    tmp_path: Path,
    name: str,
) -> None:
    settings, postgres, broker = own_servers
    url = f"http://127.0.0.1:{PROCESSES[name].port(settings)}"
    with component(settings, name, tmp_path / f"{name}.log"):
        wait_until(lambda: ready(url)[0] == 200, 90, f"{name} ready")
        assert httpx.get(f"{url}/health").json() == {"status": "alive"}

        broker.stop()
        wait_until(lambda: ready(url)[0] == 503, 60, "not ready without the broker")
        _, checks = ready(url)
        assert checks["broker"].startswith("unreachable"), checks
        assert checks["postgres"] == "ok"
        broker.start(cluster_id=broker.cluster_id)
        wait_until(lambda: ready(url)[0] == 200, 90, "ready with the broker back")

        postgres.stop()
        wait_until(lambda: ready(url)[0] == 503, 60, "not ready without PostgreSQL")
        assert ready(url)[1]["postgres"].startswith("unreachable")
        postgres.start()
        wait_until(lambda: ready(url)[0] == 200, 90, "ready with PostgreSQL back")
