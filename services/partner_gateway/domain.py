"""A case's partner file: each partner message recorded once, in the partner's order.

One stream per case. A message is identified by (partner, message id): the same
id again with the same content is a duplicate (nothing happens), with other
content it is refused. Each partner numbers its messages per person
(``sequence``); a message is recorded only when it is the next one, so that one
person's reports take effect in the order the partner sent them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from contracts.envelope import ContractEvent
from contracts.partner_reports import (
    BenefitRightReportedV1,
    JobSeekerRegisteredV1,
    JobSeekerRegistrationRejectedV1,
    PartnerEmploymentStartedV1,
    PartnerFollowUpReportedV1,
    PartnerReport,
    TrainingCompletedV1,
    TrainingEnrolledV1,
)
from services.common.aggregate import Aggregate, CommandContext
from services.common.errors import ConflictError

__all__ = ["REPORTS", "Outcome", "PartnerFile"]

# The event that records each kind of partner message.
REPORTS: dict[str, type[PartnerReport]] = {
    "registration_confirmed": JobSeekerRegisteredV1,
    "registration_rejected": JobSeekerRegistrationRejectedV1,
    "training_enrolled": TrainingEnrolledV1,
    "training_completed": TrainingCompletedV1,
    "employment_started": PartnerEmploymentStartedV1,
    "follow_up_report": PartnerFollowUpReportedV1,
    "benefit_right_decision": BenefitRightReportedV1,
}

Outcome = Literal["applied", "duplicate", "held"]


@dataclass(eq=False)
class PartnerFile(Aggregate):
    """The partner reports of one case."""

    received: dict[tuple[str, str], str] = field(default_factory=dict)
    last_sequence: dict[str, int] = field(default_factory=dict)

    def next_sequence(self, partner: str) -> int:
        """The sequence number the partner's next message must carry."""
        return self.last_sequence.get(partner, 0) + 1

    def check(
        self, *, partner: str, message_id: str, sequence: int, content_hash: str
    ) -> Outcome | None:
        """What receiving a message would do (None: record it now)."""
        known = self.received.get((partner, message_id))
        if known is not None:
            if known == content_hash:
                return "duplicate"
            raise ConflictError(
                "message_id",
                "message.duplicate_different_content",
                "a message with this id was already received with other content; "
                "a correction is a new message with its own id",
            )
        expected = self.next_sequence(partner)
        if sequence < expected:
            raise ConflictError(
                "sequence",
                "sequence.already_used",
                f"sequence {sequence} was already used by another message of "
                f"this partner for this person (next expected: {expected})",
            )
        return "held" if sequence > expected else None

    def receive(
        self,
        context: CommandContext,
        *,
        kind: str,
        partner: str,
        message_id: str,
        sequence: int,
        content_hash: str,
        fields: dict[str, Any],
    ) -> Outcome:
        """Record a partner message, or say why it is not recorded now."""
        outcome = self.check(
            partner=partner,
            message_id=message_id,
            sequence=sequence,
            content_hash=content_hash,
        )
        if outcome is not None:
            return outcome
        self.record(
            REPORTS[kind],
            context,
            partner=partner,
            partner_message_id=message_id,
            partner_sequence=sequence,
            partner_content_hash=content_hash,
            **fields,
        )
        return "applied"

    def apply(self, event: ContractEvent) -> None:
        """Fold one event into the file."""
        super().apply(event)
        if isinstance(event, PartnerReport):
            partner = str(event.partner)
            self.received[partner, event.partner_message_id] = (
                event.partner_content_hash
            )
            self.last_sequence[partner] = event.partner_sequence
