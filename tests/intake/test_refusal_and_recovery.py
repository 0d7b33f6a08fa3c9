"""A refused application and a recovery of income paid unduly, at intake.

Law of 26 May 2002 art. 21 §1 (the CPAS decides on an application within 30
days; a refusal is reported on SPP IS's form C) and art. 24 ff. (the CPAS
recovers income it paid unduly; each recovery is reported on form D).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contracts.income import IncomeRecoveryDecidedV1, IncomeRightRefusedV1
from services.common.auth import clients_by_hash
from services.demo import make_kbo
from services.intake.api import create_api
from services.intake.application import (
    DecideRecovery,
    IntakeApplication,
    ModifyIncomeRight,
    RefuseIncomeApplication,
    SuspendIncomePayment,
    TransferCase,
    WithdrawIncomeRight,
)
from services.intake.domain import ConflictError, DomainError
from tests.intake.fakes import context, grant, in_memory_intake, registration

# The case's right: RIS category 2 (EUR 1,314.20 a month) from 1 October 2026;
# today is 23 November 2026.
OCTOBER = dt.date(2026, 10, 1)


def refusal(case_id: uuid.UUID, **changes: Any) -> RefuseIncomeApplication:
    command = RefuseIncomeApplication(
        context=context(),
        case_id=case_id,
        kind="RIS",
        application_date=dt.date(2026, 10, 5),
        decision_date=dt.date(2026, 10, 28),
        reason="sufficient_resources",
        category_asked=2,
    )
    return replace(command, **changes)


def recovery(case_id: uuid.UUID, **changes: Any) -> DecideRecovery:
    command = DecideRecovery(
        context=context(),
        case_id=case_id,
        decision_date=dt.date(2026, 11, 20),
        period_start=OCTOBER,
        period_end=dt.date(2026, 11, 15),
        amount=Decimal("1000.00"),
        recovery_type="01",
        reason="undeclared_resources",
    )
    return replace(command, **changes)


def granted_case(app: IntakeApplication) -> uuid.UUID:
    case_id = app.register_beneficiary(registration()).case_id
    app.grant_income_right(grant(case_id))
    return case_id


def last(app: IntakeApplication, case_id: uuid.UUID) -> object:
    return list(app.events.get(case_id))[-1]


def count(app: IntakeApplication, case_id: uuid.UUID) -> int:
    return len(list(app.events.get(case_id)))


# -- refusal --------------------------------------------------------------------------


def test_art21_par1_a_refusal_is_recorded_with_its_reason_and_flagged_when_late() -> (
    None
):
    app = in_memory_intake()
    case_id = app.register_beneficiary(registration()).case_id
    app.refuse_income_application(refusal(case_id))
    refused = last(app, case_id)
    assert isinstance(refused, IncomeRightRefusedV1)
    assert (refused.reason, refused.category_asked) == ("sufficient_resources", 2)
    assert refused.decided_late is False
    late = refusal(case_id, decision_date=dt.date(2026, 11, 5))  # 31 days after
    app.refuse_income_application(late)
    flagged = last(app, case_id)
    assert isinstance(flagged, IncomeRightRefusedV1)
    assert flagged.decided_late is True


def test_art21_a_new_application_after_a_withdrawal_may_be_refused() -> None:
    app = in_memory_intake()
    case_id = granted_case(app)
    app.withdraw_income_right(
        WithdrawIncomeRight(context(), case_id, dt.date(2026, 11, 1), "resources")
    )
    app.refuse_income_application(
        refusal(
            case_id,
            application_date=dt.date(2026, 11, 10),
            decision_date=dt.date(2026, 11, 20),
        )
    )
    assert isinstance(last(app, case_id), IncomeRightRefusedV1)


def test_art21_an_application_is_not_refused_while_a_right_is_in_force() -> None:
    app = in_memory_intake()
    case_id = granted_case(app)
    with pytest.raises(ConflictError) as refused:
        app.refuse_income_application(refusal(case_id))
    assert refused.value.rule == "income_right.refused_while_active"
    assert count(app, case_id) == 2


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        (
            {"decision_date": dt.date(2026, 10, 4)},
            "income_right.decision_before_application",
        ),
        ({"decision_date": dt.date(2026, 11, 24)}, "income_right.future_decision"),
    ],
)
def test_art21_a_refusal_before_its_application_or_in_the_future_is_refused(
    changes: dict[str, Any], rule: str
) -> None:
    app = in_memory_intake()
    case_id = app.register_beneficiary(registration()).case_id
    with pytest.raises(DomainError) as refused:
        app.refuse_income_application(refusal(case_id, **changes))
    assert refused.value.rule == rule
    assert count(app, case_id) == 1


# -- recovery -------------------------------------------------------------------------


def test_art24_a_recovery_is_spread_over_its_months_pro_rata_of_what_was_granted() -> (
    None
):
    app = in_memory_intake()
    case_id = granted_case(app)
    outcome = app.decide_recovery(recovery(case_id))
    decided = last(app, case_id)
    assert isinstance(decided, IncomeRecoveryDecidedV1)
    assert decided.recovery_id == outcome.result
    assert (decided.kind, decided.recovery_type) == ("RIS", "01")
    # October whole (1,314.20), half of November (657.10): two thirds, one third.
    assert [(m.month, m.amount, m.granted) for m in decided.months] == [
        (OCTOBER, Decimal("666.67"), Decimal("1314.20")),
        (dt.date(2026, 11, 1), Decimal("333.33"), Decimal("657.10")),
    ]
    assert sum(m.amount for m in decided.months) == decided.amount


def test_art24_a_recovery_after_the_right_was_withdrawn_is_taken() -> None:
    app = in_memory_intake()
    case_id = granted_case(app)
    app.withdraw_income_right(
        WithdrawIncomeRight(context(), case_id, dt.date(2026, 11, 1), "job")
    )
    app.decide_recovery(
        recovery(case_id, period_end=dt.date(2026, 10, 31), amount=Decimal("1314.20"))
    )
    decided = last(app, case_id)
    assert isinstance(decided, IncomeRecoveryDecidedV1)
    assert [m.amount for m in decided.months] == [Decimal("1314.20")]


def test_a_retried_recovery_returns_the_same_id_and_stores_nothing_more() -> None:
    app = in_memory_intake()
    case_id = granted_case(app)
    command = recovery(case_id)
    first, retry = app.decide_recovery(command), app.decide_recovery(command)
    assert first.result == retry.result
    assert not retry.stored
    assert count(app, case_id) == 3


@pytest.mark.parametrize(
    "changes",
    [
        {"period_start": dt.date(2026, 9, 20)},  # before the grant took effect
        {"period_end": dt.date(2026, 11, 10)},  # after the withdrawal below
    ],
)
def test_art24_a_recovery_outside_the_days_of_a_right_is_refused(
    changes: dict[str, Any],
) -> None:
    app = in_memory_intake()
    case_id = granted_case(app)
    app.withdraw_income_right(
        WithdrawIncomeRight(context(), case_id, dt.date(2026, 11, 1), "job")
    )
    with pytest.raises(DomainError) as refused:
        app.decide_recovery(recovery(case_id, **changes))
    assert refused.value.rule == "income_recovery.outside_right"
    assert count(app, case_id) == 3


def test_art24_income_granted_before_a_transfer_is_not_recovered_by_the_new_cpas() -> (
    None
):
    app = in_memory_intake()
    case_id = granted_case(app)
    app.withdraw_income_right(
        WithdrawIncomeRight(context(), case_id, dt.date(2026, 11, 1), "moved")
    )
    app.transfer_case(
        TransferCase(
            context(),
            case_id,
            to_cpas_kbo=make_kbo(2239951),
            dossier_number="LV-1",
            transferred_on=dt.date(2026, 11, 5),
        )
    )
    october = recovery(case_id, period_end=dt.date(2026, 10, 31))
    with pytest.raises(DomainError) as refused:
        app.decide_recovery(october)
    assert refused.value.rule == "income_recovery.right_of_another_cpas"


def test_art24_a_recovery_on_a_case_that_never_had_a_right_is_refused() -> None:
    app = in_memory_intake()
    case_id = app.register_beneficiary(registration()).case_id
    with pytest.raises(DomainError) as refused:
        app.decide_recovery(recovery(case_id))
    assert refused.value.rule == "income_recovery.outside_right"


def test_art24_a_recovery_above_what_was_granted_over_the_period_is_refused() -> None:
    app = in_memory_intake()
    case_id = granted_case(app)
    # From 1 November, EUR 500 a month; the first week of November suspended.
    app.modify_income_right(
        ModifyIncomeRight(
            context(),
            case_id,
            category=2,
            effective_date=dt.date(2026, 11, 1),
            reason="resources",
            granted_monthly_amount=Decimal("500.00"),
        )
    )
    app.suspend_income_payment(
        SuspendIncomePayment(
            context(),
            case_id,
            reason="stay_abroad_over_28_days",
            period_start=dt.date(2026, 11, 1),
            period_end=dt.date(2026, 11, 6),
        )
    )
    # November 1 to 15: nine days of EUR 500 / 30 = EUR 150.00 granted.
    november = {"period_start": dt.date(2026, 11, 1)}
    with pytest.raises(DomainError) as refused:
        app.decide_recovery(recovery(case_id, amount=Decimal("150.01"), **november))
    assert refused.value.rule == "income_recovery.above_granted"
    app.decide_recovery(recovery(case_id, amount=Decimal("150.00"), **november))
    decided = last(app, case_id)
    assert isinstance(decided, IncomeRecoveryDecidedV1)
    assert [m.granted for m in decided.months] == [Decimal("150.00")]


@pytest.mark.parametrize("amount", [Decimal(0), Decimal("-5.00")])
def test_art24_a_recovery_of_no_amount_is_refused(amount: Decimal) -> None:
    app = in_memory_intake()
    case_id = granted_case(app)
    with pytest.raises(DomainError) as refused:
        app.decide_recovery(recovery(case_id, amount=amount))
    assert refused.value.rule == "income_recovery.amount_not_positive"


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"period_end": dt.date(2026, 11, 30)}, "income_recovery.period_in_future"),
        (
            {"period_start": dt.date(2026, 11, 2), "period_end": dt.date(2026, 11, 1)},
            "income_recovery.end_before_start",
        ),
        (
            {"decision_date": dt.date(2026, 9, 30)},
            "income_recovery.decided_before_period",
        ),
        ({"decision_date": dt.date(2026, 11, 24)}, "income_right.future_decision"),
    ],
)
def test_art24_a_recovery_of_income_not_paid_yet_is_refused(
    changes: dict[str, Any], rule: str
) -> None:
    app = in_memory_intake()
    case_id = granted_case(app)
    with pytest.raises(DomainError) as refused:
        app.decide_recovery(recovery(case_id, **changes))
    assert refused.value.rule == rule
    assert count(app, case_id) == 2


def test_a_recovery_over_more_than_30_months_is_refused() -> None:
    app = in_memory_intake()
    case_id = app.register_beneficiary(registration()).case_id
    app.grant_income_right(
        grant(
            case_id,
            application_date=dt.date(2023, 1, 2),
            decision_date=dt.date(2023, 1, 20),
            effective_date=dt.date(2023, 1, 1),
        )
    )
    with pytest.raises(DomainError) as refused:
        app.decide_recovery(recovery(case_id, period_start=dt.date(2023, 1, 1)))
    assert refused.value.rule == "income_recovery.too_many_months"


# -- over HTTP ------------------------------------------------------------------------


def test_a_refusal_and_a_recovery_over_http_name_their_rule_when_refused() -> None:
    app = in_memory_intake()
    keys = clients_by_hash(
        json.loads('{"k": {"client": "hub", "scopes": ["cases:write", "cases:read"]}}')
    )
    client = TestClient(create_api(app, keys))
    headers = {"X-API-Key": "k"}
    case_id = granted_case(app)
    body = {
        "command_id": str(uuid.uuid4()),
        "kind": "RIS",
        "application_date": "2026-10-05",
        "decision_date": "2026-10-28",
        "reason": "age",
    }
    path = f"/cases/{case_id}"
    active = client.post(f"{path}/income-right/refusals", json=body, headers=headers)
    assert active.status_code == 409, active.text
    assert active.json()["detail"][0]["type"] == "income_right.refused_while_active"
    recovered = {
        "command_id": str(uuid.uuid4()),
        "decision_date": "2026-11-20",
        "period_start": "2026-10-01",
        "period_end": "2026-10-31",
        "amount": "200.50",
        "recovery_type": "01",
        "reason": "retroactive_social_benefit",
    }
    made = client.post(
        f"{path}/income-right/recoveries", json=recovered, headers=headers
    )
    assert made.status_code == 201, made.text
    again = client.post(
        f"{path}/income-right/recoveries", json=recovered, headers=headers
    )
    assert (again.status_code, again.json()) == (200, made.json())
    too_much = recovered | {"command_id": str(uuid.uuid4()), "amount": "1314.21"}
    refused = client.post(
        f"{path}/income-right/recoveries", json=too_much, headers=headers
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["type"] == "income_recovery.above_granted"
    assert refused.json()["detail"][0]["loc"][-1] == "amount"
