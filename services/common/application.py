"""Base of the services' eventsourcing applications: contract events on PostgreSQL."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
)
from eventsourcing.persistence import IntegrityError, Recording

from services.common import metrics
from services.common.aggregate import Aggregate, projector
from services.common.combiner import WriteCombiner

__all__ = ["HubApplication"]

A = TypeVar("A", bound=Aggregate)


class HubApplication(Application[uuid.UUID]):
    """An eventsourcing Application whose concurrent saves share transactions."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        self._combiner: WriteCombiner[Recording[uuid.UUID]] = WriteCombiner(
            self._append
        )

    def _append(self, *aggregates: Any) -> list[Recording[uuid.UUID]]:
        # Application.save() without its runtime-protocol isinstance checks,
        # which cost more than the append itself for a batch of small events.
        processing_event: ProcessingEvent[uuid.UUID] = ProcessingEvent()
        for aggregate in aggregates:
            processing_event.events.extend(aggregate.collect_events())
            processing_event.aggregates[aggregate.id] = aggregate
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[uuid.UUID]]:
        """Append the pending events of the given aggregates, atomically.

        Concurrent calls from other threads may be appended in the same
        transaction (group commit); each caller gets its own recordings.
        """
        if kwargs:  # tracking and other options are per call: no combining
            recordings = super().save(*objs, **kwargs)
        else:
            recordings = self._combiner.save(*objs)
        metrics.EVENTS_APPENDED.labels(self.name).inc(len(recordings))
        return recordings

    def forget(self, aggregate_id: uuid.UUID) -> None:
        """Drop a cached aggregate (after a conflict showed it was stale)."""
        cache = self.repository.cache
        if cache is not None:
            with contextlib.suppress(KeyError):
                cache.get(aggregate_id, evict=True)

    def get_stream(self, stream_id: uuid.UUID, cls: type[A]) -> A | None:
        """An aggregate by id, None when nothing was recorded yet."""
        try:
            found: Any = self.repository.get(stream_id, projector_func=projector(cls))
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, cls) else None

    def act(
        self,
        command_id: uuid.UUID,
        load: Callable[[], A | None],
        new: Callable[[], A],
        decide: Callable[[A], object],
    ) -> None:
        """Load the stream (or start it), let it decide, save.

        A command it has handled already does nothing (a retry, a redelivered
        event); a concurrent writer makes it retry on the fresh stream.
        """
        stream = load() or new()
        if command_id in getattr(stream, "handled", ()):
            return
        decide(stream)
        try:
            self.save(stream)
        except IntegrityError:
            self.forget(stream.id)
            self.act(command_id, load, new, decide)
