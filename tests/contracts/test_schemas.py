"""Committed JSON Schemas are current; every change to them was backward compatible."""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from contracts.export import (
    SCHEMA_DIR,
    STATE_SCHEMA_DIR,
    render,
    schema_of,
    stale_schemas,
    state_schema_of,
    state_schema_path,
)
from contracts.registry import EVENT_TYPES, STATE_TOPICS
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


def test_every_state_topic_has_its_committed_schema_and_no_other() -> None:
    names = {p.name.removesuffix(".json") for p in STATE_SCHEMA_DIR.glob("*.json")}
    assert names == set(STATE_TOPICS)


def test_every_field_of_a_state_message_is_described() -> None:
    for topic in STATE_TOPICS:
        schema = state_schema_of(topic)
        models = [schema, *schema.get("$defs", {}).values()]
        for model in models:
            for name, prop in model.get("properties", {}).items():
                assert prop.get("description"), f"{topic}: {name} has no description"


def test_the_case_state_marks_the_activation_scores_and_holds_no_identity() -> None:
    schema = state_schema_of("hub.case-state.v1")
    text = render(schema)
    for identity in ("niss", "family_name", "given_name", "birth_date", "postal_code"):
        assert f'"{identity}"' not in text
    activation = schema["$defs"]["SocialActivation"]["properties"]
    marked = {n for n, p in activation.items() if p.get("x-personal-data")}
    assert marked == {"baseline", "latest", "progress"}


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
    name = path.name.removesuffix(".json")
    now = state_schema_of(name) if name in STATE_TOPICS else schema_of(name)
    return [*versions, now]


def test_no_committed_change_broke_backward_compatibility() -> None:
    try:
        _git("rev-parse", "HEAD")
    except (subprocess.CalledProcessError, FileNotFoundError):
        pytest.skip("not a git checkout with history")
    for event_type in EVENT_TYPES:
        versions = _history(SCHEMA_DIR / f"{event_type}.json")
        for older, newer in itertools.pairwise(versions):
            assert incompatibilities(older, newer) == [], event_type
    for topic in STATE_TOPICS:
        for older, newer in itertools.pairwise(_history(state_schema_path(topic))):
            assert incompatibilities(older, newer) == [], topic


def test_render_is_stable() -> None:
    schema = schema_of("hub.intake.bilan.completed.v1")
    assert render(schema) == render(json.loads(render(schema)))
