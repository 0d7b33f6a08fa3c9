"""The outbox relay, store to broker acknowledgement.

No stock relay exists in eventsourcing; the reference is the raw aiokafka
produce rate measured in the same run (about 71,000 messages/s on the
2-core machine; docs/architecture.md#7-performance-targets).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import threading
import time
import uuid

from eventsourcing.persistence import StoredEvent

from bench.infra import (
    Figure,
    Load,
    Scale,
    Servers,
    median_index,
    median_of,
    p99_figure,
    percentile,
    repeated,
)
from bench.seed import _events, seed_intake
from services.common.eventstore import (
    AppendRequest,
    HubApplicationRecorder,
    StoredRow,
    eventstore_env,
    seal_event,
)
from services.common.relay import Relay
from services.common.settings import HubSettings
from services.common.vault import settings_vault
from services.intake.application import IntakeApplication
from services.intake.service import RELAY_SPEC


async def _drain(settings: HubSettings, head: int) -> float:
    """Seconds for a new relay to publish a store of ``head`` events."""
    stop = asyncio.Event()
    acked = 0
    done = asyncio.Event()

    def count(rows: list[StoredRow], _: dt.datetime) -> None:
        nonlocal acked
        acked = rows[-1].notification_id
        if acked >= head:
            done.set()

    relay = Relay(settings, RELAY_SPEC, on_acked=count)
    started = time.perf_counter()
    task = asyncio.create_task(relay.run(stop))
    await done.wait()
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    return elapsed


def throughput(settings: HubSettings, events: int) -> float:
    """Events/s relayed from a full store, onto a topic of its own."""
    fresh = settings.model_copy(update={"topic_prefix": f"r{uuid.uuid4().hex[:8]}."})
    return events / asyncio.run(_drain(fresh, events))


def _append_steadily(settings: HubSettings, rate: int, seconds: float) -> Load:
    """Append ``rate`` events/s for ``seconds`` (10 ms ticks), as a service would."""
    per_tick = rate // 100
    appended = 0
    env = eventstore_env(settings.database_url, app_name="intake", schema="intake")
    app = IntakeApplication(env)
    recorder = app.recorder
    assert isinstance(recorder, HubApplicationRecorder)  # noqa: S101 - the hub's store
    try:
        began = time.monotonic()
        deadline = began + seconds
        tick = began
        number = 10_000_000
        vault = settings_vault(settings)
        while time.monotonic() < deadline:
            cases = range(number, number + per_tick // 2)
            vault.provision(uuid.UUID(int=n + 1) for n in cases)
            requests = [
                AppendRequest(
                    [
                        StoredEvent(
                            e.stream_id,
                            e.stream_version,
                            e.event_type,
                            seal_event(vault, e),
                        )
                        for e in _events(n)
                    ]
                )
                for n in cases
            ]
            number += per_tick // 2
            recorder.insert_requests(requests)
            appended += 2 * len(requests)
            tick += 0.01
            time.sleep(max(0.0, tick - time.monotonic()))
    finally:
        app.close()
    return Load(rate, appended / (time.monotonic() - began), "events/s")


async def _latency(
    settings: HubSettings, rate: int, seconds: float
) -> tuple[list[float], Load]:
    stop = asyncio.Event()
    samples: list[float] = []
    offered: list[Load] = []

    def observe(rows: list[StoredRow], acked_at: dt.datetime) -> None:
        samples.extend((acked_at - r.recorded_at).total_seconds() for r in rows)

    relay = Relay(settings, RELAY_SPEC, on_acked=observe)
    task = asyncio.create_task(relay.run(stop))
    await asyncio.sleep(2)  # connected, topic created
    writer = threading.Thread(
        target=lambda: offered.append(_append_steadily(settings, rate, seconds))
    )
    writer.start()
    await asyncio.to_thread(writer.join)
    await asyncio.sleep(1)
    stop.set()
    await task
    return samples, offered[0]


def latency(servers: Servers, rate: int, seconds: float) -> tuple[list[float], Load]:
    """Store-to-ack latencies at a steady append rate, and the rate reached."""
    settings = servers.settings()
    seed_intake(settings, 2)
    return asyncio.run(_latency(settings, rate, seconds))


def measure(servers: Servers, scale: Scale) -> list[Figure]:
    """Drain rate of a full store, and latency at 1,000 events/s offered."""
    events = scale.pick(5_000, 50_000, 200_000)
    runs = scale.pick(1, 1, 3)
    full = servers.settings(relay_batch_size=5000)
    seed_intake(full, events)  # once: each run relays it onto a new topic
    rate, rate_low, rate_high = median_of(
        repeated(runs, lambda: throughput(full, events))
    )
    measured = repeated(runs, lambda: latency(servers, 1000, scale.pick(2, 5, 20)))
    p99s = [percentile(samples, 99) * 1000 for samples, _ in measured]
    samples, _ = measured[median_index(p99s)]
    load = Load(
        1000, statistics.median(load.reached for _, load in measured), "events/s"
    )
    return [
        Figure(
            f"relay, store to broker ack ({events:,} events)",
            None,
            rate,
            "events/s",
            ">= 20,000/s",
            runs=runs,
            hub_min=rate_low,
            hub_max=rate_high,
        ),
        p99_figure(
            "relay latency",
            "p99 <= 50 ms",
            p99s,
            load,
            extra={"p50_ms": percentile(samples, 50) * 1000, "events": len(samples)},
        ),
    ]
