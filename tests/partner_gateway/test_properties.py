"""Over randomized cases in all four regions: the allow-list and the routing hold."""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from decimal import Decimal
from typing import Any, get_args

import pytest

from contracts.envelope import ContractEvent
from contracts.piis import Phase, PiisType
from contracts.placement import Article60EndReason, PaymentInstitution
from contracts.regions import PARTNER_FOR_REGION, Region
from services.partner_gateway.canonical import (
    CanonicalInbound,
    ContractType,
    InboundKind,
    OutboundKind,
    RoutingFacts,
)
from services.partner_gateway.registry import PARTNERS
from services.partner_gateway.vocabulary import MisroutedCaseError
from tests.partner_gateway.samples import (
    SCHEMES,
    inbound_sample,
    outbound_event,
    outbound_message,
)

SEEDS = range(20)
PERSONAL = ("niss", "family_name", "given_name", "birth_date")


def _check_digits(number: int) -> str:
    return f"{97 - number % 97:02d}"


def random_facts(rng: random.Random) -> RoutingFacts:
    region = rng.choice(list(Region))
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20_000))
    base = int(f"{birth:%y%m%d}{rng.randrange(1, 999):03d}")
    century = 2_000_000_000 if birth.year >= 2000 else 0
    kbo = rng.randrange(2_000_000, 20_000_000)
    marker = rng.randrange(10**9)
    return RoutingFacts(
        case_id=uuid.UUID(int=rng.getrandbits(128)),
        cpas_kbo=f"{kbo:08d}{_check_digits(kbo)}",
        dossier_number=f"D{marker}",
        region=region.value,
        partner=PARTNER_FOR_REGION[region].value,
        preferred_language=rng.choice(["fr", "nl", "de"]),
        niss=f"{base:09d}{_check_digits(century + base)}",
        family_name=f"Famé{marker}",
        given_name=f"Gîven{marker}",
        birth_date=birth,
    )


def _day(rng: random.Random) -> dt.date:
    return dt.date(2025, 6, 1) + dt.timedelta(days=rng.randrange(900))


def random_event(
    rng: random.Random, kind: OutboundKind, facts: RoutingFacts
) -> ContractEvent:
    """The sample event of a kind with random dates, codes and counts."""
    changes: dict[OutboundKind, dict[str, Any]] = {
        "registration_request": {
            "kind": rng.choice(["RIS", "ERIS"]),
            "decision_date": _day(rng),
        },
        "integration_contract_signed": {
            "piis_type": rng.choice(get_args(PiisType)),
            "signed_on": _day(rng),
        },
        "phase_changed": {
            "from_phase": rng.choice([None, *get_args(Phase)]),
            "to_phase": rng.choice(get_args(Phase)),
        },
        "article60_started": {
            "required_work_days": rng.randrange(1, 625),
            "region_scheme": SCHEMES[facts.partner],
        },
        "article60_ended": {
            "early": rng.random() < 0.5,
            "reason": rng.choice(get_args(Article60EndReason)),
            "work_days_accrued": rng.randrange(625),
        },
        "case_closed": {"moved_on": _day(rng)},
        "case_erased": {"erased_on": _day(rng)},
    }
    return outbound_event(kind, facts).model_copy(update=changes[kind])


@pytest.mark.parametrize("seed", SEEDS)
def test_no_partner_receives_another_region_or_a_field_outside_its_allow_list(
    seed: int,
) -> None:
    rng = random.Random(seed)
    for _ in range(25):
        facts = random_facts(rng)
        kind = rng.choice(get_args(OutboundKind))
        message = outbound_message(random_event(rng, kind, facts), facts)
        assert message is not None
        translator = PARTNERS[facts.partner]
        payload = translator.translate(message, facts)
        language = translator.language_for(facts)
        assert set(payload) <= translator.allowed_fields(kind, language)
        allowed = (
            translator.partner.vocabularies[translator.languages.index(language)]
            .outbound[kind]
            .fields
        )
        withheld = [v for f, v in message.fields.items() if f not in allowed]
        withheld += [getattr(facts, f) for f in PERSONAL if f not in message.fields]
        text = json.dumps(payload, ensure_ascii=False)
        for value in withheld:
            if value is not None:
                assert str(value) not in text, (kind, facts.partner)
        for code, other in PARTNERS.items():
            if code != facts.partner:
                with pytest.raises(MisroutedCaseError):
                    other.translate(message, facts)


def test_only_the_registration_request_carries_names_and_birth_date() -> None:
    rng = random.Random(7)
    facts = random_facts(rng)
    for kind in get_args(OutboundKind):
        message = outbound_message(random_event(rng, kind, facts), facts)
        assert message is not None
        payload = PARTNERS[facts.partner].translate(message, facts)
        text = json.dumps(payload, ensure_ascii=False)
        carries_names = facts.family_name in text and facts.given_name in text
        assert carries_names == (kind == "registration_request")
        assert (facts.niss in text) == (kind != "case_erased")


def random_inbound(
    rng: random.Random, kind: InboundKind, code: str, language: str
) -> CanonicalInbound:
    sample = inbound_sample(kind, code, language)
    changes: dict[str, Any] = {
        "employment_started": {
            "contract_type": rng.choice(get_args(ContractType)),
            "weekly_hours": rng.choice([None, Decimal(rng.randrange(1, 80)) / 2]),
        },
        "follow_up_report": {
            "attendance_rate": rng.choice([None, Decimal(rng.randrange(0, 1001)) / 10]),
            "next_appointment": rng.choice([None, _day(rng)]),
        },
        "benefit_right_decision": rng.choice(
            [
                {
                    "payment_institution": rng.choice(get_args(PaymentInstitution)),
                    "work_days_counted": rng.randrange(1000),
                },
                {
                    "decision": "refused",
                    "right_start_date": None,
                    "payment_institution": None,
                    "reason": "Pas assez de jours de travail.",
                },
            ]
        ),
    }.get(kind, {})
    body = sample.body.model_copy(update=changes)
    return sample.model_copy(
        update={"body": body, "sequence": rng.randrange(1, 10_000)}
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_random_inbound_messages_survive_the_partner_format(seed: int) -> None:
    rng = random.Random(seed)
    for code, translator in PARTNERS.items():
        for language in translator.languages:
            kind = rng.choice(get_args(InboundKind))
            message = random_inbound(rng, kind, code, language)
            assert translator.parse(translator.render(message)) == message
