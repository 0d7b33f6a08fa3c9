"""The bad partner payloads a real exchange sends: refused with their rule and field.

None of the messages may hold personal data: not the NISS, nor any value sent.
"""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

from contracts.text import ONE_LINE_PATTERN, PROSE_PATTERN
from services.partner_gateway.registry import PARTNERS
from services.partner_gateway.vocabulary import REJECTION_RULES, InboundRejected
from tests.partner_gateway.samples import FACTS, golden_path


def golden(code: str, kind: str, language: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        golden_path(code, "inbound", kind, language).read_bytes()
    )
    return data


def encode(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def refusal(code: str, raw: bytes) -> InboundRejected:
    with pytest.raises(InboundRejected) as caught:
        PARTNERS[code].parse(raw)
    error = caught.value
    assert error.rule in REJECTION_RULES
    text = f"{error} {error.field}"
    for facts in FACTS.values():  # every sample NISS and name stays out
        for personal in (facts.niss, facts.family_name, facts.given_name):
            assert personal not in text
    return error


# --- field names in the wrong language ------------------------------------------


@pytest.mark.parametrize(
    ("sent_by", "language", "to", "expected_field"),
    [
        ("vdab", "nl", "forem", "aanwezigheidsgraad"),  # Dutch on the French adapter
        ("actiris", "nl", "forem", "aanwezigheidsgraad"),
        ("forem", "fr", "vdab", "date_envoi"),
        ("adg", "de", "actiris", "anwesenheitsquote"),
        ("forem", "fr", "adg", "date_envoi"),
        ("actiris", "nl", "vdab", "bericht_id"),  # another partner's Dutch
    ],
)
def test_field_names_of_another_language_are_named(
    sent_by: str, language: str, to: str, expected_field: str
) -> None:
    raw = encode(golden(sent_by, "follow_up_report", language))
    error = refusal(to, raw)
    assert error.rule == "language.wrong"
    assert error.field == expected_field
    assert expected_field in error.message


def test_a_french_message_with_dutch_fields_on_the_bilingual_adapter() -> None:
    data = golden("actiris", "follow_up_report", "fr")
    data["samenvatting"] = data.pop("resume")
    error = refusal("actiris", encode(data))
    assert (error.rule, error.field) == ("language.wrong", "samenvatting")
    assert "the Dutch vocabulary of Actiris" in error.message
    assert "read with the French vocabulary of Actiris" in error.message


def test_an_extra_field_of_the_same_vocabulary_is_a_schema_violation() -> None:
    data = golden("forem", "training_completed", "fr")
    data["motif"] = "x"  # a Forem name, of another message
    error = refusal("forem", encode(data))
    assert (error.rule, error.field) == ("schema.invalid", "motif")


# --- encoding ----------------------------------------------------------------------


@pytest.mark.parametrize(("code", "language"), [("forem", "fr"), ("adg", "de")])
def test_latin_1_accents_are_refused(code: str, language: str) -> None:
    text = golden_path(code, "inbound", "training_enrolled", language).read_text()
    assert any(ord(c) > 127 for c in text)
    error = refusal(code, text.encode("latin-1"))
    assert error.rule == "encoding.not_utf8"


def test_a_utf8_byte_order_mark_is_tolerated() -> None:
    raw = golden_path("forem", "inbound", "training_enrolled", "fr").read_bytes()
    assert PARTNERS["forem"].parse(b"\xef\xbb\xbf" + raw).kind == "training_enrolled"


# --- dates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "language", "kind", "field", "value"),
    [
        ("forem", "fr", "training_enrolled", "date_debut", "12/03/2026"),
        ("actiris", "nl", "registration_confirmed", "inschrijvingsdatum", "12-03-2026"),
        ("vdab", "nl", "benefit_right_decision", "ingangsdatumRecht", "1/7/2027"),
        ("adg", "de", "follow_up_report", "naechsterTermin", "12.06.2026"),
        ("forem", "fr", "training_completed", "date_envoi", "15/05/2026 10:30"),
        ("vdab", "nl", "training_completed", "verzondenOp", "2026-05-15T10:30:00"),
    ],
)
def test_dates_not_in_iso_format_name_their_field(
    code: str, language: str, kind: str, field: str, value: str
) -> None:
    data = golden(code, kind, language)
    assert field in data
    data[field] = value
    error = refusal(code, encode(data))
    assert (error.rule, error.field) == ("date.format", field)
    assert value not in error.message


def test_an_impossible_iso_date_is_a_schema_violation() -> None:
    data = golden("forem", "training_enrolled", "fr")
    data["date_debut"] = "2026-02-30"
    error = refusal("forem", encode(data))
    assert (error.rule, error.field) == ("schema.invalid", "date_debut")


# --- decimals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "language", "kind", "field", "value"),
    [
        ("forem", "fr", "follow_up_report", "taux_presence", "21,09"),
        ("actiris", "fr", "employment_started", "heures_par_semaine", "19,5"),
        ("vdab", "nl", "follow_up_report", "aanwezigheidsgraad", "87,5"),
        ("adg", "de", "employment_started", "wochenstunden", "19,5"),
    ],
)
def test_a_decimal_comma_names_its_field(
    code: str, language: str, kind: str, field: str, value: str
) -> None:
    data = golden(code, kind, language)
    data[field] = value
    error = refusal(code, encode(data))
    assert (error.rule, error.field) == ("decimal.comma", field)


def test_a_decimal_written_as_a_string_is_a_schema_violation() -> None:
    data = golden("forem", "follow_up_report", "fr")
    data["taux_presence"] = "21.09"
    error = refusal("forem", encode(data))
    assert (error.rule, error.field) == ("schema.invalid", "taux_presence")


# --- schema ------------------------------------------------------------------------


def _changed(code: str, kind: str, language: str, **changes: Any) -> bytes:
    data = golden(code, kind, language)
    for name, value in changes.items():
        if value is ...:
            del data[name]
        else:
            data[name] = value
    return encode(data)


@pytest.mark.parametrize(
    ("code", "raw", "field"),
    [
        # missing
        (
            "forem",
            _changed("forem", "training_enrolled", "fr", intitule=...),
            "intitule",
        ),
        (
            "vdab",
            _changed("vdab", "training_completed", "nl", inszNummer=...),
            "inszNummer",
        ),
        # not allowed
        ("adg", _changed("adg", "registration_rejected", "de", notiz="x"), "notiz"),
        # wrong type
        (
            "actiris",
            _changed(
                "actiris", "benefit_right_decision", "nl", getelde_arbeidsdagen="312"
            ),
            "getelde_arbeidsdagen",
        ),
        (
            "forem",
            _changed("forem", "training_completed", "fr", certifiee="oui"),
            "certifiee",
        ),
        # out of range, unknown code, wrong version, bad identifiers
        (
            "vdab",
            _changed("vdab", "follow_up_report", "nl", aanwezigheidsgraad=120),
            "aanwezigheidsgraad",
        ),
        (
            "adg",
            _changed("adg", "employment_started", "de", vertragsart="CDI"),
            "vertragsart",
        ),
        ("forem", _changed("forem", "training_completed", "fr", version=2), "version"),
        (
            "forem",
            _changed("forem", "training_completed", "fr", numero_sequence=0),
            "numero_sequence",
        ),
        (
            "forem",
            _changed("forem", "training_completed", "fr", niss="85073003428"),
            "niss",
        ),
        (
            "forem",
            _changed("forem", "training_completed", "fr", niss="8507300342"),
            "niss",
        ),
        (
            "forem",
            _changed("forem", "training_completed", "fr", niss="85.07.30-034.27"),
            "niss",
        ),
        (
            "actiris",
            _changed(
                "actiris", "employment_started", "fr", numero_bce_employeur="0403170702"
            ),
            "numero_bce_employeur",
        ),
        # a rule across fields: an opened right needs its start date
        (
            "vdab",
            _changed("vdab", "benefit_right_decision", "nl", ingangsdatumRecht=None),
            "ingangsdatumRecht",
        ),
        (
            "adg",
            _changed("adg", "benefit_right_decision", "de", entscheidung="Abgelehnt"),
            "grund",
        ),
    ],
)
def test_schema_violations_name_the_partner_field(
    code: str, raw: bytes, field: str
) -> None:
    error = refusal(code, raw)
    assert (error.rule, error.field) == ("schema.invalid", field)
    assert error.message.startswith(field)


def test_a_field_given_twice_is_refused() -> None:
    raw = golden_path("forem", "inbound", "training_completed", "fr").read_bytes()
    raw = raw.replace(b'"certifiee": true', b'"certifiee": true, "certifiee": false')
    error = refusal("forem", raw)
    assert (error.rule, error.field) == ("schema.invalid", "certifiee")


def test_a_field_name_that_could_be_a_niss_is_not_echoed() -> None:
    error = refusal(
        "forem", _changed("forem", "training_completed", "fr", **{"85073003427": 1})
    )
    assert error.rule == "schema.invalid"
    assert "85073003427" not in f"{error} {error.field}"


# --- the payload as a whole --------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        (b"<message/>", "payload.not_json"),
        (b'{"type_message": "rapport_suivi",', "payload.not_json"),
        (b'{"taux_presence": NaN}', "payload.not_json"),
        (b"[]", "schema.invalid"),
        (b"{}", "schema.invalid"),
        (b'{"type_message": "rapport_de_stage"}', "message_type.unknown"),
        (b'{"type_message": 7}', "message_type.unknown"),
    ],
)
def test_a_payload_that_is_no_message_is_refused(raw: bytes, rule: str) -> None:
    assert refusal("forem", raw).rule == rule


def test_a_rejection_survives_pickling() -> None:
    error = InboundRejected("date.format", "date_debut", "date_debut: YYYY-MM-DD")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (copy.rule, copy.field, copy.message) == (
        "date.format",
        "date_debut",
        "date_debut: YYYY-MM-DD",
    )


def test_a_payload_nested_too_deeply_is_refused_not_a_crash() -> None:
    with pytest.raises(InboundRejected) as refused:
        PARTNERS["forem"].parse(b"[" * 200_000)
    assert refused.value.rule == "payload.not_json"


# --- bounded text -----------------------------------------------------------------


def _texts() -> list[Any]:
    """Every free-text field of every inbound message, from the partner schemas."""
    cases: list[Any] = []
    for code, translator in PARTNERS.items():
        for message in translator.models():
            if message.direction != "inbound":
                continue
            properties = message.model.model_json_schema()["properties"]
            cases.extend(
                pytest.param(
                    code, message.kind, message.language, name, id=f"{code}-{name}"
                )
                for name, prop in properties.items()
                for alt in prop.get("anyOf", [prop])
                if alt.get("pattern") in {ONE_LINE_PATTERN, PROSE_PATTERN}
            )
    return cases


@pytest.mark.parametrize(("code", "kind", "language", "field"), _texts())
def test_a_control_character_in_any_partner_text_is_refused_naming_it(
    code: str, kind: str, language: str, field: str
) -> None:
    data = golden(code, kind, language)
    data[field] = f"{data.get(field) or 'x'}\x00"
    error = refusal(code, encode(data))
    assert (error.rule, error.field) == ("schema.invalid", field)
    assert "contains a control character (U+0000)" in error.message
