"""Every partner message type, both ways, equals its golden file.

``UPDATE_GOLDEN=1 pytest tests/partner_gateway`` rewrites the outbound files and
the inbound ``.expected.json`` files; an inbound partner message that is missing
is written from its sample, an existing one is never rewritten (it stands for
what the partner sends: edit it by hand, or delete it to regenerate it).
"""

from __future__ import annotations

import json
from typing import get_args

import pytest

from services.partner_gateway.canonical import InboundKind, OutboundKind
from services.partner_gateway.registry import PARTNERS
from tests.golden import UPDATE, compare_golden
from tests.partner_gateway.samples import (
    CASES,
    FACTS,
    GOLDEN,
    golden_path,
    inbound_sample,
    outbound_event,
    outbound_message,
)
from tests.partner_gateway.test_spp_is import GOLDEN_FILES as SPP_IS_GOLDEN


def _text(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("kind", get_args(OutboundKind))
@pytest.mark.parametrize(("code", "language"), CASES)
def test_outbound_message_equals_its_golden_file(
    code: str, language: str, kind: OutboundKind
) -> None:
    facts = FACTS[code, language]
    message = outbound_message(outbound_event(kind, facts), facts)
    assert message is not None
    translator = PARTNERS[code]
    payload = translator.translate(message, facts)
    translator.model("outbound", kind, language).model_validate_json(
        _text(payload), strict=True
    )
    compare_golden(golden_path(code, "outbound", kind, language), _text(payload))


@pytest.mark.parametrize("kind", get_args(InboundKind))
@pytest.mark.parametrize(("code", "language"), CASES)
def test_inbound_golden_file_parses_to_its_expected_canonical_message(
    code: str, language: str, kind: InboundKind
) -> None:
    translator = PARTNERS[code]
    path = golden_path(code, "inbound", kind, language)
    if UPDATE and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            translator.render(inbound_sample(kind, code, language)) + b"\n"
        )
    parsed = translator.parse(path.read_bytes())
    assert parsed.kind == kind
    assert parsed.language == language
    expected = path.with_suffix(".expected.json")
    compare_golden(expected, _text(parsed.model_dump(mode="json")))


@pytest.mark.parametrize(("code", "language"), CASES)
def test_the_samples_survive_a_round_trip_through_the_partner_format(
    code: str, language: str
) -> None:
    translator = PARTNERS[code]
    for kind in get_args(InboundKind):
        sample = inbound_sample(kind, code, language)
        assert translator.parse(translator.render(sample)) == sample


def test_every_golden_file_belongs_to_a_declared_message() -> None:
    expected = {
        golden_path(code, direction, kind, language)
        for code, language in CASES
        for direction, kinds in (
            ("outbound", get_args(OutboundKind)),
            ("inbound", get_args(InboundKind)),
        )
        for kind in kinds
    }
    expected |= {
        p.with_suffix(".expected.json") for p in expected if "inbound" in p.parts
    }
    expected |= SPP_IS_GOLDEN  # SPP IS's forms and answers (test_spp_is.py)
    assert set(GOLDEN.rglob("*.json")) == expected
