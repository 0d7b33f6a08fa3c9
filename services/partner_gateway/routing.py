"""Which partner hears of a hub event, and the hand-over when a case changes hands.

Pure: the case's routing facts and one event in, the facts after it and the
messages it means out (each with the facts it is addressed with). No I/O, no
clock, so the live fold and a rebuild decide alike.

* **By the event's date.** A case's facts keep, oldest first, the periods of
  its residence and CPAS file (``Period``). An event of the PIIS or placement
  services goes to the partner of the period its business date falls in, with
  that period's CPAS and file number: a fact dated after a move reaches the new
  partner only; one dated before it, the partner that followed the person then.
* **A move that changes the region** opens a period from the day of the move.
  The partner that holds the case's registration request is sent a closure
  (``case_closed``, dated the day of the move); the new partner, if the income
  right is active, the registration request a new case would get.
* **A transfer to another CPAS** opens a period with the new CPAS and file
  number: the partner holding the registration is sent a closure for the old
  file; the new CPAS's grant then registers the person again.
* **The registration request of a grant** goes to the partner responsible now
  (the last period): it asks for a registration, which only that partner can
  take.
* **An erasure** (``CaseErasedV1``) is told to the partner that holds the
  file: the one sent a registration request and no closure since
  (``registered_with``; a hand-over closes the old holder first, so it is
  the partner of the last period). The notice (``case_erased``) names the
  case, the CPAS and its file number, no personal data. A file no partner
  holds (never registered, or closed since) is told to none. The facts stay
  as they are: the erasure purges their personal data, and nothing is
  sealed for an erased person any more.
"""

from __future__ import annotations

import dataclasses
from typing import TypeAlias

from contracts.envelope import ContractEvent
from contracts.income import IncomeRightGrantedV1, IncomeRightWithdrawnV1
from contracts.intake import CaseErasedV1, CaseTransferredV1, ResidenceChangedV1
from services.partner_gateway.canonical import (
    CanonicalOutbound,
    ClosureReason,
    Period,
    RoutingFacts,
    case_closed,
    case_erased,
    occurred_on,
    outbound_for,
    registration_request,
)

__all__ = ["FACT_EVENTS", "Addressed", "route"]

Addressed: TypeAlias = tuple[CanonicalOutbound, RoutingFacts]
"""A message and the facts it is addressed with (its partner, CPAS and file)."""

FACT_EVENTS = (ResidenceChangedV1, CaseTransferredV1, IncomeRightWithdrawnV1)
"""Events that change the routing facts without being told to a partner as such."""


def route(
    event: ContractEvent, facts: RoutingFacts
) -> tuple[RoutingFacts, tuple[Addressed, ...]]:
    """The facts after an event, and the messages it means for partners."""
    match event:
        case IncomeRightGrantedV1():
            message = outbound_for(event, facts)
            granted = dataclasses.replace(
                facts,
                registered_with=facts.partner,
                income_kind=event.kind,
                granted_on=event.decision_date,
            )
            return granted, () if message is None else ((message, facts),)
        case IncomeRightWithdrawnV1():
            return dataclasses.replace(facts, income_kind=None, granted_on=None), ()
        case ResidenceChangedV1() if str(event.partner) != facts.partner:
            period = dataclasses.replace(
                facts.current(),
                since=event.moved_on,
                region=str(event.region),
                partner=str(event.partner),
            )
            return _hand_over(event, facts, period, "moved_to_other_region")
        case ResidenceChangedV1():
            return facts, ()  # the same region: the same partner
        case CaseTransferredV1():
            period = dataclasses.replace(
                facts.current(),
                since=event.transferred_on,
                cpas_kbo=event.cpas_kbo,
                dossier_number=event.dossier_number,
            )
            return _hand_over(event, facts, period, "transferred_to_other_cpas")
        case _:
            return facts, _told(event, facts)


def _told(event: ContractEvent, facts: RoutingFacts) -> tuple[Addressed, ...]:
    """The message of an event that leaves the facts as they are, if any.

    An erasure: the notice of the partner holding the file, if one does (a
    hand-over closes the old holder before it registers the new one, so the
    holder is the partner of the last period). Any other event: the message
    of the partner of its date.
    """
    if isinstance(event, CaseErasedV1):
        if facts.registered_with != facts.partner:
            return ()  # never registered, or closed since
        return ((case_erased(event, facts), facts),)
    addressed = facts.on(occurred_on(event))
    message = outbound_for(event, addressed)
    return () if message is None else ((message, addressed),)


def _hand_over(
    event: ContractEvent, before: RoutingFacts, period: Period, reason: ClosureReason
) -> tuple[RoutingFacts, tuple[Addressed, ...]]:
    """A new period from its date: the old holder closes, the new one registers."""
    periods = before.periods or (before.current(),)
    after = dataclasses.replace(
        before.since(period), periods=(*periods, period), registered_with=None
    )
    messages: list[Addressed] = []
    if before.registered_with is not None:
        # The history as it is now, addressed as the case was until the change.
        holder = after.since(before.current())
        closure = case_closed(event, holder, reason=reason, day=period.since)
        messages.append((closure, holder))
    if before.income_kind is not None and before.granted_on is not None:
        registration = registration_request(
            event,
            after,
            income_kind=before.income_kind,
            granted_on=before.granted_on,
            day=period.since,
        )
        messages.append((registration, after))
        after = dataclasses.replace(after, registered_with=after.partner)
    return after, tuple(messages)
