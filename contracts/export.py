"""Write every contract's JSON Schema into contracts/schemas/ (``--check`` diffs)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from contracts.registry import EVENT_TYPES

SCHEMA_DIR = Path(__file__).parent / "schemas"


def schema_of(event_type: str) -> dict[str, Any]:
    """The JSON Schema of one event type, as committed."""
    schema = EVENT_TYPES[event_type].model_json_schema(mode="serialization")
    schema["$id"] = f"urn:cpas-hub:event:{event_type}"
    return schema


def render(schema: dict[str, Any]) -> str:
    """Stable text form: sorted keys, two-space indent, final newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_path(event_type: str) -> Path:
    """Where the schema of an event type is committed."""
    return SCHEMA_DIR / f"{event_type}.json"


def stale_schemas() -> list[str]:
    """Event types whose committed schema differs from the model (or is missing)."""
    stale = []
    for event_type in sorted(EVENT_TYPES):
        path = schema_path(event_type)
        if not path.exists() or path.read_text() != render(schema_of(event_type)):
            stale.append(event_type)
    return stale


def main(argv: list[str]) -> int:
    """Regenerate the schemas, or with ``--check`` report the stale ones."""
    if "--check" in argv:
        stale = stale_schemas()
        for event_type in stale:
            print(f"stale: {schema_path(event_type)}")  # noqa: T201
        return 1 if stale else 0
    SCHEMA_DIR.mkdir(exist_ok=True)
    for event_type in sorted(EVENT_TYPES):
        schema_path(event_type).write_text(render(schema_of(event_type)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
