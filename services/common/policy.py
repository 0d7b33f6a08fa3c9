"""A policy: a consumer that turns another service's events into its own commands.

Built on the consumer framework as a fold projection, so it gets per-stream
positions (redeliveries skipped, gaps held back) and dead letters (an event
whose command is refused is parked with the reason). Each reaction is a command
whose id is the triggering event's id, so a delivery that slips past the
positions finds the command handled. The table keeps, per case, the last
reaction, for operators.
"""

from __future__ import annotations

import dataclasses
import uuid
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from contracts.envelope import ContractEvent
from services.common.aggregate import CommandContext
from services.common.row_table import RowTable

__all__ = ["Policy", "PolicyRow"]


@dataclass(frozen=True, slots=True)
class PolicyRow:
    """The last event a policy reacted to for a case, and what it did."""

    case_id: uuid.UUID
    cpas_kbo: str
    event_id: uuid.UUID
    event_type: str
    action: str


class Policy(RowTable[PolicyRow]):
    """Reacts to events; a subclass says to which and how."""

    name: str
    columns: ClassVar[tuple[tuple[str, str], ...]] = (
        ("case_id", "uuid PRIMARY KEY"),
        ("cpas_kbo", "text NOT NULL"),
        ("event_id", "uuid NOT NULL"),
        ("event_type", "text NOT NULL"),
        ("action", "text NOT NULL"),
    )

    @abstractmethod
    def react(self, event: ContractEvent) -> str | None:
        """Run the commands an event calls for; what was done (None: not ours).

        Raise ``NotYetError`` when the event cannot be handled yet (it comes
        back with its batch); any other error parks it with its reason.
        """

    @staticmethod
    def reaction_context(event: ContractEvent) -> CommandContext:
        """The context of the command reacting to ``event``: its id is the event's."""
        return CommandContext(
            command_id=event.event_id,
            occurred_at=event.occurred_at,
            correlation_id=event.correlation_id,
        )

    def fold(self, row: PolicyRow | None, event: ContractEvent) -> PolicyRow | None:
        """React to one event and remember it."""
        del row
        action = self.react(event)
        if action is None:
            return None
        return PolicyRow(
            event.case_id, event.cpas_kbo, event.event_id, event.event_type, action
        )

    def encode(self, row: PolicyRow) -> tuple[Any, ...]:
        """The row's column values."""
        return dataclasses.astuple(row)

    def decode(self, record: Sequence[Any]) -> PolicyRow:
        """A row from its column values."""
        return PolicyRow(*record)
