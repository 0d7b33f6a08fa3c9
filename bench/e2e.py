"""End to end: a command, to its case visible in the case-state projection.

The relay and the case-state consumer run as their own processes (``hub serve``),
as in production; this process sends registrations at a steady rate and polls
the projection every 5 ms (which adds at most 5 ms to each figure).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass

import psycopg

from bench.infra import (
    Figure,
    Load,
    Scale,
    Servers,
    median_index,
    p99_figure,
    percentile,
    repeated,
)
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


@dataclass
class Outcome:
    """Latencies of one run, and the rate it offered and reached."""

    latencies: list[float]
    load: Load


def run(servers: Servers, events_per_second: int, seconds: float) -> Outcome:
    """Latencies from command start to visible case, at a steady offered rate.

    Registrations (two events each) are due on a fixed schedule; 16 writers,
    as an API's worker threads would be, each take the next one due, so a
    slow command delays the next ones instead of lowering the rate asked.
    The rate reached is the events stored over the time it took.
    """
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
        before = _stored(settings)
        due = itertools.count()
        interval = 2 / events_per_second
        total = int(seconds / interval)
        lock = threading.Lock()
        begin = time.monotonic() + 0.05

        def write() -> None:
            while (n := next(due)) < total:
                time.sleep(max(0.0, begin + n * interval - time.monotonic()))
                case_id, t0 = _register(app, n)
                with lock:
                    started[case_id] = t0

        threads = [threading.Thread(target=write) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - begin
        reached = (_stored(settings) - before) / elapsed
        time.sleep(3)
    finally:
        done.set()
        for child in children:
            child.terminate()
            child.wait()
        app.close()
    latencies = [seen[c] - t for c, t in started.items() if c in seen] + [
        float("inf") for c in started if c not in seen
    ]
    return Outcome(latencies, Load(events_per_second, reached, "events/s"))


def _stored(settings: HubSettings) -> int:
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM intake.intake_events").fetchone()
    return int(row[0]) if row else 0


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
    lane, n = divmod(number, 20_000)
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


def measure(servers: Servers, scale: Scale) -> list[Figure]:
    """p99 at 1,000 events/s offered (500 registrations/s, 2 events each)."""
    runs = scale.pick(1, 1, 3)
    seconds = scale.pick(2, 5, 30)
    outcomes = repeated(runs, lambda: run(servers, 1000, seconds))
    p99s = [percentile(_finite(o.latencies), 99) * 1000 for o in outcomes]
    middle = outcomes[median_index(p99s)]
    lost = sum(1 for o in outcomes for s in o.latencies if s == float("inf"))
    reached = statistics.median(o.load.reached for o in outcomes)
    return [
        p99_figure(
            "end to end, command to case state",
            "sustains 1,000 events/s, p99 <= 100 ms",
            p99s,
            Load(1000, reached, "events/s"),
            notes=f"({lost} not visible)" if lost else "",
            extra={
                "p50_ms": percentile(_finite(middle.latencies), 50) * 1000,
                "commands": len(middle.latencies),
            },
        )
    ]


def _finite(samples: list[float]) -> list[float]:
    return sorted(s for s in samples if s != float("inf"))
