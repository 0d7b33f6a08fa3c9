"""Backward compatibility of two JSON Schemas of one event type (openedx ADR 0006 rule).

A consumer built on the older schema must still read events of the newer one:
no property removed, no property newly required, no property's type changed.
"""

from __future__ import annotations

from typing import Any


def _types(prop: dict[str, Any]) -> Any:
    keys = ("type", "$ref", "anyOf", "const", "enum", "format", "items")
    return {k: prop[k] for k in keys if k in prop}


def incompatibilities(older: dict[str, Any], newer: dict[str, Any]) -> list[str]:
    """What in ``newer`` breaks readers of ``older`` (empty when compatible)."""
    problems = []
    old_props, new_props = older.get("properties", {}), newer.get("properties", {})
    for name in old_props:
        if name not in new_props:
            problems.append(f"property {name} removed")
        elif _types(old_props[name]) != _types(new_props[name]):
            problems.append(f"property {name} changed type")
    newly_required = set(newer.get("required", ())) - set(older.get("required", ()))
    problems.extend(
        f"property {name} became required" for name in sorted(newly_required)
    )
    return problems
