"""The placement application: article 60 §7 and 61 jobs, ONEM's decisions, per case."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from services.common.aggregate import CommandContext, HandledCommand
from services.common.application import HubApplication, Outcome
from services.common.errors import DomainError
from services.placement.domain import PlacementFacts, PlacementFile

__all__ = [
    "CaseUnknownError",
    "PlacementApplication",
    "PlacementCommand",
    "nothing_created",
]

R = TypeVar("R")


class CaseUnknownError(DomainError):
    """The placement service has not heard of this case (yet)."""

    def __init__(self) -> None:
        super().__init__(
            "case_id",
            "case.unknown",
            "no case with this id is known to the placement service (not "
            "registered at intake, or its registration has not arrived yet)",
        )


class PlacementApplication(HubApplication):
    """Owns the placement files of cases (schema ``placement``)."""

    name = "placement"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        facts: Callable[[uuid.UUID], PlacementFacts | None],
        id_secret: str = "",
    ) -> None:
        super().__init__(env, digest_key=id_secret)
        self._facts = facts
        self._namespace = uuid.uuid5(
            uuid.NAMESPACE_URL, f"cpas-hub-placement:{id_secret}"
        )

    def facts(self, case_id: uuid.UUID) -> PlacementFacts:
        """What intake's events told this service about a case."""
        facts = self._facts(case_id)
        if facts is None:
            raise CaseUnknownError
        return facts

    def file_id(self, case_id: uuid.UUID) -> uuid.UUID:
        """The id of a case's placement file."""
        return uuid.uuid5(self._namespace, str(case_id))

    def get_file(
        self, case_id: uuid.UUID, *, current: bool = False
    ) -> PlacementFile | None:
        """The placement file of a case, None when nothing was recorded yet."""
        return self.get_stream(self.file_id(case_id), PlacementFile, current=current)

    def handle(
        self,
        command: PlacementCommand,
        decide: Callable[[PlacementFile, PlacementFacts], R],
        answer: Callable[[PlacementFile, HandledCommand], R],
    ) -> Outcome[R]:
        """Run one command on the case's file; a handled command does nothing."""
        case_id = command.case_id
        facts = self.facts(case_id)
        return self.execute(
            command,
            stream_id=self.file_id(case_id),
            cls=PlacementFile,
            start=lambda: PlacementFile.open(self.file_id(case_id), facts),
            decide=lambda file: decide(file, facts),
            answer=answer,
            kind=command.kind,
        )


@dataclass(frozen=True, slots=True)
class PlacementCommand:
    """One placement command: what it is, on which case (and contract), its fields.

    ``fields`` are what makes the command this one (its digest): the request
    as the caller sent it, or the event a policy reacts to.
    """

    context: CommandContext
    kind: str
    case_id: uuid.UUID
    fields: Any
    subject_id: uuid.UUID | None = None


def nothing_created(*_: object) -> None:
    """The answer to a retried command that created nothing."""
