"""The ISP trajectory of a case: one current phase, every change with a reason and date.

Phases follow the Molenbeek table (docs/domain/trajectory-and-activation.md#isp-phases):
facilitator (1), literacy (2),
studies/training (3), employment (4), article 60, plus social activation and
the exits. Moves are free in any order, but each starts from the phase the case
is in (docs/domain/trajectory-and-activation.md#phase-changes) and the history
is kept for as-of queries.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from contracts.envelope import ContractEvent
from contracts.piis import Phase, PhaseChangedV1
from services.common.aggregate import Aggregate, CommandContext
from services.common.errors import ConflictError, DomainError

__all__ = ["EXITS", "TrajectoryFile"]

EXITS: frozenset[Phase] = frozenset(
    {"exit_employed", "exit_left_cpas", "exit_exempted"}
)


@dataclass(eq=False)
class TrajectoryFile(Aggregate):
    """The trajectories of one case (one stream), at most one active."""

    creates: ClassVar[Mapping[type[ContractEvent], str]] = {
        PhaseChangedV1: "trajectory_id"
    }

    trajectory_id: uuid.UUID | None = None
    phase: Phase | None = None
    since: dt.date | None = None
    dossier_number: str = ""

    def begin(
        self,
        context: CommandContext,
        *,
        dossier_number: str,
        phase: Phase,
        effective_date: dt.date,
        reason: str,
        decided_by: str,
    ) -> uuid.UUID:
        """Open a trajectory in its first phase."""
        if self.trajectory_id is not None:
            raise ConflictError(
                "case_id",
                "trajectory.already_active",
                "the dossier already has an active trajectory; one at a time "
                "(a hub rule: each file sits in exactly one phase of the Molenbeek "
                "table)",
            )
        if phase in EXITS:
            raise DomainError(
                "to_phase",
                "trajectory.starts_with_exit",
                "a trajectory cannot start with an exit",
            )
        if self.since is not None and effective_date < self.since:
            raise DomainError(
                "effective_date",
                "trajectory.before_last_change",
                "the dossier's history already has a later change",
            )
        trajectory_id = uuid.uuid5(self.id, f"trajectory:{context.command_id}")
        self.record(
            PhaseChangedV1,
            context,
            trajectory_id=trajectory_id,
            dossier_number=dossier_number,
            from_phase=None,
            to_phase=phase,
            effective_date=effective_date,
            reason=reason,
            decided_by=decided_by,
        )
        return trajectory_id

    def change(
        self,
        context: CommandContext,
        *,
        from_phase: Phase,
        to_phase: Phase,
        effective_date: dt.date,
        reason: str,
        decided_by: str,
    ) -> None:
        """Move the dossier from its current phase to another (or to an exit)."""
        if self.trajectory_id is None:
            raise DomainError(
                "case_id",
                "trajectory.none_active",
                "the dossier has no active trajectory",
            )
        if from_phase != self.phase:
            raise DomainError(
                "from_phase",
                "trajectory.wrong_from_phase",
                f"the dossier is in phase {self.phase}, not {from_phase}; a change "
                f"starts from the current phase (a hub rule: the trajectory's history "
                f"stays one line)",
            )
        if to_phase == from_phase:
            raise DomainError(
                "to_phase",
                "trajectory.same_phase",
                "the dossier is already in this phase",
            )
        if self.since is not None and effective_date < self.since:
            raise DomainError(
                "effective_date",
                "trajectory.before_last_change",
                "a change cannot take effect before the current phase began",
            )
        self.record(
            PhaseChangedV1,
            context,
            trajectory_id=self.trajectory_id,
            dossier_number=self.dossier_number,
            from_phase=from_phase,
            to_phase=to_phase,
            effective_date=effective_date,
            reason=reason,
            decided_by=decided_by,
        )

    def apply(self, event: ContractEvent) -> None:
        """Fold one event into the file."""
        super().apply(event)
        if isinstance(event, PhaseChangedV1):
            self.dossier_number = event.dossier_number
            self.since = event.effective_date
            if event.to_phase in EXITS:
                self.trajectory_id, self.phase = None, None
            else:
                self.trajectory_id, self.phase = event.trajectory_id, event.to_phase
