"""The forms SPP IS must hear of, submitted as the intake and PIIS events arrive.

A policy of the partner gateway (ADR 0008, 0021): for a grant, a modification,
a withdrawal, a refused application or a PIIS signed with its subsidy code, it
submits the form the event means on the case's federal file
(``PartnersApplication.submit_federal_form``, the event's id as command id: a
redelivery submits nothing twice); for a recovery, one form D per month of
reference, each its own command (the event's id and the month). The person's
NISS and the CPAS come from the gateway's routing facts (not there yet: the
event comes back later); the INS code of the CPAS's municipality from
``HUB_CPAS_INS_CODES``. An event whose form breaks a rule (no INS code
configured, a PIIS code not in use on its date…) is parked with the rule as
reason, and re-driven once the cause is fixed.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable, Mapping

from contracts.envelope import ContractEvent
from services.common.consumer import NotYetError
from services.common.errors import DomainError
from services.common.policy import Policy
from services.partner_gateway.application import PartnersApplication
from services.partner_gateway.canonical import RoutingFacts
from services.partner_gateway.partners import spp_is

__all__ = ["FederalReportingPolicy", "ins_codes"]

FindCase = Callable[[uuid.UUID], RoutingFacts | None]


def ins_codes(raw: str) -> Mapping[str, str]:
    """``HUB_CPAS_INS_CODES``: a JSON object, CPAS KBO number → INS code."""
    found = json.loads(raw) if raw.strip() else {}
    if not isinstance(found, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in found.items()
    ):
        raise ValueError("HUB_CPAS_INS_CODES: a JSON object of KBO → INS code")
    return found


class FederalReportingPolicy(Policy):
    """Submits SPP IS's forms for the income and PIIS decisions."""

    name = "federal-reporting-policy"
    table = "federal_policy"

    def __init__(
        self,
        app: PartnersApplication,
        find_case: FindCase,
        cpas_ins_codes: Mapping[str, str],
    ) -> None:
        self._app = app
        self._find_case = find_case
        self._ins = cpas_ins_codes

    def react(self, event: ContractEvent) -> str | None:
        """Submit the form an event means (None: the event means none)."""
        if not isinstance(event, spp_is.FORM_EVENTS) or not self._ins:
            # No INS code configured at all: this hub does not report to the
            # SPP IS, and parking every case's events would say nothing more.
            return None
        case = self._find_case(event.case_id)
        if case is None:
            raise NotYetError(str(event.case_id))
        ins_code = self._ins.get(event.cpas_kbo)
        if ins_code is None:
            raise DomainError(
                "cpas_kbo",
                "federal_form.cpas_ins_code_missing",
                "no INS code is configured for this CPAS (HUB_CPAS_INS_CODES); "
                "every SPP IS form names the CPAS's municipality by it (SPP IS, "
                "forms B, C and D, docs/domain/identifiers.md#ins-municipality-code)",
            )
        facts = spp_is.FederalFacts(
            case_id=event.case_id,
            cpas_kbo=event.cpas_kbo,
            cpas_ins_code=ins_code,
            niss=case.niss,
        )
        context = self.reaction_context(event)
        sent: list[str] = []
        for key, build in spp_is.forms_for(event, facts):
            submitted = self._app.submit_federal_form(
                event.case_id,
                event.cpas_kbo,
                dataclasses.replace(context, command_id=uuid.uuid5(event.event_id, key))
                if key
                else context,
                build=build,
                sources=(event.event_id,),
            )
            if submitted is not None:
                sent.append(f"{submitted[1]['formulaire']} {submitted[0]}")
        if not sent:
            return "no form"
        return f"submitted form {', '.join(sent)}"
