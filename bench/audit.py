"""What an auditor runs on a whole store: the ordered read and the chain check.

One seeded intake store (sealed events, chained by the store's trigger as
they are copied in) serves both. Ordered read: stock is eventsourcing's
``select_notifications`` paged 1,000 at a time, as its own readers page it;
the hub reads the same rows through ``read_rows``. Chain verification
(``hub audit verify``) has no stock counterpart: eventsourcing keeps no chain.
"""

from __future__ import annotations

import statistics
import time

import psycopg

from bench.infra import Figure, Scale, Servers, median_of, repeated
from bench.seed import seed_intake
from services.common.chain import store_named, verify_stores
from services.common.eventstore import events_table, eventstore_env, read_rows
from services.common.settings import HubSettings
from services.intake.application import IntakeApplication


def _stock_read(settings: HubSettings) -> float:
    """Events/s of eventsourcing's notification log, page by page."""
    env = eventstore_env(settings.database_url, app_name="intake", schema="intake")
    app = IntakeApplication(env)
    try:
        started, read, start = time.perf_counter(), 0, 1
        while page := app.recorder.select_notifications(start, 1000):
            read += len(page)
            start = page[-1].id + 1
        return read / (time.perf_counter() - started)
    finally:
        app.close()


def _hub_read(settings: HubSettings) -> float:
    """Events/s of the hub's ordered read of the same rows."""
    with psycopg.connect(settings.database_url) as conn:
        started = time.perf_counter()
        read = sum(1 for _ in read_rows(conn, events_table("intake", "intake")))
        return read / (time.perf_counter() - started)


def _verify(settings: HubSettings) -> float:
    """Events/s of the chain verification of the store."""
    started = time.perf_counter()
    report = verify_stores(settings, only=[store_named("intake")])
    elapsed = time.perf_counter() - started
    if not report.verified:
        raise AssertionError(f"the seeded chain does not verify: {report}")
    return sum(v.records for v in report.stores) / elapsed


def measure(servers: Servers, scale: Scale) -> list[Figure]:
    """Both on one seeded store, each run ``runs`` times."""
    events = scale.pick(4_000, 100_000, 1_000_000)
    runs = scale.pick(1, 1, 3)
    settings = servers.settings()
    seed_intake(settings, events)
    stock_read = statistics.median(repeated(runs, lambda: _stock_read(settings)))
    read, read_low, read_high = median_of(repeated(runs, lambda: _hub_read(settings)))
    verify, verify_low, verify_high = median_of(
        repeated(runs, lambda: _verify(settings))
    )
    return [
        Figure(
            f"ordered read of the event log ({events:,} events)",
            stock_read,
            read,
            "events/s",
            "-",
            runs=runs,
            hub_min=read_low,
            hub_max=read_high,
        ),
        Figure(
            f"hub audit verify, chain check ({events:,} events)",
            None,
            verify,
            "events/s",
            ">= 500,000/s",
            runs=runs,
            hub_min=verify_low,
            hub_max=verify_high,
        ),
    ]
