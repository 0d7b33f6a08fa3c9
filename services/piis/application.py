"""The PIIS application: propose and sign integration contracts, grant exemptions."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from contracts.piis import Commitments, PiisType
from services.common.aggregate import CommandContext, projector
from services.common.application import HubApplication
from services.common.errors import DomainError
from services.piis.domain import CaseFacts, PiisFile

__all__ = [
    "CaseUnknownError",
    "GrantExemption",
    "PiisApplication",
    "ProposePiis",
    "SignPiis",
]


class CaseUnknownError(DomainError):
    """The PIIS service has not heard of this case (yet)."""

    def __init__(self) -> None:
        super().__init__(
            "case_id",
            "case.unknown",
            "no case with this id is known to the PIIS service (not registered at "
            "intake, or its registration has not arrived yet)",
        )


@dataclass(frozen=True, slots=True)
class ProposePiis:
    """Command: hand a draft PIIS to the person."""

    context: CommandContext
    case_id: uuid.UUID
    piis_type: PiisType
    proposed_on: dt.date
    start_date: dt.date
    planned_end_date: dt.date
    objectives: tuple[str, ...]
    commitments: Commitments
    evaluation_plan: tuple[dt.date, ...]
    caseworker: str


@dataclass(frozen=True, slots=True)
class SignPiis:
    """Command: record the signature of a proposed PIIS."""

    context: CommandContext
    case_id: uuid.UUID
    piis_id: uuid.UUID
    signed_on: dt.date
    reflection_waived: bool = False
    subsidy_code: str | None = None


@dataclass(frozen=True, slots=True)
class GrantExemption:
    """Command: dispense the person from a PIIS (health or equity)."""

    context: CommandContext
    case_id: uuid.UUID
    ground: str
    motivation: str
    decided_on: dt.date


_project = projector(PiisFile)


class PiisApplication(HubApplication):
    """Owns the PIIS files of cases (schema ``piis``)."""

    name = "piis"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        facts: Callable[[uuid.UUID], CaseFacts | None],
        id_secret: str = "",
    ) -> None:
        super().__init__(env)
        self._facts = facts
        self._namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"cpas-hub-piis:{id_secret}")

    def facts(self, case_id: uuid.UUID) -> CaseFacts | None:
        """What intake's events told this service about a case."""
        return self._facts(case_id)

    def file_id(self, case_id: uuid.UUID) -> uuid.UUID:
        """The id of a case's PIIS file."""
        return uuid.uuid5(self._namespace, str(case_id))

    def propose_piis(self, cmd: ProposePiis) -> uuid.UUID:
        """Propose a PIIS; a retry returns the same PIIS id."""
        self._act(
            cmd.case_id,
            cmd.context.command_id,
            lambda file, _: file.propose(
                cmd.context,
                piis_type=cmd.piis_type,
                proposed_on=cmd.proposed_on,
                start_date=cmd.start_date,
                planned_end_date=cmd.planned_end_date,
                objectives=cmd.objectives,
                commitments=cmd.commitments,
                evaluation_plan=cmd.evaluation_plan,
                caseworker=cmd.caseworker,
            ),
        )
        return uuid.uuid5(self.file_id(cmd.case_id), f"piis:{cmd.context.command_id}")

    def sign_piis(self, cmd: SignPiis) -> None:
        """Record a signature (bilan and reflection rules)."""
        self._act(
            cmd.case_id,
            cmd.context.command_id,
            lambda file, facts: file.sign(
                cmd.context,
                facts,
                piis_id=cmd.piis_id,
                signed_on=cmd.signed_on,
                reflection_waived=cmd.reflection_waived,
                subsidy_code=cmd.subsidy_code,
            ),
        )

    def grant_exemption(self, cmd: GrantExemption) -> None:
        """Dispense the person from the PIIS."""
        self._act(
            cmd.case_id,
            cmd.context.command_id,
            lambda file, _: file.grant_exemption(
                cmd.context,
                ground=cmd.ground,
                motivation=cmd.motivation,
                decided_on=cmd.decided_on,
            ),
        )

    def get_file(self, case_id: uuid.UUID) -> PiisFile | None:
        """The PIIS file of a case, None when nothing was recorded yet."""
        try:
            file: Any = self.repository.get(
                self.file_id(case_id), projector_func=_project
            )
        except AggregateNotFoundError:
            return None
        return file if isinstance(file, PiisFile) else None

    def _act(
        self,
        case_id: uuid.UUID,
        command_id: uuid.UUID,
        decide: Callable[[PiisFile, CaseFacts], object],
    ) -> None:
        facts = self._facts(case_id)
        if facts is None:
            raise CaseUnknownError
        file = self.get_file(case_id) or PiisFile.open(self.file_id(case_id), facts)
        if command_id in file.handled:
            return
        decide(file, facts)
        try:
            self.save(file)
        except IntegrityError:
            self.forget(file.id)
            self._act(case_id, command_id, decide)
