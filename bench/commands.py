"""Commands through the application API, 16 concurrent callers, one event each.

Stock: an eventsourcing ``Aggregate`` with ``@event`` and one ``app.save()`` per
command. Hub: ``IntakeApplication.record_bilan`` (validation, contract events,
group commit). Both on the same PostgreSQL, one after the other.
"""

from __future__ import annotations

import datetime as dt
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Mapper

from bench.infra import Figure, Scale, Servers, median_of, percentile, repeated
from contracts.sealing import Plan
from services.common.aggregate import CommandContext
from services.common.eventstore import ContractMapper, eventstore_env, schema_setup
from services.common.vault import LocalMasterKeys, MemoryKeyStore, Vault
from services.demo import make_kbo, make_niss
from services.intake.application import (
    IntakeApplication,
    RecordBilan,
    RegisterBeneficiary,
)

CALLERS = 16


class StockCase(Aggregate):
    """The stock path: a decorated aggregate."""

    @event("Registered")
    def __init__(self, dossier_number: str) -> None:
        self.dossier_number = dossier_number
        self.bilans: list[str] = []

    @event("BilanCompleted")
    def complete_bilan(self, completed_on: str, orientation: str) -> None:
        self.bilans.append(f"{completed_on}:{orientation}")


class StockApp(Application[uuid.UUID]):
    """The stock application."""

    name = "stock"


def _run(
    callers: int, per_caller: int, command: Callable[[int, int], None]
) -> tuple[float, list[float]]:
    latencies: list[list[float]] = [[] for _ in range(callers)]
    start_gate = threading.Barrier(callers + 1)

    def work(caller: int) -> None:
        start_gate.wait()
        for n in range(per_caller):
            t0 = time.perf_counter()
            command(caller, n)
            latencies[caller].append(time.perf_counter() - t0)

    threads = [threading.Thread(target=work, args=(c,)) for c in range(callers)]
    for t in threads:
        t.start()
    start_gate.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return callers * per_caller / elapsed, [x for lane in latencies for x in lane]


def stock(servers: Servers, per_caller: int) -> tuple[float, list[float]]:
    """Stock eventsourcing: one transaction per command."""
    settings = servers.settings()
    env = eventstore_env(settings.database_url, app_name="stock", schema="stock")
    del env["MAPPER_TOPIC"], env["APPLICATION_RECORDER_TOPIC"]
    with schema_setup(settings.database_url, "stock"):
        app = StockApp(env)
    cases = [
        [StockCase(f"S{c}-{n}") for n in range(per_caller)] for c in range(CALLERS)
    ]
    for lane in cases:
        app.save(*lane)

    def command(caller: int, n: int) -> None:
        case: StockCase = app.repository.get(cases[caller][n].id)
        case.complete_bilan("2026-11-20", "employment")
        app.save(case)

    result = _run(CALLERS, per_caller, command)
    app.close()
    return result


def _intake_app(servers: Servers, *, sealed: bool = True) -> IntakeApplication:
    """Intake on a fresh database; ``sealed`` false: personal data kept in clear."""
    settings = servers.settings()
    env = eventstore_env(settings.database_url, app_name="intake", schema="intake")
    kind = IntakeApplication if sealed else _IntakeInClear
    with schema_setup(settings.database_url, "intake"):
        return kind(
            env,
            id_secret="bench",  # noqa: S106 - a namespace
            today=lambda: dt.date(2026, 11, 23),
        )


class _ClearVault(Vault):
    """A vault that seals nothing: the hub as it was before sealing (for the ratio)."""

    def __init__(self) -> None:
        super().__init__(MemoryKeyStore(), LocalMasterKeys({"k": bytes(32)}, "k"))

    def seal(
        self,
        data: dict[str, Any],
        plan: Plan,  # noqa: ARG002 - the vault's signature, nothing sealed
        person: uuid.UUID,  # noqa: ARG002
        aad: bytes,  # noqa: ARG002
    ) -> dict[str, Any]:
        """Leave the personal data where it is."""
        return data


class _IntakeInClear(IntakeApplication):
    def construct_mapper(self) -> Mapper[uuid.UUID]:
        return ContractMapper(vault=_ClearVault())


def _registrations(
    app: IntakeApplication, per_caller: int, case_ids: list[list[uuid.UUID]]
) -> Callable[[int, int], None]:
    """A registration per call, each a new person (a new data key when sealed)."""

    def register(caller: int, n: int) -> None:
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=caller * per_caller + n)
        result = app.register_beneficiary(
            RegisterBeneficiary(
                context=CommandContext(uuid.uuid4(), dt.datetime.now(dt.UTC)),
                cpas_kbo=make_kbo(2123401),
                niss=make_niss(birth, 1),
                birth_date=birth,
                family_name="Bench",
                given_name="Mark",
                preferred_language="fr",
                postal_code="4000",
                dossier_number=f"B{caller}X{n}",
                registered_on=dt.date(2026, 11, 2),
            )
        )
        case_ids[caller].append(result.case_id)

    return register


def hub(servers: Servers, per_caller: int) -> tuple[float, list[float]]:
    """The hub: record_bilan with contract events and group commit."""
    app = _intake_app(servers)
    case_ids: list[list[uuid.UUID]] = [[] for _ in range(CALLERS)]
    register = _registrations(app, per_caller, case_ids)
    _run(CALLERS, per_caller, register)

    def command(caller: int, n: int) -> None:
        app.record_bilan(
            RecordBilan(
                context=CommandContext(uuid.uuid4(), dt.datetime.now(dt.UTC)),
                case_id=case_ids[caller][n],
                completed_on=dt.date(2026, 11, 20),
                author="sw-1",
                needs=("housing",),
                strengths=(),
                obstacles=(),
                instrument="ZRM",
                baseline_scores={"work": 40},
                orientation="employment",
            )
        )

    result = _run(CALLERS, per_caller, command)
    app.close()
    return result


def personal_data(servers: Servers, per_caller: int, *, sealed: bool) -> float:
    """Registrations/s (the command with the most personal data), sealed or not."""
    app = _intake_app(servers, sealed=sealed)
    case_ids: list[list[uuid.UUID]] = [[] for _ in range(CALLERS)]
    rate, _ = _run(CALLERS, per_caller, _registrations(app, per_caller, case_ids))
    app.close()
    return rate


def measure(servers: Servers, scale: Scale) -> list[Figure]:
    """Both paths, side by side; then the cost of sealing personal data.

    Each figure is the median of its runs; the sealed and clear runs are
    alternated, so a slower moment of the machine weighs on both.
    """
    per_caller = scale.pick(20, 150, 1000)
    runs = scale.pick(1, 1, 3)
    stock_runs = repeated(runs, lambda: stock(servers, per_caller))
    hub_runs = repeated(runs, lambda: hub(servers, per_caller))
    clear, sealed = [], []
    for _ in range(runs):
        clear.append(personal_data(servers, per_caller, sealed=False))
        sealed.append(personal_data(servers, per_caller, sealed=True))
    hub_rate, hub_low, hub_high = median_of([rate for rate, _ in hub_runs])
    sealed_rate, sealed_low, sealed_high = median_of(sealed)
    hub_latencies = _middle(hub_runs)
    return [
        Figure(
            "commands/s (16 callers, 1 event each)",
            statistics.median(rate for rate, _ in stock_runs),
            hub_rate,
            "commands/s",
            ">= 5,000/s",
            extra={
                "stock_p99_ms": percentile(_middle(stock_runs), 99) * 1000,
                "hub_p50_ms": percentile(hub_latencies, 50) * 1000,
                "hub_p99_ms": percentile(hub_latencies, 99) * 1000,
            },
            runs=runs,
            hub_min=hub_low,
            hub_max=hub_high,
        ),
        Figure(
            "registrations/s, personal data sealed (Stock: the hub in clear)",
            statistics.median(clear),
            sealed_rate,
            "commands/s",
            "cost of the data keys and boxes",
            notes="16 callers, sealed and clear runs alternated",
            extra={"clear_min": min(clear), "clear_max": max(clear)},
            runs=runs,
            hub_min=sealed_low,
            hub_max=sealed_high,
        ),
    ]


def _middle(runs: list[tuple[float, list[float]]]) -> list[float]:
    """The latencies of the run of median rate."""
    ordered = sorted(runs, key=lambda run: run[0])
    return ordered[len(ordered) // 2][1]
