"""The keys table: seeded from HUB_API_KEYS, managed by `hub keys` (ADR 0025).

A key added, revoked or rotated with the CLI is taken or refused by a
running API within its cache window, without a restart; the table holds
hashes only; a restart does not bring a revoked key back.
"""

from __future__ import annotations

import json
from typing import Any, cast

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.cli import app as hub
from services.common.auth import ApiClient, clients_by_hash, hash_key
from services.common.keys import live_keys, seed_keys, stored_keys
from services.common.settings import HubSettings
from services.intake.api import create_api
from services.partner_gateway.api import create_api as gateway_api
from services.partner_gateway.quarantine import QUARANTINE, create_quarantine
from tests.common.apis import Unreachable

pytestmark = pytest.mark.integration

WRITER: dict[str, Any] = {"client": "liege", "scopes": ["cases:write", "cases:read"]}


def _settings(database_url: str, **clear: dict[str, Any]) -> HubSettings:
    keys = {hash_key(k): v for k, v in clear.items()}
    return HubSettings(database_url=database_url, api_keys=json.dumps(keys))


def _hub(database_url: str, *args: str) -> str:
    env = {"HUB_DATABASE_URL": database_url, "HUB_LOG_LEVEL": "WARNING"}
    result = CliRunner().invoke(hub, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_adr_0025_the_table_holds_hashes_never_keys(database_url: str) -> None:
    settings = _settings(database_url, **{"configured-key": WRITER})
    stored_keys(settings)
    added = _hub(
        database_url, "keys", "add", "--client", "ops", "--scope", "operations"
    )
    with psycopg.connect(database_url) as conn:
        dump = json.dumps(
            conn.execute("SELECT * FROM access.api_keys").fetchall(), default=str
        )
    assert hash_key("configured-key") in dump
    assert hash_key(added) in dump
    assert "configured-key" not in dump
    assert added not in dump
    assert len(added) >= 43  # 32 random bytes


def test_adr_0025_a_key_revoked_with_the_cli_is_refused_by_a_running_api(
    database_url: str,
) -> None:
    settings = _settings(database_url, **{"liege-key": WRITER}).model_copy(
        update={"api_key_cache_seconds": 0.001}
    )
    api = create_api(cast("Any", Unreachable()), stored_keys(settings))
    client = TestClient(api, headers={"X-API-Key": "liege-key"})
    assert client.post("/cases", json={}).status_code == 422  # let in
    assert "1 key(s)" in _hub(database_url, "keys", "revoke", "liege")
    refused = client.post("/cases", json={})
    never = client.post("/cases", json={}, headers={"X-API-Key": "never-issued"})
    assert refused.status_code == 401
    assert refused.json() == never.json()
    # A restart seeds the table again from the same HUB_API_KEYS: still revoked.
    stored_keys(settings)
    assert client.post("/cases", json={}).status_code == 401


def test_adr_0025_rotate_gives_a_new_key_of_the_same_client_and_revokes_the_old(
    database_url: str,
) -> None:
    old = _hub(
        database_url,
        *("keys", "add", "--client", "forem", "--scope", "partner:messages"),
        *("--partner", "forem"),
    )
    new = _hub(database_url, "keys", "rotate", "forem")
    with psycopg.connect(database_url) as conn:
        live = live_keys(conn)
    assert list(live) == [hash_key(new)]
    assert live[hash_key(new)].partner == "forem"
    listing = _hub(database_url, "keys", "list")
    assert hash_key(old)[:12] in listing
    assert "revoked" in listing
    assert old not in listing
    assert new not in listing


def test_adr_0025_a_key_the_configuration_no_longer_lists_is_revoked_at_start(
    database_url: str,
) -> None:
    with psycopg.connect(database_url) as conn:
        seed_keys(conn, _settings_keys("a", "b"))
        seed_keys(conn, _settings_keys("b"))
        assert list(live_keys(conn)) == [hash_key("b")]


def _settings_keys(*clear: str) -> dict[str, ApiClient]:
    return clients_by_hash(dict.fromkeys(clear, WRITER))


def test_adr_0025_a_partner_key_without_its_code_is_refused_by_the_cli(
    database_url: str,
) -> None:
    result = CliRunner().invoke(
        hub,
        ["keys", "add", "--client", "x", "--scope", "partner:messages"],
        env={"HUB_DATABASE_URL": database_url},
    )
    assert result.exit_code != 0
    assert "partner" in result.output


def test_adr_0025_a_partner_lists_the_dead_letters_of_its_own_messages_only(
    database_url: str,
) -> None:
    with psycopg.connect(database_url) as conn:
        create_quarantine(conn, QUARANTINE)
        for partner in ("forem", "vdab"):
            conn.execute(
                "INSERT INTO partner_messages.dead_letters (case_key, event_type, "
                "payload, reason, source, partner) VALUES (%s, 'suivi', %s, "
                "'schema', 'http', %s)",
                (f"case-{partner}", b"85073003328 Jean Dupont", partner),
            )
    keys = clients_by_hash(
        {
            "forem": {
                "client": "forem",
                "scopes": ["partner:messages"],
                "partner": "forem",
            },
            "operator": {"client": "ops", "scopes": ["operations"]},
        }
    )
    api = gateway_api(cast("Any", Unreachable()), database_url, keys)
    with TestClient(api) as client:
        forem = client.get("/dead-letters", headers={"X-API-Key": "forem"})
        operator = client.get("/dead-letters", headers={"X-API-Key": "operator"})
    assert [row["case_key"] for row in forem.json()] == ["case-forem"]
    assert [row["case_key"] for row in operator.json()] == ["case-forem", "case-vdab"]
    for answer in (forem, operator):
        assert "85073003328" not in answer.text
        assert "Dupont" not in answer.text
