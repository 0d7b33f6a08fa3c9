"""The largest event validation allows, built from an event type's JSON Schema.

Every text at its maximum length in 4-byte UTF-8 characters, every list and map
at its maximum size, every integer at its longest, every choice at its
longest; what the schema bounds but cannot be filled blindly (an identifier's
own pattern, a decimal) keeps the sample's value and counts as slack: the
bytes it could still grow by. A new event type is covered by its schema.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from contracts.envelope import ContractEvent
from contracts.registry import EVENT_TYPES, parse_event
from contracts.text import ONE_LINE_PATTERN, PROSE_PATTERN
from tests.contracts.samples import SAMPLES

WIDE = "\U0001f600"  # four bytes in UTF-8, one character for maxLength
UTF8_MAX = 4
# pydantic's JSON parser refuses integers of more digits ("number out of range").
LONGEST_INTEGER = int("9" * 4299)
_FORMATS = {"date", "date-time", "uuid"}


class UnboundedError(AssertionError):
    """A string, list or map of a schema that has no maximum size."""


@dataclass
class Largest:
    """The largest document of one schema, and what its fixed-pattern parts add."""

    schema: dict[str, Any]
    slack: int = 0
    unbounded: list[str] = field(default_factory=list)

    def of(self, node: dict[str, Any], sample: Any, where: str) -> Any:  # noqa: PLR0911
        """The largest value ``node`` allows (``sample`` is a valid one)."""
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return self.of(self.schema["$defs"][name], sample, where)
        if "anyOf" in node:
            return self._longest_choice(node["anyOf"], sample, where)
        if "const" in node:
            return node["const"]
        if "enum" in node:
            return max(node["enum"], key=lambda v: len(json.dumps(v)))
        kind = node.get("type")
        if kind == "string":
            return self._string(node, sample, where)
        if kind == "integer":
            return self._integer(node)
        if kind == "array":
            return self._array(node, sample, where)
        if kind == "object":
            return self._object(node, sample or {}, where)
        if kind == "boolean":
            return False
        return sample

    def _longest_choice(self, choices: list[Any], sample: Any, where: str) -> Any:
        best, best_size, best_slack = None, -1, 0
        for choice in choices:
            if choice.get("type") == "null":
                continue
            before = self.slack
            value = self.of(choice, sample, where)
            added, self.slack = self.slack - before, before
            size = len(json.dumps(value, ensure_ascii=False).encode()) + added
            if size > best_size:
                best, best_size, best_slack = value, size, added
        self.slack += best_slack
        return best

    def _string(self, node: dict[str, Any], sample: Any, where: str) -> Any:
        if node.get("format") in _FORMATS:
            return sample
        if "maxLength" not in node:
            self.unbounded.append(where)
            return sample
        if node.get("pattern") in {ONE_LINE_PATTERN, PROSE_PATTERN}:
            return WIDE * node["maxLength"]
        # Its own pattern (a NISS, a KBO, a decimal): the sample, plus what a
        # value of maxLength four-byte characters would add.
        text = sample if isinstance(sample, str) else ""
        self.slack += node["maxLength"] * UTF8_MAX - len(text.encode())
        return sample

    @staticmethod
    def _integer(node: dict[str, Any]) -> int:
        ends = [node[k] for k in ("minimum", "maximum") if k in node]
        if "maximum" not in node:
            ends.append(LONGEST_INTEGER)
        return int(max(ends, key=lambda v: len(str(v))))

    def _array(self, node: dict[str, Any], sample: Any, where: str) -> list[Any]:
        if "maxItems" not in node:
            self.unbounded.append(where)
            return list(sample or [])
        items = list(sample or [])
        item = self.of(node["items"], items[0] if items else None, f"{where}[]")
        if item is None:
            return items
        return [item] * node["maxItems"]

    def _object(self, node: dict[str, Any], sample: Any, where: str) -> Any:
        if "properties" in node:
            return {
                name: self.of(prop, sample.get(name), f"{where}.{name}")
                for name, prop in node["properties"].items()
            }
        if "maxProperties" not in node:
            self.unbounded.append(where)
            return sample
        names = node.get("propertyNames", {})
        if "maxLength" not in names:
            self.unbounded.append(f"{where} (keys)")
            return sample
        values = node.get("additionalProperties", {})
        value = self.of(values, next(iter(sample.values()), None), f"{where}{{}}")
        width = names["maxLength"]
        keys = (f"{n}".rjust(width, WIDE) for n in range(node["maxProperties"]))
        return dict.fromkeys(keys, value)


def largest_event(event_type: str) -> tuple[ContractEvent, int, list[str]]:
    """The largest event of a type, validated as a topic message would be.

    Returns the event, the slack (bytes its fixed-pattern fields could still
    add) and the places of the schema that have no maximum size.
    """
    sample = next(s for s in SAMPLES if s.event_type == event_type)
    # The model's own schema: the wire form's sealed box is made of its fields.
    builder = Largest(EVENT_TYPES[event_type].model_json_schema(mode="serialization"))
    document = builder.of(builder.schema, sample.model_dump(mode="json"), event_type)
    if builder.unbounded:
        return sample, builder.slack, builder.unbounded
    event = parse_event(event_type, json.dumps(document, ensure_ascii=False))
    return event, builder.slack, []
