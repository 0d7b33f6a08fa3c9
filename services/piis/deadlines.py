"""The PIIS deadlines the watch looks for, each judged by the figures of its dates.

* **Signature, per compulsory grant** (law of 26 May 2002 art. 11, as amended
  by the law of 21 July 2016): every grant of the income that makes a PIIS
  compulsory is watched on its own, three months from its decision (the
  figure ``piis.sign_months`` in force on the decision). It is met by the
  first PIIS signed on or after that decision (and before the next grant)
  within those months, or by an exemption decided for it (on or after its
  decision, before the next grant). A grant whose right was withdrawn on or
  before its due date is not due. Unmet, it is flagged ``piis_not_signed``
  the day after its due date; a PIIS signed after the due date is flagged
  once more, ``piis_signed_late``.
* **Evaluations over the PIIS's whole life** (royal decree of 11 July 2002
  art. 11, as amended on 3 October 2016): every twelve months of a PIIS, on a
  rolling basis, hold at least three evaluations, two of them in person.
  Each window runs from a day of the PIIS to the same day twelve months later,
  both included, judged by the figures in force on its first day; only the
  windows the PIIS lived through (ended, or over by today) are judged. The
  first short window is flagged (its due date is its last day) and the search
  goes on from that day, so a PIIS without evaluations is flagged once a year,
  not every day. A PIIS that ended before living one whole window is judged
  pro rata, on what it lived: one evaluation for every whole twelfth of the
  yearly count's period lived (three a year: one per four whole months lived),
  one in person likewise (two a year: one per six whole months). A PIIS that
  lasted five weeks owes none; one of eight months owes two, one in person.
  Whole periods rather than rounding up, because the law sets a yearly
  minimum, not a date for each evaluation.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from services.common.law import LAW, add_months
from services.piis.case_facts import IncomeGrant

__all__ = [
    "Deadline",
    "DeadlineKind",
    "PiisLife",
    "Signature",
    "evaluation_deadlines",
    "signature_deadlines",
]

ONE_DAY = dt.timedelta(days=1)

DeadlineKind = Literal[
    "piis_not_signed",
    "piis_signed_late",
    "evaluations_missing",
    "social_activation_evaluation",
]


@dataclass(frozen=True, slots=True)
class Deadline:
    """A deadline that passed unmet (or was met late)."""

    kind: DeadlineKind
    due_on: dt.date
    piis_id: uuid.UUID | None = None
    caseworker: str | None = None
    right_id: uuid.UUID | None = None
    signed_on: dt.date | None = None
    window_start: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Signature:
    """A PIIS signed, and the caseworker following it."""

    piis_id: uuid.UUID
    signed_on: dt.date
    caseworker: str | None


@dataclass(frozen=True, slots=True)
class PiisLife:
    """A signed PIIS: from its start to its end (None while in force)."""

    piis_id: uuid.UUID
    caseworker: str | None
    start: dt.date
    ended_on: dt.date | None
    evaluations: Sequence[tuple[dt.date, bool]]  # (day, in person)


def signature_deadlines(
    grants: Iterable[IncomeGrant],
    signatures: Iterable[Signature],
    exemptions: Iterable[dt.date],
    today: dt.date,
) -> list[Deadline]:
    """The compulsory grants whose PIIS was not signed in time, by ``today``."""
    ordered = sorted(grants, key=lambda g: g.decided_on)
    signed = sorted(signatures, key=lambda s: s.signed_on)
    exempted = tuple(exemptions)
    missed = []
    for grant, following in itertools.zip_longest(ordered, ordered[1:]):
        if not grant.compulsory:
            continue
        months = LAW.value("piis.sign_months", grant.decided_on, field="decision_date")
        due = add_months(grant.decided_on, months)
        withdrawn = grant.withdrawn_on is not None and grant.withdrawn_on <= due
        if today <= due or withdrawn:
            continue
        until = following.decided_on if following is not None else dt.date.max

        def answers(
            day: dt.date, grant: IncomeGrant = grant, until: dt.date = until
        ) -> bool:
            return grant.decided_on <= day < until

        if any(answers(day) for day in exempted):
            continue
        first = next((s for s in signed if answers(s.signed_on)), None)
        if first is None:
            missed.append(Deadline("piis_not_signed", due, right_id=grant.right_id))
        elif first.signed_on > due:
            missed.append(
                Deadline(
                    "piis_signed_late",
                    due,
                    first.piis_id,
                    first.caseworker,
                    right_id=grant.right_id,
                    signed_on=first.signed_on,
                )
            )
    return missed


def _window(start: dt.date) -> tuple[dt.date, int, int, int]:
    """A window from ``start``: its last day, months, evaluations, in person."""
    months = LAW.value("piis.evaluation_window_months", start, field="evaluated_on")
    return (
        add_months(start, months),
        months,
        LAW.value("piis.evaluations_per_window", start, field="evaluated_on"),
        LAW.value("piis.in_person_per_window", start, field="evaluated_on"),
    )


def _short(
    life: PiisLife, first: dt.date, last: dt.date, evaluations: int, in_person: int
) -> bool:
    held = [person for day, person in life.evaluations if first <= day <= last]
    return len(held) < evaluations or sum(held) < in_person


def _first_short_window(
    life: PiisLife, after: dt.date, today: dt.date
) -> Deadline | None:
    # The fewest evaluations a window from ``after`` on can hold is found in
    # one that starts on ``after`` or the day after an evaluation: moving a
    # window's start back to the previous such day loses no evaluation.
    starts = {after} | {day + ONE_DAY for day, _ in life.evaluations if day >= after}
    for start in sorted(starts):
        last, _, evaluations, in_person = _window(start)
        if last >= today or (life.ended_on is not None and last > life.ended_on):
            continue  # not lived through (yet)
        if _short(life, start, last, evaluations, in_person):
            return Deadline(
                "evaluations_missing",
                last,
                life.piis_id,
                life.caseworker,
                window_start=start,
            )
    return None


def _whole_months(start: dt.date, last: dt.date) -> int:
    months = 0
    while add_months(start, months + 1) <= last + ONE_DAY:
        months += 1
    return months


def evaluation_deadlines(life: PiisLife, today: dt.date) -> list[Deadline]:
    """The windows of a PIIS's life short of evaluations, by ``today``."""
    missed: list[Deadline] = []
    after = life.start
    while (found := _first_short_window(life, after, today)) is not None:
        missed.append(found)
        after = found.due_on
    ended = life.ended_on
    if ended is None or ended >= today:
        return missed
    last, months, evaluations, in_person = _window(life.start)
    if last <= ended:
        return missed  # it lived whole windows: judged on them
    lived = _whole_months(life.start, ended)
    owed = (evaluations * lived // months, in_person * lived // months)
    if _short(life, life.start, ended, *owed):
        missed.append(
            Deadline(
                "evaluations_missing",
                ended,
                life.piis_id,
                life.caseworker,
                window_start=life.start,
            )
        )
    return missed
