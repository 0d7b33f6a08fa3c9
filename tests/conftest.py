"""Session fixtures: embedded PostgreSQL and broker, once; a database per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.common.runtime import (
    EmbeddedBroker,
    EmbeddedPostgres,
    create_database,
)
from services.common.settings import HubSettings
from services.common.vault import vault_restored
from tests.integration.harness import isolated_settings


@pytest.fixture(autouse=True)
def _own_vault() -> Iterator[None]:
    """What a test installs as the process's vault stays in that test."""
    with vault_restored():
        yield


@pytest.fixture(scope="session")
def postgres_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "pgdata")
    url = server.start()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    embedded = EmbeddedBroker(log_path=tmp_path_factory.mktemp("broker") / "broker.log")
    embedded.start()
    yield embedded
    embedded.stop()


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker of one test's own, to restart empty or wipe."""
    embedded = EmbeddedBroker(log_path=tmp_path / "broker.log")
    embedded.start()
    yield embedded
    embedded.stop()


@pytest.fixture
def database_url(postgres_admin_url: str) -> str:
    """A fresh, empty database for one test."""
    return create_database(postgres_admin_url, f"t_{uuid.uuid4().hex[:16]}")


@pytest.fixture
def hub_settings(
    database_url: str, broker: EmbeddedBroker, tmp_path: Path
) -> HubSettings:
    """Settings of an isolated hub: own database, own topics, own ports."""
    return isolated_settings(database_url, broker.bootstrap_servers, tmp_path)
