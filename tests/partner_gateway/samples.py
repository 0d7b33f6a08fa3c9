"""Fixed routing facts per partner language, and the sample messages both ways.

The outbound events are those of tests/contracts/samples.py, moved to each
sample case (its id, its CPAS) and dated on their business day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from contracts.envelope import ContractEvent
from contracts.income import IncomeRightGrantedV1
from contracts.intake import CaseErasedV1, CaseTransferredV1, ResidenceChangedV1
from contracts.piis import PhaseChangedV1, PIISSignedV1
from contracts.placement import Article60EndedV1, Article60StartedV1
from contracts.regions import PARTNER_FOR_REGION, Region
from services.partner_gateway.canonical import (
    CanonicalInbound,
    CanonicalOutbound,
    InboundKind,
    OutboundKind,
    RoutingFacts,
    outbound_for,
)
from services.partner_gateway.registry import PARTNERS
from services.partner_gateway.routing import route
from tests.contracts.samples import SAMPLES

GOLDEN = Path(__file__).parent / "golden"
BRUSSELS = ZoneInfo("Europe/Brussels")


def _facts(
    region: Region, number: int, cpas: str, dossier: str, language: str, **person: Any
) -> RoutingFacts:
    return RoutingFacts(
        case_id=uuid.UUID(int=0x5A3E_0000 + number),
        cpas_kbo=cpas,
        dossier_number=dossier,
        region=region.value,
        partner=PARTNER_FOR_REGION[region].value,
        preferred_language=language,
        **person,
    )


# Fictitious CPAS numbers (valid check digits) and people.
FACTS: dict[tuple[str, str], RoutingFacts] = {
    ("forem", "fr"): _facts(
        Region.WALLONIA,
        1,
        "0207123407",
        "LG2026001",
        "fr",
        niss="85073003427",
        family_name="Dumont",
        given_name="Léa",
        birth_date=dt.date(1985, 7, 30),
    ),
    ("actiris", "fr"): _facts(
        Region.BRUSSELS,
        2,
        "0208123495",
        "BX2026017",
        "fr",
        niss="92110415783",
        family_name="Lefèvre",
        given_name="Sébastien",
        birth_date=dt.date(1992, 11, 4),
    ),
    ("actiris", "nl"): _facts(
        Region.BRUSSELS,
        3,
        "0208123495",
        "BX2026018",
        "nl",
        niss="96090906102",
        family_name="Van den Broeck",
        given_name="Pieter",
        birth_date=dt.date(1996, 9, 9),
    ),
    ("vdab", "nl"): _facts(
        Region.FLANDERS,
        4,
        "0209123486",
        "GE2026042",
        "nl",
        niss="01021408247",
        family_name="Peeters",
        given_name="Anneleen",
        birth_date=dt.date(2001, 2, 14),
    ),
    ("adg", "de"): _facts(
        Region.GERMAN_SPEAKING,
        5,
        "0210123477",
        "EU2026007",
        "de",
        niss="78052124423",
        family_name="Müller-Schröder",
        given_name="Anke",
        birth_date=dt.date(1978, 5, 21),
    ),
}
SCHEMES = {"forem": "WAL", "actiris": "BRU", "vdab": "VDAB_TWE", "adg": "DG"}

E = TypeVar("E", bound=ContractEvent)


def _sample(kind: type[E]) -> E:
    return next(e for e in SAMPLES if isinstance(e, kind))


def _business_day(day: dt.date) -> dt.datetime:
    """Midnight in Brussels, stored in UTC (the day before): occurred_on undoes it."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=BRUSSELS).astimezone(dt.UTC)


def elsewhere(facts: RoutingFacts) -> Region:
    """A region other than the facts' (the next one in the list)."""
    regions = list(Region)
    return regions[(regions.index(Region(facts.region)) + 1) % len(regions)]


def outbound_event(kind: OutboundKind, facts: RoutingFacts) -> ContractEvent:
    """The sample hub event behind an outbound kind, moved to the facts' case.

    A closure (``case_closed``) is the person's move to another region; an
    erasure notice (``case_erased``), the erasure of the file.
    """
    granted = _sample(IncomeRightGrantedV1)
    signed = _sample(PIISSignedV1)
    phase = _sample(PhaseChangedV1)
    started = _sample(Article60StartedV1)
    ended = _sample(Article60EndedV1)
    moved = _sample(ResidenceChangedV1)
    erased = _sample(CaseErasedV1)
    region = elsewhere(facts)
    choices: dict[str, tuple[ContractEvent, dt.date, dict[str, Any]]] = {
        "registration_request": (granted, granted.decision_date, {}),
        "integration_contract_signed": (signed, signed.signed_on, {}),
        "phase_changed": (
            phase,
            dt.date(2026, 5, 1),
            {
                "from_phase": "facilitator",
                "to_phase": "article_60",
                "effective_date": dt.date(2026, 5, 1),
            },
        ),
        "article60_started": (
            started,
            started.start_date,
            {"region_scheme": SCHEMES[facts.partner]},
        ),
        "article60_ended": (ended, ended.ended_on, {}),
        "case_closed": (
            moved,
            moved.moved_on,
            {
                "region": region,
                "partner": PARTNER_FOR_REGION[region],
                "previous_region": Region(facts.region),
                "previous_partner": PARTNER_FOR_REGION[Region(facts.region)],
            },
        ),
        "case_erased": (erased, erased.erased_on, {}),
    }
    event, day, extra = choices[kind]
    update = {
        "case_id": facts.case_id,
        "cpas_kbo": facts.cpas_kbo,
        "occurred_at": _business_day(day),
        "event_id": uuid.uuid5(facts.case_id, kind),
        **extra,
    }
    return event.model_copy(update=update)


def outbound_message(
    event: ContractEvent, facts: RoutingFacts
) -> CanonicalOutbound | None:
    """The message the facts' partner gets for an event.

    For a move or a transfer: the closure, the partner holding the case's
    registration (and no income right active, so no one registers it again);
    for an erasure, the notice of the partner holding it.
    """
    if not isinstance(event, ResidenceChangedV1 | CaseTransferredV1 | CaseErasedV1):
        return outbound_for(event, facts)
    holder = dataclasses.replace(facts, registered_with=facts.partner)
    _, messages = route(event, holder)
    return next((m for m, to in messages if to.partner == facts.partner), None)


TEXTS = {
    "fr": {
        "rejected": "Personne déjà inscrite auprès d'un autre service régional.",
        "title": "Cariste : conduite de chariots élévateurs",
        "provider": "Centre de compétence Logistique",
        "summary": "Présente à toutes les séances ; stage prévu en juin.",
    },
    "nl": {
        "rejected": "Persoon is al ingeschreven bij een andere regionale dienst.",
        "title": "Heftruckchauffeur",
        "provider": "Competentiecentrum Logistiek",
        "summary": "Aanwezig op alle sessies; stage gepland in juni.",
    },
    "de": {
        "rejected": "Person ist bereits bei einem anderen regionalen Dienst gemeldet.",
        "title": "Staplerfahrer: Grundkurs",
        "provider": "Ausbildungszentrum für Logistik",
        "summary": "An allen Sitzungen anwesend; Praktikum im Juni geplant.",
    },
}


def inbound_sample(kind: InboundKind, code: str, language: str) -> CanonicalInbound:
    """A canonical message of each kind, as the partner's golden file parses to."""
    facts = FACTS[code, language]
    text = TEXTS[language]
    bodies: dict[str, dict[str, Any]] = {
        "registration_confirmed": {
            "partner_client_id": "DE-2026-004512",
            "registered_on": dt.date(2026, 3, 20),
        },
        "registration_rejected": {"reason": text["rejected"]},
        "training_enrolled": {
            "training_id": "FORM-2026-7781",
            "title": text["title"],
            "provider": text["provider"],
            "starts_on": dt.date(2026, 4, 6),
            "planned_end": dt.date(2026, 6, 26),
        },
        "training_completed": {
            "training_id": "FORM-2026-7781",
            "completed_on": dt.date(2026, 6, 26),
            "certified": True,
        },
        "employment_started": {
            "employer_kbo": "0403170701",
            "starts_on": dt.date(2026, 7, 1),
            "contract_type": "fixed_term",
            "weekly_hours": Decimal("19.5"),
        },
        "follow_up_report": {
            "report_date": dt.date(2026, 5, 15),
            "summary": text["summary"],
            "attendance_rate": Decimal("87.5"),
            "next_appointment": dt.date(2026, 6, 12),
        },
        "benefit_right_decision": {
            "decision": "opened",
            "onem_decision_date": dt.date(2027, 7, 15),
            "onem_reference": "ONEM-2027-1",
            "work_days_counted": 312,
            "right_start_date": dt.date(2027, 7, 1),
            "payment_institution": "CSC",
            "evidence": ("C4-2027-1",),
        },
    }
    sequence = list(bodies).index(kind) + 1
    return CanonicalInbound.model_validate(
        {
            "kind": kind,
            "partner": code,
            "language": language,
            "message_id": f"{code.upper()}-{language.upper()}-{sequence:06d}",
            "sequence": sequence,
            "sent_at": dt.datetime(2026, 5, 15, 10, 30, tzinfo=BRUSSELS),
            "niss": facts.niss,
            "cpas_kbo": facts.cpas_kbo,
            "body": {"kind": kind, **bodies[kind]},
        }
    )


def golden_path(code: str, direction: str, kind: str, language: str) -> Path:
    """``golden/<code>/<direction>/<kind>[.<language>].json``."""
    suffix = f".{language}" if len(PARTNERS[code].languages) > 1 else ""
    return GOLDEN / code / direction / f"{kind}{suffix}.json"


CASES = [(code, language) for code, t in PARTNERS.items() for language in t.languages]
"""Every (partner, language): each has its sample facts and golden files."""
