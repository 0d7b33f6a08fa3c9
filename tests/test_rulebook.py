"""The rulebook is whole: every code the hub can answer is in it, and it is true."""

from __future__ import annotations

import importlib
import re
import typing

import pytest

from contracts.piis import PiisDeadlineMissedV1
from services.rulebook import ROOT, Rule, codes_in_code, rulebook
from services.rulebook.__main__ import expected

RULES = rulebook()


def flag_codes() -> set[str]:
    """The kinds of missed deadline a watch can flag, as rule codes."""
    kinds = typing.get_args(PiisDeadlineMissedV1.model_fields["kind"].annotation)
    return {f"deadline.{kind}" for kind in kinds}


def test_every_code_a_command_translator_or_check_returns_is_in_the_rulebook() -> None:
    in_code = codes_in_code()
    missing = {code: min(where) for code, where in in_code.items() if code not in RULES}
    missing |= dict.fromkeys(flag_codes() - set(RULES), "deadline kinds")
    assert missing == {}


def test_every_rule_in_the_rulebook_is_still_returned_somewhere() -> None:
    returned = set(codes_in_code()) | flag_codes()
    assert sorted(set(RULES) - returned) == []


@pytest.mark.parametrize("rule", RULES.values(), ids=lambda r: r.code)
def test_a_rule_says_what_where_and_how_it_is_shown(rule: Rule) -> None:
    assert rule.statement.strip()
    assert rule.source.strip()
    assert rule.enforced_by
    assert rule.tests
    if rule.doc is not None:
        assert (ROOT / rule.doc.split("#")[0]).is_file(), rule.doc


@pytest.mark.parametrize("rule", RULES.values(), ids=lambda r: r.code)
def test_the_functions_that_enforce_a_rule_exist(rule: Rule) -> None:
    for where in rule.enforced_by:
        module, _, qualname = where.partition(":")
        target: object = importlib.import_module(module)
        for part in qualname.split("."):
            target = getattr(target, part)


@pytest.mark.parametrize("rule", RULES.values(), ids=lambda r: r.code)
def test_the_tests_that_show_a_rule_exist(rule: Rule) -> None:
    for node in rule.tests:
        path, _, name = node.partition("::")
        source = (ROOT / path).read_text(encoding="utf-8")
        function = name.split("::")[-1].split("[")[0]
        assert re.search(rf"^\s*(async )?def {function}\(", source, re.MULTILINE), node


def test_docs_rules_md_is_generated_from_the_rulebook() -> None:
    for path, text in expected().items():
        assert path.read_text(encoding="utf-8") == text, (
            "docs/rules.md is stale: run `make schemas`"
        )
