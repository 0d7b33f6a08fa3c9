"""Projection rebuild from the event store.

Stock: eventsourcing's ``ProjectionRunner`` with a view that upserts one row and
its tracking per event (one transaction per event). Hub: ``build_shadow`` of
the case-state projection (batched fold, one transaction per page), its cases
shared by two worker processes (``HUB_REBUILD_WORKERS``).
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from typing import Any

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from psycopg import sql

from bench.commands import StockApp, StockCase
from bench.infra import Figure, Scale, Servers, median_of, repeated
from bench.seed import seed_intake
from services.common.eventstore import eventstore_env, schema_setup
from services.common.rebuild import build_shadow
from services.common.settings import HubSettings
from services.registry import consumer


class StockCasesView(PostgresTrackingRecorder):
    """A cases table written one event (and its tracking) per transaction."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sql_create_statements.append(
            sql.Composed(
                [
                    sql.SQL(
                        "CREATE TABLE IF NOT EXISTS stock.stock_cases "
                        "(id uuid PRIMARY KEY, bilans int NOT NULL)"
                    )
                ]
            )
        )

    def upsert(self, case_id: uuid.UUID, bilans: int, tracking: Tracking) -> None:
        """One row and the tracking position, in one transaction."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO stock.stock_cases VALUES (%s, %s) ON CONFLICT (id) "
                "DO UPDATE SET bilans = EXCLUDED.bilans",
                (case_id, bilans),
            )
            self._insert_tracking(curs, tracking)


class StockCasesProjection(Projection[StockCasesView]):
    """The stock projection."""

    name = "stockcases"

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """Upsert the case of every event."""
        bilans = 1 if isinstance(domain_event, StockCase.BilanCompleted) else 0  # type: ignore[attr-defined]
        self.view.upsert(domain_event.originator_id, bilans, tracking)


def stock(servers: Servers, events: int) -> float:
    """Events/s of the stock ProjectionRunner catching up."""
    settings = servers.settings()
    env = eventstore_env(settings.database_url, app_name="stock", schema="stock")
    del env["MAPPER_TOPIC"], env["APPLICATION_RECORDER_TOPIC"]
    env["STOCKCASES_POSTGRES_SCHEMA"] = "stock"
    with schema_setup(settings.database_url, "stock"):
        app = StockApp(env)
    for start in range(0, events // 2, 500):
        cases = [
            StockCase(f"S{n}") for n in range(start, min(start + 500, events // 2))
        ]
        for case in cases:
            case.complete_bilan("2026-03-20", "employment")
        app.save(*cases)
    head = app.recorder.max_notification_id() or 0
    app.close()
    started = time.perf_counter()
    with ProjectionRunner(
        application_class=StockApp,
        projection_class=StockCasesProjection,
        view_class=StockCasesView,
        env=env,
    ) as runner:
        runner.wait(head, timeout=3600)
    return head / (time.perf_counter() - started)


# A rebuild shares its cases among as many processes as the machine has cores.
WORKERS = 2


def hub(settings: HubSettings, run: int) -> tuple[float, float]:
    """Events/s of a rebuild of the case-state read model, and its total seconds."""
    started = time.perf_counter()
    read, _ = asyncio.run(
        build_shadow(
            settings,
            f"case_state_bench{run}",
            consumer("case-state"),
            workers=WORKERS,
        )
    )
    elapsed = time.perf_counter() - started
    return read / elapsed, elapsed


def measure(servers: Servers, scale: Scale) -> list[Figure]:
    """Both, side by side; the hub on 1 M events (a full run)."""
    events = scale.pick(4_000, 100_000, 1_000_000)
    runs = scale.pick(1, 1, 3)
    stock_rate = statistics.median(
        repeated(runs, lambda: stock(servers, scale.pick(1_000, 4_000, 20_000)))
    )
    settings = servers.settings()
    seed_intake(settings, events)  # once: each run rebuilds into its own schema
    measured = [hub(settings, run) for run in range(runs)]
    rate, low, high = median_of([r for r, _ in measured])
    return [
        Figure(
            f"projection rebuild ({events:,} events, {WORKERS} workers)",
            stock_rate,
            rate,
            "events/s",
            ">= 50,000/s; 1 M in <= 20 s",
            extra={"hub_seconds": statistics.median(s for _, s in measured)},
            runs=runs,
            hub_min=low,
            hub_max=high,
        )
    ]
