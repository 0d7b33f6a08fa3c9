"""The whole case state in parts: one per producing service, each a pure fold.

The live consumer reads four topics in whatever interleaving the broker
delivers; a rebuild replays the four event stores one after the other. Both
must end with the same state, so each part is folded from its own service's
events only (their order within a service is the store's, on both paths) and
the published state is a pure function of the parts (``services/case_state/
view.py``). A part knows its events (a count, the newest recording time) so
that the state's version and ``updated_at`` do not depend on the
interleaving either.

A part is an internal, frozen pydantic model: stored as JSON in the part's
column of ``case_state.cases`` and, for ``as_of``, of ``case_state.case_days``.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict

from contracts.envelope import ContractEvent

__all__ = ["Part", "PartFold"]


class Part(BaseModel):
    """What every part keeps besides its sections."""

    # Stored parts written by an older version load: what they lack defaults.
    model_config = ConfigDict(frozen=True, extra="ignore")

    cpas_kbo: str
    events: int = 0  # events of this service folded in
    last_recorded_at: dt.datetime | None = None
    last_event_type: str | None = None

    def touched(self, event: ContractEvent) -> Self:
        """The part after one more event of its service."""
        recorded = event.recorded_at
        newer = recorded is not None and (
            self.last_recorded_at is None or recorded >= self.last_recorded_at
        )
        return self.model_copy(
            update={
                "cpas_kbo": event.cpas_kbo,
                "events": self.events + 1,
                "last_recorded_at": recorded if newer else self.last_recorded_at,
                "last_event_type": event.event_type
                if newer or self.last_event_type is None
                else self.last_event_type,
            }
        )


P = TypeVar("P", bound=Part)


class PartFold(ABC, Generic[P]):
    """How one service's events make its part, and what the part shows."""

    service: str
    part: type[P]

    @abstractmethod
    def fold(self, part: P | None, event: ContractEvent) -> P | None:
        """The part after one event (None: the event is not about the case state)."""

    @abstractmethod
    def sections(self, part: P) -> dict[str, Any]:
        """The fields of ``CaseStateV1`` this part gives."""
