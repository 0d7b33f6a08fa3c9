"""A topic decoder never raises: what it cannot read is parked with its reason."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from services.common.consumer import decode
from tests.contracts.samples import SAMPLES

BILAN = next(s for s in SAMPLES if s.event_type.endswith("bilan.completed.v1"))


def test_a_message_nested_too_deeply_is_parked_not_raised() -> None:
    for payload in (b"[" * 200_000, b'{"event_type": ' + b"[" * 5000 + b"]" * 5000):
        decoded = decode(b"case", payload)
        assert decoded.event is None
        assert decoded.error == "payload: JSON nested deeper than 32 levels"


def test_a_bilan_over_the_limits_on_a_topic_is_parked_naming_its_fields() -> None:
    data = BILAN.model_dump(mode="json") | {
        "needs": ["x" * 1001],
        "baseline_scores": {"wo\x00rk": 1},
    }
    decoded = decode(b"case", json.dumps(data).encode())
    assert decoded.event is None
    assert decoded.error == (
        "schema: invalid fields needs.0, baseline_scores.(key).[key]"
    )


def test_a_key_with_a_nul_is_kept_as_text_postgresql_stores() -> None:
    decoded = decode(b"ca\x00se", b"{}")
    assert "\x00" not in decoded.key
    assert decoded.error is not None


@given(payload=st.binary(max_size=200), key=st.binary(max_size=20))
def test_any_bytes_decode_to_an_event_or_a_reason(payload: bytes, key: bytes) -> None:
    decoded = decode(key, payload)
    assert (decoded.event is None) != (decoded.error is None)
    assert "\x00" not in (decoded.error or "") + decoded.key


@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=20,
    )
)
def test_any_json_decodes_to_an_event_or_a_reason(value: object) -> None:
    decoded = decode(b"k", json.dumps(value).encode())
    assert decoded.event is None
    assert decoded.error
