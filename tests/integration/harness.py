"""Helpers of the integration tests: the pipeline in-process or as real processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import psycopg
from aiokafka import AIOKafkaConsumer

from services.case_state.projection import CaseStateProjection
from services.case_state.service import create_broker, open_pool
from services.common.auth import hash_key
from services.common.rebuild import build_shadow
from services.common.relay import Relay
from services.common.runtime import free_port
from services.common.settings import HubSettings
from services.common.vault import install_vault
from services.demo import make_kbo
from services.intake.service import RELAY_SPEC
from services.registry import consumer
from services.supervisor import prepare_database

API_KEY = "test-api-key-all-scopes"
HEADERS = {"X-API-Key": API_KEY}
# An auditor's key is of its own kind (ADR 0024): it audits the CPAS the load
# registers people at, and reads nothing else.
AUDITOR_KEY = "test-api-key-auditor"
AUDITOR_HEADERS = {"X-API-Key": AUDITOR_KEY}
# A partner's key speaks for its partner only, and reads no case (ADR 0025).
PARTNER_CODES = ("forem", "actiris", "vdab", "adg", "spp_is")
PARTNER_HEADERS = {
    code: {"X-API-Key": f"test-api-key-{code}"} for code in PARTNER_CODES
}
OPERATOR_KEY = "test-api-key-operator"
OPERATOR_HEADERS = {"X-API-Key": OPERATOR_KEY}
CLEAR_API_KEYS: dict[str, dict[str, Any]] = {
    API_KEY: {"client": "test-suite", "scopes": ["cases:write", "cases:read"]},
    AUDITOR_KEY: {
        "client": "test-auditor",
        "scopes": ["audit:read"],
        "remit": [make_kbo(2123400 + n) for n in range(7)],
    },
    OPERATOR_KEY: {"client": "test-operator", "scopes": ["operations"]},
    **{
        headers["X-API-Key"]: {
            "client": f"test-{code}",
            "scopes": ["partner:messages"],
            "partner": code,
        }
        for code, headers in PARTNER_HEADERS.items()
    },
}
# What HUB_API_KEYS holds: the hash of each key, never the key.
API_KEYS = json.dumps({hash_key(k): v for k, v in CLEAR_API_KEYS.items()})


def key_for(path: str, code: str = "forem") -> str:
    """The test key of the role a route is for (ADR 0025)."""
    if path.startswith("/audit/"):
        return AUDITOR_KEY
    if path.startswith("/partners/"):
        return PARTNER_HEADERS[code]["X-API-Key"]
    if path in {"/dead-letters", "/erasures"}:
        return OPERATOR_KEY
    return API_KEY


def isolated_settings(
    database_url: str, bootstrap_servers: str, data_dir: Path
) -> HubSettings:
    """Settings of a hub of its own: its database, its topics, its ports.

    Its vault becomes the test process's, as the ``hub`` command makes it a
    process's, so what the test reads from the stores opens as in a service.
    """
    settings = HubSettings(
        database_url=database_url,
        kafka_bootstrap_servers=bootstrap_servers,
        topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
        data_dir=data_dir,
        intake_port=free_port(),
        case_state_port=free_port(),
        relay_metrics_port=free_port(),
        piis_port=free_port(),
        piis_relay_metrics_port=free_port(),
        placement_port=free_port(),
        placement_relay_metrics_port=free_port(),
        partner_gateway_port=free_port(),
        partner_relay_metrics_port=free_port(),
        api_keys=API_KEYS,
    )
    install_vault(settings)
    return settings


def wait_until(
    predicate: Callable[[], bool], timeout: float = 60.0, what: str = ""
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")


def count(settings: HubSettings, query: str) -> int:
    with psycopg.connect(settings.database_url) as conn:
        try:
            row = conn.execute(query).fetchone()
        except psycopg.errors.UndefinedTable:
            return 0
    return int(row[0]) if row else 0


def stored_events(settings: HubSettings) -> int:
    return count(settings, "SELECT count(*) FROM intake.intake_events")


def projected_cases(settings: HubSettings) -> int:
    return count(settings, "SELECT count(*) FROM case_state.cases")


def caught_up(settings: HubSettings, schema: str, services: tuple[str, ...]) -> bool:
    """Whether a consumer's schema has folded every stored event of its services.

    Each stream's position is its last version folded; the stores hold each
    stream's last version: the sums are equal once nothing is left to fold.
    """
    stored = sum(
        count(
            settings,
            f"SELECT coalesce(sum(v), 0) FROM (SELECT max(originator_version) AS v "
            f"FROM {s}.{s}_events GROUP BY originator_id) AS heads",
        )
        for s in services
    )
    folded = count(
        settings, f"SELECT coalesce(sum(version), 0) FROM {schema}.stream_positions"
    )
    return folded == stored


def table(
    settings: HubSettings, schema: str, name: str, key: str
) -> list[tuple[Any, ...]]:
    with psycopg.connect(settings.database_url) as conn:
        return conn.execute(f"SELECT * FROM {schema}.{name} ORDER BY {key}").fetchall()


def case_rows(settings: HubSettings, schema: str = "case_state") -> list[Any]:
    """The case state's rows as folded (the publisher's column left out)."""
    names = ", ".join(name for name, _ in CaseStateProjection.columns)
    with psycopg.connect(settings.database_url) as conn:
        return conn.execute(
            f"SELECT {names} FROM {schema}.cases ORDER BY case_id"
        ).fetchall()


def assert_live_equals_rebuild(settings: HubSettings) -> None:
    """The live projection is exactly what a rebuild from the event store gives."""
    asyncio.run(build_shadow(settings, "case_state_check", consumer("case-state")))
    assert case_rows(settings) == case_rows(settings, "case_state_check")
    key = "case_id, service, day"
    live = table(settings, "case_state", "case_days", key)
    assert live == table(settings, "case_state_check", "case_days", key)
    assert table(settings, "case_state", "stream_positions", "stream_id") == table(
        settings, "case_state_check", "stream_positions", "stream_id"
    )


@asynccontextmanager
async def pipeline(settings: HubSettings) -> AsyncIterator[None]:
    """Relay and case-state consumer running in this event loop."""
    stop = asyncio.Event()
    relay = asyncio.create_task(Relay(settings, RELAY_SPEC).run(stop))
    async with open_pool(settings) as pool:
        broker = create_broker(settings, pool)
        await broker.start()
        try:
            yield
        finally:
            stop.set()
            await broker.stop()
            await relay


@contextmanager
def running_in_thread(
    work: Callable[[asyncio.Event], Awaitable[None]],
) -> Iterator[None]:
    """``work(stop)`` in an event loop of its own thread while the block runs.

    ``stop`` is set when the block ends; a failure of the work fails the block.
    """
    failures: list[BaseException] = []
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def main() -> None:
        try:
            loop.run_until_complete(work(stop))
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=main)
    thread.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join()
        loop.close()
    assert failures == []


def hub_env(settings: HubSettings) -> dict[str, str]:
    return {
        **os.environ,
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "HUB_TOPIC_PREFIX": settings.topic_prefix,
        "HUB_INTAKE_PORT": str(settings.intake_port),
        "HUB_CASE_STATE_PORT": str(settings.case_state_port),
        "HUB_RELAY_METRICS_PORT": str(settings.relay_metrics_port),
        "HUB_PIIS_PORT": str(settings.piis_port),
        "HUB_PIIS_RELAY_METRICS_PORT": str(settings.piis_relay_metrics_port),
        "HUB_PLACEMENT_PORT": str(settings.placement_port),
        "HUB_PLACEMENT_RELAY_METRICS_PORT": str(settings.placement_relay_metrics_port),
        "HUB_PARTNER_GATEWAY_PORT": str(settings.partner_gateway_port),
        "HUB_PARTNER_RELAY_METRICS_PORT": str(settings.partner_relay_metrics_port),
        "HUB_PARTNER_ENDPOINTS": settings.partner_endpoints,
        "HUB_CPAS_INS_CODES": settings.cpas_ins_codes,
        "HUB_LOG_LEVEL": "WARNING",
        "HUB_API_KEYS": settings.api_keys,
        # The development signing key of the chain's checkpoints is kept here.
        "HUB_DATA_DIR": str(settings.data_dir),
    }


# The services' roles belong to the test cluster, shared by every test's
# database: one password set for all (ADR 0027).
ROLE_PASSWORDS = json.dumps(
    {
        name: f"test-{name}"
        for name in (
            "hub_intake",
            "hub_piis",
            "hub_placement",
            "hub_partners",
            "hub_case_state",
            "hub_operator",
        )
    }
)


def confined_urls(settings: HubSettings) -> dict[str, str]:
    """Each process's own role's URL, the roles set up on the test's database.

    Run again at every start: what the test made as the owner meanwhile in a
    role's schema becomes the role's, as `hub db setup` would make it.
    """
    owner = settings.model_copy(update={"database_role_passwords": ROLE_PASSWORDS})
    return prepare_database(owner)


@contextmanager
def component(
    settings: HubSettings,
    name: str,
    log: Path,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """One `hub serve <name>` process, as its own database role; killed at the end."""
    env = hub_env(settings) | {"HUB_DATABASE_URL": confined_urls(settings)[name]}
    env |= extra_env or {}
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "serve", name],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def read_topic(
    settings: HubSettings,
    topic: str,
    want: int,
    timeout: float = 60,
    *,
    until: Callable[[list[Any]], bool] | None = None,
) -> list[Any]:
    """The messages of a topic from its start (waits for ``want`` of them).

    ``until``: read until what was read so far satisfies it, instead.
    """
    enough = until or (lambda found: len(found) >= want)

    async def read() -> list[Any]:
        consumer = AIOKafkaConsumer(
            settings.topic(topic),
            bootstrap_servers=settings.kafka_bootstrap_servers,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
        )
        await consumer.start()
        found: list[Any] = []
        try:
            deadline = asyncio.get_running_loop().time() + timeout
            while not enough(found) and asyncio.get_running_loop().time() < deadline:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    found += records
        finally:
            await consumer.stop()
        return found

    return asyncio.run(read())


def whole_topic(settings: HubSettings, topic: str, seconds: float = 4) -> list[Any]:
    """Every message a topic gives within some seconds (to search it whole)."""
    return read_topic(settings, topic, 0, seconds, until=lambda _: False)
