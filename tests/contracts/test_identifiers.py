import pickle
import re
from datetime import date

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from contracts.identifiers import (
    RULES,
    IdentifierError,
    Kbo,
    Niss,
    ParsedNiss,
    normalise_kbo,
    parse_niss,
)


def with_check(base9: str, *, from_2000: bool = False) -> str:
    """A NISS: nine digits followed by their check digits for the given century."""
    number = int(base9) + (2_000_000_000 if from_2000 else 0)
    return f"{base9}{97 - number % 97:02d}"


def with_kbo_check(first8: str) -> str:
    return f"{first8}{97 - int(first8) % 97:02d}"


def refusal(
    raw: str, rule: str, *, field: str = "niss", birth_date: date | None = None
) -> IdentifierError:
    """Parse a bad NISS; check the rule and that the message leaks no digits."""
    with pytest.raises(IdentifierError) as caught:
        parse_niss(raw, field=field, birth_date=birth_date)
    error = caught.value
    message = str(error)
    assert error.rule == rule
    assert error.field == field
    assert message.startswith(f"{field}: ")
    assert RULES[rule] in message
    digits = re.sub(r"[^0-9]", "", str(raw))
    for start in range(len(digits) - 5):
        assert digits[start : start + 6] not in message
    return error


# NISS: valid numbers


def test_the_worked_example_is_a_man_born_on_30_july_1985() -> None:
    assert with_check("850730033") == "85073003328"

    parsed = parse_niss("85073003328")

    assert parsed == ParsedNiss(
        value="85073003328",
        kind="RN",
        birth_date=date(1985, 7, 30),
        sex="M",
        born_from_2000=False,
    )


def test_a_birth_from_2000_on_has_its_check_computed_on_2_and_nine_digits() -> None:
    niss = with_check("050315002", from_2000=True)
    assert niss != with_check("050315002")

    parsed = parse_niss(niss, birth_date=date(2005, 3, 15))

    assert parsed.birth_date == date(2005, 3, 15)
    assert parsed.born_from_2000
    assert parsed.sex == "F"
    assert parsed.kind == "RN"


def test_a_bis_number_with_month_plus_20_has_no_sex() -> None:
    parsed = parse_niss(with_check("852730033"))

    assert parsed.kind == "BIS"
    assert parsed.birth_date == date(1985, 7, 30)
    assert parsed.sex is None


def test_a_bis_number_with_month_plus_40_takes_its_sex_from_the_sequence() -> None:
    parsed = parse_niss(with_check("854730034"))

    assert parsed.kind == "BIS"
    assert parsed.birth_date == date(1985, 7, 30)
    assert parsed.sex == "F"


def test_a_bis_number_with_day_00_has_an_unknown_birth_date() -> None:
    parsed = parse_niss(with_check("854700035"))

    assert parsed.kind == "BIS"
    assert parsed.birth_date is None
    assert parsed.sex == "M"


@pytest.mark.parametrize("base9", ["850000033", "852000033", "854000033"])
def test_an_unknown_month_and_day_are_accepted(base9: str) -> None:
    assert parse_niss(with_check(base9)).birth_date is None


def test_an_unknown_day_agrees_with_any_known_birth_day() -> None:
    niss = with_check("854700035")

    assert parse_niss(niss, birth_date=date(1985, 7, 12)).value == niss


@pytest.mark.parametrize(
    "raw", ["85.07.30-033.28", "85 07 30 033 28", "850730-033-28", " 85073003328\n"]
)
def test_separators_are_accepted_and_removed(raw: str) -> None:
    assert parse_niss(raw).value == "85073003328"


def test_29_february_is_accepted_in_a_leap_year() -> None:
    assert parse_niss(with_check("840229033")).birth_date == date(1984, 2, 29)


def test_29_february_2000_is_accepted_but_1900_was_not_a_leap_year() -> None:
    from_2000 = parse_niss(with_check("000229033", from_2000=True))
    assert from_2000.birth_date == date(2000, 2, 29)

    refusal(with_check("000229033"), "niss.day")


def test_the_parsed_number_keeps_personal_data_out_of_its_repr() -> None:
    shown = repr(parse_niss("85073003328"))

    assert "850730" not in shown
    assert "1985" not in shown


# NISS: bad inputs


@pytest.mark.parametrize("raw", ["85073003329", "85073003327"])
def test_check_digits_changed_by_one_are_refused(raw: str) -> None:
    refusal(raw, "niss.check_digits", field="applicant_niss")


@pytest.mark.parametrize("raw", ["8507300332", "850730033281", ""])
def test_a_number_without_exactly_11_digits_is_refused(raw: str) -> None:
    refusal(raw, "niss.length")


FULL_WIDTH_DIGITS = "".join(chr(ord(digit) + 0xFEE0) for digit in "85073003328")


@pytest.mark.parametrize("raw", ["85O73003328", "85/07/30-033.28", FULL_WIDTH_DIGITS])
def test_letters_and_other_characters_are_refused(raw: str) -> None:
    refusal(raw, "niss.format")


def test_a_non_string_is_refused_as_a_format_error() -> None:
    refusal(85073003328, "niss.format")  # type: ignore[arg-type]


def test_month_13_is_refused() -> None:
    refusal(with_check("851330033"), "niss.month")


@pytest.mark.parametrize("mm", ["33", "39", "53", "99"])
def test_months_outside_the_bis_ranges_are_refused(mm: str) -> None:
    refusal(with_check(f"85{mm}30033"), "niss.month")


def test_day_32_is_refused() -> None:
    refusal(with_check("850732033"), "niss.day")


def test_29_february_in_a_non_leap_year_is_refused() -> None:
    refusal(with_check("850229033"), "niss.day")


def test_30_february_is_refused_even_in_a_leap_year() -> None:
    refusal(with_check("840230033"), "niss.day")


def test_a_day_with_an_unknown_month_is_refused() -> None:
    refusal(with_check("850015033"), "niss.day_without_month")


@pytest.mark.parametrize("sequence", ["000", "999"])
def test_sequences_000_and_999_are_refused(sequence: str) -> None:
    refusal(with_check(f"850730{sequence}"), "niss.sequence")


def test_a_pre_2000_check_for_someone_born_in_2005_is_a_century_mismatch() -> None:
    error = refusal(
        with_check("050315002"), "niss.century_mismatch", birth_date=date(2005, 3, 15)
    )

    assert "2 followed by the first nine digits" in str(error)


def test_a_2000_check_for_someone_born_in_1985_is_a_century_mismatch() -> None:
    refusal(
        with_check("850730033", from_2000=True),
        "niss.century_mismatch",
        birth_date=date(1985, 7, 30),
    )


def test_29_february_2000_with_a_pre_2000_check_is_a_century_mismatch() -> None:
    refusal(
        with_check("000229033"), "niss.century_mismatch", birth_date=date(2000, 2, 29)
    )


@pytest.mark.parametrize(
    "birth_date", [date(1985, 7, 31), date(1985, 8, 30), date(1986, 7, 30)]
)
def test_a_number_disagreeing_with_the_known_birth_date_is_refused(
    birth_date: date,
) -> None:
    refusal("85073003328", "niss.birth_date_mismatch", birth_date=birth_date)


def test_the_error_survives_pickling() -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_niss("85073003329")

    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own bytes

    assert (copy.field, copy.rule, str(copy)) == (
        "niss",
        "niss.check_digits",
        str(caught.value),
    )


# KBO / BCE

# Checked by hand: 0202.239.951 (Proximus) and 0403.019.261 (python-stdnum's example).
REAL_KBO_NUMBERS = ["0202239951", "0403019261"]


@pytest.mark.parametrize("number", REAL_KBO_NUMBERS)
def test_real_enterprise_numbers_are_valid(number: str) -> None:
    assert normalise_kbo(number) == number


@pytest.mark.parametrize("first8", ["02123456", "02070000", "10000000", "19999999"])
def test_numbers_with_a_computed_check_are_valid(first8: str) -> None:
    number = with_kbo_check(first8)

    assert normalise_kbo(number) == number


@pytest.mark.parametrize(
    "raw",
    [
        "0212.345.668",
        "0212 345 668",
        "0212-345-668",
        "BE0212345668",
        "be 0212.345.668",
        "212345668",
        "212.345.668",
    ],
)
def test_usual_spellings_are_normalised_to_10_digits(raw: str) -> None:
    assert normalise_kbo(raw) == "0212345668"


def test_a_bad_check_is_refused_and_names_the_number() -> None:
    with pytest.raises(IdentifierError) as caught:
        normalise_kbo("0212.345.678")

    assert caught.value.rule == "kbo.check_digits"
    assert str(caught.value).startswith("cpas_kbo: ")
    assert "0212.345.678" in str(caught.value)


@pytest.mark.parametrize("raw", ["02123456", "02123456681", "BE02123456681", ""])
def test_a_wrong_length_is_refused_without_echoing_the_value(raw: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        normalise_kbo(raw, field="employer_kbo")

    assert caught.value.rule == "kbo.length"
    assert str(caught.value).startswith("employer_kbo: ")
    assert not re.search(r"[0-9]{6}", str(caught.value))


@pytest.mark.parametrize("first", range(2, 10))
def test_a_first_digit_from_2_to_9_is_refused(first: int) -> None:
    with pytest.raises(IdentifierError) as caught:
        normalise_kbo(with_kbo_check(f"{first}2123456"))

    assert caught.value.rule == "kbo.first_digit"


@pytest.mark.parametrize("raw", ["02l2.345.668", "NL0212345668", "0212_345_668"])
def test_other_characters_are_refused(raw: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        normalise_kbo(raw)

    assert caught.value.rule == "kbo.format"


# Pydantic types


class Applicant(BaseModel):
    # The documented setting for models with a NISS: no input in error text.
    model_config = ConfigDict(hide_input_in_errors=True)

    applicant_niss: Niss
    cpas_kbo: Kbo


def test_the_annotated_types_normalise_their_values() -> None:
    applicant = Applicant(applicant_niss="85.07.30-033.28", cpas_kbo="BE0202239951")

    assert applicant.applicant_niss == "85073003328"
    assert applicant.cpas_kbo == "0202239951"


def test_the_annotated_types_report_the_field_and_the_rule() -> None:
    with pytest.raises(ValidationError) as caught:
        Applicant(applicant_niss="85073003329", cpas_kbo="0212345678")

    errors = {error["loc"]: error for error in caught.value.errors()}
    niss_error = errors[("applicant_niss",)]
    kbo_error = errors[("cpas_kbo",)]
    assert niss_error["type"] == "niss.check_digits"
    assert niss_error["msg"] == f"applicant_niss: {RULES['niss.check_digits']}"
    assert kbo_error["type"] == "kbo.check_digits"
    assert RULES["kbo.check_digits"] in kbo_error["msg"]
    assert "85073003" not in str(caught.value)


def test_the_annotated_types_refuse_a_number_given_as_an_integer() -> None:
    with pytest.raises(ValidationError) as caught:
        Applicant.model_validate(
            {"applicant_niss": 85073003328, "cpas_kbo": "0202239951"}
        )

    assert caught.value.errors()[0]["type"] == "string_type"


def test_the_json_schema_describes_the_digits_and_patterns_only_the_output() -> None:
    accepted = Applicant.model_json_schema()["properties"]
    produced = Applicant.model_json_schema(mode="serialization")["properties"]

    assert "11 digits" in accepted["applicant_niss"]["description"]
    assert "10 digits" in accepted["cpas_kbo"]["description"]
    assert "pattern" not in accepted["applicant_niss"]
    assert "pattern" not in accepted["cpas_kbo"]
    assert produced["applicant_niss"]["pattern"] == "^[0-9]{11}$"
    assert produced["cpas_kbo"]["pattern"] == "^[01][0-9]{9}$"
