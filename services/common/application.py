"""Base of the services' eventsourcing applications: contract events on PostgreSQL."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping
from typing import Any

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.persistence import Recording

from services.common import metrics
from services.common.combiner import WriteCombiner

__all__ = ["HubApplication"]


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
