"""The placement application: article 60 §7 and 61 jobs, ONEM's decisions, per case."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping

from services.common.application import HubApplication
from services.common.errors import DomainError
from services.placement.domain import PlacementFacts, PlacementFile

__all__ = ["CaseUnknownError", "PlacementApplication"]


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
        super().__init__(env)
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

    def new_id(self, case_id: uuid.UUID, kind: str, command_id: uuid.UUID) -> uuid.UUID:
        """The id of a contract a command creates: the same on every retry."""
        return uuid.uuid5(self.file_id(case_id), f"{kind}:{command_id}")

    def get_file(self, case_id: uuid.UUID) -> PlacementFile | None:
        """The placement file of a case, None when nothing was recorded yet."""
        return self.get_stream(self.file_id(case_id), PlacementFile)

    def execute(
        self,
        case_id: uuid.UUID,
        command_id: uuid.UUID,
        decide: Callable[[PlacementFile, PlacementFacts], object],
    ) -> None:
        """Run one command on the case's file; a handled command does nothing."""
        facts = self.facts(case_id)
        self.act(
            command_id,
            lambda: self.get_file(case_id),
            lambda: PlacementFile.open(self.file_id(case_id), facts),
            lambda file: decide(file, facts),
        )
