"""The whole case state in parts: one per producing service, each a pure fold.

The live consumer reads four topics in whatever interleaving the broker
delivers; a rebuild replays the four event stores one after the other. Both
must end with the same state, so each part is folded from its own service's
events only (their order within a service is the store's, on both paths) and
the published state is a pure function of the parts (``services/case_state/
view.py``). A part knows its events (a count, the newest recording time) so
that the state's version and ``updated_at`` do not depend on the
interleaving either.

A part is an internal frozen dataclass (a copy per event is cheap: a rebuild
folds millions), stored as JSON (pydantic's, ``PartFold.dump``) in the part's
column of ``case_state.cases`` and, for ``as_of``, of ``case_state.case_days``.
Its sections may be the contract's own models (``contracts/case_state.py``).
Their fields marked as personal data (the social-activation scores) are
stored sealed with the person's key, as on the topic (ADR 0023).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import typing
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Generic, Self, TypeVar

from pydantic import TypeAdapter

from contracts.envelope import ContractEvent
from contracts.sealing import SEALED_KEY, Plan, models_in, personal_plan
from services.common.vault import current_vault

__all__ = ["Part", "PartFold"]


@dataclass(frozen=True, slots=True)
class Part:
    """What every part keeps besides its sections.

    Every field but the CPAS has a default: a part stored by an older version
    loads (what it lacks takes its default; what it has more is ignored).
    """

    cpas_kbo: str
    events: int = 0  # events of this service folded in
    last_recorded_at: dt.datetime | None = None
    last_event_type: str | None = None

    def evolve(self, event: ContractEvent, **changes: Any) -> Self:
        """The part after one more event of its service, with what it changed.

        One copy: the sections the event changed, its count, and the newest
        recording time with its event type (an event recorded earlier than
        the newest, a healed gap's, leaves them).
        """
        recorded = event.recorded_at
        newer = recorded is not None and (
            self.last_recorded_at is None or recorded >= self.last_recorded_at
        )
        if newer or self.last_event_type is None:
            changes["last_event_type"] = event.event_type
        if newer:
            changes["last_recorded_at"] = recorded
        changes["cpas_kbo"] = event.cpas_kbo
        changes["events"] = self.events + 1
        return dataclasses.replace(self, **changes)


P = TypeVar("P", bound=Part)


class PartFold(ABC, Generic[P]):
    """How one service's events make its part, and what the part shows."""

    service: str
    part: type[P]

    @abstractmethod
    def fold(self, part: P | None, event: ContractEvent) -> P | None:
        """The part after one event (None: the event is not about the case state).

        The new part is made with ``Part.evolve``, which counts the event.
        """

    @abstractmethod
    def sections(self, part: P) -> dict[str, Any]:
        """The fields of ``CaseStateV1`` this part gives."""

    def dump(self, part: P, case_id: uuid.UUID) -> str:
        """The part as stored (JSON text), its personal data sealed."""
        text = self._codec.dump_json(part).decode()
        if not self._personal:
            return text
        data = json.loads(text)
        current_vault().seal(data, self._personal, case_id, self._aad(case_id))
        return json.dumps(data, separators=(",", ":"))

    def load(self, text: str | bytes, case_id: uuid.UUID) -> P:
        """A part from its stored JSON text, its personal data opened."""
        if isinstance(text, bytes):
            text = text.decode()
        if not self._personal or f'"{SEALED_KEY}"' not in text:
            return self._codec.validate_json(text)
        data = json.loads(text)
        current_vault().open(data, self._aad(case_id))
        return self._codec.validate_json(json.dumps(data))

    def _aad(self, case_id: uuid.UUID) -> bytes:
        return f"case_state:{self.service}:{case_id}".encode()

    @functools.cached_property
    def _personal(self) -> Plan:
        """Where the part's sections hold personal data (empty: nowhere)."""
        hints = typing.get_type_hints(self.part)
        plan: dict[str, bool | Plan] = {}
        for field in dataclasses.fields(self.part):
            nested: dict[str, bool | Plan] = {}
            for model in models_in(hints[field.name]):
                nested.update(personal_plan(model))
            if nested:
                plan[field.name] = nested
        return plan

    @functools.cached_property
    def _codec(self) -> TypeAdapter[P]:
        return TypeAdapter(self.part)
