"""Belgian identifiers: NISS/INSZ (RN and BIS numbers) and KBO/BCE numbers."""

import re
from calendar import monthrange
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Annotated, Final, Literal

from pydantic import AfterValidator, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

__all__ = [
    "RULES",
    "IdentifierError",
    "Kbo",
    "Niss",
    "ParsedNiss",
    "names_a_national_number",
    "normalise_kbo",
    "parse_niss",
]

# A national number (NISS, BIS) is 11 digits; people write it with separators.
_NUMBER_SEPARATORS: Final = re.compile(r"[ ./-]")
_ELEVEN_DIGITS: Final = re.compile(r"\d{11}")


def names_a_national_number(text: str) -> bool:
    """Whether a free text holds 11 digits in a row, separators aside (a NISS)."""
    return bool(_ELEVEN_DIGITS.search(_NUMBER_SEPARATORS.sub("", text)))


_NISS_CHECK = "mod 97 rule of the National Register, IBZ IT000"
_FROM_2000 = (
    "people born from 2000 on have their check digits computed on 2 followed by "
    "the first nine digits"
)

RULES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "niss.format": "must contain only digits, grouped with dots, dashes or "
        "spaces at most",
        "niss.length": "must have exactly 11 digits (YYMMDDSSSCC)",
        "niss.check_digits": f"check digits do not match ({_NISS_CHECK})",
        "niss.sequence": "sequence number (digits 7 to 9) must be between 001 and 998",
        "niss.month": "month (digits 3 and 4) must be 01-12, 21-32 or 41-52 for a "
        "BIS number, or 00, 20 or 40 when the month is unknown",
        "niss.day_without_month": "an unknown month (00, 20 or 40) needs an "
        "unknown day (00)",
        "niss.day": "day (digits 5 and 6) does not exist in that month and year; "
        "00 stands for an unknown day",
        "niss.birth_date_mismatch": "the date part does not agree with the known "
        "birth date",
        "niss.century_mismatch": "check digits are those of the other century for "
        f"the known birth date: {_FROM_2000} ({_NISS_CHECK})",
        "kbo.format": "must contain only digits, grouped with dots, dashes or "
        "spaces at most, optionally after BE",
        "kbo.length": "must have 10 digits (or 9 for an old number, read with a "
        "leading 0)",
        "kbo.first_digit": "must start with 0 or 1",
        "kbo.check_digits": "last two digits must be 97 minus the first eight "
        "modulo 97",
    }
)
"""Every rule code an `IdentifierError` raised here can carry, with its explanation."""

_SEPARATORS: Final = re.compile(r"[\s.\-]")
_DIGITS: Final = re.compile(r"[0-9]*")
_FROM_2000_OFFSET: Final = 2_000_000_000
_SEQUENCE_NOT_ASSIGNED: Final = frozenset({0, 999})
_BIS_SEX_UNKNOWN: Final = 20
_BIS_SEX_KNOWN: Final = 40
_MONTHS: Final = 12
_NISS_LENGTH: Final = 11
_KBO_LENGTH: Final = 10
_OLD_KBO_LENGTH: Final = 9


class IdentifierError(ValueError):
    """An identifier that breaks one of its rules.

    The message names the field and the rule. It never echoes a NISS, not even
    part of one, because a NISS is personal data and error messages end up in logs.

    Attributes:
        field: Name of the input field that held the identifier.
        rule: Stable rule code, e.g. ``"niss.check_digits"``.
        explanation: What the rule requires, without the field name.
    """

    def __init__(self, field: str, rule: str, explanation: str) -> None:
        super().__init__(f"{field}: {explanation}")
        self.field = field
        self.rule = rule
        self.explanation = explanation

    def __reduce__(self) -> tuple[type["IdentifierError"], tuple[str, str, str]]:
        # The default pickling replays `args` (the whole message) into __init__,
        # which takes three arguments: errors cross process boundaries in workers.
        return (type(self), (self.field, self.rule, self.explanation))


def _refuse(field: str, rule: str) -> IdentifierError:
    return IdentifierError(field, rule, RULES[rule])


@dataclass(frozen=True, slots=True)
class ParsedNiss:
    """A valid NISS and what its digits say about the person.

    `value` and `birth_date` are left out of the repr so that logging the object
    does not leak them.
    """

    value: str = field(repr=False)
    kind: Literal["RN", "BIS"]
    birth_date: date | None = field(repr=False)
    sex: Literal["M", "F"] | None
    born_from_2000: bool


def _mod97_check(number: int) -> int:
    return 97 - number % 97


def _compact(raw: object, field: str, rule: str) -> str:
    """The digits as typed, without separators; refused by its format ``rule``."""
    if not isinstance(raw, str):
        raise _refuse(field, rule)
    compact = _SEPARATORS.sub("", raw)
    if rule == "kbo.format":
        compact = compact.upper().removeprefix("BE")
    if not _DIGITS.fullmatch(compact):
        raise _refuse(field, rule)
    return compact


def parse_niss(
    raw: str, *, field: str = "niss", birth_date: date | None = None
) -> ParsedNiss:
    """Validate a NISS (National Register or BIS number) and decode it.

    Args:
        raw: The number as typed; dots, dashes and spaces are ignored.
        field: Name of the input field, used in error messages.
        birth_date: The birth date the caller knows, if any. The date part and
            the century implied by the check digits must then agree with it.

    Returns:
        The normalised 11-digit number with its kind, birth date, sex and century.

    Raises:
        IdentifierError: The number breaks a rule; see `RULES` for the codes
            starting with ``niss.``.
    """
    value = _compact(raw, field, "niss.format")
    if len(value) != _NISS_LENGTH:
        raise _refuse(field, "niss.length")
    base9, check = int(value[:9]), int(value[9:])
    born_from_2000 = _mod97_check(_FROM_2000_OFFSET + base9) == check
    if not born_from_2000 and _mod97_check(base9) != check:
        raise _refuse(field, "niss.check_digits")
    yy, mm, dd = int(value[0:2]), int(value[2:4]), int(value[4:6])
    sequence = int(value[6:9])
    if sequence in _SEQUENCE_NOT_ASSIGNED:
        raise _refuse(field, "niss.sequence")
    kind, month, sex_known = _decode_month(mm, field)
    if month == 0 and dd != 0:
        raise _refuse(field, "niss.day_without_month")
    year = (2000 if born_from_2000 else 1900) + yy
    if birth_date is not None:
        # Before the calendar check: a 2000-02-29 birth with a pre-2000 check
        # would otherwise be reported as 29 February 1900, a misleading rule.
        _check_agrees(birth_date, (year, month, dd), field)
    if month and dd > monthrange(year, month)[1]:
        raise _refuse(field, "niss.day")
    sex: Literal["M", "F"] | None = None
    if sex_known:
        sex = "M" if sequence % 2 else "F"
    return ParsedNiss(
        value=value,
        kind=kind,
        birth_date=date(year, month, dd) if month and dd else None,
        sex=sex,
        born_from_2000=born_from_2000,
    )


def _decode_month(mm: int, field: str) -> tuple[Literal["RN", "BIS"], int, bool]:
    """Kind, calendar month (0 when unknown) and whether the sequence gives the sex."""
    if mm <= _MONTHS:
        return "RN", mm, True
    if _BIS_SEX_UNKNOWN <= mm <= _BIS_SEX_UNKNOWN + _MONTHS:
        return "BIS", mm - _BIS_SEX_UNKNOWN, False
    if _BIS_SEX_KNOWN <= mm <= _BIS_SEX_KNOWN + _MONTHS:
        return "BIS", mm - _BIS_SEX_KNOWN, True
    raise _refuse(field, "niss.month")


def _check_agrees(birth_date: date, decoded: tuple[int, int, int], field: str) -> None:
    year, month, day = decoded
    # Unknown parts (00) were issued before the date was known: they agree with any.
    if (
        year % 100 != birth_date.year % 100
        or (month and month != birth_date.month)
        or (day and day != birth_date.day)
    ):
        raise _refuse(field, "niss.birth_date_mismatch")
    if year != birth_date.year:
        raise _refuse(field, "niss.century_mismatch")


def normalise_kbo(raw: str, *, field: str = "cpas_kbo") -> str:
    """Validate a KBO/BCE enterprise number and return its 10 digits.

    Args:
        raw: The number as typed: ``0212.345.668``, ``0212 345 668``,
            ``BE0212345668`` or an old 9-digit number such as ``212345668``.
        field: Name of the input field, used in error messages.

    Returns:
        The 10 digits, without separators or country prefix.

    Raises:
        IdentifierError: The number breaks a rule; see `RULES` for the codes
            starting with ``kbo.``.
    """
    value = _compact(raw, field, "kbo.format")
    # Numbers from before the KBO had 9 digits; the KBO put a 0 in front of them.
    if len(value) == _OLD_KBO_LENGTH:
        value = f"0{value}"
    if len(value) != _KBO_LENGTH:
        # Not echoed: a mistyped 11-digit value is likely a NISS.
        raise _refuse(field, "kbo.length")
    # From here on the value is a 10-digit enterprise number, not personal data,
    # so it is named to help the user find the typo.
    if value[0] not in "01":
        raise _refuse_kbo(field, "kbo.first_digit", value)
    if int(value[8:]) != _mod97_check(int(value[:8])):
        raise _refuse_kbo(field, "kbo.check_digits", value)
    return value


def _refuse_kbo(field: str, rule: str, value: str) -> IdentifierError:
    shown = f"{value[:4]}.{value[4:7]}.{value[7:]}"
    return IdentifierError(field, rule, f"{RULES[rule]} ({shown})")


def _validate_niss(value: str, info: ValidationInfo) -> str:
    try:
        return parse_niss(value, field=info.field_name or "niss").value
    except IdentifierError as error:
        raise _pydantic_error(error) from None


def _validate_kbo(value: str, info: ValidationInfo) -> str:
    try:
        return normalise_kbo(value, field=info.field_name or "kbo")
    except IdentifierError as error:
        raise _pydantic_error(error) from None


def _pydantic_error(error: IdentifierError) -> PydanticCustomError:
    # The rule code is the error type so that API layers can map it without
    # parsing text; the context carries no input value.
    return PydanticCustomError(
        error.rule,
        "{field}: {explanation}",
        {"field": error.field, "explanation": error.explanation, "rule": error.rule},
    )


_NISS_INPUT = (
    "NISS/INSZ: National Register or BIS number, 11 digits (YYMMDDSSSCC); dots, "
    "dashes and spaces are accepted and removed."
)
_KBO_INPUT = (
    "KBO/BCE enterprise number, 10 digits (or an old 9-digit number); dots, "
    "dashes, spaces and a BE prefix are accepted and removed."
)

Niss = Annotated[
    str,
    AfterValidator(_validate_niss),
    # Inputs may carry separators, so only the output schema has a pattern.
    WithJsonSchema({"type": "string", "description": _NISS_INPUT}, mode="validation"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[0-9]{11}$",
            "description": "NISS/INSZ: National Register or BIS number, 11 digits.",
        },
        mode="serialization",
    ),
]
"""A NISS checked and normalised to 11 digits (birth date not cross-checked).

Models holding one should set ``hide_input_in_errors=True``: pydantic otherwise
prints the input value in `ValidationError` messages.
"""

Kbo = Annotated[
    str,
    AfterValidator(_validate_kbo),
    WithJsonSchema({"type": "string", "description": _KBO_INPUT}, mode="validation"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[01][0-9]{9}$",
            "description": "KBO/BCE enterprise number, 10 digits.",
        },
        mode="serialization",
    ),
]
"""A KBO/BCE enterprise number checked and normalised to 10 digits."""
