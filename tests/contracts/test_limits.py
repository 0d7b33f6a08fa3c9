"""JSON nesting is judged without parsing and without recursion."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.limits import MAX_JSON_DEPTH, json_too_deep


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


@pytest.mark.parametrize("kind", [bytes, str])
def test_a_document_deeper_than_the_bound_is_too_deep(kind: type) -> None:
    def as_kind(text: str) -> bytes | str:
        return text.encode() if kind is bytes else text

    assert not json_too_deep(as_kind(nested(MAX_JSON_DEPTH)))
    assert json_too_deep(as_kind(nested(MAX_JSON_DEPTH + 1)))
    assert json_too_deep(as_kind('{"a":' * 40 + "1" + "}" * 40))
    assert json_too_deep(as_kind("[" * 200_000))  # unclosed ones count too
    assert not json_too_deep(as_kind(json.dumps([[{"a": [1]}]] * 5000)))


def test_brackets_inside_strings_do_not_nest() -> None:
    text = json.dumps({"needs": ["[" * 100, '\\"[[[[' + "{" * 100]})
    assert not json_too_deep(text)
    assert not json_too_deep(text.encode())


@given(depth=st.integers(0, 80), wrap=st.sampled_from(["[]", "{}"]))
def test_the_depth_is_exactly_the_nesting(depth: int, wrap: str) -> None:
    inner: object = 1
    for _ in range(depth):
        inner = [inner] if wrap == "[]" else {"k": inner}
    assert json_too_deep(json.dumps(inner)) == (depth > MAX_JSON_DEPTH)


@given(raw=st.binary(max_size=300))
def test_any_bytes_are_judged_without_an_error(raw: bytes) -> None:
    assert json_too_deep(raw) in {True, False}
