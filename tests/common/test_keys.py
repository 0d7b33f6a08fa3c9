"""Keys kept as hashes, revoked within the cache window; production mode (ADR 0025)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import string
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from services.cli import app as hub
from services.common.auth import ApiClient, clients_by_hash, hash_key, parse_api_keys
from services.common.keys import StoredKeys
from services.common.production import (
    CHECKS,
    DEVELOPMENT_SECRETS,
    is_development_password,
    production_problems,
)
from services.common.settings import HubSettings
from services.intake.api import create_api
from services.supervisor import api_key_for_demo
from tests.common.apis import Unreachable

PRINTABLE = st.text(
    alphabet=string.ascii_letters + string.digits + string.punctuation,
    min_size=1,
    max_size=256,
)
WRITER = {"client": "liege", "scopes": ["cases:write", "cases:read"]}


@given(PRINTABLE)
def test_adr_0025_a_key_is_kept_as_its_sha256_never_in_clear(key: str) -> None:
    kept = clients_by_hash({key: WRITER})
    assert list(kept) == [hashlib.sha256(key.encode()).hexdigest()]
    assert key not in kept
    # What HUB_API_KEYS holds parses back to the same client.
    assert parse_api_keys(json.dumps({hash_key(key): WRITER})) == kept


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        """The time it says."""
        return self.now


def _api(table: dict[str, ApiClient], clock: Clock) -> FastAPI:
    return create_api(cast("Any", Unreachable()), StoredKeys(lambda: table, 2.0, clock))


def _status(api: FastAPI, key: str) -> int:
    with TestClient(api) as client:
        answer = client.post("/cases", json={}, headers={"X-API-Key": key})
    return int(answer.status_code)


def test_adr_0025_a_revoked_key_is_refused_once_the_cache_window_passes() -> None:
    table, clock = clients_by_hash({"old": WRITER}), Clock()
    api = _api(table, clock)
    assert _status(api, "old") == 422  # let in: the empty body is refused
    del table[hash_key("old")]
    clock.now += 1.0  # within the window: the last read still holds
    assert _status(api, "old") == 422
    clock.now += 1.0  # the window passed: read again, the key is gone
    assert _status(api, "old") == 401


def test_adr_0025_a_rotated_key_is_taken_and_the_old_refused_within_the_window() -> (
    None
):
    table, clock = clients_by_hash({"old": WRITER}), Clock()
    api = _api(table, clock)
    assert _status(api, "old") == 422
    table.clear()
    table.update(clients_by_hash({"new": WRITER}))
    clock.now += 2.0
    assert _status(api, "new") == 422
    assert _status(api, "old") == 401


def test_adr_0025_the_keys_are_read_once_per_window() -> None:
    reads: list[int] = []
    clock = Clock()

    def load() -> dict[str, ApiClient]:
        reads.append(1)
        return clients_by_hash({"k": WRITER})

    keys = StoredKeys(load, 2.0, clock)
    for _ in range(5):
        assert hash_key("k") in keys
    clock.now += 2.0
    assert len(keys) == 1
    assert len(reads) == 2


@pytest.mark.parametrize(
    "client",
    [
        {"scopes": ["partner:messages"]},
        {"scopes": ["partner:messages", "cases:read"], "partner": "forem"},
        {"scopes": ["cases:read"], "partner": "forem"},
        {"scopes": ["cases:write"], "partner": "forem"},
        {"scopes": ["partner:messages"], "partner": "forem", "cpas": ["0212345668"]},
        {"scopes": ["operations", "cases:read"]},
        {"scopes": ["operations"], "cpas": ["0212345668"]},
    ],
)
def test_adr_0025_a_partner_or_operator_key_is_its_own_kind(
    client: dict[str, object],
) -> None:
    with pytest.raises(ValueError, match=r"partner|operator"):
        clients_by_hash({"k": {"client": "x", **client}})


def _production(tmp_path: Path, **overrides: Any) -> HubSettings:
    """Production settings with nothing of development, but ``overrides``."""
    key_file = tmp_path / "signing.pem"
    key_file.write_text("not read by the checks")
    master_keys = tmp_path / "master-keys.json"
    master_keys.write_text(
        json.dumps(
            {"current": "k1", "keys": {"k1": base64.b64encode(bytes(32)).decode()}}
        )
    )
    values: dict[str, Any] = {
        "production": True,
        "id_secret": "a-secret-of-the-deployment",
        "database_url": "postgresql://hub:S3cret-of-prod@db:5432/hub",
        "kafka_bootstrap_servers": "kafka:9092",
        "chain_signing_key_file": key_file,
        "master_keys_file": master_keys,
        "data_dir": tmp_path,
        "api_keys": json.dumps({hash_key("a-production-key"): WRITER}),
    }
    return HubSettings(**{**values, **overrides})


def test_adr_0025_production_settings_without_development_values_start(
    tmp_path: Path,
) -> None:
    assert production_problems(_production(tmp_path)) == []
    assert len(CHECKS) >= 5


@pytest.mark.parametrize(
    ("override", "setting"),
    [
        ({"id_secret": HubSettings().id_secret}, "HUB_ID_SECRET"),
        ({"database_url": "postgresql://hub:hub-dev-password@db/hub"}, "DATABASE_URL"),
        ({"database_url": ""}, "HUB_DATABASE_URL"),
        ({"kafka_bootstrap_servers": ""}, "HUB_KAFKA_BOOTSTRAP_SERVERS"),
        ({"chain_signing_key_file": None}, "HUB_CHAIN_SIGNING_KEY_FILE"),
        ({"master_keys_file": None}, "HUB_MASTER_KEYS_FILE"),
        (
            {
                "api_keys": json.dumps(
                    {hash_key("x"): {**WRITER, "client": "development"}}
                )
            },
            "HUB_API_KEYS",
        ),
    ],
)
def test_adr_0025_production_mode_names_each_development_setting(
    tmp_path: Path, override: dict[str, object], setting: str
) -> None:
    problems = production_problems(_production(tmp_path, **override))
    assert len(problems) == 1
    assert setting in problems[0]
    for value in override.values():
        if isinstance(value, str) and value:
            assert value not in problems[0]


_COMPOSE = Path(__file__).parents[2] / "docker-compose.yml"
# ${SOME_PASSWORD:-default}: what a stack started without an .env file uses.
_DEFAULT_PASSWORD = re.compile(r"\$\{[A-Z_]*PASSWORD:-([^}]+)\}")


def test_adr_0025_every_default_password_of_docker_compose_is_a_development_one() -> (
    None
):
    defaults = set(_DEFAULT_PASSWORD.findall(_COMPOSE.read_text()))
    assert len(defaults) >= 10  # the owner's, each service's and partner's
    assert [p for p in sorted(defaults) if not is_development_password(p)] == []


@pytest.mark.parametrize(
    "override",
    [
        {"database_url": "postgresql://hub_intake:hub-intake-db-dev-password@db/hub"},
        {
            "kafka_security_protocol": "SASL_PLAINTEXT",
            "kafka_sasl_password": "hub-intake-kafka-dev-password",
        },
    ],
    ids=["database", "kafka"],
)
def test_adr_0025_production_mode_refuses_a_services_default_password(
    tmp_path: Path, override: dict[str, str]
) -> None:
    [problem] = production_problems(_production(tmp_path, **override))
    assert "development password" in problem
    assert "dev-password" not in problem


def test_adr_0025_production_mode_refuses_the_key_of_hub_run(tmp_path: Path) -> None:
    development = _production(tmp_path, production=False)
    _, api_keys = api_key_for_demo(development)
    problems = production_problems(_production(tmp_path, api_keys=api_keys))
    assert problems == ["HUB_API_KEYS holds the development API key of `hub run`"]


def test_adr_0025_outside_production_mode_nothing_is_refused() -> None:
    assert production_problems(HubSettings()) == []


@pytest.mark.parametrize("secret", sorted(DEVELOPMENT_SECRETS))
def test_adr_0025_production_mode_refuses_to_start_with_the_development_id_secret(
    tmp_path: Path, secret: str
) -> None:
    settings = _production(tmp_path)
    env = {
        "HUB_PRODUCTION": "true",
        "HUB_ID_SECRET": secret,
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "HUB_CHAIN_SIGNING_KEY_FILE": str(settings.chain_signing_key_file),
        "HUB_MASTER_KEYS_FILE": str(settings.master_keys_file),
        "HUB_DATA_DIR": str(tmp_path),
        "HUB_API_KEYS": settings.api_keys,
    }
    for command in (["serve", "intake-api"], ["run", "--no-demo"]):
        result = CliRunner().invoke(hub, command, env=env)
        assert result.exit_code == 2, result.output
        assert "HUB_ID_SECRET" in result.output
        assert secret not in result.output
