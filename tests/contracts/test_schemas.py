"""Committed JSON Schemas are current; every change to them was backward compatible."""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from contracts.export import SCHEMA_DIR, render, schema_of, stale_schemas
from contracts.registry import EVENT_TYPES
from tests.contracts.compatibility import incompatibilities

ROOT = Path(__file__).resolve().parents[2]


def test_committed_schemas_are_current() -> None:
    assert stale_schemas() == [], "run `python -m contracts.export` and commit"


def test_every_schema_file_belongs_to_a_known_event_type() -> None:
    names = {p.name.removesuffix(".json") for p in SCHEMA_DIR.glob("*.json")}
    assert names == set(EVENT_TYPES)


def test_every_field_is_described() -> None:
    for event_type in EVENT_TYPES:
        schema = schema_of(event_type)
        for name, prop in schema["properties"].items():
            assert prop.get("description"), f"{event_type}.{name} has no description"


def test_personal_data_is_marked() -> None:
    registered = schema_of("hub.intake.beneficiary.registered.v1")["properties"]
    marked = {n for n, p in registered.items() if p.get("x-personal-data")}
    assert {"niss", "family_name", "given_name", "birth_date", "postal_code"} <= marked
    assert "cpas_kbo" not in marked


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def _history(path: Path) -> list[dict[str, Any]]:
    """Every version of a schema file on the main line, oldest first, then now."""
    relative = path.relative_to(ROOT).as_posix()
    # The main line only: a merged branch is one step, not its commits interleaved.
    commits = _git(
        "log", "--first-parent", "--format=%H", "--reverse", "--", relative
    ).split()
    versions = [
        json.loads(_git("show", f"{c}:{relative}"))
        for c in commits
        if relative in _git("ls-tree", "-r", "--name-only", c, "--", relative)
    ]
    return [*versions, schema_of(path.name.removesuffix(".json"))]


def test_no_committed_change_broke_backward_compatibility() -> None:
    try:
        _git("rev-parse", "HEAD")
    except (subprocess.CalledProcessError, FileNotFoundError):
        pytest.skip("not a git checkout with history")
    for event_type in EVENT_TYPES:
        versions = _history(SCHEMA_DIR / f"{event_type}.json")
        for older, newer in itertools.pairwise(versions):
            assert incompatibilities(older, newer) == [], event_type


def test_render_is_stable() -> None:
    schema = schema_of("hub.intake.bilan.completed.v1")
    assert render(schema) == render(json.loads(render(schema)))
