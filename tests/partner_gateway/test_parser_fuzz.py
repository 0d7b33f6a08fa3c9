"""Every partner parser, over any bytes: a canonical message or a named refusal.

Hypothesis sends each partner's translator arbitrary bytes, arbitrary JSON and
its own golden messages with one field mutated (removed, replaced by any JSON
value or by a text that must never be echoed, or a field added). ``parse``
never raises anything but `InboundRejected`, whose rule is one of
`REJECTION_RULES` and whose field is named; the submitted value never appears.
Derandomized: the same cases every run.
"""

from __future__ import annotations

import json
import re
from typing import Any, get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.partner_gateway.canonical import InboundKind
from services.partner_gateway.registry import PARTNERS
from services.partner_gateway.vocabulary import REJECTION_RULES, InboundRejected
from tests.fuzz import FUZZ, JSON, MARKER, one_field_changed
from tests.partner_gateway.samples import CASES, golden_path

_FIELD = re.compile(r"\$|[^\W\d]\w{0,63}|\(a field name that is not one\)")


def golden(code: str, kind: str, language: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        golden_path(code, "inbound", kind, language).read_bytes()
    )
    return data


def outcome(code: str, raw: bytes) -> InboundRejected | None:
    """Parse; a refusal must name a known rule and a field, and echo nothing."""
    try:
        PARTNERS[code].parse(raw)
    except InboundRejected as rejected:
        refused = rejected
    else:
        return None
    assert refused.rule in REJECTION_RULES, refused.rule
    assert _FIELD.fullmatch(refused.field), refused.field
    assert MARKER not in f"{refused} {refused.field}"
    return refused


@st.composite
def mutated(draw: st.DrawFn, code: str) -> bytes:
    """A golden message of the partner with one field changed."""
    language = draw(st.sampled_from(PARTNERS[code].languages))
    kind = draw(st.sampled_from(get_args(InboundKind)))
    changed = one_field_changed(draw, golden(code, kind, language))
    return json.dumps(changed, ensure_ascii=draw(st.booleans())).encode()


@pytest.mark.parametrize("code", sorted(PARTNERS))
@FUZZ
@given(raw=st.binary(max_size=300))
def test_any_bytes_parse_or_are_refused_by_a_rule(code: str, raw: bytes) -> None:
    outcome(code, raw)


@pytest.mark.parametrize("code", sorted(PARTNERS))
@FUZZ
@given(value=JSON)
def test_any_json_is_refused_by_a_rule(code: str, value: object) -> None:
    assert outcome(code, json.dumps(value).encode()) is not None


@pytest.mark.parametrize("code", sorted(PARTNERS))
@FUZZ
@given(data=st.data())
def test_a_golden_message_with_one_field_changed_parses_or_is_refused(
    code: str, data: st.DataObject
) -> None:
    outcome(code, data.draw(mutated(code)))


@pytest.mark.parametrize(("code", "language"), CASES)
@pytest.mark.parametrize("kind", get_args(InboundKind))
def test_every_golden_message_still_parses(code: str, language: str, kind: str) -> None:
    raw = golden_path(code, "inbound", kind, language).read_bytes()
    assert outcome(code, raw) is None
