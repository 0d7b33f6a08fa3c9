"""Rules of the identifiers area (see services/rulebook/__init__.py).

NISS and BIS numbers, KBO/BCE numbers, the CPAS file number, and how a
date, a UUID and a decimal are written.
"""

from __future__ import annotations

from services.rulebook import Rule

_NATIONAL_REGISTER = (
    "National Register rules (IBZ instruction IT000; royal decree of 8 February "
    "1991 for the numbers the BCSS gives)"
)
_KBO = "Crossroads Bank for Enterprises (KBO/BCE) enterprise number"
_TESTS = "tests/contracts/test_identifiers.py"
_NISS_DOC = "docs/domain/identifiers.md#niss"
_KBO_DOC = "docs/domain/identifiers.md#kbo-enterprise-number"

RULES: tuple[Rule, ...] = (
    Rule(
        code="niss.format",
        statement=(
            "A NISS holding anything but digits grouped with dots, dashes or spaces "
            "(or given as no text at all) is refused, without repeating it."
        ),
        source=f"{_NATIONAL_REGISTER}: machine exchanges use the 11 digits",
        enforced_by=("contracts.identifiers:_compact",),
        tests=(
            f"{_TESTS}::test_letters_and_other_characters_are_refused",
            f"{_TESTS}::test_a_non_string_is_refused_as_a_format_error",
        ),
        kind="input",
        doc=_NISS_DOC,
    ),
    Rule(
        code="niss.length",
        statement=(
            "A NISS (National Register or BIS number) that does not have exactly 11 "
            "digits once dots, dashes and spaces are left out is refused. No refusal "
            "ever repeats the number, not even in part."
        ),
        source=f"{_NATIONAL_REGISTER}: 11 digits YYMMDDSSSCC",
        enforced_by=("contracts.identifiers:parse_niss",),
        tests=(f"{_TESTS}::test_a_number_without_exactly_11_digits_is_refused",),
        kind="input",
        doc=_NISS_DOC,
    ),
    Rule(
        code="niss.check_digits",
        statement=(
            "A NISS whose last two digits are neither 97 minus the first nine digits "
            "modulo 97 nor, for people born from 2000, 97 minus 2 followed by the "
            "nine digits modulo 97, is refused."
        ),
        source=f"{_NATIONAL_REGISTER}: check digits mod 97",
        enforced_by=("contracts.identifiers:parse_niss",),
        tests=(
            f"{_TESTS}::test_check_digits_changed_by_one_are_refused",
            f"{_TESTS}::test_the_annotated_types_report_the_field_and_the_rule",
        ),
        kind="input",
        doc="docs/domain/identifiers.md#niss-check-digits-mod-97",
    ),
    Rule(
        code="niss.sequence",
        statement=(
            "A NISS whose sequence number (digits 7 to 9) is 000 or 999 is refused: "
            "those numbers are never given."
        ),
        source=f"{_NATIONAL_REGISTER}: sequence 001 to 998",
        enforced_by=("contracts.identifiers:parse_niss",),
        tests=(f"{_TESTS}::test_sequences_000_and_999_are_refused",),
        kind="input",
        doc=_NISS_DOC,
    ),
    Rule(
        code="niss.month",
        statement=(
            "A NISS whose month (digits 3 and 4) is not 01-12, a BIS month 21-32 "
            "(sex unknown) or 41-52 (sex known), or 00, 20 or 40 for an unknown "
            "month, is refused."
        ),
        source=(
            f"{_NATIONAL_REGISTER}: BIS numbers raise the month by 20 or 40; an "
            "unknown birth month is 00"
        ),
        enforced_by=("contracts.identifiers:_decode_month",),
        tests=(
            f"{_TESTS}::test_month_13_is_refused",
            f"{_TESTS}::test_months_outside_the_bis_ranges_are_refused",
        ),
        kind="input",
        doc="docs/domain/identifiers.md#bis-number",
    ),
    Rule(
        code="niss.day_without_month",
        statement=(
            "A NISS with an unknown month (00, 20 or 40) and a known day is refused: "
            "an unknown month needs an unknown day (00)."
        ),
        source=f"{_NATIONAL_REGISTER}: placeholder birth dates of BIS numbers",
        enforced_by=("contracts.identifiers:parse_niss",),
        tests=(f"{_TESTS}::test_a_day_with_an_unknown_month_is_refused",),
        kind="input",
        doc="docs/domain/identifiers.md#unknown-birth-date",
    ),
    Rule(
        code="niss.day",
        statement=(
            "A NISS whose day (digits 5 and 6) does not exist in its month and year "
            "(the century read from the check digits) is refused; 00 stands for an "
            "unknown day and is allowed."
        ),
        source=f"{_NATIONAL_REGISTER}: the first six digits are the birth date",
        enforced_by=("contracts.identifiers:parse_niss",),
        tests=(
            f"{_TESTS}::test_day_32_is_refused",
            f"{_TESTS}::test_29_february_in_a_non_leap_year_is_refused",
        ),
        kind="input",
        doc=_NISS_DOC,
    ),
    Rule(
        code="niss.birth_date_mismatch",
        statement=(
            "When the birth date is also given, a NISS whose date part disagrees "
            "with it is refused (an unknown month or day, 00, agrees with any)."
        ),
        source=(
            "Hub rule: the number and the birth date given must describe the same "
            f"person ({_NATIONAL_REGISTER})"
        ),
        enforced_by=("contracts.identifiers:_check_agrees",),
        tests=(
            f"{_TESTS}::test_a_number_disagreeing_with_the_known_birth_date_is_refused",
        ),
        kind="input",
        doc="docs/domain/identifiers.md#niss-born-from-2000",
    ),
    Rule(
        code="niss.century_mismatch",
        statement=(
            "When the birth date is also given, a NISS whose check digits are those "
            "of the other century (computed with or without the 2 prefix of people "
            "born from 2000) is refused."
        ),
        source=(
            f"{_NATIONAL_REGISTER}: people born from 2000 have their check digits "
            "computed on 2 followed by the first nine digits"
        ),
        enforced_by=("contracts.identifiers:_check_agrees",),
        tests=(
            f"{_TESTS}::test_a_pre_2000_check_for_someone_born_in_2005_is_a_century_mismatch",
            f"{_TESTS}::test_a_2000_check_for_someone_born_in_1985_is_a_century_mismatch",
        ),
        kind="input",
        doc="docs/domain/identifiers.md#niss-born-from-2000",
    ),
    Rule(
        code="kbo.format",
        statement=(
            "An enterprise number holding anything but digits grouped with dots, "
            "dashes or spaces, optionally after BE, is refused."
        ),
        source=f"{_KBO}: digits only",
        enforced_by=("contracts.identifiers:_compact",),
        tests=(f"{_TESTS}::test_other_characters_are_refused",),
        kind="input",
        doc=_KBO_DOC,
    ),
    Rule(
        code="kbo.length",
        statement=(
            "An enterprise number that does not have 10 digits (or 9 for an old "
            "number, read with a leading 0) once separators and a BE prefix are "
            "left out is refused, without showing it (it may be a mistyped NISS)."
        ),
        source=f"{_KBO}: 10 digits",
        enforced_by=("contracts.identifiers:normalise_kbo",),
        tests=(f"{_TESTS}::test_a_wrong_length_is_refused_without_echoing_the_value",),
        kind="input",
        doc=_KBO_DOC,
    ),
    Rule(
        code="kbo.first_digit",
        statement="An enterprise number that does not start with 0 or 1 is refused.",
        source=f"{_KBO}: numbers start with 0, newer ones with 1",
        enforced_by=("contracts.identifiers:normalise_kbo",),
        tests=(f"{_TESTS}::test_a_first_digit_from_2_to_9_is_refused",),
        kind="input",
        doc=_KBO_DOC,
    ),
    Rule(
        code="kbo.check_digits",
        statement=(
            "An enterprise number whose last two digits are not 97 minus the first "
            "eight modulo 97 is refused; the refusal shows the number, which is not "
            "personal data."
        ),
        source=f"{_KBO}: check digits mod 97",
        enforced_by=("contracts.identifiers:normalise_kbo",),
        tests=(
            f"{_TESTS}::test_a_bad_check_is_refused_and_names_the_number",
            f"{_TESTS}::test_the_annotated_types_report_the_field_and_the_rule",
        ),
        kind="input",
        doc="docs/domain/identifiers.md#kbo-check-digits",
    ),
    Rule(
        code="dossier_number.format",
        statement=(
            "A CPAS file number that is not 1 to 11 letters or digits once spaces, "
            "dots, slashes, dashes, underscores and leading zeros are left out (and "
            "letters upper-cased) is refused."
        ),
        source=(
            "SPP IS, form A under the law of 2 April 1965 (Primabook): a file "
            "number is unique, at most 11 characters, letters and digits"
        ),
        enforced_by=("services.intake.domain:normalise_dossier_number",),
        tests=(
            "tests/intake/test_application.py::test_a_file_number_not_of_1_to_11_letters_or_digits_is_refused_primabook_form_a",
        ),
        kind="input",
        doc="docs/domain/identifiers.md#cpas-file-number",
    ),
    Rule(
        code="uuid.format",
        statement=(
            "An id (a command id, a case id in a path) not written as 8-4-4-4-12 "
            "hexadecimal digits is refused with 422, as the OpenAPI schema says."
        ),
        source=(
            "Hub rule: what the published schema refuses, the API refuses, ADR 0015"
        ),
        enforced_by=("contracts.wire:_uuid",),
        tests=(
            "tests/common/test_refusals.py::test_a_path_uuid_is_written_with_its_hyphens",
            "tests/common/test_refusals.py::test_a_body_field_takes_its_json_type_only",
        ),
        kind="input",
        doc="docs/decisions/0015-truthful-openapi.md",
    ),
    Rule(
        code="date.format",
        statement=(
            "A date not written YYYY-MM-DD, or a time not written "
            "YYYY-MM-DDThh:mm:ss with its UTC offset (Z or +01:00), is refused: in "
            "an API request with 422, in a partner message by parking the message "
            "(e.g. 12/03/2026)."
        ),
        source=(
            "Hub rule: dates as the published schemas write them (ISO 8601), "
            "ADR 0015 for the APIs and ADR 0009 for partner messages"
        ),
        enforced_by=(
            "contracts.wire:_date",
            "contracts.wire:_date_time",
            "services.partner_gateway.vocabulary:_refuse_local_formats",
        ),
        tests=(
            "tests/common/test_refusals.py::test_as_of_is_a_date_written_yyyy_mm_dd",
            "tests/common/test_refusals.py::test_known_at_is_an_rfc_3339_time_with_its_offset",
            "tests/partner_gateway/test_inbound_rejections.py::test_dates_not_in_iso_format_name_their_field",
        ),
        kind="input",
        doc="docs/decisions/0015-truthful-openapi.md",
    ),
    Rule(
        code="decimal.too_long",
        statement=(
            "A decimal longer, written out with its trailing zeros, than its field "
            "allows is refused, naming the limit and the length."
        ),
        source=(
            "Hub rule: nothing is stored that the hub cannot carry (a decimal is "
            "bounded by its written length), ADR 0010"
        ),
        enforced_by=("contracts.text:Digits.check",),
        tests=(
            "tests/contracts/test_text.py::test_a_decimal_is_bounded_by_its_written_length_trailing_zeros_included",
        ),
        kind="input",
        doc="docs/decisions/0010-bounded-input.md",
    ),
    Rule(
        code="decimal.comma",
        statement=(
            'A partner message with a decimal written with a comma ("21,09") is '
            "parked with this reason: decimals are JSON numbers with a point "
            "(21.09). One written as a string without a comma is schema.invalid."
        ),
        source=(
            "Hub rule: a partner writes in its published JSON Schema, not in a "
            "local format, ADR 0009"
        ),
        enforced_by=("services.partner_gateway.vocabulary:_refuse_local_formats",),
        tests=(
            "tests/partner_gateway/test_inbound_rejections.py::test_a_decimal_comma_names_its_field",
        ),
        kind="parked",
        doc="docs/decisions/0009-partner-gateway.md",
    ),
)
