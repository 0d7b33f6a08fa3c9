"""What every benchmark needs: the embedded servers, a fresh database, figures."""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from services.common.runtime import EmbeddedBroker, EmbeddedPostgres, create_database
from services.common.settings import HubSettings


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


@dataclass
class Figure:
    """One measured line of the results table."""

    name: str
    stock: float | None
    hub: float
    unit: str
    target: str
    notes: str = ""
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """Hub over stock, when both were measured."""
        return self.hub / self.stock if self.stock else None
