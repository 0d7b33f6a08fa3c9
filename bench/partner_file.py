"""A partner's file of messages taken at once: the gateway's bulk path.

Stock: eventsourcing's batched save. Each message is one event on its
person's aggregate; a chunk of 500 messages reads its aggregates one by one
and saves them in one transaction (``app.save(*aggregates)``). Hub:
``InboundDesk.receive_many``, what ``hub partners import`` runs: every line
parsed in Le Forem's format, its case found by the NISS's digest, its event
sealed under the person's key and recorded once, in the partner's order; a
chunk's cases found in one query, their partner files read in one, and the
events appended a round per round trip. The file is made before the clock
starts; each run takes a file about other people.
"""

from __future__ import annotations

import statistics
import time

from bench.commands import StockApp, StockCase
from bench.infra import Figure, Scale, Servers, median_of
from bench.seed import partner_file, partner_people, seed_partner_people
from services.common.eventstore import eventstore_env, schema_setup
from services.common.settings import HubSettings
from services.partner_gateway.service import create_application, create_desk

_CHUNK = 500


def stock(servers: Servers, people: int, per_person: int) -> float:
    """Messages/s of the stock path: read each aggregate, save a chunk at once."""
    settings = servers.settings()
    env = eventstore_env(settings.database_url, app_name="stock", schema="stock")
    del env["MAPPER_TOPIC"], env["APPLICATION_RECORDER_TOPIC"]
    with schema_setup(settings.database_url, "stock"):
        app = StockApp(env)
    cases = [StockCase(f"P{n}") for n in range(people)]
    for start in range(0, people, _CHUNK):
        app.save(*cases[start : start + _CHUNK])
    messages = [(case.id, step) for step in range(per_person) for case in cases]
    started = time.perf_counter()
    for start in range(0, len(messages), _CHUNK):
        # Each aggregate read once per chunk, however many of its messages
        # the chunk holds (a small file: all of a person's).
        chunk: dict[object, StockCase] = {}
        for case_id, step in messages[start : start + _CHUNK]:
            case = chunk.get(case_id) or app.repository.get(case_id)
            case.complete_bilan(f"2026-07-{1 + step:02d}", "training")
            chunk[case_id] = case
        app.save(*chunk.values())
    elapsed = time.perf_counter() - started
    app.close()
    return len(messages) / elapsed


def hub(settings: HubSettings, first: int, people: int, per_person: int) -> float:
    """Messages/s of the gateway taking a file about ``people`` new people."""
    persons = partner_people(first, people)
    seed_partner_people(settings, persons)
    lines = partner_file(persons, per_person)
    app = create_application(settings)
    try:
        desk = create_desk(settings, app)
        started = time.perf_counter()
        receipts = desk.receive_many("forem", lines, "bench")
        elapsed = time.perf_counter() - started
    finally:
        app.close()
    statuses = {r.status for r in receipts}
    if statuses != {"applied"}:  # a figure about something else would mislead
        raise RuntimeError(f"the bench file was not all applied: {statuses}")
    return len(lines) / elapsed


def measure(servers: Servers, scale: Scale) -> list[Figure]:
    """Both on the same PostgreSQL; a full run takes 50,000 messages a run."""
    people = scale.pick(100, 2_000, 10_000)
    per_person = 5
    runs = scale.pick(1, 1, 3)
    stock_rate = statistics.median(
        stock(servers, people, per_person) for _ in range(runs)
    )
    settings = servers.settings()
    rates = [hub(settings, run * people, people, per_person) for run in range(runs)]
    rate, low, high = median_of(rates)
    return [
        Figure(
            f"partner file import ({people * per_person:,} messages, "
            f"{people:,} people)",
            stock_rate,
            rate,
            "messages/s",
            "none set (one event each)",
            runs=runs,
            hub_min=low,
            hub_max=high,
        )
    ]
