"""The household of a case: the income category follows it, each partner's PIIS."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from contracts.household import HouseholdRecordedV1
from contracts.income import IncomeRightGrantedV1, IncomeRightModifiedV1
from services.demo import make_niss
from services.intake.application import IntakeApplication, ModifyIncomeRight
from services.intake.domain import DomainError
from services.intake.household import PartnerEntry
from tests.intake.fakes import (
    child,
    context,
    grant,
    household,
    in_memory_intake,
    registration,
)


@pytest.fixture
def app() -> IntakeApplication:
    return in_memory_intake()


def last_event(app: IntakeApplication, case_id: uuid.UUID) -> object:
    return list(app.events.get(case_id))[-1]


def born(app: IntakeApplication, birth: dt.date, number: int) -> uuid.UUID:
    person = registration(
        number, birth_date=birth, niss=make_niss(birth, 2 * number + 1)
    )
    return app.register_beneficiary(person).case_id


def refused_rule(app: IntakeApplication, command: object) -> str:
    act = {
        "GrantIncomeRight": app.grant_income_right,
        "ModifyIncomeRight": app.modify_income_right,
        "RecordHousehold": app.record_household,
    }[type(command).__name__]
    with pytest.raises(DomainError) as refused:
        act(command)  # type: ignore[operator]
    return refused.value.rule


# -- the category (law of 26 May 2002 art. 14 §1) ------------------------------------


def test_art14_category_3_refused_without_a_dependent_minor_child(
    app: IntakeApplication,
) -> None:
    case_id = app.register_beneficiary(registration()).case_id
    # Nobody recorded: no child to support.
    assert (
        refused_rule(app, grant(case_id, category=3))
        == "income_right.category_3_needs_minor_child"
    )
    # A child of 18 on the effective date, a married minor, a minor the person
    # does not support: none makes a family to support.
    grown = child(dt.date(2008, 9, 30))
    married = child(dt.date(2009, 5, 1), unmarried=False)
    not_supported = child(dt.date(2012, 5, 1), dependent=False)
    app.record_household(
        household(case_id, children=(grown, married, not_supported), other_members=0)
    )
    assert (
        refused_rule(app, grant(case_id, category=3))
        == "income_right.category_3_needs_minor_child"
    )
    assert len(list(app.events.get(case_id))) == 2
    app.record_household(household(case_id, children=(grown, child())))
    app.grant_income_right(grant(case_id, category=3))
    granted = last_event(app, case_id)
    assert isinstance(granted, IncomeRightGrantedV1)
    assert (granted.category, granted.household_since) == (3, dt.date(2026, 9, 1))


def test_art14_par1_3_the_child_must_be_a_minor_on_the_effective_date(
    app: IntakeApplication,
) -> None:
    case_id = app.register_beneficiary(registration()).case_id
    # 18 on 15 November 2026.
    app.record_household(household(case_id, children=(child(dt.date(2008, 11, 15)),)))
    app.grant_income_right(grant(case_id, category=3))
    modification = ModifyIncomeRight(
        context(), case_id, 3, dt.date(2026, 11, 15), "restated"
    )
    assert refused_rule(app, modification) == (
        "income_right.category_3_needs_minor_child"
    )


def test_art14_par1_2_category_2_refused_when_someone_lives_with_the_person(
    app: IntakeApplication,
) -> None:
    case_id = app.register_beneficiary(registration()).case_id
    for members in (
        {"partners": (PartnerEntry(birth_date=dt.date(1980, 1, 1)),)},
        {"children": (child(),)},
        {"other_members": 1},
    ):
        app.record_household(household(case_id, **members))
        assert (
            refused_rule(app, grant(case_id, category=2))
            == "income_right.category_2_not_alone"
        )
    # Living alone again from 1 October: category 2 from then on.
    app.record_household(household(case_id, effective_date=dt.date(2026, 10, 1)))
    app.grant_income_right(grant(case_id, category=2))


def test_art14_par1_1_category_1_refused_without_anyone_to_share_the_household(
    app: IntakeApplication,
) -> None:
    case_id = app.register_beneficiary(registration()).case_id
    assert (
        refused_rule(app, grant(case_id, category=1))
        == "income_right.category_1_needs_household"
    )
    app.record_household(household(case_id, other_members=2))
    app.grant_income_right(grant(case_id, category=1))


def test_the_category_is_checked_against_the_household_of_the_modifications_date(
    app: IntakeApplication,
) -> None:
    case_id = app.register_beneficiary(registration()).case_id
    app.grant_income_right(grant(case_id, category=2))
    partner = PartnerEntry(birth_date=dt.date(1984, 2, 3))
    app.record_household(
        household(case_id, effective_date=dt.date(2026, 11, 1), partners=(partner,))
    )
    before = ModifyIncomeRight(context(), case_id, 1, dt.date(2026, 10, 15), "early")
    assert refused_rule(app, before) == "income_right.category_1_needs_household"
    app.modify_income_right(
        ModifyIncomeRight(context(), case_id, 1, dt.date(2026, 11, 1), "moved in")
    )
    modified = last_event(app, case_id)
    assert isinstance(modified, IncomeRightModifiedV1)
    assert modified.household_since == dt.date(2026, 11, 1)


def test_a_household_of_the_same_date_corrects_the_earlier_record(
    app: IntakeApplication,
) -> None:
    case_id = app.register_beneficiary(registration()).case_id
    app.record_household(household(case_id, other_members=1))
    app.record_household(household(case_id))
    app.grant_income_right(grant(case_id, category=2))
    case = app.get_beneficiary(case_id)
    on_grant = case.household_on(dt.date(2026, 10, 1))
    assert on_grant is not None
    assert on_grant.other_members == 0


# -- each partner's PIIS (law of 26 May 2002 art. 11, law of 21 July 2016) -----------


def test_couple_piis_compulsory_for_one_partner_and_not_the_other(
    app: IntakeApplication,
) -> None:
    young = born(app, dt.date(2003, 5, 1), 1)  # 23 on the decision date
    older = born(app, dt.date(1980, 5, 1), 2)  # 46, on the income since 2015
    app.record_household(
        household(
            young,
            partners=(PartnerEntry(case_id=older, received_income_before_reform=True),),
        )
    )
    app.record_household(household(older, partners=(PartnerEntry(case_id=young),)))
    app.grant_income_right(grant(young, category=1))
    app.grant_income_right(grant(older, category=1, received_income_before_reform=True))

    of_young = last_event(app, young)
    of_older = last_event(app, older)
    assert isinstance(of_young, IncomeRightGrantedV1)
    assert isinstance(of_older, IncomeRightGrantedV1)
    assert of_young.piis_obligation == "compulsory_under_25"
    assert of_older.piis_obligation == "optional"
    # Each grant shows the other partner's, decided on that partner's own facts.
    [partner_of_young] = of_young.partner_piis_obligations
    [partner_of_older] = of_older.partner_piis_obligations
    assert (partner_of_young.partner_case_id, partner_of_young.piis_obligation) == (
        older,
        "optional",
    )
    assert (partner_of_older.partner_case_id, partner_of_older.piis_obligation) == (
        young,
        "compulsory_under_25",
    )


def test_a_partner_without_a_case_is_decided_on_their_own_facts(
    app: IntakeApplication,
) -> None:
    case_id = born(app, dt.date(1990, 5, 1), 1)
    student = PartnerEntry(birth_date=dt.date(1996, 1, 1), student=True)
    new = PartnerEntry(birth_date=dt.date(1970, 1, 1))
    app.record_household(household(case_id, partners=(student, new)))
    app.grant_income_right(
        grant(case_id, category=1, received_income_before_reform=True)
    )
    granted = last_event(app, case_id)
    assert isinstance(granted, IncomeRightGrantedV1)
    assert granted.piis_obligation == "optional"
    assert [
        (o.position, o.piis_obligation) for o in granted.partner_piis_obligations
    ] == [
        (1, "compulsory_student"),
        (2, "compulsory_new_beneficiary"),
    ]


def test_a_partners_birth_date_comes_from_their_case(app: IntakeApplication) -> None:
    case_id = born(app, dt.date(1990, 5, 1), 1)
    partner = born(app, dt.date(2002, 3, 4), 2)
    app.record_household(household(case_id, partners=(PartnerEntry(case_id=partner),)))
    recorded = last_event(app, case_id)
    assert isinstance(recorded, HouseholdRecordedV1)
    assert recorded.partners[0].birth_date == dt.date(2002, 3, 4)


@pytest.mark.parametrize(
    ("partner", "rule"),
    [
        (PartnerEntry(case_id=uuid.uuid4()), "household.partner_case_unknown"),
        (PartnerEntry(), "household.partner_birth_date_required"),
        (
            PartnerEntry(case_id=None, birth_date=dt.date(2027, 1, 1)),
            "household.member_not_born",
        ),
    ],
)
def test_a_partner_the_hub_cannot_place_is_refused(
    app: IntakeApplication, partner: PartnerEntry, rule: str
) -> None:
    case_id = app.register_beneficiary(registration()).case_id
    assert refused_rule(app, household(case_id, partners=(partner,))) == rule
    assert len(list(app.events.get(case_id))) == 1


def test_a_partner_is_another_person_of_the_same_cpas(app: IntakeApplication) -> None:
    case_id = born(app, dt.date(1990, 5, 1), 1)
    elsewhere = app.register_beneficiary(
        registration(
            2, cpas_kbo="0202.239.951", niss=make_niss(dt.date(1985, 7, 30), 5)
        )
    ).case_id
    partner = born(app, dt.date(1991, 6, 1), 3)
    cases = {
        case_id: "household.partner_is_the_person",
        elsewhere: "household.partner_case_unknown",
    }
    for other, rule in cases.items():
        command = household(case_id, partners=(PartnerEntry(case_id=other),))
        assert refused_rule(app, command) == rule
    wrong_birth = PartnerEntry(case_id=partner, birth_date=dt.date(1991, 6, 2))
    assert (
        refused_rule(app, household(case_id, partners=(wrong_birth,)))
        == "household.partner_birth_date_mismatch"
    )


def test_a_child_born_after_the_households_date_is_refused(
    app: IntakeApplication,
) -> None:
    case_id = app.register_beneficiary(registration()).case_id
    unborn = child(dt.date(2026, 12, 24))
    assert (
        refused_rule(app, household(case_id, children=(unborn,)))
        == "household.member_not_born"
    )
