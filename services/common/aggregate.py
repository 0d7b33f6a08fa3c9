"""A small event-sourced aggregate base whose events are the contract models.

eventsourcing's ``Application.save()`` and ``Repository.get()`` accept any
object with ``id`` and ``collect_events()``; ours records contract events
directly, so what the aggregate emits is what is stored and published.

Every aggregate remembers the commands its events came from (their causation
id), with the command's digest and what it created: a retried command is
answered from the stream, and a command id reused for another command is
recognised, in any process, from the stored events alone.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self, TypeVar

from contracts.envelope import ContractEvent

__all__ = [
    "Aggregate",
    "CommandContext",
    "HandledCommand",
    "derive_event_id",
    "projector",
]

E = TypeVar("E", bound=ContractEvent)
A = TypeVar("A", bound="Aggregate")

_EVENT_NAMESPACE = uuid.UUID("6f1d2c1e-8a55-4f4e-9d7e-3b1f0e6c2a10")


def derive_event_id(stream_id: uuid.UUID, version: int) -> uuid.UUID:
    """The id of an event: the same on every republish (consumers dedupe on it)."""
    return uuid.uuid5(_EVENT_NAMESPACE, f"{stream_id}:{version}")


@dataclass(frozen=True, slots=True)
class CommandContext:
    """What every command carries besides its own fields."""

    command_id: uuid.UUID
    occurred_at: dt.datetime
    correlation_id: uuid.UUID | None = None
    # The day the command was given, when it is not the business date of
    # ``occurred_at`` (an evaluation keyed in after the interview): set at the
    # edge (an HTTP route) from the clock, never read from it by a rule.
    given_on: dt.date | None = None

    @property
    def correlation(self) -> uuid.UUID:
        """The correlation id, the command id when the caller gave none."""
        return self.correlation_id or self.command_id

    @property
    def today(self) -> dt.date:
        """The command's today: ``given_on``, else the date of ``occurred_at``."""
        return self.given_on or self.occurred_at.date()


@dataclass(frozen=True, slots=True)
class HandledCommand:
    """A command the stream's events came from."""

    digest: str | None  # None: recorded before digests existed
    created: uuid.UUID | None  # what its first creating event created


@dataclass(eq=False)
class Aggregate:
    """Base of the hub's aggregates: a stream of contract events."""

    # Per event type, the field holding what the command that recorded it
    # created (e.g. a new PIIS's id): a retry of that command answers it.
    creates: ClassVar[Mapping[type[ContractEvent], str]] = {}

    id: uuid.UUID
    case_id: uuid.UUID
    cpas_kbo: str
    version: int = 0
    handled: dict[uuid.UUID, HandledCommand] = field(default_factory=dict)
    _pending: list[ContractEvent] = field(default_factory=list, repr=False)
    _digest: str | None = field(default=None, repr=False)

    def begin_command(self, digest: str | None) -> None:
        """Stamp the events recorded from now on with the command's digest."""
        self._digest = digest

    def record(
        self, event_class: type[E], context: CommandContext, **payload: Any
    ) -> E:
        """Create the next event of this stream, apply it and keep it to save."""
        version = self.version + 1
        event = event_class(
            event_id=derive_event_id(self.id, version),
            occurred_at=context.occurred_at,
            stream_id=self.id,
            stream_version=version,
            case_id=self.case_id,
            cpas_kbo=self.cpas_kbo,
            correlation_id=context.correlation,
            causation_id=context.command_id,
            command_digest=self._digest,
            **payload,
        )
        self.apply(event)
        self._pending.append(event)
        return event

    def apply(self, event: ContractEvent) -> None:
        """Mutate the state for one event; subclasses extend it."""
        self.version = event.stream_version
        command = event.causation_id
        if command is None:
            return
        known = self.handled.get(command)
        name = self.creates.get(type(event))
        created = getattr(event, name) if name else None
        if known is None:
            self.handled[command] = HandledCommand(event.command_digest, created)
        elif known.created is None and created is not None:
            self.handled[command] = HandledCommand(known.digest, created)

    def has_pending_events(self) -> bool:
        """Whether the aggregate has new events to save."""
        return bool(self._pending)

    def pending_events(self) -> list[ContractEvent]:
        """The events recorded and not saved yet (left in place)."""
        return list(self._pending)

    def collect_events(self) -> list[ContractEvent]:
        """Hand the new events to the application (called by ``save``)."""
        events, self._pending = self._pending, []
        return events

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        # The repository copies cached aggregates for every command. State is
        # immutable values (frozen contract events, UUIDs, dates) or one level
        # of containers of them, so copying the containers is enough and
        # costs a fraction of copy.deepcopy's walk through pydantic models.
        clone = copy.copy(self)
        for name, value in vars(self).items():
            if isinstance(value, dict | list | set):
                setattr(clone, name, copy.copy(value))
        memo[id(self)] = clone
        return clone

    @classmethod
    def start(cls, first: ContractEvent) -> Self:
        """An empty aggregate for the first event of its stream."""
        return cls(id=first.stream_id, case_id=first.case_id, cpas_kbo=first.cpas_kbo)


def projector(cls: type[A]) -> Callable[[A | None, Iterable[Any]], A | None]:
    """The projector function ``Repository.get`` needs for an aggregate class."""

    def project(aggregate: A | None, events: Iterable[Any]) -> A | None:
        for event in events:
            if aggregate is None:
                aggregate = cls.start(event)
            aggregate.apply(event)
        return aggregate

    return project
