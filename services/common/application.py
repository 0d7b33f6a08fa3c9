"""Base of the services' eventsourcing applications: contract events on PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Recording

from services.common import metrics

__all__ = ["HubApplication"]


class HubApplication(Application[uuid.UUID]):
    """An eventsourcing Application that counts what it appends."""

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[uuid.UUID]]:
        """Append the pending events of the given aggregates in one transaction."""
        recordings = super().save(*objs, **kwargs)
        metrics.EVENTS_APPENDED.labels(self.name).inc(len(recordings))
        return recordings
