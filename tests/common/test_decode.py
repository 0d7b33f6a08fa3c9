"""A topic decoder never raises: what it cannot read is parked with its reason.

The reason names the field and the rule (``field: rule``), never a value of
the message. Hypothesis sends arbitrary bytes, arbitrary JSON and a sample of
every event type with one field mutated (removed, replaced by any JSON value
or by a text that must not come back, or a field added); derandomized.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.consumer import Envelope, decode
from tests.contracts.samples import SAMPLES
from tests.fuzz import FUZZ, JSON, MARKER, one_field_changed

BILAN = next(s for s in SAMPLES if s.event_type.endswith("bilan.completed.v1"))
# ``field: rule`` (then ``(why)``, or more ``, field: rule``).
_REASON = re.compile(r"(?P<field>[^:]+): (?P<rule>[a-z][a-z_]*(\.[a-z_]+)*)\b")


def decoded(payload: bytes, key: bytes = b"k") -> Envelope:
    """Decode; a refusal must name a field and a rule, and echo nothing."""
    envelope = decode(key, payload)
    assert (envelope.event is None) != (envelope.error is None)
    if envelope.error is not None:
        assert _REASON.match(envelope.error), envelope.error
        assert MARKER not in envelope.error
        assert "\x00" not in envelope.error + envelope.key
    return envelope


def test_a_message_nested_too_deeply_is_parked_not_raised() -> None:
    for payload in (b"[" * 200_000, b'{"event_type": ' + b"[" * 5000 + b"]" * 5000):
        assert decoded(payload).error == (
            "payload: json.too_deep (nested deeper than 32 levels)"
        )


def test_a_bilan_over_the_limits_on_a_topic_is_parked_naming_its_fields() -> None:
    data = BILAN.model_dump(mode="json") | {
        "needs": ["x" * 1001],
        "baseline_scores": {"wo\x00rk": 1},
    }
    assert decoded(json.dumps(data).encode()).error == (
        "needs.0: text.too_long, baseline_scores.(key).[key]: text.control_character"
    )


def test_a_key_with_a_nul_is_kept_as_text_postgresql_stores() -> None:
    envelope = decoded(b"{}", key=b"ca\x00se")
    assert "\x00" not in envelope.key


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff{", "payload: json.invalid (not a JSON document)"),
        (b'{"a": NaN', "payload: json.invalid (not a JSON document)"),
        (b"[1]", "payload: json.not_object (a message is a JSON object)"),
        (b"{}", "event_type: event_type.unknown (no contract has this type)"),
    ],
)
def test_what_is_no_message_is_parked_with_its_rule(
    payload: bytes, reason: str
) -> None:
    assert decoded(payload).error == reason


def test_an_unknown_event_type_is_not_echoed() -> None:
    """It was (``unknown type '<the text>'``): it may be a NISS or anything."""
    for event_type in (MARKER, {"niss": MARKER}, [MARKER]):
        payload = json.dumps({"event_type": event_type}).encode()
        assert decoded(payload).error == (
            "event_type: event_type.unknown (no contract has this type)"
        )


def test_an_unknown_type_written_as_the_hub_writes_types_is_named() -> None:
    """An operator sees which producer is ahead of this consumer's contracts."""
    payload = json.dumps({"event_type": "hub.intake.case.merged.v2"}).encode()
    assert decoded(payload).error == (
        "event_type: event_type.unknown (no contract has hub.intake.case.merged.v2)"
    )
    for other in ("hub.85073003328.v1", "Hub.x.v1", "hub.x.v1 ", "hub.x"):
        payload = json.dumps({"event_type": other}).encode()
        assert decoded(payload).error == (
            "event_type: event_type.unknown (no contract has this type)"
        ), other


def test_a_number_past_python_s_digits_is_parked_not_raised() -> None:
    payload = b'{"event_type": "x", "n": ' + b"9" * 5000 + b"}"
    assert decoded(payload).error == "payload: json.invalid (not a JSON document)"


@FUZZ
@given(payload=st.binary(max_size=200), key=st.binary(max_size=20))
def test_any_bytes_decode_to_an_event_or_a_reason(payload: bytes, key: bytes) -> None:
    decoded(payload, key)


@FUZZ
@given(value=JSON)
def test_any_json_decodes_to_a_reason(value: object) -> None:
    assert decoded(json.dumps(value).encode()).event is None


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A sample event of some type with one field changed."""
    data: dict[str, Any] = draw(st.sampled_from(SAMPLES)).model_dump(mode="json")
    changed = one_field_changed(draw, data)
    return json.dumps(changed, ensure_ascii=draw(st.booleans())).encode()


@FUZZ
@given(payload=mutated())
def test_an_event_with_one_field_changed_decodes_or_is_parked(payload: bytes) -> None:
    decoded(payload)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.event_type)
def test_every_sample_event_decodes(event: Any) -> None:
    assert decoded(event.to_json_bytes()).event == event
