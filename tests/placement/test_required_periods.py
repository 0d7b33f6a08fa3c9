"""Required art. 60 §7 and 61 periods, six-day work days, regional schemes and caps.

Every expected date below is worked out by hand in a comment, from the calendar:
ONEM counts every day but Sunday, so from a Monday n full six-day weeks end on
the Saturday of week n, i.e. Monday + 7n - 2 days. 312 days = 52 weeks,
468 days = 78 weeks, 624 days = 104 weeks (royal decree of 25 November 1991
art. 30 before the 2026 reform).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import get_args

import pytest

from contracts.placement import RegionScheme
from contracts.regions import Region
from services.placement.periods import (
    FEDERAL,
    cap_findings,
    date_reaching,
    default_required_period,
    regional_scheme_on,
    regional_schemes,
    required_period_rules,
    work_days_between,
)

D = dt.date
HALF_TIME = Decimal(19)  # 19/38 = one half of a full-time week
AR_1991 = "AR 25/11/1991 art. 30"
PROGRAMME_LAW_2025 = "Programme law of 18 July 2025"
REFORM_RULE = "unemployment-reform-2026"


# --- work_days_between: the six-day scheme --------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # Monday 2025-01-06 .. Sunday 2025-01-12: Mon-Sat count, Sunday does not.
        pytest.param(D(2025, 1, 6), D(2025, 1, 12), 6, id="monday_to_sunday"),
        # Wednesday 2025-01-08 .. Tuesday 2025-01-14: any 7 days hold one Sunday.
        pytest.param(D(2025, 1, 8), D(2025, 1, 14), 6, id="wednesday_to_tuesday"),
        # Easter Monday 2025-04-21 is a paid public holiday: it still counts.
        pytest.param(D(2025, 4, 21), D(2025, 4, 27), 6, id="easter_monday_week"),
        # Christmas, Thursday 2025-12-25, in the week Mon 12-22 .. Sun 12-28.
        pytest.param(D(2025, 12, 22), D(2025, 12, 28), 6, id="christmas_week"),
        # One Monday alone is one day; one Sunday alone is none.
        pytest.param(D(2025, 1, 6), D(2025, 1, 6), 1, id="a_single_monday"),
        pytest.param(D(2025, 1, 5), D(2025, 1, 5), 0, id="a_single_sunday"),
        # 52 weeks from Monday 2025-01-06: 2025-01-06 + 7*52 - 2 = Sat 2026-01-03.
        pytest.param(D(2025, 1, 6), D(2026, 1, 3), 312, id="fifty_two_weeks"),
        # End before start: nothing worked.
        pytest.param(D(2025, 1, 12), D(2025, 1, 6), 0, id="end_before_start"),
    ],
)
def test_full_time_work_days_six_day_scheme_onem(
    start: dt.date, end: dt.date, expected: int
) -> None:
    assert work_days_between(start, end) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # Mon 2025-01-06 .. Sun 2025-01-12: 6 days * 19/38 = 3.
        pytest.param(D(2025, 1, 6), D(2025, 1, 12), 3, id="week_is_half"),
        # Mon 2025-01-06 .. Fri 2025-01-10: 5 days * 19/38 = 2.5, floored to 2.
        pytest.param(D(2025, 1, 6), D(2025, 1, 10), 2, id="half_day_floored"),
        # 52 weeks (312 six-day days, see above) * 19/38 = 156.
        pytest.param(D(2025, 1, 6), D(2026, 1, 3), 156, id="fifty_two_weeks"),
        pytest.param(D(2025, 1, 12), D(2025, 1, 6), 0, id="end_before_start"),
    ],
)
def test_part_time_19h_counts_half_floored_onem_38_hour_week(
    start: dt.date, end: dt.date, expected: int
) -> None:
    assert work_days_between(start, end, HALF_TIME) == expected


def test_part_time_25h_exact_multiple_is_not_lost_to_rounding_onem() -> None:
    # Monday 2025-01-06 + 25 weeks (150 days, to Sunday 2025-06-29) + Monday
    # 06-30 and Tuesday 07-01 = 152 six-day days; 152 * 25/38 = 100 exactly.
    assert work_days_between(D(2025, 1, 6), D(2025, 7, 1), Decimal(25)) == 100


# --- date_reaching ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "work_days", "weekly_hours", "expected"),
    [
        # Monday + 6 days: Mon..Sat, the Saturday of the same week.
        pytest.param(D(2025, 1, 6), 6, None, D(2025, 1, 11), id="six_from_monday"),
        # The 7th day skips Sunday 2025-01-12: Monday 2025-01-13.
        pytest.param(D(2025, 1, 6), 7, None, D(2025, 1, 13), id="skips_sunday"),
        # From Sunday 2025-01-05 the first work day is Monday 2025-01-06.
        pytest.param(D(2025, 1, 5), 1, None, D(2025, 1, 6), id="from_sunday"),
        # 52 weeks: Monday 2025-01-06 + 7*52 - 2 days = Saturday 2026-01-03.
        pytest.param(D(2025, 1, 6), 312, None, D(2026, 1, 3), id="312_full_time"),
        # Half time: 3 days need 6 six-day days, Mon..Sat 2025-01-11.
        pytest.param(D(2025, 1, 6), 3, HALF_TIME, D(2025, 1, 11), id="3_half_time"),
    ],
)
def test_date_reaching_first_day_worked_onem(
    start: dt.date,
    work_days: int,
    weekly_hours: Decimal | None,
    expected: dt.date,
) -> None:
    assert date_reaching(start, work_days, weekly_hours) == expected


@pytest.mark.parametrize("weekly_hours", [None, HALF_TIME, Decimal(30)])
@pytest.mark.parametrize("work_days", [1, 5, 6, 7, 312, 468, 624])
@pytest.mark.parametrize(
    "start",
    [D(2025, 1, 5) + dt.timedelta(days=i) for i in range(7)],  # Sunday..Saturday
    ids=["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
)
def test_date_reaching_round_trips_with_work_days_between(
    start: dt.date, work_days: int, weekly_hours: Decimal | None
) -> None:
    reached = date_reaching(start, work_days, weekly_hours)
    day_before = reached - dt.timedelta(days=1)
    assert work_days_between(start, reached, weekly_hours) == work_days
    assert work_days_between(start, day_before, weekly_hours) == work_days - 1


@pytest.mark.parametrize(
    "end",
    # Monday 2025-01-06 .. Saturday 2025-01-11, and Saturday 2026-01-03.
    [D(2025, 1, 6) + dt.timedelta(days=i) for i in range(6)] + [D(2026, 1, 3)],
)
def test_work_days_between_round_trips_with_date_reaching(end: dt.date) -> None:
    start = D(2025, 1, 6)
    assert date_reaching(start, work_days_between(start, end)) == end


def test_date_reaching_part_time_25h_exact_multiple_onem() -> None:
    # 100 days at 25/38 need 100 * 38/25 = 152 six-day days: 25 weeks from
    # Monday 2025-01-06 (to Sunday 2025-06-29) + Monday, Tuesday = 2025-07-01.
    assert date_reaching(D(2025, 1, 6), 100, Decimal(25)) == D(2025, 7, 1)


# --- default_required_period: the age bands before the reform ---------------------


@pytest.mark.parametrize(
    ("birth_date", "start", "rule_id", "work_days", "months", "end_date"),
    [
        # Born 1990-05-15: 33 on Monday 2024-01-08, 34 at the end. 52 weeks:
        # 2024-01-08 + 7*52 - 2 = + 362 days = Saturday 2025-01-04.
        pytest.param(
            D(1990, 5, 15),
            D(2024, 1, 8),
            "admissibility-under-36",
            312,
            21,
            D(2025, 1, 4),
            id="under_36_needs_312_days_in_21_months",
        ),
        # Born 1980-03-10: 42 to 44. 78 weeks: 2023-01-02 (Monday) + 7*78 - 2
        # = + 544 days = 2024-01-02 + 179 days = Saturday 2024-06-29.
        pytest.param(
            D(1980, 3, 10),
            D(2023, 1, 2),
            "admissibility-36-to-49",
            468,
            33,
            D(2024, 6, 29),
            id="36_to_49_needs_468_days_in_33_months",
        ),
        # Born 1965-06-01: 56 to 58. 104 weeks: 2022-01-03 (Monday) + 7*104 - 2
        # = + 726 days = 2024-01-03 - 4 days = Saturday 2023-12-30.
        pytest.param(
            D(1965, 6, 1),
            D(2022, 1, 3),
            "admissibility-50-and-over",
            624,
            42,
            D(2023, 12, 30),
            id="50_and_over_needs_624_days_in_42_months",
        ),
    ],
)
def test_age_band_before_reform_ar_25_11_1991_art_30(
    birth_date: dt.date,
    start: dt.date,
    rule_id: str,
    work_days: int,
    months: int,
    end_date: dt.date,
) -> None:
    period = default_required_period(birth_date, start)
    assert period.rule.rule_id == rule_id
    assert period.work_days == work_days
    assert period.rule.reference_months == months
    assert period.end_date == end_date
    assert AR_1991 in period.rule.source


# --- after 1 March 2026 ---------------------------------------------------------


@pytest.mark.parametrize(
    "birth_date",
    [D(2000, 7, 1), D(1986, 7, 1), D(1971, 7, 1)],
    ids=["aged_25", "aged_39", "aged_54"],
)
def test_after_reform_312_days_whatever_the_age_programme_law_18_07_2025(
    birth_date: dt.date,
) -> None:
    # Monday 2026-03-02 + 7*52 - 2 = + 362 days = 2027-03-02 - 3 days
    # = Saturday 2027-02-27, for every age (before the reform 25, 39 and 54
    # would have needed 312, 468 and 624 days).
    period = default_required_period(birth_date, D(2026, 3, 2))
    assert period.rule.rule_id == REFORM_RULE
    assert period.work_days == 312
    assert period.end_date == D(2027, 2, 27)
    assert PROGRAMME_LAW_2025 in period.rule.source


def test_after_reform_half_time_needs_624_six_day_days_programme_law_18_07_2025() -> (
    None
):
    # 312 days at 19/38 need 624 six-day days = 104 weeks: Monday 2026-03-02
    # + 7*104 - 2 = + 726 days = 2028-03-01 (over 29 Feb 2028) - 4 days
    # = Saturday 2028-02-26.
    period = default_required_period(D(1990, 5, 15), D(2026, 3, 2), HALF_TIME)
    assert period.rule.rule_id == REFORM_RULE
    assert period.work_days == 312
    assert period.end_date == D(2028, 2, 26)


# --- birthdays at a band boundary ---------------------------------------------------


@pytest.mark.parametrize(
    ("birth_date", "rule_id", "work_days", "end_date"),
    [
        # From Monday 2024-01-08, 312 days are reached on Saturday 2025-01-04
        # (see the under-36 case). Turning 36 on Sunday 2025-01-05, the day
        # after, the person is still 35 that Saturday: 312 days suffice.
        pytest.param(
            D(1989, 1, 5),
            "admissibility-under-36",
            312,
            D(2025, 1, 4),
            id="turns_36_the_day_after_312_days",
        ),
        # Turning 36 on the Saturday itself, or the Friday before, the rule of
        # that day asks 468: 78 weeks, 2024-01-08 + 544 days = 2025-01-08
        # (2024 is leap: + 366) + 178 days = Saturday 2025-07-05.
        pytest.param(
            D(1989, 1, 4),
            "admissibility-36-to-49",
            468,
            D(2025, 7, 5),
            id="turns_36_the_day_312_days_are_reached",
        ),
        pytest.param(
            D(1989, 1, 3),
            "admissibility-36-to-49",
            468,
            D(2025, 7, 5),
            id="turns_36_the_day_before_312_days",
        ),
    ],
)
def test_36th_birthday_around_312_days_ar_25_11_1991_art_30(
    birth_date: dt.date, rule_id: str, work_days: int, end_date: dt.date
) -> None:
    period = default_required_period(birth_date, D(2024, 1, 8))
    assert period.rule.rule_id == rule_id
    assert period.work_days == work_days
    assert period.end_date == end_date


@pytest.mark.parametrize(
    ("birth_date", "rule_id", "work_days", "end_date"),
    [
        # From Monday 2023-01-02, 468 days are reached on Saturday 2024-06-29
        # (see the 36-to-49 case). Turning 50 on Sunday 06-30: still 49, 468.
        pytest.param(
            D(1974, 6, 30),
            "admissibility-36-to-49",
            468,
            D(2024, 6, 29),
            id="turns_50_the_day_after_468_days",
        ),
        # Turning 50 on Friday 06-28: 624 days, 104 weeks, 2023-01-02 + 726 days
        # = 2025-01-02 (+ 365 + 366) - 5 days = Saturday 2024-12-28.
        pytest.param(
            D(1974, 6, 28),
            "admissibility-50-and-over",
            624,
            D(2024, 12, 28),
            id="turns_50_the_day_before_468_days",
        ),
    ],
)
def test_50th_birthday_around_468_days_ar_25_11_1991_art_30(
    birth_date: dt.date, rule_id: str, work_days: int, end_date: dt.date
) -> None:
    period = default_required_period(birth_date, D(2023, 1, 2))
    assert period.rule.rule_id == rule_id
    assert period.work_days == work_days
    assert period.end_date == end_date


@pytest.mark.parametrize(
    ("start", "rule_id", "work_days", "end_date"),
    [
        # Born 29 February 1972: 2022 has no 29 February, so the person turns
        # 50 on 1 March 2022 and is 49 on Monday 28 February. From Tuesday
        # 2020-09-01, 78 Tuesday-to-Monday weeks end on Monday
        # 2020-09-01 + 7*78 - 1 = + 545 days = 2022-02-28: still 49, 468 days.
        pytest.param(
            D(2020, 9, 1),
            "admissibility-36-to-49",
            468,
            D(2022, 2, 28),
            id="468_reached_on_28_february_aged_49",
        ),
        # From Wednesday 2020-09-02, 468 days fall on Tuesday 2022-03-01, the
        # day of turning 50 (467 on 28 February): 624 days are needed,
        # 2020-09-02 + 7*104 - 1 = + 727 days = 2022-09-02 - 3 = Tue 2022-08-30.
        pytest.param(
            D(2020, 9, 2),
            "admissibility-50-and-over",
            624,
            D(2022, 8, 30),
            id="468_reached_on_1_march_aged_50",
        ),
    ],
)
def test_born_29_february_turns_50_on_1_march_ar_25_11_1991_art_30(
    start: dt.date, rule_id: str, work_days: int, end_date: dt.date
) -> None:
    period = default_required_period(D(1972, 2, 29), start)
    assert period.rule.rule_id == rule_id
    assert period.work_days == work_days
    assert period.end_date == end_date


# --- a contract crossing 1 March 2026 ---------------------------------------------


@pytest.mark.parametrize(
    "birth_date",
    [D(1995, 1, 15), D(1985, 1, 15), D(1970, 1, 15)],
    ids=["aged_30_was_312", "aged_40_was_468", "aged_55_was_624"],
)
def test_contract_crossing_reform_needs_312_days_programme_law_18_07_2025(
    birth_date: dt.date,
) -> None:
    # Monday 2025-06-02 + 7*52 - 2 = + 362 days = 2026-06-02 - 3 days
    # = Saturday 2026-05-30, after 1 March 2026: the new rule, 312 days, for
    # every age (none of them had reached the old requirement before).
    period = default_required_period(birth_date, D(2025, 6, 2))
    assert period.rule.rule_id == REFORM_RULE
    assert period.work_days == 312
    assert period.end_date == D(2026, 5, 30)


def test_aged_40_with_312_days_ends_1_march_2026_programme_law_18_07_2025() -> None:
    # Born 1985-01-01, 40 from Monday 2025-01-06. 312 days are reached on
    # Saturday 2026-01-03 (52 weeks, + 362 days) but at 40 the old rule asks
    # 468, reached only on 2025-01-06 + 544 days = Saturday 2026-07-04. On
    # Sunday 1 March 2026 the new rule (312 days) takes over and is already
    # met: the period ends that very day.
    period = default_required_period(D(1985, 1, 1), D(2025, 1, 6))
    assert period.rule.rule_id == REFORM_RULE
    assert period.work_days == 312
    assert period.end_date == D(2026, 3, 1)


# --- article 61: the same table ---------------------------------------------------


def test_every_required_period_rule_serves_article_60_and_61_programme_law_2025() -> (
    None
):
    # Both articles last as long as needed to open the right: one table.
    assert all(r.articles == {"60§7", "61"} for r in required_period_rules())


@pytest.mark.parametrize(
    ("birth_date", "start"),
    [
        pytest.param(D(1980, 3, 10), D(2023, 1, 2), id="age_band_before_reform"),
        pytest.param(D(1980, 3, 10), D(2026, 3, 2), id="after_reform"),
    ],
)
def test_article_61_needs_the_article_60_period_programme_law_18_07_2025(
    birth_date: dt.date, start: dt.date
) -> None:
    assert default_required_period(
        birth_date, start, article="61"
    ) == default_required_period(birth_date, start)


# --- regional schemes: the person's region on the start date ---------------------


@pytest.mark.parametrize(
    ("region", "day", "scheme"),
    [
        pytest.param("flanders", D(2016, 12, 31), FEDERAL, id="flanders_2016"),
        pytest.param("flanders", D(2017, 1, 1), "VDAB_TWE", id="flanders_twe_2017"),
        pytest.param("wallonia", D(2014, 12, 31), FEDERAL, id="wallonia_2014"),
        pytest.param("wallonia", D(2015, 1, 1), "WAL", id="wallonia_2015"),
        pytest.param("brussels", D(2014, 6, 30), FEDERAL, id="brussels_june_2014"),
        pytest.param("brussels", D(2014, 7, 1), "BRU", id="brussels_july_2014"),
        pytest.param("german_speaking", D(2014, 7, 1), "DG", id="dg_july_2014"),
        pytest.param("flanders", D(2026, 5, 4), "VDAB_TWE", id="flanders_today"),
    ],
)
def test_the_scheme_follows_the_region_and_date_flemish_twe_from_1_january_2017(
    region: str, day: dt.date, scheme: str
) -> None:
    assert regional_scheme_on(region, day).region_scheme == scheme


def test_every_region_has_one_scheme_on_every_day_of_the_table() -> None:
    table = regional_schemes()
    assert {s.region_scheme for s in table} <= {FEDERAL, *get_args(RegionScheme)}
    days = {D(1990, 1, 1), D(2030, 1, 1)}
    for scheme in table:
        for bound in (scheme.effective_from, scheme.effective_until):
            if bound is not None:
                days |= {bound - dt.timedelta(days=1), bound, bound + dt.timedelta(1)}
    for region in Region:
        for day in days:
            matching = [
                s
                for s in table
                if s.region == region
                and (s.effective_from is None or s.effective_from <= day)
                and (s.effective_until is None or day <= s.effective_until)
            ]
            assert len(matching) == 1, (region, day)


# --- regional caps ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "planned_end", "weekly_hours", "planned_work_days"),
    [
        # Monday 2026-03-02 .. Monday 2027-03-01: 312 days on Saturday
        # 2027-02-27 (+ 362 days), Sunday skipped, Monday is the 313th.
        pytest.param(D(2026, 3, 2), D(2027, 3, 1), None, 313, id="313_days"),
        # Monday 2025-06-02 .. Monday 2026-06-01: 312 on Saturday 2026-05-30,
        # 313 on Monday 06-01; the cap is in force on the planned end.
        pytest.param(D(2025, 6, 2), D(2026, 6, 1), None, 313, id="crossing_reform"),
    ],
)
def test_wallonia_flags_beyond_312_days_after_reform_walloon_government_2026(
    start: dt.date,
    planned_end: dt.date,
    weekly_hours: Decimal | None,
    planned_work_days: int,
) -> None:
    findings = cap_findings("WAL", start, planned_end, weekly_hours)
    assert len(findings) == 1
    assert findings[0].cap.rule_id == "wallonia-subsidy-312-days"
    assert findings[0].cap.effect == "flag"
    assert findings[0].cap.max_work_days == 312
    assert findings[0].planned_work_days == planned_work_days


@pytest.mark.parametrize(
    ("start", "planned_end", "weekly_hours"),
    [
        # Exactly 312 days: Monday 2026-03-02 .. Saturday 2027-02-27.
        pytest.param(D(2026, 3, 2), D(2027, 2, 27), None, id="exactly_312_days"),
        # 313 days (Monday 2024-06-03 .. Monday 2025-06-02, as above) but
        # ending before 1 March 2026, when the Walloon cap was not in force.
        pytest.param(D(2024, 6, 3), D(2025, 6, 2), None, id="before_reform"),
        # Ending on 2026-02-28, the last day without the cap, after 2 years.
        pytest.param(D(2024, 1, 8), D(2026, 2, 28), None, id="ends_28_feb_2026"),
        # Half time: 313 six-day days * 19/38 = 156.5, floored to 156.
        pytest.param(D(2026, 3, 2), D(2027, 3, 1), HALF_TIME, id="half_time"),
    ],
)
def test_wallonia_no_flag_within_312_days_or_before_reform_walloon_government_2026(
    start: dt.date, planned_end: dt.date, weekly_hours: Decimal | None
) -> None:
    assert cap_findings("WAL", start, planned_end, weekly_hours) == []


def test_vdab_twe_refuses_beyond_two_years_vdab_since_1_january_2017() -> None:
    # Two calendar years from Monday 2024-01-08 end on Sunday 2026-01-07; a
    # contract still running on 2026-01-08 is in its third year.
    findings = cap_findings("VDAB_TWE", D(2024, 1, 8), D(2026, 1, 8))
    assert len(findings) == 1
    assert findings[0].cap.rule_id == "flanders-twe-two-years"
    assert findings[0].cap.effect == "refuse"
    assert findings[0].cap.max_months == 24


@pytest.mark.parametrize(
    ("planned_end", "weekly_hours"),
    [
        # The last day of the second year.
        pytest.param(D(2026, 1, 7), None, id="two_years_full_time"),
        # Half time changes nothing: the limit is calendar time, not days.
        pytest.param(D(2026, 1, 7), HALF_TIME, id="two_years_half_time"),
    ],
)
def test_vdab_twe_accepts_up_to_two_years_vdab_since_1_january_2017(
    planned_end: dt.date, weekly_hours: Decimal | None
) -> None:
    assert cap_findings("VDAB_TWE", D(2024, 1, 8), planned_end, weekly_hours) == []


def test_vdab_twe_counts_calendar_time_for_part_time_too() -> None:
    # Half time for three years: 936 six-day days, 468 work days, but over two
    # calendar years: refused whatever the work days.
    findings = cap_findings("VDAB_TWE", D(2024, 1, 8), D(2027, 1, 9), HALF_TIME)
    assert [f.cap.rule_id for f in findings] == ["flanders-twe-two-years"]


def test_brussels_has_no_regional_cap_in_the_table() -> None:
    # Monday 2024-01-08 .. Monday 2027-03-01: over three years, far beyond
    # 312 and 624 days, after the reform; Brussels has no cap in the table.
    assert cap_findings("BRU", D(2024, 1, 8), D(2027, 3, 1)) == []
