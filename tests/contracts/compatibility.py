"""Backward compatibility of two JSON Schemas of one event type (openedx ADR 0006 rule).

A consumer built on the older schema must still read events of the newer one:
no property removed, no property newly required, no property's type changed,
no bound loosened. A bound added or tightened (a maximum length, a pattern, a
maximum number of items) only narrows what producers send: compatible.
"""

from __future__ import annotations

from typing import Any

# What a value is, as opposed to which values of it are allowed.
_TYPE_KEYS = ("type", "$ref", "anyOf", "const", "enum", "format", "items")
# Subschemas whose own types and bounds count.
_NESTED = ("items", "anyOf", "additionalProperties", "propertyNames")
_UPPER = ("maxLength", "maxItems", "maxProperties", "maximum", "exclusiveMaximum")
_LOWER = ("minLength", "minItems", "minProperties", "minimum", "exclusiveMinimum")


def _types(schema: Any) -> Any:
    """The type-defining part of a schema, with the bounds of its parts left out."""
    if isinstance(schema, list):
        return [_types(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    return {
        k: _types(schema[k]) if k in _NESTED else schema[k]
        for k in _TYPE_KEYS
        if k in schema
    }


def _loosened(older: Any, newer: Any) -> bool:
    """Whether ``newer`` drops or widens a bound ``older`` has (same-shaped schemas)."""
    if isinstance(older, list) and isinstance(newer, list):
        return any(_loosened(o, n) for o, n in zip(older, newer, strict=False))
    if not isinstance(older, dict) or not isinstance(newer, dict):
        return False
    for key in _UPPER:
        if key in older and (key not in newer or newer[key] > older[key]):
            return True
    for key in _LOWER:
        if key in older and (key not in newer or newer[key] < older[key]):
            return True
    if "pattern" in older and newer.get("pattern") != older["pattern"]:
        return True
    return any(_loosened(older.get(k), newer.get(k)) for k in _NESTED)


def incompatibilities(older: dict[str, Any], newer: dict[str, Any]) -> list[str]:
    """What in ``newer`` breaks readers of ``older`` (empty when compatible)."""
    problems = []
    old_props, new_props = older.get("properties", {}), newer.get("properties", {})
    for name in old_props:
        if name not in new_props:
            problems.append(f"property {name} removed")
        elif _types(old_props[name]) != _types(new_props[name]):
            problems.append(f"property {name} changed type")
        elif _loosened(old_props[name], new_props[name]):
            problems.append(f"property {name} loosened a bound")
    newly_required = set(newer.get("required", ())) - set(older.get("required", ()))
    problems.extend(
        f"property {name} became required" for name in sorted(newly_required)
    )
    return problems
