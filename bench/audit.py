"""What an auditor and an erasure meet on a national store.

One seeded intake store (sealed events, chained by the store's trigger as
they are copied in; 10 M events on a full run) serves the ordered read, the
chain check, the replay and the erasure of one person. The replay is the
audit report's first pass for one CPAS of the store's twenty, in a process
of its own so its peak memory is its own: the kernel's high-water mark of
that process's memory (``VmHWM``), not ``ru_maxrss``, which Linux carries
over ``execve`` from the parent (the bench process, after seeding, would be
measured instead).
Ordered read: stock is eventsourcing's ``select_notifications`` paged 1,000
at a time, as its own readers page it; the hub reads the same rows through
``read_rows``. Chain verification (``hub audit verify``) has no stock
counterpart: eventsourcing keeps no chain; it runs in two processes
(``HUB_VERIFY_WORKERS``), each a stretch of the chain in one snapshot.
Erasure: ``hub erase`` forced, of a person registered through intake's
command path in the seeded store.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg

from bench.infra import Figure, Scale, Servers, median_of, repeated
from bench.seed import CPAS, seed_intake
from services.audit.report import AuditRun, report_head
from services.common.aggregate import CommandContext
from services.common.chain import store_named, verify_stores
from services.common.eventstore import events_table, eventstore_env, read_rows
from services.common.settings import HubSettings
from services.demo import make_niss
from services.erasure import erase_person
from services.intake.application import IntakeApplication, RegisterBeneficiary
from services.intake.service import create_application

# Processes sharing the chain check (HUB_VERIFY_WORKERS): one per core.
VERIFY_WORKERS = 2


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
    """Events/s of the chain verification of the store, by ``VERIFY_WORKERS``."""
    shared = settings.model_copy(update={"verify_workers": VERIFY_WORKERS})
    started = time.perf_counter()
    report = verify_stores(shared, only=[store_named("intake")])
    elapsed = time.perf_counter() - started
    if not report.verified:
        raise AssertionError(f"the seeded chain does not verify: {report}")
    return sum(v.records for v in report.stores) / elapsed


def _replay(settings: HubSettings) -> tuple[float, float]:
    """Seconds and peak MiB of the report's first pass, in a process of its own."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.audit", settings.database_url, CPAS[0]],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ | {"HUB_DATABASE_URL": settings.database_url},
    )
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return float(measured["seconds"]), float(measured["peak_mib"])


def _replay_here(database_url: str, cpas: str) -> None:
    """The first pass of one CPAS's report; prints its seconds and peak memory."""
    now = dt.datetime.now(dt.UTC)
    run = AuditRun.of(cpas, dt.date(2026, 12, 31), None, now)

    async def first_pass() -> None:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            await report_head(conn, run)

    started = time.perf_counter()
    asyncio.run(first_pass())
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_mib": peak_resident_mib()}))


def peak_resident_mib() -> float:
    """This process's peak resident memory since its exec, in MiB."""
    with Path("/proc/self/status").open(encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("no VmHWM in /proc/self/status (a Linux kernel is needed)")


def _erasures(settings: HubSettings, runs: int) -> list[float]:
    """Seconds of each forced erasure of a person registered in the seeded store.

    ``hub erase``'s own path: the retention check reads the case's last event
    in every store, then the erasure is recorded and the key destroyed (the
    services purge their rows as the event reaches them, not timed here).
    """
    app = create_application(settings)
    try:
        seconds = []
        for n in range(runs):
            born = dt.date(1961, 1, 1) + dt.timedelta(days=n)
            niss = make_niss(born, 7)
            app.register_beneficiary(
                RegisterBeneficiary(
                    context=CommandContext(uuid.uuid4(), dt.datetime.now(dt.UTC)),
                    cpas_kbo=CPAS[0],
                    niss=niss,
                    birth_date=born,
                    family_name="Erase",
                    given_name="Bench",
                    preferred_language="fr",
                    postal_code="4000",
                    dossier_number=f"E{n}",
                    registered_on=dt.date(2026, 11, 2),
                )
            )
            started = time.perf_counter()
            erase_person(
                settings,
                niss=niss,
                cpas_kbo=CPAS[0],
                force=True,
                reason="court_order",
                app=app,
            )
            seconds.append(time.perf_counter() - started)
        return seconds
    finally:
        app.close()


def measure(servers: Servers, scale: Scale) -> list[Figure]:
    """All on one seeded store (national scale on a full run), each ``runs`` times."""
    events = scale.pick(4_000, 100_000, 10_000_000)
    runs = scale.pick(1, 1, 3)
    settings = servers.settings()
    seed_intake(settings, events)
    stock_read = statistics.median(repeated(runs, lambda: _stock_read(settings)))
    read, read_low, read_high = median_of(repeated(runs, lambda: _hub_read(settings)))
    verify, verify_low, verify_high = median_of(
        repeated(runs, lambda: _verify(settings))
    )
    replays = repeated(runs, lambda: _replay(settings))
    replay, replay_low, replay_high = median_of([seconds for seconds, _ in replays])
    erasure, erasure_low, erasure_high = median_of(
        [seconds * 1000 for seconds in _erasures(settings, runs)]
    )
    return [
        Figure(
            f"erasure of one person ({events:,} events in the store)",
            None,
            erasure,
            "ms",
            "-",
            notes="hub erase, forced: retention check, event, key destroyed",
            runs=runs,
            hub_min=erasure_low,
            hub_max=erasure_high,
        ),
        Figure(
            f"audit replay, one CPAS's report ({events:,} events in the store)",
            None,
            replay,
            "s",
            "10 M events <= 200 s, peak < 1 GiB",
            notes="first pass of the report; its own process",
            extra={"peak_mib": max(peak for _, peak in replays)},
            runs=runs,
            hub_min=replay_low,
            hub_max=replay_high,
        ),
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
            f"hub audit verify, chain check ({events:,} events, "
            f"{VERIFY_WORKERS} workers)",
            None,
            verify,
            "events/s",
            ">= 500,000/s",
            runs=runs,
            hub_min=verify_low,
            hub_max=verify_high,
        ),
    ]


if __name__ == "__main__":
    _replay_here(sys.argv[1], sys.argv[2])
