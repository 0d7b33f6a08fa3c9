"""End to end: a command, to its case visible in the case-state projection.

The relay and the case-state consumer run as their own processes (``hub serve``),
as in production; this process sends registrations at a steady rate and polls
the projection every 5 ms (which adds at most 5 ms to each figure).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
import uuid

import psycopg

from bench.infra import Figure, Servers, percentile
from services.common.aggregate import CommandContext
from services.common.eventstore import eventstore_env, schema_setup
from services.common.settings import HubSettings
from services.demo import make_kbo, make_niss
from services.intake.application import IntakeApplication, RegisterBeneficiary


def _spawn(settings: HubSettings, name: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "HUB_TOPIC_PREFIX": settings.topic_prefix,
        "HUB_LOG_LEVEL": "WARNING",
        "HUB_CASE_STATE_PORT": str(settings.case_state_port),
        "HUB_RELAY_METRICS_PORT": str(settings.relay_metrics_port),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", "serve", name],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def run(servers: Servers, events_per_second: int, seconds: float) -> list[float]:
    """Latencies from command start to visible case, at a steady rate."""
    from services.common.runtime import free_port  # noqa: PLC0415

    settings = servers.settings(
        case_state_port=free_port(), relay_metrics_port=free_port()
    )
    env = eventstore_env(settings.database_url, app_name="intake", schema="intake")
    with schema_setup(settings.database_url, "intake"):
        app = IntakeApplication(env, id_secret="bench")  # noqa: S106 - a namespace
    children = [_spawn(settings, "intake-relay"), _spawn(settings, "case-state")]
    started: dict[uuid.UUID, float] = {}
    seen: dict[uuid.UUID, float] = {}
    done = threading.Event()
    try:
        _wait_until_flowing(app, settings)
        poller = threading.Thread(target=_poll, args=(settings, seen, done))
        poller.start()
        # Five writers, as an API's worker threads would be: one alone cannot
        # commit 500 registrations a second one after the other.
        writers = 5
        per_tick = max(1, events_per_second // 2 // 100 // writers)
        lock = threading.Lock()

        def write(lane: int) -> None:
            tick = time.monotonic()
            deadline = tick + seconds
            number = lane * 1_000_000
            while time.monotonic() < deadline:
                for _ in range(per_tick):
                    case_id, t0 = _register(app, number)
                    with lock:
                        started[case_id] = t0
                    number += 1
                tick += 0.01
                time.sleep(max(0.0, tick - time.monotonic()))

        threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        time.sleep(3)
    finally:
        done.set()
        for child in children:
            child.terminate()
            child.wait()
        app.close()
    return [seen[c] - t for c, t in started.items() if c in seen] + [
        float("inf") for c in started if c not in seen
    ]


def _wait_until_flowing(app: IntakeApplication, settings: HubSettings) -> None:
    """One case through the whole path first: the consumers have joined their groups."""
    case_id, _ = _register(app, 9_999_999)
    deadline = time.monotonic() + 120
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            try:
                found = conn.execute(
                    "SELECT 1 FROM case_state.cases WHERE case_id = %s", (case_id,)
                ).fetchone()
            except psycopg.errors.UndefinedTable:
                found = None
            if found:
                return
            time.sleep(0.2)
    raise TimeoutError("the pipeline did not deliver a first case within 120 s")


def _register(app: IntakeApplication, number: int) -> tuple[uuid.UUID, float]:
    lane, n = divmod(number, 1_000_000)
    birth = dt.date(1940, 1, 1) + dt.timedelta(days=n % 20000)
    t0 = time.monotonic()
    case_id = app.register_beneficiary(
        RegisterBeneficiary(
            context=CommandContext(uuid.uuid4(), dt.datetime.now(dt.UTC)),
            cpas_kbo=make_kbo(2123401 + lane),
            niss=make_niss(birth, 1 + 2 * (n // 20000)),
            birth_date=birth,
            family_name="E2E",
            given_name="Bench",
            preferred_language="nl",
            postal_code="9000",
            dossier_number=f"E{number}",
            registered_on=dt.date(2026, 11, 2),
        )
    ).case_id
    return case_id, t0


def _poll(
    settings: HubSettings, seen: dict[uuid.UUID, float], done: threading.Event
) -> None:
    # Only rows changed lately (recorded in the last two seconds before the
    # newest seen), so the poll stays cheap however many cases exist.
    watermark = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        while not done.is_set():
            try:
                rows = conn.execute(
                    "SELECT case_id, updated_at FROM case_state.cases "
                    "WHERE updated_at > %s",
                    (watermark - dt.timedelta(seconds=2),),
                ).fetchall()
            except psycopg.errors.UndefinedTable:
                rows = []
            now = time.monotonic()
            for case_id, updated_at in rows:
                seen.setdefault(case_id, now)
                watermark = max(watermark, updated_at)
            time.sleep(0.005)


def measure(servers: Servers, *, quick: bool) -> list[Figure]:
    """p99 at 1,000 events/s (500 registrations/s, 2 events each)."""
    samples = sorted(run(servers, 1000, 5 if quick else 30))
    lost = sum(1 for s in samples if s == float("inf"))
    finite = [s for s in samples if s != float("inf")]
    return [
        Figure(
            "end to end at 1,000 events/s, command to case state",
            None,
            percentile(finite, 99) * 1000,
            "ms p99",
            "sustains 1,000 events/s, p99 <= 100 ms",
            notes=f"({lost} not visible)" if lost else "",
            extra={"p50_ms": percentile(finite, 50) * 1000, "commands": len(samples)},
        )
    ]
