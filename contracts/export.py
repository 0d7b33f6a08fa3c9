"""Write every contract's JSON Schema into contracts/schemas/ (``--check`` diffs).

Events in ``contracts/schemas/<event type>.json``; the messages of the state
topics (``STATE_TOPICS``) in ``contracts/schemas/topics/<topic>.json``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from contracts.envelope import PERSONAL_DATA_KEY
from contracts.registry import EVENT_TYPES, STATE_TOPICS
from contracts.sealing import SEALED_KEY

SCHEMA_DIR = Path(__file__).parent / "schemas"
STATE_SCHEMA_DIR = SCHEMA_DIR / "topics"


def schema_of(event_type: str) -> dict[str, Any]:
    """The JSON Schema of one event type, as committed (its form on the wire)."""
    schema = wire_form(EVENT_TYPES[event_type].model_json_schema(mode="serialization"))
    schema["$id"] = f"urn:cpas-hub:event:{event_type}"
    return schema


def state_schema_of(topic: str) -> dict[str, Any]:
    """The JSON Schema of a state topic's message, as committed (on the wire)."""
    schema = wire_form(STATE_TOPICS[topic].model_json_schema(mode="serialization"))
    schema["$id"] = f"urn:cpas-hub:state:{topic}"
    return schema


_SEALED_BOX: Final = {
    "type": "object",
    "description": "The fields marked x-personal-data, absent from the message, "
    "in an AES-GCM box under the person's key (docs/decisions/"
    "0023-envelope-encryption.md); a hub service opens it with the vault. "
    "Absent when the message holds no personal data.",
    "properties": {
        "person": {
            "type": "string",
            "format": "uuid",
            "description": "Whose key sealed the box.",
        },
        "box": {
            "type": "string",
            "contentEncoding": "base64",
            "description": "Nonce, ciphertext and tag.",
        },
    },
    "required": ["person", "box"],
    "additionalProperties": False,
}


def wire_form(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's schema as its messages travel: personal data sealed.

    The stores and the hub's topics carry the fields marked x-personal-data
    in one ``sealed`` box, so those fields are never required of the message
    itself (in the model or any model nested in it).
    """
    objects = [schema, *schema.get("$defs", {}).values()]
    personal = False
    for node in objects:
        properties = node.get("properties", {})
        marked = {n for n, p in properties.items() if p.get(PERSONAL_DATA_KEY)}
        personal = personal or bool(marked)
        if "required" in node:
            node["required"] = [n for n in node["required"] if n not in marked]
    if personal:
        schema["properties"][SEALED_KEY] = _SEALED_BOX
    return schema


def state_schema_path(topic: str) -> Path:
    """Where the schema of a state topic's message is committed."""
    return STATE_SCHEMA_DIR / f"{topic}.json"


def _expected_state_schemas() -> dict[Path, str]:
    return {state_schema_path(t): render(state_schema_of(t)) for t in STATE_TOPICS}


def render(schema: dict[str, Any]) -> str:
    """Stable text form: sorted keys, two-space indent, final newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def stale_files(
    expected: Mapping[Path, str], present: Iterable[Path] = ()
) -> list[Path]:
    """Generated files that differ from ``expected``, are missing, or are orphans.

    An orphan is a file of ``present`` that ``expected`` does not have.
    """
    stale = {
        p for p, text in expected.items() if not p.exists() or p.read_text() != text
    }
    return sorted(stale | (set(present) - set(expected)))


def write_or_check(
    argv: list[str], expected: Mapping[Path, str], present: Iterable[Path] = ()
) -> int:
    """A generator's command: write the files, orphans of ``present`` removed.

    With ``--check``, print the stale ones instead and answer 1 if there are any.
    """
    present = set(present)
    if "--check" in argv:
        stale = stale_files(expected, present)
        for path in stale:
            print(f"stale: {path}")  # noqa: T201
        return 1 if stale else 0
    for path in present - set(expected):
        path.unlink()
    for path, text in expected.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return 0


def schema_path(event_type: str) -> Path:
    """Where the schema of an event type is committed."""
    return SCHEMA_DIR / f"{event_type}.json"


def stale_schemas() -> list[str]:
    """Schemas that differ from their model (or are missing, or belong to none)."""
    stale = []
    for event_type in sorted(EVENT_TYPES):
        path = schema_path(event_type)
        if not path.exists() or path.read_text() != render(schema_of(event_type)):
            stale.append(event_type)
    present = set(STATE_SCHEMA_DIR.glob("*.json"))
    stale += [p.name for p in stale_files(_expected_state_schemas(), present)]
    return stale


def main(argv: list[str]) -> int:
    """Regenerate the schemas, or with ``--check`` report the stale ones."""
    if "--check" in argv:
        stale = stale_schemas()
        for name in stale:
            print(f"stale: {name}")  # noqa: T201
        return 1 if stale else 0
    SCHEMA_DIR.mkdir(exist_ok=True)
    for event_type in sorted(EVENT_TYPES):
        schema_path(event_type).write_text(render(schema_of(event_type)))
    return write_or_check(
        argv, _expected_state_schemas(), STATE_SCHEMA_DIR.glob("*.json")
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
