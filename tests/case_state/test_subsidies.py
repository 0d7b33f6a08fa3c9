"""The subsidy ledger, case by case, each test named after its legal source.

Events are made here as the services record them (the envelope and the
fields the ledger reads); amounts are the shipped table's (1 February 2025).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest

from contracts.envelope import ContractEvent
from contracts.income import (
    IncomePaymentSuspendedV1,
    IncomeRecoveryDecidedV1,
    IncomeRightGrantedV1,
    IncomeRightModifiedV1,
    IncomeRightWithdrawnV1,
    PartnerPiisObligation,
    RecoveredMonth,
)
from contracts.intake import CaseTransferredV1
from contracts.piis import Commitments, PiisEndedV1, PiisEvaluatedV1, PIISSignedV1
from contracts.placement import Article60StartedV1
from services.case_state import subsidies
from services.case_state.roster import end_of_day
from services.case_state.subsidies import (
    LedgerRow,
    SubsidyFacts,
    SubsidyProjection,
    ledger,
    ledger_of_cpas,
)
from services.case_state.subsidies_api import window
from services.common.errors import DomainError
from services.demo import make_kbo

CPAS = make_kbo(2123499)
FAMILY = Decimal("1776.07")
ALONE = Decimal("1314.20")
_VERSIONS = itertools.count(1)


def event(
    cls: type[ContractEvent], case: uuid.UUID, day: dt.date, **fields: Any
) -> Any:
    """An event of a case as a service records it (recorded at noon that day)."""
    recorded = fields.pop("recorded_at", None) or dt.datetime.combine(
        day, dt.time(12), tzinfo=dt.UTC
    )
    return cls(
        event_id=uuid.uuid4(),
        occurred_at=recorded,
        recorded_at=recorded,
        stream_id=case,
        stream_version=next(_VERSIONS),
        case_id=case,
        cpas_kbo=CPAS,
        correlation_id=uuid.uuid4(),
        **fields,
    )


def grant(
    case: uuid.UUID,
    effective: dt.date,
    *,
    category: int = 2,
    obligation: str = "compulsory_new_beneficiary",
    partners: tuple[PartnerPiisObligation, ...] = (),
    right: uuid.UUID | None = None,
    **fields: Any,
) -> IncomeRightGrantedV1:
    amount = {1: Decimal("876.13"), 2: ALONE, 3: FAMILY}[category]
    result: IncomeRightGrantedV1 = event(
        IncomeRightGrantedV1,
        case,
        effective,
        right_id=right or uuid.uuid4(),
        kind="RIS",
        category=category,
        monthly_amount=amount,
        amount_version="2025-02-01",
        application_date=effective,
        decision_date=effective,
        effective_date=effective,
        decided_late=False,
        piis_obligation=obligation,
        partner_piis_obligations=partners,
        **fields,
    )
    return result


def couple_grant(holder: uuid.UUID, partner: uuid.UUID) -> IncomeRightGrantedV1:
    """A category-3 grant from 1 March 2025 whose partner's PIIS is compulsory."""
    return grant(
        holder,
        dt.date(2025, 3, 1),
        category=3,
        obligation="optional",
        partners=(
            PartnerPiisObligation(
                position=1,
                partner_case_id=partner,
                piis_obligation="compulsory_new_beneficiary",
            ),
        ),
    )


def signed(case: uuid.UUID, day: dt.date, piis: uuid.UUID | None = None) -> Any:
    return event(
        PIISSignedV1,
        case,
        day,
        piis_id=piis or uuid.uuid4(),
        piis_type="general",
        signed_on=day,
        start_date=day,
        planned_end_date=day + dt.timedelta(days=800),
        objectives=("work",),
        commitments=Commitments(beneficiary=("come",), cpas=("help",)),
        evaluation_plan=(),
        reflection_period_start=day - dt.timedelta(days=10),
        subsidy_code="11",
    )


def evaluated(
    case: uuid.UUID, day: dt.date, piis: uuid.UUID, motivation: str | None
) -> Any:
    return event(
        PiisEvaluatedV1,
        case,
        day,
        piis_id=piis,
        evaluated_on=day,
        in_person=True,
        outcome="on track",
        subsidy_prolongation_motivation=motivation,
    )


def ended(case: uuid.UUID, day: dt.date, piis: uuid.UUID) -> Any:
    return event(
        PiisEndedV1,
        case,
        day,
        piis_id=piis,
        ended_on=day,
        outcome="terminated",
        reason="left",
    )


def withdrawn(case: uuid.UUID, day: dt.date, right: uuid.UUID) -> Any:
    return event(
        IncomeRightWithdrawnV1,
        case,
        day,
        right_id=right,
        effective_date=day,
        reason="x",
    )


def facts(*events: ContractEvent) -> SubsidyFacts:
    projection = SubsidyProjection()
    row: SubsidyFacts | None = None
    for item in events:
        row = projection.fold(row, item) or row
    assert row is not None
    return row


def by_month(rows: tuple[LedgerRow, ...]) -> dict[str, LedgerRow]:
    return {row.month.isoformat()[:7]: row for row in rows}


def signed_in_march_2025(
    case: uuid.UUID, piis: uuid.UUID, *later: ContractEvent
) -> dict[str, LedgerRow]:
    """Income from 1 March 2025, a PIIS signed on the 5th, then later: to June 2026."""
    history = facts(
        grant(case, dt.date(2025, 3, 1)),
        signed(case, dt.date(2025, 3, 5), piis),
        *later,
    )
    return by_month(ledger(history, {}, as_of=dt.date(2026, 6, 30)))


def test_piis_first_year_code_11_from_the_month_of_signature_law_21_july_2016() -> None:
    """SPP IS FAQ: from the first day of the month of signature, for twelve months."""
    case = uuid.uuid4()
    income = grant(case, dt.date(2025, 3, 1))
    piis = signed(case, dt.date(2025, 5, 20))
    rows = by_month(ledger(facts(income, piis), {}, as_of=dt.date(2026, 7, 31)))
    assert rows["2025-04"].piis_code is None
    assert rows["2025-04"].piis_status == "subsidy.no_piis"
    may = rows["2025-05"]
    assert may.piis_code == "11"  # the whole month of signature
    assert may.piis_base == ALONE
    assert may.piis_amount == Decimal("131.42")  # 10 %
    assert piis.event_id in may.event_ids
    assert income.event_id in may.event_ids
    assert rows["2026-04"].piis_code == "11"  # the twelfth month
    assert rows["2026-05"].piis_code is None  # no motivation: no prolongation
    assert rows["2026-05"].piis_status == "subsidy.prolongation_without_motivation"


def test_art32_income_reimbursed_at_the_rate_of_the_month_by_cpas_size() -> None:
    """Law of 26 May 2002 art. 32: 55 %, 65 % from 500, 70 % from 1,000."""
    for basis, rate in (
        (None, 55),
        ("cpas_over_500", 65),
        ("cpas_over_1000", 70),
        ("foreigners_register", 100),
    ):
        case = uuid.uuid4()
        row = ledger(
            facts(grant(case, dt.date(2025, 3, 1), reimbursement_basis=basis)),
            {},
            as_of=dt.date(2025, 3, 31),
        )[0]
        assert row.income_amount == ALONE
        assert row.rate_percent == rate
        assert "art. 32" in row.rate_source
        assert row.reimbursed_amount == (ALONE * rate / 100).quantize(Decimal("0.01"))


def test_art24_income_recovered_pays_back_the_states_share_at_the_month_of_reference_rate() -> (  # noqa: E501 - the test's name is the rule's
    None
):
    """Law of 26 May 2002 art. 24 ff. and art. 32: the State's share comes back.

    A recovery decided in June of two months' income (April in full, half of
    May) pays back what the State reimbursed for those months of reference,
    at their rate (65 %), on the rows of those months, with the decision
    among the events that justify them; other months are untouched.
    """
    case = uuid.uuid4()
    income = grant(case, dt.date(2025, 3, 1), reimbursement_basis="cpas_over_500")
    half = (ALONE / 2).quantize(Decimal("0.01"))
    recovery = event(
        IncomeRecoveryDecidedV1,
        case,
        dt.date(2025, 6, 12),
        recovery_id=uuid.uuid4(),
        right_id=income.right_id,
        kind="RIS",
        decision_date=dt.date(2025, 6, 12),
        period_start=dt.date(2025, 4, 1),
        period_end=dt.date(2025, 5, 16),
        amount=ALONE + half,
        recovery_type="01",
        reason="undeclared_resources",
        months=(
            RecoveredMonth(month=dt.date(2025, 4, 1), amount=ALONE, granted=ALONE),
            RecoveredMonth(month=dt.date(2025, 5, 1), amount=half, granted=ALONE),
        ),
    )
    rows = by_month(ledger(facts(income, recovery), {}, as_of=dt.date(2025, 6, 30)))
    assert rows["2025-04"].income_recovered == ALONE
    assert rows["2025-04"].reimbursement_recovered == rows["2025-04"].reimbursed_amount
    assert rows["2025-05"].income_recovered == half
    assert rows["2025-05"].reimbursement_recovered == (half * 65 / 100).quantize(
        Decimal("0.01")
    )
    for month in ("2025-04", "2025-05"):
        assert recovery.event_id in rows[month].event_ids
    for month in ("2025-03", "2025-06"):
        assert rows[month].income_recovered == 0
        assert rows[month].reimbursement_recovered == 0
        assert recovery.event_id not in rows[month].event_ids
    # As known before the decision was recorded, nothing was recovered.
    before = by_month(
        ledger(
            facts(income, recovery),
            {},
            as_of=dt.date(2025, 6, 30),
            known_at=dt.datetime(2025, 6, 1, tzinfo=dt.UTC),
        )
    )
    assert before["2025-04"].income_recovered == 0


def test_art32_a_month_begun_mid_month_is_reimbursed_pro_rata() -> None:
    """Law of 26 May 2002 art. 32: the income lawfully granted, so its days only."""
    case = uuid.uuid4()
    row = ledger(
        facts(grant(case, dt.date(2025, 4, 16))), {}, as_of=dt.date(2025, 4, 30)
    )
    assert row[0].days_in_force == 15
    assert row[0].income_amount == (ALONE / 2).quantize(Decimal("0.01"))


def test_piis_signed_in_the_month_of_the_grant_counts_from_the_grant_spp_is_faq() -> (
    None
):
    """SPP IS FAQ: signed in the grant's month, the subsidy runs from the grant date."""
    case = uuid.uuid4()
    rows = by_month(
        ledger(
            facts(
                grant(case, dt.date(2025, 4, 16)), signed(case, dt.date(2025, 4, 25))
            ),
            {},
            as_of=dt.date(2026, 4, 30),
        )
    )
    april = rows["2025-04"]
    assert april.piis_code == "11"
    assert april.piis_base == (ALONE / 2).quantize(Decimal("0.01"))  # from the 16th
    assert rows["2026-03"].piis_code == "11"  # twelve months from April 2025
    assert rows["2026-04"].piis_code is None


def test_piis_prolongation_code_17_with_written_motivation_spp_is_primabook() -> None:
    """Primabook: a prolongation needs a PIIS on the last day and a written reason."""
    case, piis = uuid.uuid4(), uuid.uuid4()
    motivated = evaluated(case, dt.date(2026, 2, 10), piis, "why a second year helps")
    rows = signed_in_march_2025(
        case,
        piis,
        motivated,
    )
    assert rows["2026-02"].piis_code == "11"
    march = rows["2026-03"]
    assert march.piis_code == "17"
    assert march.piis_status == "subsidy.piis_prolongation"
    assert motivated.event_id in march.event_ids


def test_piis_prolongation_without_motivation_is_not_due_spp_is_primabook() -> None:
    """Primabook: without a written motivation, no code 17."""
    case, piis = uuid.uuid4(), uuid.uuid4()
    rows = signed_in_march_2025(
        case,
        piis,
        evaluated(case, dt.date(2026, 2, 10), piis, None),
    )
    assert rows["2026-03"].piis_code is None
    assert rows["2026-03"].piis_amount == 0
    assert rows["2026-03"].piis_status == "subsidy.prolongation_without_motivation"


def test_piis_ended_before_the_last_day_of_the_first_period_no_prolongation() -> None:
    """Primabook: a prolongation needs a PIIS in force on the first year's last day."""
    case, piis = uuid.uuid4(), uuid.uuid4()
    rows = signed_in_march_2025(
        case,
        piis,
        evaluated(case, dt.date(2026, 1, 10), piis, "motivated"),
        ended(case, dt.date(2026, 2, 20), piis),
    )
    assert rows["2026-02"].piis_code == "11"  # the first year runs its course
    assert rows["2026-03"].piis_code is None
    assert rows["2026-03"].piis_status == "subsidy.prolongation_no_piis_on_last_day"


def test_piis_subsidy_lost_after_interruption_over_three_months_spp_is_primabook() -> (
    None
):
    """Primabook: after more than 3 months without income, wait for a new PIIS."""
    case, right, again = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    first = signed(case, dt.date(2025, 3, 5))
    renewed = signed(case, dt.date(2025, 10, 8))
    base = (
        grant(case, dt.date(2025, 3, 1), right=right),
        first,
        withdrawn(case, dt.date(2025, 5, 1), right),
        grant(case, dt.date(2025, 8, 15), right=again, obligation="optional"),
    )
    rows = by_month(ledger(facts(*base), {}, as_of=dt.date(2025, 12, 31)))
    assert rows["2025-04"].piis_code == "11"
    assert "2025-06" not in rows  # no income
    assert rows["2025-09"].piis_code is None
    assert rows["2025-09"].piis_status == "subsidy.lost_after_interruption"
    rows = by_month(ledger(facts(*base, renewed), {}, as_of=dt.date(2025, 12, 31)))
    assert rows["2025-09"].piis_code is None
    assert rows["2025-10"].piis_code == "11"  # a new first year
    assert renewed.event_id in rows["2025-10"].event_ids


def test_piis_subsidy_kept_after_interruption_of_three_months_or_less() -> None:
    """Primabook: only an interruption of more than three months loses the subsidy."""
    case, right, again = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    rows = by_month(
        ledger(
            facts(
                grant(case, dt.date(2025, 3, 1), right=right),
                signed(case, dt.date(2025, 3, 5)),
                withdrawn(case, dt.date(2025, 5, 1), right),
                grant(case, dt.date(2025, 7, 1), right=again, obligation="optional"),
            ),
            {},
            as_of=dt.date(2025, 12, 31),
        )
    )
    assert rows["2025-07"].piis_code == "11"


def test_piis_subsidy_recovered_when_a_compulsory_piis_is_missing_spp_is_faq() -> None:
    """SPP IS FAQ: a compulsory PIIS missing for one partner: the 10 % is recovered."""
    holder, partner = uuid.uuid4(), uuid.uuid4()
    income = couple_grant(holder, partner)
    own = facts(income, signed(holder, dt.date(2025, 3, 10)))
    # The partner's own case: a bilan, no PIIS (a fact the ledger does not read).
    other = SubsidyFacts(partner, CPAS)
    # Before the three months are over, the 10 % is counted.
    early = by_month(ledger(own, {partner: other}, as_of=dt.date(2025, 5, 31)))
    assert early["2025-03"].piis_amount == Decimal("177.61")
    assert early["2025-03"].piis_recovered == 0
    # Past the deadline (law of 26 May 2002 art. 11), recovered, every month.
    late = by_month(ledger(own, {partner: other}, as_of=dt.date(2025, 7, 31)))
    for month in ("2025-03", "2025-06", "2025-07"):
        assert late[month].piis_recovered == late[month].piis_amount > 0
        assert late[month].piis_status == "subsidy.compulsory_piis_missing"
        assert income.event_id in late[month].event_ids
    # The partner signs (late): nothing missing any more.
    signed_late = facts(signed(partner, dt.date(2025, 8, 4)))
    after = by_month(ledger(own, {partner: signed_late}, as_of=dt.date(2025, 8, 31)))
    assert after["2025-03"].piis_recovered == 0


def test_piis_subsidy_not_doubled_for_a_couple_spp_is_faq() -> None:
    """SPP IS FAQ: both partners with a PIIS: 10 % of the category-3 amount, once."""
    holder, partner = uuid.uuid4(), uuid.uuid4()
    income = grant(
        holder,
        dt.date(2025, 3, 1),
        category=3,
        partners=(
            PartnerPiisObligation(
                position=1,
                partner_case_id=partner,
                piis_obligation="compulsory_new_beneficiary",
            ),
        ),
    )
    theirs = signed(partner, dt.date(2025, 3, 12))
    histories = [
        facts(income, signed(holder, dt.date(2025, 3, 10))),
        facts(theirs),
    ]
    rows = ledger_of_cpas(histories, cpas_kbo=CPAS, as_of=dt.date(2025, 3, 31))
    assert len(rows) == 1  # the partner has no income of their own
    assert rows[0].case_id == holder
    assert rows[0].piis_base == FAMILY
    assert rows[0].piis_amount == Decimal("177.61")  # not 355.22
    assert theirs.event_id in rows[0].event_ids


def test_piis_subsidy_on_the_complementary_income_of_an_article_60_worker() -> None:
    """SPP IS FAQ: for an art. 60 §7 worker, 10 % of the complementary income."""
    case, contract = uuid.uuid4(), uuid.uuid4()
    started = event(
        Article60StartedV1,
        case,
        dt.date(2025, 6, 1),
        contract_id=contract,
        employer_kbo=CPAS,
        start_date=dt.date(2025, 6, 1),
        planned_end_date=dt.date(2026, 5, 31),
        regime="part_time",
        required_work_days=312,
        region_scheme="BRU",
    )
    complement = event(
        IncomeRightModifiedV1,
        case,
        dt.date(2025, 6, 1),
        right_id=uuid.UUID(int=7),
        category=2,
        monthly_amount=ALONE,
        amount_version="2025-02-01",
        effective_date=dt.date(2025, 6, 1),
        reason="article 60 wage",
        granted_monthly_amount=Decimal("400.00"),
    )
    rows = by_month(
        ledger(
            facts(
                grant(case, dt.date(2025, 3, 1), right=uuid.UUID(int=7)),
                signed(case, dt.date(2025, 3, 5)),
                started,
                complement,
            ),
            {},
            as_of=dt.date(2025, 6, 30),
        )
    )
    june = rows["2025-06"]
    assert june.income_amount == Decimal("400.00")
    assert june.piis_amount == Decimal("40.00")
    assert june.reimbursed_amount == Decimal("220.00")
    assert june.article_60
    assert complement.event_id in june.event_ids
    assert started.event_id in june.event_ids
    assert not rows["2025-05"].article_60


def test_art30_a_suspension_without_stay_is_not_reimbursed() -> None:
    """Law of 26 May 2002 art. 30: suspended days are not paid, so not claimed."""
    case = uuid.uuid4()
    suspended = event(
        IncomePaymentSuspendedV1,
        case,
        dt.date(2025, 4, 1),
        right_id=uuid.uuid4(),
        reason="stay_abroad_over_28_days",
        period_start=dt.date(2025, 4, 1),
        period_end=dt.date(2025, 4, 30),
    )
    row = ledger(
        facts(grant(case, dt.date(2025, 3, 1)), suspended),
        {},
        as_of=dt.date(2025, 4, 30),
    )[-1]
    assert row.income_amount == 0
    assert suspended.event_id in row.event_ids


def test_ledger_as_of_a_past_date_ignores_what_was_recorded_later() -> None:
    """The ledger as of a date reads the events recorded by the end of that day."""
    case = uuid.uuid4()
    late = signed(case, dt.date(2025, 3, 5))
    late = late.model_copy(
        update={"recorded_at": dt.datetime(2025, 4, 20, 9, tzinfo=dt.UTC)}
    )
    history = facts(grant(case, dt.date(2025, 3, 1)), late)
    before = by_month(ledger(history, {}, as_of=dt.date(2025, 4, 10)))
    assert before["2025-03"].piis_code is None
    after = by_month(ledger(history, {}, as_of=dt.date(2025, 4, 30)))
    assert after["2025-03"].piis_code == "11"
    known = by_month(
        ledger(
            history,
            {},
            as_of=dt.date(2025, 4, 30),
            known_at=dt.datetime(2025, 4, 15, tzinfo=dt.UTC),
        )
    )
    assert known["2025-03"].piis_code is None


def test_fold_order_of_services_does_not_change_the_facts() -> None:
    """Live (topics interleaved) and rebuild (store by store) keep the same facts."""
    case = uuid.uuid4()
    events = [grant(case, dt.date(2025, 3, 1)), signed(case, dt.date(2025, 3, 5))]
    assert facts(*events) == facts(*reversed(events))
    projection = SubsidyProjection()
    row = facts(*events)
    case_id, cpas, encoded, transfers, seen = projection.encode(row)
    assert seen == [CPAS]
    assert (
        projection.decode(
            [case_id, cpas, json.loads(encoded), json.loads(transfers), seen]
        )
        == row
    )


def test_a_transferred_case_is_read_by_its_new_cpas_whatever_the_order() -> None:
    """Law of 26 May 2002 art. 32: the CPAS the case is with claims (ADR 0017)."""
    case, other = uuid.uuid4(), make_kbo(2123500)
    income = grant(case, dt.date(2025, 3, 1))
    piis = signed(case, dt.date(2025, 3, 5))  # recorded before the transfer
    moved = event(
        CaseTransferredV1,
        case,
        dt.date(2025, 6, 1),
        transferred_on=dt.date(2025, 6, 1),
        from_cpas_kbo=CPAS,
        previous_dossier_number="M1",
        dossier_number="N1",
    ).model_copy(update={"cpas_kbo": other})
    # The intake topic keeps its order; the PIIS topic's event comes anywhere.
    orders = (
        [income, piis, moved],
        [income, moved, piis],
        [piis, income, moved],
        [moved, piis, income],
    )
    rows = [facts(*order) for order in orders]
    assert all(row == rows[0] for row in rows)
    row = rows[0]
    assert row.cpas_kbo == other
    assert row.cpas_seen == sorted([CPAS, other])
    june, may = dt.date(2025, 6, 30), dt.date(2025, 5, 31)
    assert ledger_of_cpas([row], cpas_kbo=CPAS, as_of=june) == ()
    assert {r.cpas_kbo for r in ledger_of_cpas([row], cpas_kbo=other, as_of=june)} == {
        other
    }
    # As of a day before the transfer, it was the former CPAS's, as the hub showed.
    assert ledger_of_cpas([row], cpas_kbo=other, as_of=may) == ()
    assert {r.cpas_kbo for r in ledger_of_cpas([row], cpas_kbo=CPAS, as_of=may)} == {
        CPAS
    }


def test_piis_prolongation_counts_only_the_days_a_piis_is_in_force() -> None:
    """Primabook: a prolongation goes with a PIIS; once it ended, no code 17."""
    case, piis = uuid.uuid4(), uuid.uuid4()
    rows = signed_in_march_2025(
        case,
        piis,
        evaluated(case, dt.date(2026, 2, 10), piis, "a second year"),
        ended(case, dt.date(2026, 4, 30), piis),
    )
    assert rows["2026-04"].piis_code == "17"
    assert rows["2026-05"].piis_code is None
    assert rows["2026-05"].piis_status == "subsidy.prolongation_piis_ended"


def test_a_ledger_of_more_than_twenty_years_of_months_at_once_is_refused() -> None:
    """Hub limit (ADR 0022): a range of months is asked for, not a whole century."""
    case = uuid.uuid4()
    history = facts(grant(case, dt.date(2025, 3, 1)))
    with pytest.raises(DomainError) as refused:
        ledger(history, {}, as_of=dt.date(2999, 1, 1))
    assert refused.value.rule == "subsidy.too_many_months"
    rows = ledger(
        history, {}, as_of=dt.date(2999, 1, 1), first_month=dt.date(2998, 1, 1)
    )
    assert len(rows) == 13


def test_art32_a_withdrawal_ends_its_own_right_not_a_new_right_granted_before_it() -> (
    None
):
    """Law of 26 May 2002 art. 32: the income lawfully granted is reimbursed.

    The CPAS withdraws the old right from 1 June (decided ahead), then grants a
    new one from 15 May (intake allows it once the old right is withdrawn): the
    new right is in force in June and July, whatever the old one's end.
    """
    case, old, new = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    rows = by_month(
        ledger(
            facts(
                grant(case, dt.date(2025, 1, 1), right=old),
                withdrawn(case, dt.date(2025, 6, 1), old),
                grant(case, dt.date(2025, 5, 15), right=new, obligation="optional"),
            ),
            {},
            as_of=dt.date(2025, 7, 31),
        )
    )
    for month in ("2025-06", "2025-07"):
        assert rows[month].right_id == new
        assert rows[month].income_amount == ALONE


def test_a_ledger_up_to_the_calendars_last_month_ends_there() -> None:
    """as_of 9999-12-31 (a valid date of the API) overflowed past December: a 500."""
    case = uuid.uuid4()
    rows = ledger(
        facts(grant(case, dt.date(2025, 1, 1))),
        {},
        as_of=dt.date(9999, 12, 31),
        first_month=dt.date(9999, 1, 1),
    )
    assert [r.month.month for r in rows] == list(range(1, 13))
    assert rows[-1].month == dt.date(9999, 12, 1)


def test_the_replayed_ledger_of_a_cpas_folds_its_cases_only_as_the_live_one_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The replay folded every CPAS's cases (the whole hub in memory).

    A partner's case at another CPAS, with a PIIS signed there, was then
    judged in the replay (no recovery) but not live, where the CPAS's read
    holds only the cases ever with it (the 10 % recovered): the audit's
    ledger was not what the live ledger answered.
    """
    other_cpas = make_kbo(2123500)
    holder, partner = uuid.uuid4(), uuid.uuid4()
    income = couple_grant(holder, partner)
    ours = [income, signed(holder, dt.date(2025, 3, 10))]
    theirs = [
        e.model_copy(update={"cpas_kbo": other_cpas})
        for e in (
            grant(partner, dt.date(2025, 3, 1), obligation="optional"),
            signed(partner, dt.date(2025, 3, 12)),
        )
    ]

    async def pages(*_: Any) -> Any:
        yield "intake", [*ours, *theirs]

    monkeypatch.setattr(subsidies, "stored_pages", pages)
    monkeypatch.setattr(subsidies, "row_to_event", lambda row: row)
    window = subsidies.Window(as_of=dt.date(2025, 7, 31))
    replayed = asyncio.run(subsidies.replay_ledger(None, CPAS, window))  # type: ignore[arg-type]
    live = ledger_of_cpas([facts(*ours)], cpas_kbo=CPAS, **window.kwargs())
    assert replayed == live
    assert replayed


def test_a_ledger_as_of_today_states_it_knew_things_by_now_not_by_midnight() -> None:
    """ADR 0022: a ledger's stated known_at never lies ahead, so it never changes."""
    before = dt.datetime.now(dt.UTC)
    today = window(before.date() + dt.timedelta(days=1), None, None, None)
    assert today.known_at is not None
    assert before <= today.known_at <= dt.datetime.now(dt.UTC)
    past = window(dt.date(2025, 3, 31), None, None, None)
    assert past.known_at == end_of_day(dt.date(2025, 3, 31))


def test_piis_code_periods_are_the_ledgers_months_law_21_july_2016() -> None:
    """From which day form B carries code 11, 17 or none: the ledger's own periods."""
    case, piis = uuid.uuid4(), uuid.uuid4()
    march_2025, march_2026 = dt.date(2025, 3, 1), dt.date(2026, 3, 1)
    start = (grant(case, march_2025), signed(case, dt.date(2025, 3, 5), piis))
    motivated = evaluated(case, dt.date(2026, 2, 10), piis, "why a second year helps")
    end = ended(case, dt.date(2026, 6, 30), piis)
    found = subsidies.piis_code_periods(facts(*start, motivated, end), {})
    assert [(p.start, p.code, p.status) for p in found] == [
        (march_2025, "11", "subsidy.piis_first_year"),
        (march_2026, "17", "subsidy.piis_prolongation"),
        (dt.date(2026, 7, 1), None, "subsidy.prolongation_piis_ended"),
    ]
    rows = by_month(
        ledger(facts(*start, motivated, end), {}, as_of=dt.date(2026, 7, 31))
    )
    for period in found:
        month = rows[period.start.isoformat()[:7]]
        assert month.piis_code == period.code
        assert subsidies.period_on(found, period.start) == period
    unmotivated = subsidies.piis_code_periods(facts(*start), {})
    assert [(p.start, p.code) for p in unmotivated] == [
        (march_2025, "11"),
        (march_2026, None),
    ]
