"""Article 30 of the law of 26 May 2002, wherever a suspension is recorded in intake.

§1: undeclared resources or a false declaration suspend payment for at most
six months (twelve with fraud), doubled on a repeat within three years; never
pronounced more than two years after the omission nor executed more than two
years after the decision. §2: a PIIS sanction comes only from the PIIS
service's decision after notice and hearing. Either takes effect on the first
day of the second month after the decision (docs/domain/sanctions.md).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from contracts.income import IncomePaymentSuspendedV1
from contracts.piis import PiisSanctionDecidedV1
from services.intake.application import IntakeApplication, SuspendIncomePayment
from services.intake.domain import ConflictError, DomainError
from services.intake.sanction_policy import SanctionPolicy
from tests.intake.fakes import CPAS, context, grant, in_memory_intake, registration

D = dt.date


@pytest.fixture
def app() -> IntakeApplication:
    return in_memory_intake()


@pytest.fixture
def case_id(app: IntakeApplication) -> uuid.UUID:
    found = app.register_beneficiary(registration()).case_id
    app.grant_income_right(grant(found))
    return found


def suspend(app: IntakeApplication, case_id: uuid.UUID, **fields: Any) -> None:
    defaults: dict[str, Any] = {
        "reason": "declaration_sanction",
        "decided_on": D(2026, 11, 15),
        "offence_on": D(2026, 6, 1),
        "period_start": D(2027, 1, 1),
        "period_end": D(2027, 6, 30),
    }
    app.suspend_income_payment(
        SuspendIncomePayment(context(), case_id, **{**defaults, **fields})
    )


def refused(app: IntakeApplication, case_id: uuid.UUID, **fields: Any) -> str:
    before = len(list(app.events.get(case_id)))
    with pytest.raises(DomainError) as error:
        suspend(app, case_id, **fields)
    assert len(list(app.events.get(case_id))) == before
    return error.value.rule


def last(app: IntakeApplication, case_id: uuid.UUID) -> IncomePaymentSuspendedV1:
    event = list(app.events.get(case_id))[-1]
    assert isinstance(event, IncomePaymentSuspendedV1)
    return event


def sanction_decided(case_id: uuid.UUID, **fields: Any) -> PiisSanctionDecidedV1:
    values: dict[str, Any] = {
        "case_id": case_id,
        "stream_id": uuid.uuid4(),
        "stream_version": 7,
        "event_id": uuid.uuid4(),
        "correlation_id": uuid.uuid4(),
        "cpas_kbo": CPAS,
        "occurred_at": dt.datetime(2026, 11, 15, tzinfo=dt.UTC),
        "piis_id": uuid.uuid4(),
        "decided_on": D(2026, 11, 15),
        "months": 1,
        "starts_on": D(2027, 1, 1),
        "ends_on": D(2027, 1, 31),
        "repeat": False,
        "notice_served_on": D(2026, 10, 20),
    }
    return PiisSanctionDecidedV1(**{**values, **fields})


def test_art30_par2_six_month_piis_sanction_suspension_is_refused(
    app: IntakeApplication, case_id: uuid.UUID
) -> None:
    rule = refused(
        app,
        case_id,
        reason="piis_sanction",
        period_start=D(2027, 1, 1),
        period_end=D(2027, 6, 30),
    )
    assert rule == "suspension.piis_sanction_not_decided"


def test_art30_par2_piis_sanction_without_a_decision_is_refused_even_for_a_month(
    app: IntakeApplication, case_id: uuid.UUID
) -> None:
    rule = refused(
        app, case_id, reason="piis_sanction", period_end=D(2027, 1, 31), offence_on=None
    )
    assert rule == "suspension.piis_sanction_not_decided"


def test_art30_par1_declaration_sanction_of_five_years_is_refused(
    app: IntakeApplication, case_id: uuid.UUID
) -> None:
    assert refused(app, case_id, period_end=D(2031, 12, 31)) == "suspension.too_long"


def test_art30_par1_declaration_sanction_lasts_at_most_six_months(
    app: IntakeApplication, case_id: uuid.UUID
) -> None:
    assert refused(app, case_id, period_end=D(2027, 7, 1)) == "suspension.too_long"
    suspend(app, case_id, period_end=D(2027, 6, 30))
    assert not last(app, case_id).repeat


def test_art30_par1_twelve_months_with_fraudulent_intent(
    app: IntakeApplication, case_id: uuid.UUID
) -> None:
    assert refused(app, case_id, period_end=D(2027, 12, 31)) == "suspension.too_long"
    suspend(app, case_id, period_end=D(2027, 12, 31), fraudulent=True)
    assert last(app, case_id).fraudulent


def test_art30_par1_a_repeat_within_three_years_doubles_the_limit(
    app: IntakeApplication, case_id: uuid.UUID
) -> None:
    suspend(app, case_id, period_end=D(2027, 6, 30))
    # Decided two years and eleven months after the first: still a repeat.
    suspend(
        app,
        case_id,
        decided_on=D(2029, 10, 14),
        offence_on=D(2029, 5, 1),
        period_start=D(2029, 12, 1),
        period_end=D(2030, 11, 30),
    )
    assert last(app, case_id).repeat


def test_art30_par1_a_decision_three_years_after_the_earlier_is_no_repeat(
    app: IntakeApplication, case_id: uuid.UUID
) -> None:
    suspend(app, case_id, period_end=D(2027, 6, 30))
    rule = refused(
        app,
        case_id,
        decided_on=D(2029, 11, 16),
        offence_on=D(2029, 5, 1),
        period_start=D(2030, 1, 1),
        period_end=D(2030, 12, 31),
    )
    assert rule == "suspension.too_long"


def test_art30_par1_not_pronounced_more_than_two_years_after_the_omission(
    app: IntakeApplication, case_id: uuid.UUID
) -> None:
    rule = refused(app, case_id, offence_on=D(2024, 11, 14))
    assert rule == "suspension.pronounced_too_late"
    suspend(app, case_id, offence_on=D(2024, 11, 15))


def test_art30_par1_not_executed_more_than_two_years_after_the_decision(
    app: IntakeApplication, case_id: uuid.UUID
) -> None:
    rule = refused(
        app, case_id, period_start=D(2028, 11, 16), period_end=D(2028, 12, 31)
    )
    assert rule == "suspension.executed_too_late"


def test_art30_par1_needs_the_date_of_the_omission(
    app: IntakeApplication, case_id: uuid.UUID
) -> None:
    rule = refused(app, case_id, offence_on=None)
    assert rule == "suspension.offence_date_required"


def test_art30_a_sanction_takes_effect_on_the_first_day_of_the_second_month(
    app: IntakeApplication, case_id: uuid.UUID
) -> None:
    # The law's example: decided on 15 November, effective on 1 January.
    rule = refused(app, case_id, period_start=D(2026, 12, 1))
    assert rule == "suspension.before_effect_date"
    assert refused(app, case_id, decided_on=None) == "suspension.decision_date_required"


def test_art30_a_partial_suspension_states_its_share(
    app: IntakeApplication, case_id: uuid.UUID
) -> None:
    assert refused(app, case_id, extent="partial") == "sanction.partial_percent"
    assert refused(app, case_id, partial_percent=50) == "sanction.partial_percent"
    suspend(app, case_id, extent="partial", partial_percent=50, stay_of_execution=True)
    recorded = last(app, case_id)
    assert (recorded.extent, recorded.partial_percent) == ("partial", 50)
    assert recorded.stay_of_execution


def test_other_suspension_reasons_are_not_sanctions(
    app: IntakeApplication, case_id: uuid.UUID
) -> None:
    suspend(
        app,
        case_id,
        reason="imprisonment",
        decided_on=None,
        offence_on=None,
        period_start=D(2026, 11, 1),
        period_end=D(2027, 10, 31),
    )
    assert last(app, case_id).reason == "imprisonment"


def test_art30_par2_a_decided_piis_sanction_is_carried_out_once(
    app: IntakeApplication, case_id: uuid.UUID
) -> None:
    decision = sanction_decided(case_id)
    command = SuspendIncomePayment(
        context(),
        case_id,
        "piis_sanction",
        decision.starts_on,
        decision.ends_on,
        decided_on=decision.decided_on,
        sanction=decision,
    )
    app.suspend_income_payment(command)
    recorded = last(app, case_id)
    assert recorded.sanction_event_id == decision.event_id
    assert recorded.period_start == D(2027, 1, 1)
    with pytest.raises(ConflictError) as again:
        app.suspend_income_payment(
            SuspendIncomePayment(
                context(),
                case_id,
                "piis_sanction",
                decision.starts_on,
                decision.ends_on,
                sanction=decision,
            )
        )
    assert again.value.rule == "suspension.sanction_already_executed"


def test_art30_par2_the_policy_carries_out_a_partial_stayed_sanction_once(
    app: IntakeApplication, case_id: uuid.UUID
) -> None:
    policy = SanctionPolicy(app)
    decision = sanction_decided(
        case_id, extent="partial", partial_percent=40, stay_of_execution=True
    )
    assert policy.react(decision) == "payment suspended 2027-01-01 to 2027-01-31"
    assert policy.react(decision) == "already carried out"
    recorded = last(app, case_id)
    assert (recorded.extent, recorded.partial_percent) == ("partial", 40)
    assert recorded.stay_of_execution
    assert recorded.sanction_event_id == decision.event_id
    suspensions = [
        e for e in app.events.get(case_id) if isinstance(e, IncomePaymentSuspendedV1)
    ]
    assert len(suspensions) == 1


def test_art30_par1_the_omission_cannot_come_after_the_decision(
    app: IntakeApplication, case_id: uuid.UUID
) -> None:
    rule = refused(app, case_id, offence_on=D(2026, 11, 16))
    assert rule == "suspension.offence_after_decision"


def test_art30_a_decision_no_published_figure_covers_is_refused(
    app: IntakeApplication, case_id: uuid.UUID
) -> None:
    # The law table's art. 30 figures are valid from 1 October 2002
    # (services/common/data/law_figures.csv): an earlier decision has none.
    rule = refused(app, case_id, decided_on=D(2002, 9, 30), offence_on=D(2002, 9, 1))
    assert rule == "parameters.no_version"
