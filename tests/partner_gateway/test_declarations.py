"""The partner declarations are complete and careful; schemas and docs are current."""

from __future__ import annotations

import subprocess
import sys
from typing import get_args

import pytest

from contracts.regions import PartnerCode
from services.partner_gateway.canonical import (
    CODE_SETS,
    INBOUND_BODIES,
    OUTBOUND_FIELDS,
    InboundKind,
    OutboundKind,
)
from services.partner_gateway.docs import stale_pages
from services.partner_gateway.export import stale_schemas
from services.partner_gateway.registry import PARTNERS
from services.partner_gateway.vocabulary import (
    ENVELOPE,
    INBOUND_ENVELOPE,
    OUTBOUND_ENVELOPE,
    Vocabulary,
    code_set,
)
from tests.partner_gateway.samples import FACTS

VOCABULARIES = [
    pytest.param(t.code, v, id=f"{t.code}-{v.language}")
    for t in PARTNERS.values()
    for v in t.partner.vocabularies
]
IDENTITY = {"family_name", "given_name", "birth_date"}


def test_every_partner_code_has_one_translator() -> None:
    assert set(PARTNERS) == set(PartnerCode)
    assert all(code == t.code for code, t in PARTNERS.items())


@pytest.mark.parametrize(("code", "vocabulary"), VOCABULARIES)
def test_a_vocabulary_declares_every_message_both_ways(
    code: str, vocabulary: Vocabulary
) -> None:
    assert set(vocabulary.envelope) == set(ENVELOPE)
    assert set(vocabulary.outbound) == set(get_args(OutboundKind))
    assert set(vocabulary.inbound) == set(get_args(InboundKind))
    for kind, spec in vocabulary.inbound.items():
        expected = set(INBOUND_BODIES[kind].model_fields) - {"kind"}
        assert sorted(spec.fields.values()) == sorted(expected), (code, kind)
    for direction in (vocabulary.outbound, vocabulary.inbound):
        types = [spec.message_type for spec in direction.values()]
        assert len(set(types)) == len(types), code


@pytest.mark.parametrize(("code", "vocabulary"), VOCABULARIES)
def test_allow_lists_hold_what_the_legal_basis_needs_and_no_more(
    code: str, vocabulary: Vocabulary
) -> None:
    for kind, spec in vocabulary.outbound.items():
        allowed = set(spec.fields)
        assert allowed <= set(OUTBOUND_FIELDS[kind].model_fields)
        if kind == "case_erased":
            # The person's data is erased: the file number and the day, no more.
            assert allowed == {"dossier_number", "erased_on"}, code
            continue
        assert {"niss", "dossier_number"} <= allowed, (code, kind)
        if kind == "registration_request":
            assert IDENTITY | {"preferred_language"} <= allowed
            # Forem alone has a registration deadline (Walloon decree of 2026).
            assert ("register_by" in allowed) == (code == "forem")
        else:
            assert not allowed & IDENTITY, (code, kind)


@pytest.mark.parametrize(("code", "vocabulary"), VOCABULARIES)
def test_a_field_has_one_name_and_a_message_no_name_twice(
    code: str, vocabulary: Vocabulary
) -> None:
    names = dict(vocabulary.envelope)
    for spec in vocabulary.outbound.values():
        for canonical, name in spec.fields.items():
            assert names.setdefault(canonical, name) == name, (code, canonical)
    for envelope, messages in (
        (
            OUTBOUND_ENVELOPE,
            [list(s.fields.values()) for s in vocabulary.outbound.values()],
        ),
        (INBOUND_ENVELOPE, [list(s.fields) for s in vocabulary.inbound.values()]),
    ):
        for fields in messages:
            message = [vocabulary.envelope[n] for n in envelope] + fields
            assert len(set(message)) == len(message), (code, fields)


@pytest.mark.parametrize(("code", "vocabulary"), VOCABULARIES)
def test_every_code_has_exactly_one_label(code: str, vocabulary: Vocabulary) -> None:
    assert set(vocabulary.labels) == set(CODE_SETS), code
    for name, labels in vocabulary.labels.items():
        assert set(labels) == set(CODE_SETS[name].codes), (code, name)
        assert len(set(labels.values())) == len(labels), (code, name)


def test_every_coded_field_uses_a_declared_code_set() -> None:
    models = [*OUTBOUND_FIELDS.values(), *INBOUND_BODIES.values()]
    used = {code_set(info) for m in models for info in m.model_fields.values()}
    assert {c.name for c in used if c is not None} == set(CODE_SETS)


def test_each_partner_writes_in_the_language_of_its_region() -> None:
    for (code, language), facts in FACTS.items():
        assert PARTNERS[code].language_for(facts) == language
    assert PARTNERS["actiris"].languages == ("fr", "nl")
    german = next(f for (c, _), f in FACTS.items() if c == "adg")
    assert PARTNERS["actiris"].language_for(german) == "fr"


def test_every_field_of_every_partner_schema_is_described() -> None:
    for t in PARTNERS.values():
        for message in t.models():
            schema = message.model.model_json_schema()
            assert schema["additionalProperties"] is False
            for name, prop in schema["properties"].items():
                assert prop.get("description"), (t.code, message.message_type, name)


def test_committed_partner_schemas_are_current() -> None:
    assert stale_schemas() == [], "run `python -m services.partner_gateway.export`"


def test_partner_docs_are_current() -> None:
    assert stale_pages() == [], "run `python -m services.partner_gateway.docs`"


@pytest.mark.parametrize("module", ["export", "docs"])
def test_the_check_commands_exit_zero_when_current(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", f"services.partner_gateway.{module}", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout
