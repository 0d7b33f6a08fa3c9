"""A PIIS sanction becomes, once, the payment suspension it decides.

The PIIS service decides a sanction for a PIIS not respected, after formal
notice and a hearing (law of 26 May 2002 art. 30 §2); intake pays the income,
so intake records the suspension. This policy reads the PIIS events and turns
each ``hub.piis.sanction.decided.v1`` into a ``piis_sanction`` suspension of
the same period, from the first day of the second month after the decision.
The command id is the decision's event id and the suspension names that event,
so a redelivered decision finds it carried out and a decision is never carried
out twice. A decision intake cannot carry out (no income right any more, a
period art. 30 does not allow) is parked with the rule as its reason.
"""

from __future__ import annotations

from contracts.envelope import ContractEvent
from contracts.piis import PiisSanctionDecidedV1
from services.common.consumer import NotYetError
from services.common.policy import Policy
from services.intake.application import (
    CaseNotFoundError,
    IntakeApplication,
    SuspendIncomePayment,
)

__all__ = ["SanctionPolicy"]


class SanctionPolicy(Policy):
    """Carries out PIIS sanctions as payment suspensions."""

    name = "sanction-policy"
    table = "sanction_policy"

    def __init__(self, app: IntakeApplication) -> None:
        self._app = app

    def react(self, event: ContractEvent) -> str | None:
        """Carry out one decided sanction (other PIIS events are not ours)."""
        if not isinstance(event, PiisSanctionDecidedV1):
            return None
        context = self.reaction_context(event)
        try:
            outcome = self._app.suspend_income_payment(
                SuspendIncomePayment(
                    context,
                    event.case_id,
                    "piis_sanction",
                    event.starts_on,
                    event.ends_on,
                    stay_of_execution=event.stay_of_execution,
                    decided_on=event.decided_on,
                    extent=event.extent,
                    partial_percent=event.partial_percent,
                    sanction=event,
                )
            )
        except CaseNotFoundError:
            raise NotYetError(str(event.case_id)) from None
        if not outcome.stored:
            return "already carried out"
        return f"payment suspended {event.starts_on} to {event.ends_on}"
