"""The partners part: the job-seeker registration as the partner reported it.

From the partner gateway's events (each a partner's message, applied in the
partner's order); the partner's id of the person and its free-text reasons
are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts.case_state import PartnerRegistration
from contracts.envelope import ContractEvent
from contracts.partner_reports import (
    JobSeekerRegisteredV1,
    JobSeekerRegistrationRejectedV1,
)
from services.case_state.parts import Part, PartFold
from services.common.http import BRUSSELS

__all__ = ["PartnersFold", "PartnersPart"]


@dataclass(frozen=True, slots=True)
class PartnersPart(Part):
    """What the partners reported of the case."""

    registration: PartnerRegistration | None = None


class PartnersFold(PartFold[PartnersPart]):
    """Folds the partner gateway's events into the partners part."""

    service = "partners"
    part = PartnersPart

    def fold(
        self, part: PartnersPart | None, event: ContractEvent
    ) -> PartnersPart | None:
        """The part after one partner report (None: not about the registration)."""
        if not isinstance(
            event, JobSeekerRegisteredV1 | JobSeekerRegistrationRejectedV1
        ):
            return None
        registered = isinstance(event, JobSeekerRegisteredV1)
        registration = PartnerRegistration(
            partner=event.partner,
            status="registered" if registered else "rejected",
            registered_on=getattr(event, "registered_on", None),
            reported_on=event.occurred_at.astimezone(BRUSSELS).date(),
            partner_sequence=event.partner_sequence,
        )
        base = part or PartnersPart(cpas_kbo=event.cpas_kbo)
        return base.evolve(event, registration=registration)

    def sections(self, part: PartnersPart) -> dict[str, Any]:
        """The partner registration."""
        return {"partner_registration": part.registration}
