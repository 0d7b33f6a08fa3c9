"""Write every contract's JSON Schema into contracts/schemas/ (``--check`` diffs)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
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
