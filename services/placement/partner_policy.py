"""ONEM's decision reaches the placement service through the partner channel.

The partner gateway records what a regional employment service reported
(BenefitRightReported); this policy records it on the person's placement file
as BenefitRightOpened or BenefitRightRefused with the channel ``partner``
(ONEM decides, never the CPAS; ADR 0008). A decision the placement rules refuse
(e.g. a right starting before the last contract ended) is parked with the rule
as reason.
"""

from __future__ import annotations

from contracts.envelope import ContractEvent
from contracts.partner_reports import BenefitRightReportedV1
from services.common.consumer import NotYetError
from services.common.policy import Policy
from services.placement.application import (
    CaseUnknownError,
    PlacementApplication,
    PlacementCommand,
    nothing_created,
)

__all__ = ["BenefitRightPolicy"]


class BenefitRightPolicy(Policy):
    """Records ONEM's decisions reported by partners."""

    name = "benefit-right-policy"
    table = "partner_policy"

    def __init__(self, app: PlacementApplication) -> None:
        self._app = app

    def react(self, event: ContractEvent) -> str | None:
        """Record one reported decision (other partner reports are not ours)."""
        if not isinstance(event, BenefitRightReportedV1):
            return None
        context = self.reaction_context(event)
        try:
            self._app.handle(
                PlacementCommand(
                    context, "BenefitRightReported", event.case_id, event.event_id
                ),
                lambda file, facts: file.record_benefit_right(
                    context,
                    facts,
                    opened=event.decision == "opened",
                    channel="partner",
                    evidence=event.evidence,
                    onem_decision_date=event.onem_decision_date,
                    onem_reference=event.onem_reference,
                    work_days_counted=event.work_days_counted,
                    right_start_date=event.right_start_date,
                    payment_institution=event.payment_institution,
                    reason=event.reason,
                ),
                nothing_created,
            )
        except CaseUnknownError:
            raise NotYetError(str(event.case_id)) from None
        return f"recorded ONEM's decision ({event.decision}) from {event.partner}"
