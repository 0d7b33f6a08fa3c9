"""The outbox relay, store to broker acknowledgement.

No stock relay exists in eventsourcing; the reference is the raw aiokafka
produce rate measured in the same run (about 71,000 messages/s on the
2-core machine; docs/architecture.md#7-performance-targets).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time

import psycopg

from bench.infra import Figure, Servers, percentile
from bench.seed import _events, seed_intake
from services.common.eventstore import StoredRow
from services.common.relay import Relay
from services.common.settings import HubSettings
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


def throughput(servers: Servers, events: int) -> float:
    """Events/s relayed from a full store."""
    settings = servers.settings(relay_batch_size=5000)
    seed_intake(settings, events)
    return events / asyncio.run(_drain(settings, events))


def _append_steadily(settings: HubSettings, rate: int, seconds: float) -> int:
    """Append ``rate`` events/s for ``seconds`` (10 ms ticks), as a service would."""
    per_tick = rate // 100
    appended = 0
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        deadline = time.monotonic() + seconds
        tick = time.monotonic()
        number = 10_000_000
        while time.monotonic() < deadline:
            events = [e for n in range(per_tick // 2) for e in _events(number + n)]
            number += per_tick // 2
            rows = [
                (
                    e.stream_id,
                    e.stream_version,
                    e.event_type,
                    e.model_dump_json(exclude={"recorded_at"}).encode(),
                )
                for e in events
            ]
            conn.execute(
                "SELECT intake.intake_events_append(%s, %s, %s, %s)",
                tuple(map(list, zip(*rows, strict=True))),
            )
            appended += len(rows)
            tick += 0.01
            time.sleep(max(0.0, tick - time.monotonic()))
    return appended


async def _latency(settings: HubSettings, rate: int, seconds: float) -> list[float]:
    stop = asyncio.Event()
    samples: list[float] = []

    def observe(rows: list[StoredRow], acked_at: dt.datetime) -> None:
        samples.extend((acked_at - r.recorded_at).total_seconds() for r in rows)

    relay = Relay(settings, RELAY_SPEC, on_acked=observe)
    task = asyncio.create_task(relay.run(stop))
    await asyncio.sleep(2)  # connected, topic created
    writer = threading.Thread(target=_append_steadily, args=(settings, rate, seconds))
    writer.start()
    await asyncio.to_thread(writer.join)
    await asyncio.sleep(1)
    stop.set()
    await task
    return samples


def latency(servers: Servers, rate: int, seconds: float) -> list[float]:
    """Store-to-ack latencies at a steady append rate."""
    settings = servers.settings()
    seed_intake(settings, 2)
    return asyncio.run(_latency(settings, rate, seconds))


def measure(servers: Servers, *, quick: bool) -> list[Figure]:
    """Drain rate of a full store, and latency at 1,000 events/s."""
    events = 50_000 if quick else 200_000
    rate = throughput(servers, events)
    samples = latency(servers, 1000, 5 if quick else 20)
    return [
        Figure(
            f"relay, store to broker ack ({events:,} events)",
            None,
            rate,
            "events/s",
            ">= 20,000/s",
        ),
        Figure(
            "relay latency at 1,000 events/s",
            None,
            percentile(samples, 99) * 1000,
            "ms p99",
            "p99 <= 50 ms",
            extra={"p50_ms": percentile(samples, 50) * 1000, "events": len(samples)},
        ),
    ]
