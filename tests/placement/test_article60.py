"""Article 60 §7 and 61 rules on in-memory persistence, with the case facts given.

Every refusal names its field and rule and leaves the stream as it was.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contracts.placement import (
    Article60EndedV1,
    Article60PlannedV1,
    Article60SignedV1,
    Article60StartedV1,
    Article61AgreementSignedV1,
    BenefitRightOpenedV1,
    BenefitRightRefusedV1,
)
from services.common.aggregate import CommandContext, HandledCommand
from services.common.errors import ConflictError, DomainError
from services.placement.api import create_api
from services.placement.application import (
    CaseUnknownError,
    PlacementApplication,
    PlacementCommand,
)
from services.placement.domain import PlacementFacts, PlacementFile
from services.placement.periods import add_months, date_reaching, work_days_between
from tests.common.apis import KEY, KEYS
from tests.intake.fakes import IN_MEMORY

CASE = uuid.UUID(int=601)
CPAS = "0212345668"
USER_KBO = "0207350267"
NISS = "85073003328"
# Born 30 July 1985: 40 at every date below, in the 36-49 band before the reform.
FACTS = PlacementFacts(CASE, CPAS, "A60-1", dt.date(1985, 7, 30), "wallonia", NISS)
START = dt.date(2026, 5, 4)  # a Monday, after the reform: 312 days for everyone
# 312 six-day-week days from Monday 2026-05-04: 52 weeks, Saturday 2027-05-01.
END = dt.date(2027, 5, 1)

Decide = Callable[[PlacementFile, CommandContext, PlacementFacts], object]


def new_app(facts: PlacementFacts = FACTS) -> PlacementApplication:
    return PlacementApplication(
        IN_MEMORY, facts={facts.case_id: facts}.get, id_secret="placement-tests"
    )


def act(
    app: PlacementApplication,
    decide: Decide,
    command_id: uuid.UUID | None = None,
    *,
    request: Any = None,
) -> Any:
    """Run one command; what it created (a contract id) or None."""
    context = CommandContext(
        command_id or uuid.uuid4(), dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    )
    command = PlacementCommand(context, "test", CASE, request)
    return app.handle(
        command, lambda f, facts: decide(f, context, facts), created_or_none
    ).result


def created_or_none(_: PlacementFile, handled: HandledCommand) -> uuid.UUID | None:
    return handled.created


def planned(**changes: Any) -> Decide:
    """A plan_article60 call, valid unless a test changes a field."""
    fields: dict[str, Any] = {
        "job_title": "Kitchen assistant",
        "regime": "full_time",
        "weekly_hours": None,
        "planned_start_date": START,
        "planned_end_date": END,
        "region_scheme": None,
        "caseworker": "agent-17",
        **changes,
    }
    return lambda f, c, facts: f.plan_article60(c, facts, **fields)


def agreement61(**changes: Any) -> Decide:
    """A sign_article61 call, valid unless a test changes a field."""
    fields: dict[str, Any] = {
        "employer_kbo": "0403170701",
        "employer_name": "Boulangerie du Centre SRL",
        "job_title": "Baker's assistant",
        "regime": "full_time",
        "weekly_hours": None,
        "signed_on": START - dt.timedelta(days=14),
        "start_date": START,
        "planned_end_date": END,
        "region_scheme": None,
        "subsidy_flags": ("activa",),
        **changes,
    }
    return lambda f, c, facts: f.sign_article61(c, facts, **fields)


def plan(
    app: PlacementApplication,
    start: dt.date = START,
    end: dt.date = END,
    **changes: Any,
) -> uuid.UUID:
    """Plan a contract; its id."""
    contract_id: uuid.UUID = act(
        app,
        planned(
            planned_start_date=start,
            planned_end_date=end,
            **changes,
        ),
    )
    return contract_id


def calculated(contract_id: uuid.UUID, days: int, end: dt.date) -> Decide:
    """ONEM's calculation of a contract's required period, as CPAS@ONEM returns it."""
    return lambda f, c, _: f.record_required_period(
        c,
        contract_id=contract_id,
        calculated_on=dt.date(2026, 4, 10),
        required_work_days=days,
        required_period_end=end,
        onem_calculation_ref=f"ONEM-CALC-{days}",
    )


def signing(
    contract_id: uuid.UUID, start: dt.date = START, end: dt.date = END
) -> Decide:
    """The signature of a contract, two weeks before it starts."""
    return lambda f, c, facts: f.sign_article60(
        c,
        facts,
        contract_id=contract_id,
        signed_on=start - dt.timedelta(days=14),
        start_date=start,
        planned_end_date=end,
    )


def sign(
    app: PlacementApplication,
    contract_id: uuid.UUID,
    start: dt.date = START,
    end: dt.date = END,
) -> None:
    act(app, signing(contract_id, start, end))


def started(app: PlacementApplication) -> uuid.UUID:
    """A planned and signed contract, started; its id."""
    contract_id = plan(app)
    sign(app, contract_id)
    act(
        app,
        lambda f, c, _: f.start_article60(c, contract_id=contract_id, started_on=START),
    )
    return contract_id


def events(app: PlacementApplication) -> list[Any]:
    return list(app.events.get(app.file_id(CASE)))


def refused(
    app: PlacementApplication,
    decide: Decide,
    field: str,
    rule: str,
    error: type[DomainError] = DomainError,
) -> None:
    """The command is refused naming field and rule, and nothing is stored."""
    before = len(events(app))
    with pytest.raises(error) as caught:
        act(app, decide)
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert len(events(app)) == before
    app.forget(app.file_id(CASE))
    assert len(events(app)) == before


def test_a_contract_runs_from_plan_to_the_benefit_right() -> None:
    app = new_app()
    contract = plan(app)
    act(
        app,
        lambda f, c, _: f.request_required_period(
            c,
            contract_id=contract,
            requested_on=dt.date(2026, 4, 2),
            onem_request_ref="REQ-1",
        ),
    )
    act(
        app,
        calculated(contract, 312, END),
    )
    sign(app, contract)
    act(
        app,
        lambda f, c, _: f.start_article60(c, contract_id=contract, started_on=START),
    )
    act(
        app,
        lambda f, c, _: f.agree_placement(
            c,
            contract_id=contract,
            user_organisation_kbo=USER_KBO,
            user_organisation_name="Commune de Namur",
            user_organisation_kind="municipality",
            agreement_signed_on=dt.date(2026, 5, 20),
            placement_starts_on=dt.date(2026, 6, 1),
            social_economy=False,
        ),
    )
    act(
        app,
        lambda f, c, _: f.end_article60(
            c, contract_id=contract, ended_on=END, reason="required_days_reached"
        ),
    )
    act(
        app,
        lambda f, c, facts: f.record_benefit_right(
            c,
            facts,
            opened=True,
            channel="manual",
            evidence=("CAPAC letter 2027-05-20",),
            onem_decision_date=dt.date(2027, 6, 1),
            onem_reference="ONEM-2027-1",
            work_days_counted=312,
            right_start_date=dt.date(2027, 5, 3),
            payment_institution="CAPAC",
        ),
    )
    recorded = events(app)
    planned = recorded[0]
    assert isinstance(planned, Article60PlannedV1)
    assert planned.default_required_work_days == 312
    assert planned.required_period_rule == "unemployment-reform-2026"
    assert planned.region_scheme == "WAL"
    signed = recorded[3]
    assert isinstance(signed, Article60SignedV1)
    assert (signed.required_period_source, signed.flags) == ("onem", ())
    assert signed.onem_required_period_end == END
    start = recorded[4]
    assert isinstance(start, Article60StartedV1)
    assert (start.employer_kbo, start.onem_calculation_ref) == (CPAS, "ONEM-CALC-312")
    assert start.onem_required_period_end == END
    end = recorded[6]
    assert isinstance(end, Article60EndedV1)
    assert (end.early, end.work_days_accrued) == (False, 312)
    right = recorded[7]
    assert isinstance(right, BenefitRightOpenedV1)
    assert (right.niss, right.source_channel) == (NISS, "manual")


def test_a_retried_command_is_recorded_once() -> None:
    app = new_app()
    command = uuid.uuid4()
    for _ in range(2):
        act(
            app,
            planned(),
            command_id=command,
        )
    assert len(events(app)) == 1


def test_an_unknown_case_is_refused() -> None:
    app = PlacementApplication(
        IN_MEMORY, facts=dict[uuid.UUID, PlacementFacts]().get, id_secret="x"
    )
    with pytest.raises(CaseUnknownError):
        plan(app)


def test_signing_without_onem_uses_the_rule_table_and_flags_it() -> None:
    app = new_app()
    contract = plan(app)
    sign(app, contract)
    signed = events(app)[-1]
    assert isinstance(signed, Article60SignedV1)
    assert signed.required_period_source == "default_rule"
    assert signed.flags == ("required_period.not_calculated_by_onem",)


def test_wallonia_flags_a_contract_beyond_its_312_day_subsidy() -> None:
    # ONEM asks 400 days (e.g. part of the history did not count); the Walloon
    # subsidy covers 312 of them (Walloon Government, 2026 reform): allowed,
    # flagged, subsidised days capped.
    app = new_app()
    contract = plan(app)
    act(
        app,
        calculated(contract, 400, dt.date(2027, 8, 10)),
    )
    later_end = dt.date(2027, 8, 10)
    sign(app, contract, end=later_end)
    signed = events(app)[-1]
    assert isinstance(signed, Article60SignedV1)
    assert signed.flags == ("regional_cap.exceeded:wallonia-subsidy-312-days",)
    assert signed.subsidised_work_days == 312
    assert signed.required_work_days == 400
    assert work_days_between(START, later_end) <= 400


# -- refusals: each names its field and rule, and stores nothing ------------


def test_a_planned_end_before_the_start_is_refused() -> None:
    app = new_app()
    refused(
        app,
        planned(planned_end_date=START - dt.timedelta(days=1)),
        "planned_end_date",
        "article60.end_before_start",
    )


def test_an_end_before_the_start_is_refused() -> None:
    app = new_app()
    contract = started(app)
    refused(
        app,
        lambda f, c, _: f.end_article60(
            c,
            contract_id=contract,
            ended_on=START - dt.timedelta(days=1),
            reason="resigned",
        ),
        "ended_on",
        "article60.ended_before_start",
    )


@pytest.mark.parametrize(
    ("first_job", "rule"),
    [
        (started, "article60.overlap"),
        (lambda app: act(app, agreement61()), "article61.overlap"),
    ],
    ids=["article60", "article61"],
)
def test_one_job_at_a_time_an_article_60_overlapping_another_job_is_refused(
    first_job: Callable[[PlacementApplication], object], rule: str
) -> None:
    app = new_app()
    first_job(app)
    refused(
        app,
        planned(
            planned_start_date=START + dt.timedelta(days=100),
            planned_end_date=START + dt.timedelta(days=200),
        ),
        "planned_start_date",
        rule,
        ConflictError,
    )


def test_an_article_61_overlapping_an_article_60_is_refused() -> None:
    app = new_app()
    started(app)
    refused(
        app,
        agreement61(
            signed_on=START,
            start_date=END - dt.timedelta(days=10),
            planned_end_date=END + dt.timedelta(days=300),
        ),
        "start_date",
        "article60.overlap",
        ConflictError,
    )


@pytest.mark.parametrize(
    ("signed_on", "starts_on", "field", "rule"),
    [
        (
            dt.date(2026, 6, 2),
            dt.date(2026, 6, 1),
            "agreement_signed_on",
            "article60.placement_agreement_after_start",
        ),
        (
            dt.date(2027, 4, 1),
            END + dt.timedelta(days=1),
            "placement_starts_on",
            "article60.placement_outside_contract",
        ),
    ],
)
def test_dmfa_art60_par7_a_placement_is_agreed_before_it_starts_within_the_contract(
    signed_on: dt.date, starts_on: dt.date, field: str, rule: str
) -> None:
    app = new_app()
    contract = started(app)
    refused(
        app,
        lambda f, c, _: f.agree_placement(
            c,
            contract_id=contract,
            user_organisation_kbo=USER_KBO,
            user_organisation_name="Commune de Namur",
            user_organisation_kind="municipality",
            agreement_signed_on=signed_on,
            placement_starts_on=starts_on,
            social_economy=False,
        ),
        field,
        rule,
    )


@pytest.mark.parametrize("days", [0, -3])
def test_required_days_not_above_zero_are_refused(days: int) -> None:
    app = new_app()
    contract = plan(app)
    refused(
        app,
        calculated(contract, days, END),
        "required_work_days",
        "article60.required_days_not_positive",
    )


def test_a_contract_longer_than_onem_calculated_is_refused() -> None:
    app = new_app()
    contract = plan(app)
    act(
        app,
        calculated(contract, 200, dt.date(2026, 12, 22)),
    )
    refused(
        app,
        signing(contract, end=END),
        "planned_end_date",
        "article60.longer_than_required_period",
    )


def test_a_flemish_twe_contract_beyond_two_years_is_refused() -> None:
    # Before the reform a 55-year-old needs 624 days; TWE allows at most 624.
    older = PlacementFacts(CASE, CPAS, "A60-2", dt.date(1965, 1, 1), "flanders", NISS)
    app = new_app(older)
    start = dt.date(2023, 1, 2)
    refused(
        app,
        planned(planned_start_date=start, planned_end_date=dt.date(2025, 1, 10)),
        "planned_end_date",
        "article60.longer_than_required_period",
    )


def test_a_part_time_contract_needs_its_hours() -> None:
    refused(
        new_app(),
        planned(regime="part_time"),
        "weekly_hours",
        "regime.part_time_needs_hours",
    )


def test_a_benefit_right_keyed_in_without_evidence_is_refused() -> None:
    app = new_app()
    started(app)
    refused(
        app,
        lambda f, c, facts: f.record_benefit_right(
            c,
            facts,
            opened=True,
            channel="manual",
            evidence=(),
            onem_decision_date=dt.date(2027, 6, 1),
            onem_reference="ONEM-2027-9",
            work_days_counted=312,
            right_start_date=dt.date(2027, 5, 3),
            payment_institution="FGTB",
        ),
        "evidence",
        "benefit_right.evidence_required",
    )


def test_a_right_starting_before_the_contract_end_is_refused() -> None:
    app = new_app()
    started(app)
    refused(
        app,
        lambda f, c, facts: f.record_benefit_right(
            c,
            facts,
            opened=True,
            channel="partner",
            evidence=(),
            onem_decision_date=dt.date(2027, 6, 1),
            onem_reference="ONEM-2027-10",
            work_days_counted=312,
            right_start_date=END - dt.timedelta(days=1),
            payment_institution="CSC",
        ),
        "right_start_date",
        "benefit_right.before_contract_end",
    )


def test_a_partner_channel_needs_no_evidence_and_a_refusal_is_kept() -> None:
    app = new_app()
    started(app)
    act(
        app,
        lambda f, c, facts: f.record_benefit_right(
            c,
            facts,
            opened=False,
            channel="partner",
            evidence=(),
            onem_decision_date=dt.date(2027, 6, 1),
            onem_reference="ONEM-2027-11",
            work_days_counted=290,
            reason="Too few work days in the reference period.",
        ),
    )
    refusal = events(app)[-1]
    assert isinstance(refusal, BenefitRightRefusedV1)
    assert refusal.source_channel == "partner"


def test_ending_as_days_reached_before_they_are_is_refused() -> None:
    app = new_app()
    contract = started(app)
    refused(
        app,
        lambda f, c, _: f.end_article60(
            c,
            contract_id=contract,
            ended_on=START + dt.timedelta(days=30),
            reason="required_days_reached",
        ),
        "reason",
        "article60.required_days_not_reached",
    )


def test_an_early_end_keeps_its_reason_and_accrued_days() -> None:
    app = new_app()
    contract = started(app)
    # Monday 2026-05-04 to Saturday 2026-05-30: four six-day weeks = 24 days.
    act(
        app,
        lambda f, c, _: f.end_article60(
            c,
            contract_id=contract,
            ended_on=dt.date(2026, 5, 30),
            reason="hired_elsewhere",
        ),
    )
    end = events(app)[-1]
    assert isinstance(end, Article60EndedV1)
    assert (end.early, end.reason, end.work_days_accrued) == (
        True,
        "hired_elsewhere",
        24,
    )


def test_part_time_work_days_accrue_by_the_share_of_a_38_hour_week() -> None:
    app = new_app()
    # 19 hours: half a full-time week, so 624 six-day days give the 312 needed;
    # 624 six-day days from Monday 2026-05-04 = 104 weeks: Saturday 2028-04-29.
    plan(
        app,
        end=dt.date(2028, 4, 29),
        regime="part_time",
        weekly_hours=Decimal(19),
    )
    planned = events(app)[-1]
    assert isinstance(planned, Article60PlannedV1)
    assert planned.default_required_period_end == dt.date(2028, 4, 29)


def test_an_end_after_the_planned_end_is_refused() -> None:
    app = new_app()
    contract = started(app)
    refused(
        app,
        lambda f, c, _: f.end_article60(
            c,
            contract_id=contract,
            ended_on=END + dt.timedelta(days=1),
            reason="required_days_reached",
        ),
        "ended_on",
        "article60.ended_after_planned_end",
    )


@pytest.mark.parametrize(
    ("started_on", "rule"),
    [
        (START - dt.timedelta(days=7), "article60.start_before_signed_start"),
        (END, "article60.start_after_planned_end"),
    ],
)
def test_art60_par7_work_starts_from_the_signed_start_and_before_the_planned_end(
    started_on: dt.date, rule: str
) -> None:
    app = new_app()
    contract = plan(app)
    sign(app, contract)
    refused(
        app,
        lambda f, c, _: f.start_article60(
            c, contract_id=contract, started_on=started_on
        ),
        "started_on",
        rule,
    )


def test_blank_evidence_is_no_evidence() -> None:
    app = new_app()
    started(app)
    refused(
        app,
        lambda f, c, facts: f.record_benefit_right(
            c,
            facts,
            opened=True,
            channel="manual",
            evidence=("  ", ""),
            onem_decision_date=dt.date(2027, 6, 1),
            onem_reference="ONEM-2027-12",
            work_days_counted=312,
            right_start_date=END,
            payment_institution="CGSLB",
        ),
        "evidence",
        "benefit_right.evidence_required",
    )


def test_the_same_onem_decision_is_recorded_once() -> None:
    app = new_app()

    def record(f: PlacementFile, c: CommandContext, facts: PlacementFacts) -> None:
        f.record_benefit_right(
            c,
            facts,
            opened=False,
            channel="bcss",
            evidence=(),
            onem_decision_date=dt.date(2027, 6, 1),
            onem_reference="ONEM-2027-13",
            work_days_counted=100,
            reason="Too few work days.",
        )

    act(app, record)
    refused(
        app, record, "onem_reference", "benefit_right.already_recorded", ConflictError
    )


def test_a_start_date_no_rule_covers_is_refused_not_a_crash() -> None:
    refused(
        new_app(),
        planned(
            planned_start_date=dt.date(9999, 6, 1), planned_end_date=dt.date(9999, 9, 1)
        ),
        "start_date",
        "required_period.no_rule",
    )


def test_a_twe_contract_beyond_two_years_is_refused_even_if_onem_asks_more() -> None:
    # ONEM asks 700 days (half-time history not counted); the contract would
    # run into a third calendar year, beyond TWE's two-year limit (Flemish
    # Government decision of 23 December 2016): refused.
    flemish = PlacementFacts(
        CASE, CPAS, "A60-3", dt.date(1985, 7, 30), "flanders", NISS
    )
    app = new_app(flemish)
    contract = plan(app)
    act(
        app,
        calculated(contract, 700, dt.date(2028, 7, 31)),
    )
    refused(
        app,
        signing(contract, end=dt.date(2028, 5, 6)),
        "planned_end_date",
        "article60.regional_cap",
    )


def test_a_default_period_beyond_its_reference_window_is_flagged() -> None:
    # Half time (19 h) from 2023-01-02 at 40: 468 days need 936 six-day days,
    # about three years (Monday 2023-01-02 + 156 weeks - 2 days = Saturday
    # 2025-12-27), beyond the 33-month reference period.
    app = new_app()
    start = dt.date(2023, 1, 2)
    end = dt.date(2025, 12, 27)
    contract = plan(app, start, end, regime="part_time", weekly_hours=Decimal(19))
    sign(app, contract, start, end)
    signed = events(app)[-1]
    assert isinstance(signed, Article60SignedV1)
    assert "required_period.beyond_reference_period" in signed.flags


# -- the regional scheme: the person's region's on the start date -------------

FLEMISH = PlacementFacts(CASE, CPAS, "A60-4", dt.date(1985, 7, 30), "flanders", NISS)
FIFTEEN_HOURS = Decimal(15)
# 312 days at 15/38 of a week need 791 six-day days: about two and a half years
# from Monday 2026-05-04, so the whole required period runs past two years.
TWE_BEYOND_TWO_YEARS = date_reaching(START, 312, FIFTEEN_HOURS)


@pytest.mark.parametrize(
    ("named", "field", "rule"),
    [
        (None, "planned_end_date", "article60.regional_cap"),
        ("VDAB_TWE", "planned_end_date", "article60.regional_cap"),
        ("BRU", "region_scheme", "placement.scheme_not_region"),
        ("WAL", "region_scheme", "placement.scheme_not_region"),
        ("DG", "region_scheme", "placement.scheme_not_region"),
    ],
)
def test_twe_two_year_limit_applies_to_a_flemish_resident_whatever_scheme_is_named(
    named: str | None, field: str, rule: str
) -> None:
    # Flemish Government decision of 23 December 2016 on TWE: at most two
    # years. Naming Brussels (no cap) or Wallonia (a flag) does not escape it.
    assert add_months(START, 24) <= TWE_BEYOND_TWO_YEARS
    refused(
        new_app(FLEMISH),
        planned(
            regime="part_time",
            weekly_hours=FIFTEEN_HOURS,
            planned_end_date=TWE_BEYOND_TWO_YEARS,
            region_scheme=named,
        ),
        field,
        rule,
    )


@pytest.mark.parametrize(
    ("region", "scheme"),
    [
        ("wallonia", "WAL"),
        ("brussels", "BRU"),
        ("flanders", "VDAB_TWE"),
        ("german_speaking", "DG"),
    ],
)
def test_the_scheme_recorded_is_the_residents_region_whether_named_or_not(
    region: str, scheme: str
) -> None:
    for named in (None, scheme):
        facts = dataclasses.replace(FACTS, region=region)
        app = new_app(facts)
        plan(app, region_scheme=named)
        recorded = events(app)[-1]
        assert isinstance(recorded, Article60PlannedV1)
        assert recorded.region_scheme == scheme


def test_twe_from_1_january_2017_flemish_government_decision_23_december_2016() -> None:
    # From Monday 2017-01-02 a Flemish job is TWE; from Monday 2016-12-26 it
    # fell under the federal art. 60 §7 scheme, which the events cannot name:
    # refused rather than recorded as TWE (and held to TWE's limit).
    app = new_app(FLEMISH)
    start = dt.date(2017, 1, 2)
    contract = plan(app, start, dt.date(2017, 12, 30))
    recorded = events(app)[-1]
    assert isinstance(recorded, Article60PlannedV1)
    assert recorded.region_scheme == "VDAB_TWE"
    refused(
        new_app(FLEMISH),
        planned(
            planned_start_date=dt.date(2016, 12, 26),
            planned_end_date=dt.date(2017, 6, 30),
        ),
        "planned_start_date",
        "placement.federal_scheme_not_recordable",
    )
    refused(
        app,
        signing(contract, dt.date(2016, 12, 26), dt.date(2017, 12, 23)),
        "start_date",
        "placement.federal_scheme_not_recordable",
    )


# -- ONEM's end date (CPAS@ONEM "Calculé par l'ONEM") --------------------------


@pytest.mark.parametrize(
    ("start", "onem_end", "planned_end"),
    [
        # ONEM gives 312 days reached on Friday 2027-04-30 (it counts one day
        # the six-day scheme here does not); a contract to Saturday 05-01 is
        # longer than needed even though the day count alone allows it.
        pytest.param(START, dt.date(2027, 4, 30), END, id="same_start"),
        # Signed to start a week before the start ONEM calculated from, the
        # days are reached sooner still: 312 days from Monday 2026-04-27 end on
        # Saturday 2027-04-24, after ONEM's Saturday 04-17.
        pytest.param(
            START - dt.timedelta(days=7),
            dt.date(2027, 4, 17),
            dt.date(2027, 4, 24),
            id="earlier_start",
        ),
    ],
)
def test_art60_par7_a_planned_end_after_onems_end_date_is_refused(
    start: dt.date, onem_end: dt.date, planned_end: dt.date
) -> None:
    app = new_app()
    contract = plan(app)
    act(app, calculated(contract, 312, onem_end))
    refused(
        app,
        signing(contract, start, planned_end),
        "planned_end_date",
        "article60.after_onem_end_date",
    )


def test_onems_end_date_for_an_earlier_start_is_flagged_not_refused() -> None:
    # Calculated for Monday 2026-05-04, ending Saturday 2027-05-01; signed a
    # week later, the 312 days end a week later too: ONEM's date answered
    # another start, so the auditor sees it and the day count still holds.
    app = new_app()
    contract = plan(app)
    act(app, calculated(contract, 312, END))
    later = START + dt.timedelta(days=7)
    sign(app, contract, later, END + dt.timedelta(days=7))
    signed = events(app)[-1]
    assert isinstance(signed, Article60SignedV1)
    assert signed.flags == ("required_period.onem_end_date_for_earlier_start",)
    assert signed.onem_required_period_end == END


# -- article 61: the same required period ---------------------------------------


def test_art61_longer_than_the_required_period_is_refused_programme_law_2025() -> None:
    # Programme law of 18 July 2025: from 1 March 2026 312 days whatever the
    # age, for an article 61 agreement as for an article 60 §7 job. 312 days
    # end on Saturday 2027-05-01; Monday 05-03 is the 313th.
    app = new_app()
    act(app, agreement61())
    refused(
        new_app(),
        agreement61(planned_end_date=END + dt.timedelta(days=2)),
        "planned_end_date",
        "article61.longer_than_required_period",
    )


def test_art61_before_the_reform_follows_the_age_band_ar_25_11_1991_art_30() -> None:
    # 40 years old from Monday 2023-01-02: 468 days, 78 weeks, to Saturday
    # 2024-06-29; Monday 07-01 is one day too many.
    start = dt.date(2023, 1, 2)
    act(
        new_app(),
        agreement61(
            signed_on=start, start_date=start, planned_end_date=dt.date(2024, 6, 29)
        ),
    )
    refused(
        new_app(),
        agreement61(
            signed_on=start, start_date=start, planned_end_date=dt.date(2024, 7, 1)
        ),
        "planned_end_date",
        "article61.longer_than_required_period",
    )


def test_art61_scheme_is_the_residents_region_special_law_6_january_2014() -> None:
    app = new_app()
    refused(
        app,
        agreement61(region_scheme="BRU"),
        "region_scheme",
        "placement.scheme_not_region",
    )
    act(app, agreement61(region_scheme="WAL"))
    recorded = events(app)[-1]
    assert isinstance(recorded, Article61AgreementSignedV1)
    assert recorded.region_scheme == "WAL"


def test_the_scheme_follows_a_move_from_its_date_special_law_6_january_2014() -> None:
    # Registered in Namur, moved to Leuven on 1 April 2026: a job starting on
    # 4 May 2026 is Flemish (TWE); one planned from March would be Walloon.
    moved = dataclasses.replace(FACTS, moves=((dt.date(2026, 4, 1), "flanders"),))
    app = new_app(moved)
    plan(app)
    after_move = events(app)[-1]
    assert isinstance(after_move, Article60PlannedV1)
    assert after_move.region_scheme == "VDAB_TWE"
    before = new_app(moved)
    plan(before, dt.date(2026, 3, 2), dt.date(2027, 2, 27))
    before_move = events(before)[-1]
    assert isinstance(before_move, Article60PlannedV1)
    assert before_move.region_scheme == "WAL"


# -- the dates of one job, and what an opened right states -------------------


def test_art60_par7_the_employment_contract_is_signed_before_work_starts() -> None:
    app = new_app()
    contract = plan(app)
    refused(
        app,
        lambda f, c, facts: f.sign_article60(
            c,
            facts,
            contract_id=contract,
            signed_on=START + dt.timedelta(days=1),
            start_date=START,
            planned_end_date=END,
        ),
        "signed_on",
        "article60.signed_after_start",
    )


def test_a_command_on_an_article_60_contract_the_case_does_not_have_is_refused() -> (
    None
):
    app = new_app()
    plan(app)
    refused(
        app,
        lambda f, c, _: f.request_required_period(
            c, contract_id=uuid.uuid4(), requested_on=START, onem_request_ref=None
        ),
        "contract_id",
        "article60.unknown",
    )


def test_a_full_time_contract_has_no_weekly_hours() -> None:
    refused(
        new_app(),
        planned(weekly_hours=Decimal(38)),
        "weekly_hours",
        "regime.full_time_has_no_hours",
    )


def test_a_region_no_scheme_covers_is_refused_special_law_6_january_2014() -> None:
    refused(
        new_app(dataclasses.replace(FACTS, region="abroad")),
        planned(),
        "planned_start_date",
        "placement.no_regional_scheme",
    )


def ended61(agreement: uuid.UUID, ended_on: dt.date) -> Decide:
    return lambda f, c, _: f.end_article61(
        c, agreement_id=agreement, ended_on=ended_on, reason="resigned"
    )


def test_art61_an_agreement_runs_from_its_start_to_at_most_its_planned_end() -> None:
    refused(
        new_app(),
        agreement61(planned_end_date=START),
        "planned_end_date",
        "article61.end_before_start",
    )
    app = new_app()
    agreement: uuid.UUID = act(app, agreement61())
    before, after = START - dt.timedelta(days=1), END + dt.timedelta(days=1)
    refused(app, ended61(agreement, before), "ended_on", "article61.ended_before_start")
    refused(
        app, ended61(agreement, after), "ended_on", "article61.ended_after_planned_end"
    )
    act(app, ended61(agreement, START + dt.timedelta(days=30)))
    refused(
        app,
        ended61(agreement, START + dt.timedelta(days=31)),
        "agreement_id",
        "article61.not_running",
    )
    refused(app, ended61(uuid.uuid4(), START), "agreement_id", "article61.not_running")


def onem_decision(**changes: Any) -> Decide:
    """ONEM's decision keyed in from a partner, opened unless a test changes it."""
    fields: dict[str, Any] = {
        "opened": True,
        "channel": "partner",
        "evidence": (),
        "onem_decision_date": dt.date(2027, 6, 1),
        "onem_reference": "ONEM-2027-20",
        "work_days_counted": 312,
        "right_start_date": dt.date(2027, 5, 3),
        "payment_institution": "CAPAC",
        **changes,
    }
    return lambda f, c, facts: f.record_benefit_right(c, facts, **fields)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"payment_institution": None}, "payment_institution"),
        ({"right_start_date": None}, "right_start_date"),
    ],
)
def test_ar_25_11_1991_an_opened_right_has_its_start_and_payment_institution(
    changes: dict[str, Any], field: str
) -> None:
    app = new_app()
    started(app)
    refused(app, onem_decision(**changes), field, "benefit_right.incomplete")


def test_ar_25_11_1991_a_refused_right_carries_onems_ground() -> None:
    app = new_app()
    started(app)
    refused(
        app,
        onem_decision(opened=False, reason=None),
        "reason",
        "benefit_right.refusal_needs_reason",
    )


def test_a_case_with_no_placement_yet_answers_404() -> None:
    client = TestClient(create_api(new_app(), KEYS))
    answer = client.get(f"/cases/{CASE}/placements", headers={"X-API-Key": KEY})
    assert answer.status_code == 404
    assert answer.json()["detail"][0]["type"] == "placement.none"


def test_a_contract_acted_on_in_the_wrong_status_is_refused_as_a_conflict() -> None:
    # A contract only planned cannot start: it is signed first.
    app = new_app()
    contract = plan(app)
    refused(
        app,
        lambda f, c, _: f.start_article60(c, contract_id=contract, started_on=START),
        "contract_id",
        "article60.wrong_status",
        ConflictError,
    )
