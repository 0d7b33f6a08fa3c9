"""The household rules of the income right: the category, and the PIIS obligation.

Pure functions over the household a case recorded (``HouseholdRecordedV1``)
and the law's figures by date (``services/common/law.py``): no I/O, no clock.

* The category follows the household on the effective date of a grant or a
  modification (law of 26 May 2002 art. 14 §1): 3, a family to support, needs
  at least one dependent unmarried minor child; 2, living alone, nobody living
  with the person; 1, cohabitant, someone to share the household with. A case
  with no household record covering the date is a person alone.
* Whether a PIIS is compulsory is decided for each person on their own age,
  student status and income before the reform of 1 November 2016 (law of
  26 May 2002 art. 11 as amended by the law of 21 July 2016): for the person
  and, one by one, for each partner of the household.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from contracts.household import HouseholdChild, HouseholdPartner, HouseholdRecordedV1
from contracts.income import PartnerPiisObligation, PiisObligation
from services.common.errors import DomainError
from services.common.law import LAW

__all__ = [
    "PartnerEntry",
    "age_on",
    "check_born",
    "check_category",
    "household_on",
    "partner_obligations",
    "piis_obligation",
    "resolve_partners",
]


@dataclass(frozen=True, slots=True)
class PartnerEntry:
    """A partner as a command gives it: their case, or their birth date."""

    case_id: uuid.UUID | None = None
    birth_date: dt.date | None = None
    student: bool = False
    received_income_before_reform: bool = False


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Full years of age on a day."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday


def household_on(
    records: Mapping[dt.date, HouseholdRecordedV1], day: dt.date
) -> HouseholdRecordedV1 | None:
    """The household in force on a day: the record with the latest date not after it."""
    since = [effective for effective in records if effective <= day]
    return records[max(since)] if since else None


def _supported_minor(child: HouseholdChild, day: dt.date) -> bool:
    minor = LAW.value("household.minor_under_age", day, field="effective_date")
    return child.unmarried and child.dependent and age_on(child.birth_date, day) < minor


def check_category(
    category: int, household: HouseholdRecordedV1 | None, day: dt.date
) -> None:
    """Refuse a category the household on ``day`` does not give.

    Raises:
        DomainError: ``income_right.category_3_needs_minor_child``,
            ``income_right.category_2_not_alone`` or
            ``income_right.category_1_needs_household``.
    """
    partners = household.partners if household else ()
    children = household.children if household else ()
    others = household.other_members if household else 0
    someone = bool(partners or children or others)
    if category == 3 and not any(_supported_minor(c, day) for c in children):  # noqa: PLR2004
        raise DomainError(
            "category",
            "income_right.category_3_needs_minor_child",
            "category 3 (a family to support) needs at least one dependent "
            "unmarried minor child in the household on the effective date (law of "
            "26 May 2002 art. 14 §1 3°); record the household first",
        )
    if category == 2 and someone:  # noqa: PLR2004
        raise DomainError(
            "category",
            "income_right.category_2_not_alone",
            "category 2 (living alone) is for a person who lives alone, and on the "
            "effective date a partner, a child or another member lives with the "
            "person (law of 26 May 2002 art. 14 §1 2°)",
        )
    if category == 1 and not someone:
        raise DomainError(
            "category",
            "income_right.category_1_needs_household",
            "category 1 (cohabitant) is for a person who shares the household with "
            "someone, and no one lives with the person on the effective date (law "
            "of 26 May 2002 art. 14 §1 1°); record the household first",
        )


def piis_obligation(
    *,
    birth_date: dt.date,
    decision_date: dt.date,
    effective_date: dt.date,
    student: bool,
    received_income_before_reform: bool,
) -> PiisObligation:
    """Whether a PIIS is compulsory for one person, and why.

    Law of 26 May 2002 art. 11, as amended by the law of 21 July 2016:
    compulsory under 25 and for students, and for every beneficiary new since
    1 November 2016; optional for older beneficiaries of before.
    """
    under = LAW.value("piis.compulsory_under_age", decision_date, field="decision_date")
    if age_on(birth_date, decision_date) < under:
        return "compulsory_under_25"
    if student:
        return "compulsory_student"
    every_new = LAW.value(
        "piis.compulsory_for_new_beneficiaries", effective_date, field="effective_date"
    )
    if every_new and not received_income_before_reform:
        return "compulsory_new_beneficiary"
    return "optional"


def partner_obligations(
    household: HouseholdRecordedV1 | None,
    *,
    decision_date: dt.date,
    effective_date: dt.date,
) -> tuple[PartnerPiisObligation, ...]:
    """The PIIS obligation of each partner of the household, on their own facts."""
    partners = household.partners if household else ()
    return tuple(
        PartnerPiisObligation(
            position=position,
            partner_case_id=partner.case_id,
            piis_obligation=piis_obligation(
                birth_date=partner.birth_date,
                decision_date=decision_date,
                effective_date=effective_date,
                student=partner.student,
                received_income_before_reform=partner.received_income_before_reform,
            ),
        )
        for position, partner in enumerate(partners, start=1)
    )


def resolve_partners(
    entries: tuple[PartnerEntry, ...],
    *,
    own_case: uuid.UUID,
    known_cases: Mapping[uuid.UUID, dt.date],
) -> tuple[HouseholdPartner, ...]:
    """The partners as recorded: a partner's case gives their birth date.

    ``known_cases`` are the cases of the person's CPAS among the ones named,
    with their birth dates.

    Raises:
        DomainError: ``household.partner_is_the_person``,
            ``household.partner_case_unknown``,
            ``household.partner_birth_date_mismatch`` or
            ``household.partner_birth_date_required``.
    """
    partners = []
    for index, entry in enumerate(entries):
        where = f"partners.{index}"
        birth = entry.birth_date
        if entry.case_id == own_case:
            raise DomainError(
                f"{where}.case_id",
                "household.partner_is_the_person",
                "a partner is another person than the one the case is about",
            )
        if entry.case_id is not None:
            known = known_cases.get(entry.case_id)
            if known is None:
                raise DomainError(
                    f"{where}.case_id",
                    "household.partner_case_unknown",
                    "no case with this id at the person's CPAS; a partner who has "
                    "no case there is given by birth date",
                )
            if birth is not None and birth != known:
                raise DomainError(
                    f"{where}.birth_date",
                    "household.partner_birth_date_mismatch",
                    "the birth date differs from the one of the partner's case",
                )
            birth = known
        if birth is None:
            raise DomainError(
                f"{where}.birth_date",
                "household.partner_birth_date_required",
                "a partner without a case at the CPAS is given by birth date (it "
                "decides whether a PIIS is compulsory for them)",
            )
        partners.append(
            HouseholdPartner(
                case_id=entry.case_id,
                birth_date=birth,
                student=entry.student,
                received_income_before_reform=entry.received_income_before_reform,
            )
        )
    return tuple(partners)


def check_born(
    partners: tuple[HouseholdPartner, ...],
    children: tuple[HouseholdChild, ...],
    effective_date: dt.date,
) -> None:
    """Refuse a member born after the date the household is recorded from.

    Raises:
        DomainError: ``household.member_not_born``.
    """
    members: tuple[tuple[str, tuple[HouseholdPartner | HouseholdChild, ...]], ...] = (
        ("partners", partners),
        ("children", children),
    )
    for name, listed in members:
        for index, member in enumerate(listed):
            if member.birth_date > effective_date:
                raise DomainError(
                    f"{name}.{index}.birth_date",
                    "household.member_not_born",
                    "a member of the household is born on or before the date the "
                    "household is recorded from",
                )
