"""Every event type's largest possible event fits the broker's message limit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from contracts.registry import EVENT_TYPES
from services.common.settings import HubSettings
from tests.contracts.largest import WIDE, largest_event

LIMIT = HubSettings().kafka_max_message_bytes
MARGIN = 2  # the largest event stays under half the limit
PARTNER_SCHEMAS = Path(__file__).resolve().parents[2] / "contracts" / "partners"


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_the_largest_event_validation_allows_fits_the_broker_limit(
    event_type: str,
) -> None:
    event, slack, unbounded = largest_event(event_type)
    assert unbounded == [], f"no maximum size: {unbounded}"
    size = len(event.to_json_bytes()) + slack
    assert size * MARGIN <= LIMIT, f"{event_type}: {size} bytes at most"


def test_the_largest_bilan_is_as_large_as_its_bounds_say() -> None:
    event, _, _ = largest_event("hub.intake.bilan.completed.v1")
    needs = event.needs  # type: ignore[attr-defined]
    assert (len(needs), {len(n) for n in needs}) == (30, {1000})
    assert set(needs[0]) == {WIDE}
    assert len(event.to_json_bytes()) > 3 * 30 * 1000 * 4  # three such lists


def _unbounded(node: Any, where: str) -> list[str]:
    """Places of a JSON Schema where a string, list or map has no maximum size."""
    if isinstance(node, list):
        return [p for i, n in enumerate(node) for p in _unbounded(n, f"{where}[{i}]")]
    if not isinstance(node, dict):
        return []
    found = [p for k, n in node.items() for p in _unbounded(n, f"{where}/{k}")]
    kind = node.get("type")
    if (
        kind == "string"
        and "maxLength" not in node
        and "const" not in node
        and "enum" not in node
        and node.get("format") not in {"date", "date-time", "uuid"}
    ):
        found.append(where)
    if kind == "array" and "maxItems" not in node:
        found.append(where)
    if kind == "object" and "properties" not in node and "maxProperties" not in node:
        found.append(where)
    return found


def test_every_partner_message_schema_bounds_its_text_lists_and_maps() -> None:
    paths = sorted(PARTNER_SCHEMAS.glob("*/*/*.json"))
    assert paths
    for path in paths:
        schema = json.loads(path.read_text())
        assert _unbounded(schema["properties"], path.name) == []
