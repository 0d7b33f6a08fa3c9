"""Region of residence and responsible employment service, from a postal code."""

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Final

from contracts.identifiers import IdentifierError
from contracts.regions import PARTNER_FOR_REGION, PartnerCode, Region

__all__ = ["Residence", "check_ins_code", "residence_for_postal_code"]

_POSTAL_CODE: Final = re.compile(r"(?:BE?-)?([0-9]{4})", re.IGNORECASE)
_WHITESPACE: Final = re.compile(r"\s")
_INS_CODE: Final = re.compile(r"[0-9]{5}")


@dataclass(frozen=True)
class Residence:
    """Where a person lives, and which regional employment service serves them.

    A few postal codes (1040, 1050, 1804) cover two municipalities; the street
    decides which one, and so which CPAS is competent. `municipality` and
    `nis_code` then name the main one and `other_nis_codes` the rest. Region and
    partner are the same for all of them.

    Attributes:
        postal_code: The 4-digit postal code.
        region: Region of residence (the German-speaking Community counts apart).
        partner: The employment service responsible for that region.
        municipality: Name in the local language ("fr / nl" in Brussels).
        nis_code: REFNIS (INS/NIS) code of the municipality.
        other_nis_codes: REFNIS codes of other municipalities sharing the code.
    """

    postal_code: str
    region: Region
    partner: PartnerCode
    municipality: str
    nis_code: str | None = None
    other_nis_codes: tuple[str, ...] = ()


def residence_for_postal_code(
    postal_code: str, *, field: str = "postal_code"
) -> Residence:
    """Look up the residence a Belgian postal code stands for.

    Args:
        postal_code: Four digits, optionally after ``B-`` or ``BE-``; spaces are
            ignored.
        field: Name of the input field, used in error messages.

    Returns:
        The region, employment service and municipality of the postal code.

    Raises:
        IdentifierError: Rule ``postal_code.format`` when it is not 4 digits,
            ``postal_code.unknown`` when no current municipality has that code.
    """
    raw: object = postal_code  # callers outside the type checker may pass None
    compact = _WHITESPACE.sub("", raw) if isinstance(raw, str) else ""
    match = _POSTAL_CODE.fullmatch(compact)
    if match is None:
        # Not echoed: a malformed value could be anything, a NISS included.
        raise IdentifierError(
            field, "postal_code.format", "must be 4 digits, optionally after B- or BE-"
        )
    code = match.group(1)
    residence = _residences().get(code)
    if residence is None:
        raise IdentifierError(
            field,
            "postal_code.unknown",
            f"{code} is not a current Belgian postal code",
        )
    return residence


@cache
def _residences() -> Mapping[str, Residence]:
    data = files("services.intake") / "data" / "postal_codes.csv"
    found: dict[str, Residence] = {}
    for row in csv.DictReader(io.StringIO(data.read_text(encoding="utf-8"))):
        code = row["postal_code"]
        if code in found:
            # The generator writes the main municipality first.
            first = found[code]
            others = (*first.other_nis_codes, row["nis_code"])
            found[code] = replace(first, other_nis_codes=others)
            continue
        region = Region(row["region"])
        partner = PartnerCode(row["partner"])
        if PARTNER_FOR_REGION[region] is not partner:
            msg = f"postal_codes.csv: {code} pairs {region} with {partner}"
            raise ValueError(msg)
        found[code] = Residence(
            postal_code=code,
            region=region,
            partner=partner,
            municipality=row["municipality"],
            nis_code=row["nis_code"],
        )
    return MappingProxyType(found)


def check_ins_code(code: str, *, field: str = "cpas_ins_code") -> str:
    """An INS/NIS (REFNIS) municipality code, checked against the municipalities.

    Every SPP IS form names the CPAS's municipality by this code
    (docs/domain/identifiers.md#ins-municipality-code).

    Raises:
        IdentifierError: Rule ``ins_code.format`` when it is not 5 digits,
            ``ins_code.unknown`` when no current municipality has it.
    """
    raw: object = code
    if not isinstance(raw, str) or _INS_CODE.fullmatch(raw) is None:
        raise IdentifierError(field, "ins_code.format", "must be 5 digits")
    if raw not in _nis_codes():
        raise IdentifierError(
            field, "ins_code.unknown", f"{raw} is not the INS code of a municipality"
        )
    return raw


@cache
def _nis_codes() -> frozenset[str]:
    return frozenset(
        code
        for residence in _residences().values()
        for code in (residence.nis_code, *residence.other_nis_codes)
        if code
    )
