"""The compatibility rule itself: it refuses what breaks readers."""

from __future__ import annotations

from typing import Any

from tests.contracts.compatibility import incompatibilities

BASE: dict[str, Any] = {
    "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
    "required": ["a"],
}


def test_adding_an_optional_property_is_compatible() -> None:
    newer = {
        "properties": {**BASE["properties"], "c": {"type": "string"}},
        "required": ["a"],
    }
    assert incompatibilities(BASE, newer) == []


def test_removing_a_property_is_not() -> None:
    newer = {"properties": {"a": {"type": "string"}}, "required": ["a"]}
    assert incompatibilities(BASE, newer) == ["property b removed"]


def test_a_new_required_property_is_not() -> None:
    newer = {
        "properties": {**BASE["properties"], "c": {"type": "string"}},
        "required": ["a", "c"],
    }
    assert incompatibilities(BASE, newer) == ["property c became required"]


def test_changing_a_type_is_not() -> None:
    newer = {
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a"],
    }
    assert incompatibilities(BASE, newer) == ["property a changed type"]
