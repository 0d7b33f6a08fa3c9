"""The rulebook: every rule the hub enforces or flags, once, with its source.

A rule's ``code`` is what the hub answers when the rule is broken: the error
``type`` of an API refusal, the reason of a parked partner message, or the kind
of a flag (a missed deadline, a contract beyond a regional cap). Each entry
says the rule in plain words, the legal source (or that it is the hub's own
rule, with the decision record that explains it), the dates it applies, the
functions that enforce it and the tests that show it. ``docs/rules.md`` is
generated from here (``make schemas``; a test keeps it fresh), and a test
walks the code for every rule code it can return and finds it here.

The entries live in one module per area (``services/rulebook/<area>.py``);
``AREAS`` lists them: a new area is one module plus one line.
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

__all__ = [
    "AREAS",
    "Rule",
    "RuleKind",
    "codes_in_code",
    "rulebook",
]

RuleKind = Literal["refusal", "conflict", "flag", "parked", "input", "service"]

AREAS: Final = (
    "services.rulebook.identifiers",
    "services.rulebook.input",
    "services.rulebook.platform",
    "services.rulebook.intake",
    "services.rulebook.household",
    "services.rulebook.income",
    "services.rulebook.piis",
    "services.rulebook.placement",
    "services.rulebook.subsidy",
    "services.rulebook.gateway",
    "services.rulebook.audit",
    "services.rulebook.chain",
    "services.rulebook.federal",
    "services.rulebook.privacy",
    "services.rulebook.journal",
)

ROOT: Final = Path(__file__).resolve().parents[2]
CODE: Final = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: what it says, where it comes from, where it is enforced and shown."""

    code: str
    statement: str
    source: str
    enforced_by: tuple[str, ...]
    tests: tuple[str, ...]
    kind: RuleKind = "refusal"
    doc: str | None = None
    applies_from: dt.date | None = None
    applies_until: dt.date | None = None

    @property
    def area(self) -> str:
        """The first part of the code (``suspension`` for ``suspension.too_long``)."""
        return self.code.split(".", 1)[0]


def rulebook() -> Mapping[str, Rule]:
    """Every rule by code, from every area module (a code appears once)."""
    rules: dict[str, Rule] = {}
    for module in AREAS:
        for rule in importlib.import_module(module).RULES:
            if rule.code in rules:
                msg = f"rule {rule.code} is entered twice ({module})"
                raise ValueError(msg)
            rules[rule.code] = rule
    return rules


# Calls whose literal arguments name a law figure or a resource, not a rule.
_NOT_RULES: Final = frozenset({"value", "version", "versions", "files"})


# Keywords whose literal is a field's default (an event's type), not a rule.
_NOT_RULE_KEYWORDS: Final = frozenset({"default"})
# Module constants that hold codes: ``X_FLAG = "…"``, ``X_RULES = {…: "…"}``.
_CODE_CONSTANT: Final = re.compile(r"^_?[A-Z0-9_]*(_FLAG|_RULE|_RULES)$")


def codes_in_code(*packages: str) -> dict[str, set[str]]:
    """Every rule code a call in the packages' sources passes, with where it is.

    A rule code is a dotted lower-case literal given to a call among its first
    three positional arguments or as a keyword: an error's constructor, a
    refusal, a park, a flag appended to a contract's list.
    """
    found: dict[str, set[str]] = {}
    for package in packages or ("services", "contracts"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "rulebook" in path.parts:
                continue
            for code, line in _literal_codes(path):
                where = f"{path.relative_to(ROOT)}:{line}"
                found.setdefault(code, set()).add(where)
    return found


def _literal_codes(path: Path) -> Iterator[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    yield from _named_codes(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if name in _NOT_RULES:
            continue
        given = [
            *node.args[:3],
            *(k.value for k in node.keywords if k.arg not in _NOT_RULE_KEYWORDS),
        ]
        for argument in given:
            if (
                isinstance(argument, ast.Constant)
                and isinstance(argument.value, str)
                and CODE.match(argument.value)
            ):
                yield argument.value, node.lineno


def _named_codes(tree: ast.Module) -> Iterator[tuple[str, int]]:
    for node in tree.body:
        targets: list[ast.expr]
        if isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        elif isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        else:
            continue
        named = any(
            isinstance(t, ast.Name) and _CODE_CONSTANT.match(t.id) for t in targets
        )
        if not named or value is None:
            continue
        for part in ast.walk(value):
            if (
                isinstance(part, ast.Constant)
                and isinstance(part.value, str)
                and CODE.match(part.value)
            ):
                yield part.value, node.lineno
