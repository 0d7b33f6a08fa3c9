"""The read models of the case-state process: what each consumes and rebuilds from.

A new read model is a fold projection plus one entry here: its schema, the
topics it consumes, and the event stores a rebuild replays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from contracts.registry import SERVICE_TOPICS
from services.case_state.activation import ActivationProjection
from services.case_state.deadlines import DeadlinesProjection
from services.case_state.projection import CaseStateProjection
from services.case_state.roster import RosterProjection
from services.case_state.statistics import StatisticsProjection
from services.common.consumer import FoldProjection, ProjectionStore

__all__ = ["READ_MODELS", "ReadModel"]


@dataclass(frozen=True, slots=True)
class ReadModel:
    """One read model: its projection, schema, topics and rebuild sources."""

    name: str
    schema: str
    projection: Callable[[], FoldProjection[Any]]
    services: tuple[str, ...]  # producing services: their topic and event store

    def store(self, schema: str | None = None) -> ProjectionStore[Any]:
        """The projection store, in its schema or another (a rebuild's shadow)."""
        return ProjectionStore(self.projection(), schema or self.schema)

    @property
    def topics(self) -> tuple[str, ...]:
        """The topics consumed."""
        return tuple(SERVICE_TOPICS[s] for s in self.services)

    @property
    def sources(self) -> tuple[tuple[str, str], ...]:
        """(schema, application name) of each event store a rebuild replays."""
        return tuple((s, s) for s in self.services)


READ_MODELS: Final[Mapping[str, ReadModel]] = {
    "case-state": ReadModel(
        "case-state", "case_state", CaseStateProjection, ("intake",)
    ),
    "statistics": ReadModel(
        "statistics", "statistics", StatisticsProjection, ("intake", "piis")
    ),
    "deadlines": ReadModel("deadlines", "deadlines", DeadlinesProjection, ("piis",)),
    "activation": ReadModel(
        "activation", "activation", ActivationProjection, ("piis",)
    ),
    "roster": ReadModel("roster", "roster", RosterProjection, ("placement",)),
}
