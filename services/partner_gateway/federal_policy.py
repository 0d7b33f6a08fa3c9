"""The forms SPP IS must hear of, submitted as the intake and PIIS events arrive.

A policy of the partner gateway (ADR 0008, 0021): for a grant, a modification,
a withdrawal or a refused application, it submits the form the event means on
the case's federal file (``PartnersApplication.submit_federal_form``, the
event's id as command id: a redelivery submits nothing twice); for a recovery,
one form D per month of reference, each its own command (the event's id and
the month). Then, after any event that moves the PIIS subsidy (the income, a
PIIS signed or ended, an evaluation with the prolongation's motivation), it
brings the PIIS code SPP IS holds in line with the subsidy ledger's periods
(``subsidies.piis_code_periods``: 11, 17 or none from a day), a form B per
day whose code differs (the event's id and the day: its own command). For
that it keeps, per case in its table, the ledger's facts of those events
(never free text), and the partners its grants name: a partner's PIIS
counts for the household (one subsidy), so a partner's event aligns the
cases that name it too (their own command per case and day). The person's
NISS and the CPAS come from the gateway's routing facts (not there yet: the
event comes back later); the INS code of the CPAS's municipality from
``HUB_CPAS_INS_CODES``. An event whose form breaks a rule (no INS code
configured, a PIIS code not in use on its date…) is parked with the rule as
reason, and re-driven once the cause is fixed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from contracts.envelope import ContractEvent
from services.case_state import subsidies
from services.common.consumer import NotYetError
from services.common.errors import DomainError
from services.common.policy import Policy, PolicyRow
from services.partner_gateway.application import PartnersApplication
from services.partner_gateway.canonical import RoutingFacts, occurred_on
from services.partner_gateway.partners import spp_is

__all__ = ["FederalPolicyRow", "FederalReportingPolicy", "ins_codes"]

FindCase = Callable[[uuid.UUID], RoutingFacts | None]
FindRow = Callable[[uuid.UUID], PolicyRow | None]
FindRows = Callable[[uuid.UUID], Sequence[PolicyRow]]
KEPT: Final = frozenset(
    {"grant", "modified", "withdrawn", "signed", "ended", "motivated"}
)
"""The ledger's facts the PIIS code periods are made of (``piis_code_periods``)."""
_FACTS: Final = subsidies.SubsidyProjection()


def _no_row(_: uuid.UUID) -> PolicyRow | None:
    return None


def _no_rows(_: uuid.UUID) -> Sequence[PolicyRow]:
    return ()


@dataclass(frozen=True, slots=True)
class FederalPolicyRow(PolicyRow):
    """The last reaction for a case, and the case's facts the PIIS code needs."""

    facts: tuple[subsidies.Fact, ...] = ()


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
    columns: ClassVar[tuple[tuple[str, str], ...]] = (
        *Policy.columns,
        ("facts", "jsonb NOT NULL DEFAULT '[]'"),
        # The partners its grants name: whose PIIS events concern it too.
        ("partners", "uuid[] NOT NULL DEFAULT '{}'"),
    )

    def __init__(
        self,
        app: PartnersApplication,
        find_case: FindCase,
        cpas_ins_codes: Mapping[str, str],
        find_facts: FindRow = _no_row,
        find_households: FindRows = _no_rows,
    ) -> None:
        """``find_facts``, ``find_households``: read this policy's own table."""
        self._app = app
        self._find_case = find_case
        self._ins = cpas_ins_codes
        self._find_facts = find_facts
        self._find_households = find_households

    def fold(self, row: PolicyRow | None, event: ContractEvent) -> PolicyRow | None:
        """Keep the event's fact, react with the case's facts, remember both."""
        before = row.facts if isinstance(row, FederalPolicyRow) else ()
        facts = _kept(before, event)
        action = self.react(event, facts)
        if action is None and facts == before:
            return None
        return _row(event, facts, action or "facts kept")

    def remember(
        self, row: PolicyRow | None, event: ContractEvent
    ) -> FederalPolicyRow | None:
        """The row with the event's fact kept, without reacting (None: nothing kept).

        For a replay of events whose forms were submitted already.
        """
        before = row.facts if isinstance(row, FederalPolicyRow) else ()
        facts = _kept(before, event)
        return None if facts == before else _row(event, facts, "facts kept")

    def encode(self, row: PolicyRow) -> tuple[Any, ...]:
        """The row's column values (the facts as JSON)."""
        facts = row.facts if isinstance(row, FederalPolicyRow) else ()
        head = (row.case_id, row.cpas_kbo, row.event_id, row.event_type, row.action)
        partners = subsidies.partner_ids(
            subsidies.SubsidyFacts(row.case_id, row.cpas_kbo, facts)
        )
        return (
            *head,
            json.dumps([f.to_json() for f in facts]),
            sorted(partners, key=str),
        )

    def decode(self, record: Sequence[Any]) -> FederalPolicyRow:
        """A row from its column values."""
        case_id, cpas_kbo, event_id, event_type, action, facts, _ = record
        return FederalPolicyRow(
            case_id,
            cpas_kbo,
            event_id,
            event_type,
            action,
            tuple(map(subsidies.Fact.from_json, facts)),
        )

    def react(
        self, event: ContractEvent, facts: tuple[subsidies.Fact, ...] = ()
    ) -> str | None:
        """Submit the forms an event means (None: the event means none).

        ``facts``: the case's facts, the event's included (``fold``).
        """
        moves_code = any(f.event_id == event.event_id for f in facts)
        reports = isinstance(event, spp_is.FORM_EVENTS)
        if not (reports or moves_code) or not self._ins:
            # No INS code configured at all: this hub does not report to the
            # SPP IS, and parking every case's events would say nothing more.
            return None
        sent: list[str | None] = []
        if reports or self._app.federal_file(event.case_id) is not None:
            who = self._who(event.case_id, event.cpas_kbo)
            periods = self._periods(who, facts, {}) if moves_code else None
            sent.extend(
                self._submit(event, who, key, build)
                for key, build in spp_is.forms_for(event, who, periods)
            )
            if periods is not None:
                sent.extend(self._align(event, who, periods))
        if moves_code:
            sent.extend(self._align_households(event, facts))
        said = [s for s in sent if s is not None]
        if not said:
            return "no form"
        return f"submitted form {', '.join(said)}"

    def _who(self, case_id: uuid.UUID, cpas_kbo: str) -> spp_is.FederalFacts:
        """The CPAS and the person a case's forms name; raises when not known."""
        case = self._find_case(case_id)
        if case is None:
            raise NotYetError(str(case_id))
        ins_code = self._ins.get(cpas_kbo)
        if ins_code is None:
            raise DomainError(
                "cpas_kbo",
                "federal_form.cpas_ins_code_missing",
                "no INS code is configured for this CPAS (HUB_CPAS_INS_CODES); "
                "every SPP IS form names the CPAS's municipality by it (SPP IS, "
                "forms B, C and D, docs/domain/identifiers.md#ins-municipality-code)",
            )
        return spp_is.FederalFacts(
            case_id=case_id, cpas_kbo=cpas_kbo, cpas_ins_code=ins_code, niss=case.niss
        )

    def _periods(
        self,
        who: spp_is.FederalFacts,
        facts: tuple[subsidies.Fact, ...],
        known: Mapping[uuid.UUID, tuple[subsidies.Fact, ...]],
    ) -> tuple[subsidies.CodePeriod, ...]:
        """A case's PIIS code periods, its partners' facts read from the table.

        ``known``: partners' facts newer than their rows (the event's case).
        """
        case = subsidies.SubsidyFacts(who.case_id, who.cpas_kbo, facts)
        partners = {}
        for partner in subsidies.partner_ids(case):
            found = known.get(partner)
            if found is None:
                row = self._find_facts(partner)
                found = row.facts if isinstance(row, FederalPolicyRow) else ()
            partners[partner] = subsidies.SubsidyFacts(partner, who.cpas_kbo, found)
        return subsidies.piis_code_periods(case, partners)

    def _align(
        self,
        event: ContractEvent,
        who: spp_is.FederalFacts,
        periods: tuple[subsidies.CodePeriod, ...],
    ) -> list[str | None]:
        """Bring a case's PIIS code on form B in line with the subsidy's periods."""
        file = self._app.federal_file(who.case_id)
        days = [] if file is None else spp_is.piis_code_days(file, periods)
        # The event's own case: key by the day; a partner's: by case and day.
        prefix = "" if who.case_id == event.case_id else f"{who.case_id}:"
        return [
            self._submit(
                event,
                who,
                f"{prefix}piis-code:{day.isoformat()}",
                _code_builder(who, periods, day, occurred_on(event)),
            )
            for day in days
        ]

    def _align_households(
        self, event: ContractEvent, facts: tuple[subsidies.Fact, ...]
    ) -> list[str | None]:
        """The same for each case whose grant names the event's case as partner.

        A case not known enough yet (its NISS, its CPAS's INS code) is left to
        its own next event: a partner's event is not parked for it.
        """
        sent: list[str | None] = []
        for row in self._find_households(event.case_id):
            if row.case_id == event.case_id or not isinstance(row, FederalPolicyRow):
                continue
            try:
                who = self._who(row.case_id, row.cpas_kbo)
            except (NotYetError, DomainError):
                continue
            periods = self._periods(who, row.facts, {event.case_id: facts})
            sent.extend(self._align(event, who, periods))
        return sent

    def _submit(
        self,
        event: ContractEvent,
        who: spp_is.FederalFacts,
        key: str,
        build: spp_is.FormBuilder,
    ) -> str | None:
        """Submit one form an event means (its own command id per key)."""
        context = self.reaction_context(event)
        submitted = self._app.submit_federal_form(
            who.case_id,
            who.cpas_kbo,
            dataclasses.replace(context, command_id=uuid.uuid5(event.event_id, key))
            if key
            else context,
            build=build,
            sources=(event.event_id,),
        )
        return (
            None
            if submitted is None
            else f"{submitted[1]['formulaire']} {submitted[0]}"
        )


def _row(
    event: ContractEvent, facts: tuple[subsidies.Fact, ...], action: str
) -> FederalPolicyRow:
    return FederalPolicyRow(
        event.case_id, event.cpas_kbo, event.event_id, event.event_type, action, facts
    )


def _kept(
    facts: tuple[subsidies.Fact, ...], event: ContractEvent
) -> tuple[subsidies.Fact, ...]:
    """The case's facts with the event's, if one the PIIS code needs (once)."""
    fact = subsidies.fact_of(event)
    if fact is None or fact.kind not in KEPT:
        return facts
    if any(f.event_id == event.event_id for f in facts):
        return facts
    current = subsidies.SubsidyFacts(event.case_id, event.cpas_kbo, facts)
    folded = _FACTS.fold(current, event)
    return facts if folded is None else folded.facts


def _code_builder(
    who: spp_is.FederalFacts,
    periods: tuple[subsidies.CodePeriod, ...],
    day: dt.date,
    decision_date: dt.date,
) -> spp_is.FormBuilder:
    return lambda file: spp_is.piis_code_form(file, who, periods, day, decision_date)
