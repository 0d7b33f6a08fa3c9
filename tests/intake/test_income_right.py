"""The integration-income right: amounts by date, PIIS obligation, lifecycle rules."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from contracts.identifiers import IdentifierError
from contracts.income import IncomeRightGrantedV1, IncomeRightModifiedV1
from services.intake.application import (
    IntakeApplication,
    ModifyIncomeRight,
    SuspendIncomePayment,
    WithdrawIncomeRight,
)
from services.intake.domain import ConflictError, DomainError
from services.intake.household import PartnerEntry
from services.intake.parameters import AmountTable, default_table
from tests.intake.fakes import (
    IN_MEMORY,
    TODAY,
    child,
    context,
    grant,
    household,
    registration,
)


@pytest.fixture
def app() -> IntakeApplication:
    namespace = "test-secret"
    return IntakeApplication(IN_MEMORY, id_secret=namespace, today=lambda: TODAY)


def events_of(app: IntakeApplication, case_id: uuid.UUID) -> list[object]:
    return list(app.events.get(case_id))


def test_the_amount_comes_from_the_table_in_force_on_the_effective_date(
    app: IntakeApplication,
) -> None:
    case_id = app.register_beneficiary(registration()).case_id
    app.record_household(household(case_id, children=(child(),)))
    app.grant_income_right(grant(case_id, category=3))
    granted = events_of(app, case_id)[-1]
    assert isinstance(granted, IncomeRightGrantedV1)
    assert granted.monthly_amount == Decimal("1776.07")
    assert granted.amount_version == "ri-amounts@2025-02-01"


def test_a_date_before_every_published_table_is_refused(app: IntakeApplication) -> None:
    case_id = app.register_beneficiary(registration()).case_id
    with pytest.raises(IdentifierError) as refused:
        app.grant_income_right(grant(case_id, effective_date=dt.date(2010, 1, 1)))
    assert refused.value.rule == "parameters.no_version"
    assert len(events_of(app, case_id)) == 1


def test_the_table_applies_each_version_from_its_own_date() -> None:
    table = default_table()
    assert table.amount(1, dt.date(2019, 12, 31))[0] == Decimal("619.15")
    assert table.amount(1, dt.date(2020, 1, 1))[0] == Decimal("626.74")
    assert table.amount(1, dt.date(2020, 3, 1))[0] == Decimal("639.27")


def test_amounts_a_grant_in_2023_gets_the_2023_amounts_not_those_of_2020(
    app: IntakeApplication,
) -> None:
    case_id = app.register_beneficiary(registration()).case_id
    app.grant_income_right(
        grant(
            case_id,
            category=2,
            application_date=dt.date(2023, 3, 1),
            decision_date=dt.date(2023, 3, 20),
            effective_date=dt.date(2023, 3, 1),
        )
    )
    granted = events_of(app, case_id)[-1]
    assert isinstance(granted, IncomeRightGrantedV1)
    assert granted.monthly_amount == Decimal("1214.13")
    assert granted.amount_version == "ri-amounts@2023-01-01"


@pytest.mark.parametrize(
    "day",
    [
        dt.date(2030, 1, 1),  # after the last version the hub vouches for
        dt.date(2021, 9, 1),  # an indexation whose amounts were not verified
        dt.date(2023, 8, 1),  # the welfare increase of July 2023, not verified
    ],
)
def test_amounts_a_grant_on_a_date_no_amount_version_covers_is_refused(
    app: IntakeApplication, day: dt.date
) -> None:
    case_id = app.register_beneficiary(registration()).case_id
    with pytest.raises(IdentifierError) as refused:
        app.grant_income_right(grant(case_id, effective_date=day))
    assert refused.value.rule == "parameters.no_version"
    assert len(events_of(app, case_id)) == 1


def test_another_table_can_be_given_for_history(tmp_path: Path) -> None:
    path = tmp_path / "amounts.csv"
    path.write_text(
        "valid_from,valid_to,cohabitant,isole,family,source\n2009-01-01,,1,2,3,test\n"
    )
    assert AmountTable.from_csv(path).amount(3, dt.date(2011, 6, 1))[0] == Decimal(3)


def test_a_retried_grant_returns_the_same_right_and_stores_nothing_more(
    app: IntakeApplication,
) -> None:
    case_id = app.register_beneficiary(registration()).case_id
    command = grant(case_id)
    first, retry = app.grant_income_right(command), app.grant_income_right(command)
    assert (first.result, first.stored) == (retry.result, True)
    assert not retry.stored
    assert len(events_of(app, case_id)) == 2


def test_a_second_active_right_is_refused(app: IntakeApplication) -> None:
    case_id = app.register_beneficiary(registration()).case_id
    app.grant_income_right(grant(case_id))
    with pytest.raises(ConflictError) as refused:
        app.grant_income_right(grant(case_id))
    assert refused.value.rule == "income_right.already_active"


def test_a_decision_more_than_30_days_after_the_application_is_flagged_not_refused(
    app: IntakeApplication,
) -> None:
    case_id = app.register_beneficiary(registration()).case_id
    app.grant_income_right(grant(case_id, decision_date=dt.date(2026, 11, 5)))
    granted = events_of(app, case_id)[-1]
    assert isinstance(granted, IncomeRightGrantedV1)
    assert granted.decided_late


@pytest.mark.parametrize(
    ("birth", "student", "before_reform", "obligation"),
    [
        (dt.date(2003, 5, 1), False, True, "compulsory_under_25"),
        (dt.date(1990, 5, 1), True, True, "compulsory_student"),
        (dt.date(1990, 5, 1), False, False, "compulsory_new_beneficiary"),
        (dt.date(1990, 5, 1), False, True, "optional"),
    ],
)
def test_whether_a_piis_is_compulsory_is_derived_and_recorded(
    app: IntakeApplication,
    birth: dt.date,
    student: bool,
    before_reform: bool,
    obligation: str,
) -> None:
    from services.demo import make_niss

    person = registration(birth_date=birth, niss=make_niss(birth, 101))
    case_id = app.register_beneficiary(person).case_id
    app.grant_income_right(
        grant(case_id, student=student, received_income_before_reform=before_reform)
    )
    granted = events_of(app, case_id)[-1]
    assert isinstance(granted, IncomeRightGrantedV1)
    assert granted.piis_obligation == obligation


def test_a_modification_restates_the_amount_of_the_new_category(
    app: IntakeApplication,
) -> None:
    case_id = app.register_beneficiary(registration()).case_id
    app.grant_income_right(grant(case_id))
    moved_in = PartnerEntry(birth_date=dt.date(1984, 2, 3))
    app.record_household(
        household(case_id, effective_date=dt.date(2026, 11, 1), partners=(moved_in,))
    )
    app.modify_income_right(
        ModifyIncomeRight(context(), case_id, 1, dt.date(2026, 11, 1), "moved in")
    )
    modified = events_of(app, case_id)[-1]
    assert isinstance(modified, IncomeRightModifiedV1)
    assert modified.monthly_amount == Decimal("876.13")


@pytest.mark.parametrize(
    ("command", "rule"),
    [
        (
            lambda c: SuspendIncomePayment(
                context(),
                c,
                "imprisonment",
                dt.date(2026, 11, 10),
                dt.date(2026, 11, 1),
            ),
            "suspension.end_before_start",
        ),
        (
            lambda c: WithdrawIncomeRight(context(), c, dt.date(2026, 9, 1), "x"),
            "income_right.before_grant",
        ),
        (
            lambda c: ModifyIncomeRight(context(), c, 1, dt.date(2026, 9, 1), "x"),
            "income_right.before_grant",
        ),
    ],
)
def test_changes_that_break_a_rule_are_refused_and_store_nothing(
    app: IntakeApplication, command: object, rule: str
) -> None:
    case_id = app.register_beneficiary(registration()).case_id
    app.grant_income_right(grant(case_id))
    assert callable(command)
    change = command(case_id)
    act: dict[type, Callable[[Any], object]] = {
        SuspendIncomePayment: app.suspend_income_payment,
        WithdrawIncomeRight: app.withdraw_income_right,
        ModifyIncomeRight: app.modify_income_right,
    }
    with pytest.raises(DomainError) as refused:
        act[type(change)](change)
    assert refused.value.rule == rule
    assert len(events_of(app, case_id)) == 2


def test_a_change_without_an_active_right_is_refused(app: IntakeApplication) -> None:
    case_id = app.register_beneficiary(registration()).case_id
    with pytest.raises(DomainError) as refused:
        app.withdraw_income_right(
            WithdrawIncomeRight(context(), case_id, dt.date(2026, 11, 1), "x")
        )
    assert refused.value.rule == "income_right.none_active"


def test_after_a_withdrawal_a_new_right_can_be_granted(app: IntakeApplication) -> None:
    case_id = app.register_beneficiary(registration()).case_id
    app.grant_income_right(grant(case_id))
    app.withdraw_income_right(
        WithdrawIncomeRight(context(), case_id, dt.date(2026, 11, 1), "job")
    )
    app.grant_income_right(grant(case_id, effective_date=dt.date(2026, 11, 15)))
    assert app.get_beneficiary(case_id).right is not None


@pytest.mark.parametrize(
    ("decision_date", "rule"),
    [
        (dt.date(2026, 9, 30), "income_right.decision_before_application"),
        (TODAY + dt.timedelta(days=1), "income_right.future_decision"),
    ],
)
def test_art21_a_decision_before_its_application_or_in_the_future_is_refused(
    app: IntakeApplication, decision_date: dt.date, rule: str
) -> None:
    # Law of 26 May 2002 art. 21: the CPAS decides on an application it received,
    # and the hub records a decision taken, never one still to come.
    case_id = app.register_beneficiary(registration()).case_id
    with pytest.raises(DomainError) as refused:
        app.grant_income_right(grant(case_id, decision_date=decision_date))
    assert (refused.value.field, refused.value.rule) == ("decision_date", rule)
    assert len(events_of(app, case_id)) == 1


def test_art16_the_amount_granted_and_the_reimbursement_basis_are_recorded(
    app: IntakeApplication,
) -> None:
    """Law of 26 May 2002 art. 16 and 32: what the subsidy ledger computes on."""
    case_id = app.register_beneficiary(registration()).case_id
    app.grant_income_right(
        grant(
            case_id,
            granted_monthly_amount=Decimal("400.00"),
            reimbursement_basis="cpas_over_500",
        )
    )
    granted = events_of(app, case_id)[-1]
    assert isinstance(granted, IncomeRightGrantedV1)
    assert granted.granted_monthly_amount == Decimal("400.00")
    assert granted.reimbursement_basis == "cpas_over_500"
    app.modify_income_right(
        ModifyIncomeRight(
            context(),
            case_id,
            2,
            dt.date(2026, 11, 1),
            "article 60 wage",
            granted_monthly_amount=Decimal("250.00"),
        )
    )
    modified = events_of(app, case_id)[-1]
    assert isinstance(modified, IncomeRightModifiedV1)
    assert modified.granted_monthly_amount == Decimal("250.00")
    assert modified.reimbursement_basis is None


def test_art16_an_amount_granted_above_the_category_amount_is_refused(
    app: IntakeApplication,
) -> None:
    """Law of 26 May 2002 art. 14 and 16: the category's amount less resources."""
    case_id = app.register_beneficiary(registration()).case_id
    with pytest.raises(DomainError) as refused:
        app.grant_income_right(
            grant(case_id, granted_monthly_amount=Decimal("5000.00"))
        )
    assert refused.value.rule == "income_right.granted_above_category_amount"
    assert len(events_of(app, case_id)) == 1
