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


def test_adding_or_tightening_a_bound_is_compatible() -> None:
    older = {
        "properties": {
            "a": {"type": "string", "maxLength": 500},
            "b": {"type": "array", "items": {"type": "string"}},
        },
    }
    newer = {
        "properties": {
            "a": {"type": "string", "maxLength": 200, "pattern": "^[^\\u0000]*$"},
            "b": {
                "type": "array",
                "items": {"type": "string", "maxLength": 100},
                "maxItems": 30,
            },
        },
    }
    assert incompatibilities(older, newer) == []


def test_loosening_or_dropping_a_bound_is_not() -> None:
    older = {
        "properties": {
            "a": {"type": "string", "maxLength": 200},
            "b": {"type": "array", "items": {"type": "string", "maxLength": 100}},
            "c": {"anyOf": [{"type": "string", "pattern": "^x$"}, {"type": "null"}]},
        },
    }
    newer = {
        "properties": {
            "a": {"type": "string", "maxLength": 201},
            "b": {"type": "array", "items": {"type": "string"}},
            "c": {"anyOf": [{"type": "string", "pattern": "^y$"}, {"type": "null"}]},
        },
    }
    assert incompatibilities(older, newer) == [
        "property a loosened a bound",
        "property b loosened a bound",
        "property c loosened a bound",
    ]


def test_changing_the_type_of_an_item_still_is_not() -> None:
    older = {"properties": {"a": {"type": "array", "items": {"type": "string"}}}}
    newer = {
        "properties": {
            "a": {"type": "array", "items": {"type": "integer", "maxLength": 3}}
        }
    }
    assert incompatibilities(older, newer) == ["property a changed type"]
