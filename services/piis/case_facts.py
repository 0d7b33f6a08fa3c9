"""What the PIIS service knows of a case from intake's events (ADR 0007).

Every bilan with its date and scores, and every income grant with its
decision, its PIIS obligation and its withdrawal: the rules judge each against
the date it concerns (a signature, a grant, a trajectory's start), so none of
them is reduced to "the first" or "the latest".
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

__all__ = ["Bilan", "CaseFacts", "IncomeGrant"]


@dataclass(frozen=True, slots=True)
class Bilan:
    """A completed bilan: its date and the baseline scores it measured."""

    completed_on: dt.date
    scores: dict[str, int] | None = None


@dataclass(frozen=True, slots=True)
class IncomeGrant:
    """One grant of the income: its decision, PIIS obligation and withdrawal."""

    right_id: uuid.UUID
    decided_on: dt.date
    obligation: str
    withdrawn_on: dt.date | None = None  # first day without the right

    @property
    def compulsory(self) -> bool:
        """Whether the grant makes a PIIS compulsory (law of 26 May 2002 art. 11)."""
        return self.obligation.startswith("compulsory")


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the PIIS service knows of a case from intake's events."""

    case_id: uuid.UUID
    cpas_kbo: str
    dossier_number: str = ""
    bilans: tuple[Bilan, ...] = ()
    grants: tuple[IncomeGrant, ...] = ()

    @property
    def first_bilan_on(self) -> dt.date | None:
        """The date of the earliest bilan, None before any."""
        return min((b.completed_on for b in self.bilans), default=None)

    def baseline_on(self, day: dt.date) -> Bilan | None:
        """The latest bilan with baseline scores completed on or before ``day``.

        Of two bilans of the same day, the one recorded later.
        """
        measured = [b for b in self.bilans if b.scores and b.completed_on <= day]
        return max(reversed(measured), key=lambda b: b.completed_on, default=None)
