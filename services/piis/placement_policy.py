"""The trajectory follows article 60 contracts: a policy on the placement events.

Article60Started moves the dossier's phase to "article_60"; the contract's end
moves it on (issue "Placement", point 3). The PIIS service owns trajectories,
so it decides from the placement events it consumes, never from the placement
service's tables. Each reaction is a trajectory command whose id is the
triggering event's id: a redelivered event finds it handled and does nothing,
and the phase change names the event as its cause.

The policy is a fold projection on ``hub.placement.events.v1``, so the consumer
framework gives it per-stream positions (duplicates skipped, gaps held back)
and dead letters; its table keeps, per case, the last reaction for operators.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from contracts.envelope import ContractEvent
from contracts.piis import Phase
from contracts.placement import Article60EndedV1, Article60EndReason, Article60StartedV1
from services.common.consumer import NotYetError
from services.common.errors import DomainError
from services.common.policy import Policy
from services.piis.application import (
    CaseUnknownError,
    ChangePhase,
    PiisApplication,
    StartTrajectory,
)

__all__ = ["PHASE_AFTER_ARTICLE_60", "TrajectoryPolicy"]

DECIDED_BY: Final = "policy:placement"
# Where a dossier goes when its article 60 contract ends, by the end's reason:
# hired elsewhere is an exit to employment; leaving the CPAS's territory or
# death closes the trajectory; every other end returns the person to the
# employment phase (job search with the regional partner while ONEM decides).
PHASE_AFTER_ARTICLE_60: Final[dict[Article60EndReason, Phase]] = {
    "required_days_reached": "employment",
    "hired_elsewhere": "exit_employed",
    "resigned": "employment",
    "dismissed": "employment",
    "health": "employment",
    "moved_away": "exit_left_cpas",
    "death": "exit_left_cpas",
    "other": "employment",
}


class TrajectoryPolicy(Policy):
    """Turns article 60 starts and ends into phase changes of the dossier."""

    name = "trajectory-policy"
    table = "placement_policy"

    def __init__(self, app: PiisApplication) -> None:
        self._app = app

    def react(self, event: ContractEvent) -> str | None:
        """React to one placement event (others are not this policy's business)."""
        match event:
            case Article60StartedV1():
                target: Phase = "article_60"
                day = event.start_date
                why = f"article 60 §7 contract {event.contract_id} started"
            case Article60EndedV1():
                target = PHASE_AFTER_ARTICLE_60[event.reason]
                day = event.ended_on + dt.timedelta(days=1)
                why = (
                    f"article 60 §7 contract {event.contract_id} ended: {event.reason}"
                )
            case _:
                return None
        try:
            return self._move(event, target, day, why)
        except CaseUnknownError:
            # Intake's registration has not reached this service yet.
            raise NotYetError(str(event.case_id)) from None
        except DomainError as error:
            if error.rule != "trajectory.wrong_from_phase":
                raise
            # A caseworker moved the dossier between our read and our write:
            # decide again on the fresh trajectory when the batch comes back.
            raise NotYetError(str(event.case_id)) from None

    def _move(self, event: ContractEvent, target: Phase, day: dt.date, why: str) -> str:
        context = self.reaction_context(event)
        # Fresh, not the cached copy: another PIIS process may have reacted to
        # this event (and moved the dossier) since this one cached it; a
        # reaction decided on stale state gets another digest (command_id.reused).
        trajectory = self._app.get_trajectory(event.case_id, current=True)
        if trajectory is not None and event.event_id in trajectory.handled:
            return "already handled"
        current = trajectory.phase if trajectory is not None else None
        since = trajectory.since if trajectory is not None else None
        effective = max(day, since) if since is not None else day
        if current is None:
            if isinstance(event, Article60EndedV1):
                return "no active trajectory: nothing to move on"
            self._app.start_trajectory(
                StartTrajectory(
                    context, event.case_id, target, effective, why, DECIDED_BY
                )
            )
            return f"started in {target}"
        if isinstance(event, Article60EndedV1) and current != "article_60":
            return f"left alone: the dossier is in {current}, not article_60"
        if current == target:
            return f"already in {target}"
        self._app.change_phase(
            ChangePhase(
                context, event.case_id, current, target, effective, why, DECIDED_BY
            )
        )
        return f"moved from {current} to {target}"
