"""docker-compose confines each service (ADR 0027): its own database role and
broker principal, event tables insert-only, SASL/SCRAM and ACLs per principal.

Checked statically: the stack is written and validated here, not run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contracts.registry import SERVICE_TOPICS
from services.common.kafka_acl import acls, principals, script
from services.common.privilege import (
    OPERATOR,
    ROLES,
    init_sql,
    password_variable,
    role_of_process,
)
from services.partner_gateway.registry import CHANNELS
from services.registry import PROCESSES
from tests.deploy.test_compose import compose_services, hub_service_anchor

ROOT = Path(__file__).resolve().parents[2]
INIT_SQL = ROOT / "deploy" / "postgres" / "init.sql"
ACLS = ROOT / "deploy" / "kafka" / "acls.sh"
START = ROOT / "deploy" / "kafka" / "start.sh"


def _env(block: str, name: str) -> str:
    match = re.search(rf"^\s+{name}: (.+)$", block, re.MULTILINE)
    assert match, f"{name} is not set"
    return match.group(1).strip()


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_each_hub_service_connects_as_its_own_role_and_principal(name: str) -> None:
    block = compose_services()[name]
    role = role_of_process(name).name
    assert "<<: *hub-env" in block
    url = _env(block, "HUB_DATABASE_URL")
    assert url.startswith(f"postgresql://{role}:${{{password_variable(role)}:-")
    assert _env(block, "HUB_KAFKA_SASL_USERNAME") == role
    assert _env(block, "HUB_KAFKA_SASL_PASSWORD").startswith("${")


def test_only_db_setup_holds_the_owners_url() -> None:
    owners = [
        name
        for name, block in compose_services().items()
        if "postgresql://${POSTGRES_USER" in block
    ]
    assert owners == ["db-setup"]
    assert 'command: ["db", "setup"]' in compose_services()["db-setup"]


def test_every_hub_client_authenticates_with_scram() -> None:
    anchor = hub_service_anchor()
    assert _env(anchor, "HUB_KAFKA_SECURITY_PROTOCOL") == "SASL_PLAINTEXT"
    assert _env(anchor, "HUB_KAFKA_SASL_MECHANISM") == "SCRAM-SHA-512"


def test_the_broker_takes_only_scram_from_outside_and_denies_without_an_acl() -> None:
    kafka = compose_services()["kafka"]
    listeners = _env(kafka, "KAFKA_LISTENERS").split(",")
    protocols = dict(
        p.split(":")
        for p in _env(kafka, "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP").split(",")
    )
    for listener in listeners:
        name, address = listener.split("://")
        if protocols[name] == "PLAINTEXT":
            assert address.startswith("127.0.0.1:"), listener
        else:
            assert protocols[name] == "SASL_PLAINTEXT", listener
    assert _env(kafka, "KAFKA_SASL_ENABLED_MECHANISMS") == "SCRAM-SHA-512"
    assert _env(kafka, "KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND") == '"false"'
    assert "StandardAuthorizer" in _env(kafka, "KAFKA_AUTHORIZER_CLASS_NAME")
    for principal in principals():
        assert _env(kafka, f"KAFKA_PASSWORD_{principal.upper()}").startswith("${")
    assert "./deploy/kafka/acls.sh:/opt/hub/acls.sh" in kafka
    assert 'command: ["/bin/bash", "/opt/hub/start.sh"]' in kafka
    start = START.read_text()
    assert "source /opt/hub/acls.sh" in start
    assert "SCRAM-SHA-512=" in start


def test_the_acl_script_is_fresh() -> None:
    assert ACLS.read_text() == script(), (
        "run `python -m services.common.kafka_acl > deploy/kafka/acls.sh`"
    )


def test_each_principal_writes_only_its_own_topics() -> None:
    writes: dict[str, set[str]] = {}
    for acl in acls():
        if acl.operation == "Write":
            writes.setdefault(acl.principal, set()).add(acl.name)
    assert set(writes) == set(principals())
    for code in CHANNELS:
        assert writes[code] == {f"partner.{code}.inbound.v1"}
    events = {f"hub_{s}": t for s, t in SERVICE_TOPICS.items()}
    for principal, topics in writes.items():
        for owner, topic in events.items():
            assert topic not in topics or principal == owner, (principal, topic)
        assert not any(t.endswith(".inbound.v1") for t in topics) or (
            principal in CHANNELS
        )


def test_init_sql_creates_every_role_and_is_fresh() -> None:
    text = INIT_SQL.read_text()
    assert init_sql() in text, "run `python -m services.common.privilege`"
    for name in (*(r.name for r in ROLES), OPERATOR):
        assert f"'CREATE ROLE %I LOGIN PASSWORD %L', '{name}'" in text
        assert f"\\getenv pw_{name} {password_variable(name)}" in text
    postgres = compose_services()["postgres"]
    for name in (*(r.name for r in ROLES), OPERATOR):
        assert _env(postgres, password_variable(name)).startswith("${")


def test_no_grant_lets_a_role_update_or_delete_a_stored_event() -> None:
    stores = set(SERVICE_TOPICS)
    for line in INIT_SQL.read_text().splitlines():
        if not re.search(r"\b(UPDATE|DELETE|TRUNCATE|INSERT)\b", line):
            continue
        if line.startswith(("--", "SELECT format")):
            continue
        # On a store's schema, only the tables a service's role owns (its
        # read models, positions, dead letters), never the owner's events.
        match = re.search(r"IN SCHEMA (\w+)", line)
        assert match, line
        if match.group(1) in stores:
            assert "FOR ROLE hub_" in line, line
            assert "UPDATE" not in line, line
            assert "TRUNCATE" not in line, line


def test_a_role_reads_the_stores_of_every_topic_its_consumers_read() -> None:
    """A gap in a stream is healed from its store (the consumer reads it)."""
    from services.common.privilege import ROLES
    from services.registry import CONSUMERS

    for role in ROLES:
        needed = {
            service
            for consumer in CONSUMERS
            if consumer.process in role.processes
            for service in consumer.services
        } - set(role.stores)
        assert needed <= set(role.reads), (role.name, needed - set(role.reads))
