"""What every benchmark needs: the embedded servers, a fresh database, figures."""

from __future__ import annotations

import enum
import statistics
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from services.common.runtime import EmbeddedBroker, EmbeddedPostgres, create_database
from services.common.settings import HubSettings

_T = TypeVar("_T")
_M = TypeVar("_M")


@dataclass
class Servers:
    """The embedded PostgreSQL and broker of one bench run."""

    admin_url: str
    broker: EmbeddedBroker

    def settings(self, **changes: object) -> HubSettings:
        """Settings on a fresh database and fresh topics."""
        url = create_database(self.admin_url, f"bench_{uuid.uuid4().hex[:12]}")
        return HubSettings(
            database_url=url,
            kafka_bootstrap_servers=self.broker.bootstrap_servers,
            topic_prefix=f"b{uuid.uuid4().hex[:8]}.",
            **changes,  # type: ignore[arg-type]
        )


@contextmanager
def servers(data_dir: Path) -> Iterator[Servers]:
    """Start both servers for the whole run."""
    postgres = EmbeddedPostgres(data_dir / "pgdata")
    broker = EmbeddedBroker(log_path=data_dir / "broker.log")
    admin_url = postgres.start()
    broker.start()
    try:
        yield Servers(admin_url, broker)
    finally:
        broker.stop()
        postgres.stop()


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of some samples, 0 when there are none."""
    if not samples:
        return 0.0
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=1000, method="inclusive")[int(q * 10) - 1]


class Scale(enum.Enum):
    """How big a run is: ``smoke`` (seconds, in ``make test``), quick, full."""

    SMOKE = "smoke"
    QUICK = "quick"
    FULL = "full"

    def pick(self, smoke: _T, quick: _T, full: _T) -> _T:
        """The size of this scale among the three."""
        return {Scale.SMOKE: smoke, Scale.QUICK: quick, Scale.FULL: full}[self]


# A load is sustained when it reached this share of what was offered.
SUSTAINED = 0.95


@dataclass(frozen=True)
class Load:
    """The rate a rate-driven benchmark offered, and the rate it reached."""

    offered: float
    reached: float
    unit: str

    @property
    def sustained(self) -> bool:
        """Whether the figure may be labelled with the offered rate."""
        return self.reached >= SUSTAINED * self.offered

    def label(self, what: str) -> str:
        """``what`` at the load it was measured under, never at one it fell short of."""
        if self.sustained:
            return f"{what} at {self.offered:,.0f} {self.unit}"
        return (
            f"{what} at {self.reached:,.0f} {self.unit} reached "
            f"({self.offered:,.0f} offered, not sustained)"
        )


@dataclass
class Figure:
    """One measured line of the results table.

    ``hub`` is the median of ``runs`` runs, ``hub_min``/``hub_max`` their spread.
    """

    name: str
    stock: float | None
    hub: float
    unit: str
    target: str
    notes: str = ""
    extra: dict[str, float] = field(default_factory=dict)
    runs: int = 1
    hub_min: float | None = None
    hub_max: float | None = None
    offered: float | None = None
    reached: float | None = None
    load_unit: str = ""
    suite: str = ""  # the suite that measured it (set by bench.run)

    @property
    def ratio(self) -> float | None:
        """Hub over stock, when both were measured."""
        return self.hub / self.stock if self.stock else None

    @property
    def spread(self) -> str:
        """The runs and their range, as the table shows them."""
        if self.runs < 2 or self.hub_min is None or self.hub_max is None:
            return "1 run"
        return f"median of {self.runs}, {self.hub_min:,.1f}-{self.hub_max:,.1f}"

    @property
    def load(self) -> str:
        """Offered and reached rates, for a rate-driven figure."""
        if self.offered is None or self.reached is None:
            return "-"
        short = "" if Load(self.offered, self.reached, "").sustained else " (short)"
        return f"{self.offered:,.0f} -> {self.reached:,.0f} {self.load_unit}{short}"


def median_of(values: Sequence[float]) -> tuple[float, float, float]:
    """Median, minimum and maximum of several runs."""
    return statistics.median(values), min(values), max(values)


def median_index(values: Sequence[float]) -> int:
    """Which run gave the median (its samples stand for the others)."""
    return list(values).index(sorted(values)[len(values) // 2])


def p99_figure(
    what: str,
    target: str,
    p99s_ms: Sequence[float],
    load: Load,
    *,
    extra: dict[str, float],
    notes: str = "",
) -> Figure:
    """A rate-driven latency line: the runs' median p99, labelled by its load."""
    p99, low, high = median_of(p99s_ms)
    return Figure(
        load.label(what),
        None,
        p99,
        "ms p99",
        target,
        notes=notes,
        extra=extra,
        runs=len(p99s_ms),
        hub_min=low,
        hub_max=high,
        offered=load.offered,
        reached=load.reached,
        load_unit=load.unit,
    )


def repeated(runs: int, measure: Callable[[], _M]) -> list[_M]:
    """``measure`` run ``runs`` times, one after the other."""
    return [measure() for _ in range(runs)]
