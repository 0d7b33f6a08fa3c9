"""Rules of the placement area (see services/rulebook/__init__.py).

Article 60 §7 and article 61 jobs (organic law of 8 July 1976 on the CPAS),
ONEM's required period, the regional schemes and ONEM's decision on the
benefit right. Required periods by date: services/placement/data/
required_periods.csv; regional schemes and caps: regional_schemes.csv and
regional_caps.csv beside it.
"""

from __future__ import annotations

import datetime as dt

from services.rulebook import Rule

_FILE = "services.placement.domain:PlacementFile"
_TESTS = "tests/placement/test_article60.py"
_ART60 = "docs/domain/placements.md#article-60-7"
_ART61 = "docs/domain/placements.md#article-61"
_REQUIRED = "docs/domain/placements.md#onem-required-period"
_SCHEMES = "docs/domain/placements.md#regional-schemes"
_RIGHT = "docs/domain/placements.md#benefit-right-opened"
_ART60_7 = (
    "Organic law of 8 July 1976 on the CPAS art. 60 §7: the job lasts no longer "
    "than needed to open the right to full unemployment benefits"
)
_REQUIRED_PERIOD = (
    "royal decree of 25 November 1991 on unemployment art. 30 and, from 1 March "
    "2026, the programme law of 18 July 2025"
)
_DATES = "Hub rule: a job's dates follow each other (plan, signature, start, end)"
_ONEM_DECIDES = (
    "Royal decree of 25 November 1991 on unemployment: ONEM decides the benefit "
    "right, never the CPAS"
)
_REGION = (
    "Sixth state reform (special law of 6 January 2014): the Region where the "
    "person lives rules art. 60 §7 and 61 jobs, ADR 0008"
)
_ONE_JOB = "Hub rule: a person holds one art. 60 or art. 61 job at a time"

RULES: tuple[Rule, ...] = (
    Rule(
        code="article60.end_before_start",
        statement=(
            "An art. 60 §7 contract planned or signed to end on or before its start "
            "is refused, and so is ONEM's calculation of a required period ending "
            "on or before the planned start."
        ),
        source=_DATES,
        enforced_by=(
            "services.placement.domain:_check_dates",
            f"{_FILE}.record_required_period",
        ),
        tests=(
            f"{_TESTS}::test_a_planned_end_before_the_start_is_refused",
            "tests/integration/test_placement_flow.py::test_an_article_60_contract_moves_the_trajectory_exactly_once",
        ),
        doc=_ART60,
    ),
    Rule(
        code="article60.signed_after_start",
        statement="An art. 60 §7 contract signed after the day it starts is refused.",
        source=(
            "Hub rule: the employment contract is signed before work starts (its "
            "duration is checked from the signed start)"
        ),
        enforced_by=(f"{_FILE}.sign_article60",),
        tests=(
            f"{_TESTS}::test_art60_par7_the_employment_contract_is_signed_before_work_starts",
        ),
        doc=_ART60,
    ),
    Rule(
        code="article60.start_before_signed_start",
        statement=(
            "Work that starts before the start date the contract was signed for is "
            "refused: its duration was checked from that date, so an earlier start "
            "needs a new signature."
        ),
        source=_DATES,
        enforced_by=(f"{_FILE}.start_article60",),
        tests=(
            f"{_TESTS}::test_art60_par7_work_starts_from_the_signed_start_and_before_the_planned_end",
        ),
        doc=_ART60,
    ),
    Rule(
        code="article60.start_after_planned_end",
        statement="Work that would start on or after the contract's planned end is refused.",
        source=_DATES,
        enforced_by=(f"{_FILE}.start_article60",),
        tests=(
            f"{_TESTS}::test_art60_par7_work_starts_from_the_signed_start_and_before_the_planned_end",
        ),
        doc=_ART60,
    ),
    Rule(
        code="article60.ended_before_start",
        statement="An art. 60 §7 contract ended before the day it started is refused.",
        source=_DATES,
        enforced_by=(f"{_FILE}.end_article60",),
        tests=(f"{_TESTS}::test_an_end_before_the_start_is_refused",),
        doc=_ART60,
    ),
    Rule(
        code="article60.ended_after_planned_end",
        statement=(
            "An art. 60 §7 contract ended after its planned end is refused: it "
            "cannot run longer than the required period it was checked against."
        ),
        source=_ART60_7,
        enforced_by=(f"{_FILE}.end_article60",),
        tests=(f"{_TESTS}::test_an_end_after_the_planned_end_is_refused",),
        doc=_ART60,
    ),
    Rule(
        code="article60.required_days_not_reached",
        statement=(
            "An end with the reason required_days_reached is refused when fewer "
            "work days than required have accrued by that day; an earlier end is an "
            "early end with its own reason."
        ),
        source=_ART60_7,
        enforced_by=(f"{_FILE}.end_article60",),
        tests=(f"{_TESTS}::test_ending_as_days_reached_before_they_are_is_refused",),
        doc=_REQUIRED,
    ),
    Rule(
        code="article60.longer_than_required_period",
        statement=(
            "An art. 60 §7 contract whose planned work days (every day but Sunday; "
            "part time by its share of a 38-hour week) exceed the required period "
            "is refused, at the plan and at the signature. The required period is "
            "ONEM's calculation when recorded, otherwise the rule table's for the "
            "person's age (figures by date: services/placement/data/"
            "required_periods.csv)."
        ),
        source=f"{_ART60_7}; the required period by the {_REQUIRED_PERIOD}",
        enforced_by=(
            f"{_FILE}._check_duration",
            "services.placement.domain:_check_required_days",
        ),
        tests=(
            f"{_TESTS}::test_a_contract_longer_than_onem_calculated_is_refused",
            f"{_TESTS}::test_a_flemish_twe_contract_beyond_two_years_is_refused",
        ),
        doc=_REQUIRED,
    ),
    Rule(
        code="article60.after_onem_end_date",
        statement=(
            "With ONEM's calculation recorded, a contract signed to start on or "
            "before the start ONEM calculated from cannot be planned to end after "
            "the end date ONEM gave."
        ),
        source=(
            f"{_ART60_7}; ONEM's calculation (CPAS@ONEM) is authoritative, ADR 0008"
        ),
        enforced_by=(
            "services.placement.domain:_check_onem_end_date",
            "services.audit.grid:control_grid",
        ),
        tests=(
            f"{_TESTS}::test_art60_par7_a_planned_end_after_onems_end_date_is_refused",
            "tests/audit/test_grid.py::test_art60_par7_a_contract_on_the_rule_table_not_onems_period_is_a_finding",
        ),
        doc=_REQUIRED,
    ),
    Rule(
        code="required_period.onem_end_date_for_earlier_start",
        statement=(
            "A contract signed to start later than the start ONEM calculated from, "
            "and planned to end after ONEM's end date, is recorded with this flag, "
            "not refused: ONEM's date answers another start (the work days are "
            "still checked)."
        ),
        source=(
            f"{_ART60_7}; ONEM's calculation (CPAS@ONEM) answers the start it was "
            "given, ADR 0008"
        ),
        enforced_by=(
            "services.placement.domain:_check_onem_end_date",
            "services.audit.grid:control_grid",
        ),
        tests=(
            f"{_TESTS}::test_onems_end_date_for_an_earlier_start_is_flagged_not_refused",
            "tests/audit/test_grid.py::test_art60_par7_a_contract_on_the_rule_table_not_onems_period_is_a_finding",
        ),
        kind="flag",
        doc=_REQUIRED,
    ),
    Rule(
        code="article60.required_days_not_positive",
        statement="ONEM's required period of zero work days or fewer is refused.",
        source="ONEM's calculation (CPAS@ONEM) returns a number of days to work",
        enforced_by=(f"{_FILE}.record_required_period",),
        tests=(f"{_TESTS}::test_required_days_not_above_zero_are_refused",),
        doc=_REQUIRED,
    ),
    Rule(
        code="article60.overlap",
        statement=(
            "An art. 60 §7 plan, signature or start, or an art. 61 agreement, whose "
            "period overlaps an art. 60 §7 contract of the same case (cancelled "
            "ones aside) is refused with 409."
        ),
        source=_ONE_JOB,
        enforced_by=(f"{_FILE}._check_no_overlap",),
        tests=(
            f"{_TESTS}::test_one_job_at_a_time_an_article_60_overlapping_another_job_is_refused",
            f"{_TESTS}::test_an_article_61_overlapping_an_article_60_is_refused",
        ),
        kind="conflict",
        doc="docs/domain/placements.md#no-overlapping-jobs",
    ),
    Rule(
        code="article60.placement_agreement_after_start",
        statement=(
            "A placement with a user organisation whose agreement was signed after "
            "the placement starts is refused."
        ),
        source=(
            "Social-security DmfA instructions on the art. 60 §7 target-group "
            "reduction: the CPAS, the user and the worker sign the terms before "
            "the placement starts"
        ),
        enforced_by=(f"{_FILE}.agree_placement",),
        tests=(
            f"{_TESTS}::test_dmfa_art60_par7_a_placement_is_agreed_before_it_starts_within_the_contract",
            "tests/integration/test_placement_flow.py::test_an_article_60_contract_moves_the_trajectory_exactly_once",
        ),
        doc="docs/domain/placements.md#user-organisations-and-the-placement-agreement",
    ),
    Rule(
        code="article60.placement_outside_contract",
        statement=(
            "A placement starting before the contract's start or after its planned "
            "end is refused."
        ),
        source="Hub rule: the CPAS remains the employer, so a placement lies within the contract",
        enforced_by=(f"{_FILE}.agree_placement",),
        tests=(
            f"{_TESTS}::test_dmfa_art60_par7_a_placement_is_agreed_before_it_starts_within_the_contract",
        ),
        doc="docs/domain/placements.md#user-organisations-and-the-placement-agreement",
    ),
    Rule(
        code="article60.regional_cap",
        statement=(
            "A contract beyond a regional cap whose effect is to refuse is refused, "
            "whatever the regime: a Flemish TWE contract whose planned end falls on "
            "or after the same date two years after its start (cap "
            "flanders-twe-two-years, in force from 1 January 2017). A cap applies "
            "when it is in force on the planned end (caps by date: "
            "services/placement/data/regional_caps.csv)."
        ),
        source=(
            "Decision of the Flemish Government of 23 December 2016 on tijdelijke "
            "werkervaring (TWE), in force 1 January 2017: a TWE trajectory lasts "
            "at most two years"
        ),
        enforced_by=(
            f"{_FILE}._check_duration",
            "services.placement.periods:cap_findings",
        ),
        tests=(
            f"{_TESTS}::test_a_twe_contract_beyond_two_years_is_refused_even_if_onem_asks_more",
            f"{_TESTS}::test_twe_two_year_limit_applies_to_a_flemish_resident_whatever_scheme_is_named",
        ),
        doc="docs/domain/placements.md#flanders-twe-since-1-january-2017",
        applies_from=dt.date(2017, 1, 1),
    ),
    Rule(
        code="article60.unknown",
        statement="A command naming an art. 60 §7 contract the case does not have is refused.",
        source="Hub rule: a command acts on a contract recorded for the case",
        enforced_by=(f"{_FILE}._contract",),
        tests=(
            f"{_TESTS}::test_a_command_on_an_article_60_contract_the_case_does_not_have_is_refused",
        ),
        doc=_ART60,
    ),
    Rule(
        code="article61.end_before_start",
        statement="An art. 61 agreement planned to end on or before its start is refused.",
        source=_DATES,
        enforced_by=("services.placement.domain:_check_dates",),
        tests=(
            f"{_TESTS}::test_art61_an_agreement_runs_from_its_start_to_at_most_its_planned_end",
        ),
        doc=_ART61,
    ),
    Rule(
        code="article61.longer_than_required_period",
        statement=(
            "An art. 61 agreement whose planned work days exceed the rule table's "
            "required period for the person's age on its start is refused (figures "
            "by date: services/placement/data/required_periods.csv)."
        ),
        source=(
            "Organic law of 8 July 1976 on the CPAS art. 61: the agreement is tied, "
            "like an art. 60 §7 job, to the period that opens the right to full "
            f"unemployment benefits ({_REQUIRED_PERIOD})"
        ),
        enforced_by=(
            f"{_FILE}.sign_article61",
            "services.placement.domain:_check_required_days",
        ),
        tests=(
            f"{_TESTS}::test_art61_longer_than_the_required_period_is_refused_programme_law_2025",
            f"{_TESTS}::test_art61_before_the_reform_follows_the_age_band_ar_25_11_1991_art_30",
        ),
        doc=_ART61,
    ),
    Rule(
        code="article61.overlap",
        statement=(
            "An art. 60 §7 plan, signature or start, or an art. 61 agreement, whose "
            "period overlaps an art. 61 agreement of the same case is refused with "
            "409."
        ),
        source=_ONE_JOB,
        enforced_by=(f"{_FILE}._check_no_overlap",),
        tests=(
            f"{_TESTS}::test_one_job_at_a_time_an_article_60_overlapping_another_job_is_refused",
        ),
        kind="conflict",
        doc="docs/domain/placements.md#no-overlapping-jobs",
    ),
    Rule(
        code="article61.not_running",
        statement=(
            "Ending an art. 61 agreement the case does not have, or one already "
            "ended, is refused."
        ),
        source="Hub rule: an agreement ends once",
        enforced_by=(f"{_FILE}.end_article61",),
        tests=(
            f"{_TESTS}::test_art61_an_agreement_runs_from_its_start_to_at_most_its_planned_end",
        ),
        doc=_ART61,
    ),
    Rule(
        code="article61.ended_before_start",
        statement="An art. 61 agreement ended before the day it started is refused.",
        source=_DATES,
        enforced_by=(f"{_FILE}.end_article61",),
        tests=(
            f"{_TESTS}::test_art61_an_agreement_runs_from_its_start_to_at_most_its_planned_end",
        ),
        doc=_ART61,
    ),
    Rule(
        code="article61.ended_after_planned_end",
        statement=(
            "An art. 61 agreement ended after its planned end is refused: a longer "
            "one is a new agreement."
        ),
        source=_DATES,
        enforced_by=(f"{_FILE}.end_article61",),
        tests=(
            f"{_TESTS}::test_art61_an_agreement_runs_from_its_start_to_at_most_its_planned_end",
        ),
        doc=_ART61,
    ),
    Rule(
        code="regime.part_time_needs_hours",
        statement="A part-time art. 60 §7 or art. 61 job without its weekly hours is refused.",
        source=(
            "Hub rule: part-time work days count by the share of a 38-hour week, so "
            "the hours are needed"
        ),
        enforced_by=("services.placement.domain:_check_regime",),
        tests=(f"{_TESTS}::test_a_part_time_contract_needs_its_hours",),
        doc="docs/domain/placements.md#counting-work-days",
    ),
    Rule(
        code="regime.full_time_has_no_hours",
        statement="A full-time art. 60 §7 or art. 61 job that gives weekly hours is refused.",
        source="Hub rule: a full-time regime has no weekly hours to give",
        enforced_by=("services.placement.domain:_check_regime",),
        tests=(f"{_TESTS}::test_a_full_time_contract_has_no_weekly_hours",),
        doc="docs/domain/placements.md#counting-work-days",
    ),
    Rule(
        code="required_period.no_rule",
        statement=(
            "A job whose start date no row of the required-period table covers "
            "(services/placement/data/required_periods.csv) is refused."
        ),
        source=f"The unemployment rules in force: the {_REQUIRED_PERIOD}",
        enforced_by=("services.placement.domain:_default_period",),
        tests=(f"{_TESTS}::test_a_start_date_no_rule_covers_is_refused_not_a_crash",),
        doc="docs/domain/placements.md#admissibility-from-1-march-2026",
    ),
    Rule(
        code="required_period.not_calculated_by_onem",
        statement=(
            "A contract signed without ONEM's calculation takes the rule table's "
            "required period and is recorded with this flag, so the auditor sees "
            "that ONEM was not asked."
        ),
        source=(
            "ONEM calculates the required period at the CPAS's request (CPAS@ONEM, "
            "in national use since 2 October 2023), ADR 0008"
        ),
        enforced_by=(
            f"{_FILE}.sign_article60",
            "services.audit.grid:control_grid",
        ),
        tests=(
            f"{_TESTS}::test_signing_without_onem_uses_the_rule_table_and_flags_it",
            "tests/audit/test_grid.py::test_art60_par7_a_contract_on_the_rule_table_not_onems_period_is_a_finding",
        ),
        kind="flag",
        doc=_REQUIRED,
    ),
    Rule(
        code="required_period.beyond_reference_period",
        statement=(
            "A contract signed on the rule table's period is also flagged when "
            "those work days, counted from the start, would not all fall within the "
            "reference period ONEM looks back over (21, 33 or 42 months by age "
            "before 1 March 2026; 36 from then)."
        ),
        source=f"The reference periods of the {_REQUIRED_PERIOD}",
        enforced_by=(f"{_FILE}.sign_article60",),
        tests=(
            f"{_TESTS}::test_a_default_period_beyond_its_reference_window_is_flagged",
        ),
        kind="flag",
        doc="docs/domain/placements.md#admissibility-before-1-march-2026",
    ),
    Rule(
        code="placement.no_regional_scheme",
        statement=(
            "A job is refused when no scheme of the person's region covers its "
            "start date (services/placement/data/regional_schemes.csv)."
        ),
        source=_REGION,
        enforced_by=("services.placement.domain:_regional_scheme",),
        tests=(
            f"{_TESTS}::test_a_region_no_scheme_covers_is_refused_special_law_6_january_2014",
        ),
        doc=_SCHEMES,
    ),
    Rule(
        code="placement.federal_scheme_not_recordable",
        statement=(
            "A job starting before the person's Region ruled such jobs (Brussels "
            "and the German-speaking Community before 1 July 2014, Wallonia before "
            "1 January 2015, Flanders before 1 January 2017) falls under the former "
            "federal scheme, which the placement events cannot name: refused."
        ),
        source=_REGION,
        enforced_by=("services.placement.domain:_regional_scheme",),
        tests=(
            f"{_TESTS}::test_twe_from_1_january_2017_flemish_government_decision_23_december_2016",
        ),
        doc="docs/domain/placements.md#regionalisation",
    ),
    Rule(
        code="placement.scheme_not_region",
        statement=(
            "A regional scheme the caller names that is not the one of the person's "
            "region on the job's start is refused: the scheme is derived, never "
            "chosen, so no job escapes its Region's limits."
        ),
        source=_REGION,
        enforced_by=("services.placement.domain:_regional_scheme",),
        tests=(
            f"{_TESTS}::test_art61_scheme_is_the_residents_region_special_law_6_january_2014",
            f"{_TESTS}::test_twe_two_year_limit_applies_to_a_flemish_resident_whatever_scheme_is_named",
        ),
        doc=_SCHEMES,
    ),
    Rule(
        code="placement.none",
        statement=(
            "Reading the placements of a case the placement service knows but on "
            "which nothing was recorded answers 404."
        ),
        source="Hub rule: every answer declared, the 404 included, ADR 0015",
        enforced_by=("services.placement.api:create_api",),
        tests=(f"{_TESTS}::test_a_case_with_no_placement_yet_answers_404",),
        kind="input",
        doc="docs/decisions/0015-truthful-openapi.md",
    ),
    Rule(
        code="benefit_right.already_recorded",
        statement=(
            "ONEM's decision with a reference already recorded on the case is "
            "refused with 409: each decision is recorded once."
        ),
        source=_ONEM_DECIDES,
        enforced_by=(f"{_FILE}.record_benefit_right",),
        tests=(f"{_TESTS}::test_the_same_onem_decision_is_recorded_once",),
        kind="conflict",
        doc=_RIGHT,
    ),
    Rule(
        code="benefit_right.evidence_required",
        statement=(
            "ONEM's decision keyed in by hand (channel manual) without the reference "
            "of a document that proves it (blank references do not count) is "
            "refused."
        ),
        source=(
            f"{_ONEM_DECIDES}: the proof is the payment institution's letter with "
            "ONEM's decision"
        ),
        enforced_by=(f"{_FILE}.record_benefit_right",),
        tests=(
            f"{_TESTS}::test_a_benefit_right_keyed_in_without_evidence_is_refused",
            f"{_TESTS}::test_blank_evidence_is_no_evidence",
        ),
        doc=_RIGHT,
    ),
    Rule(
        code="benefit_right.incomplete",
        statement="An opened right without its start date or its payment institution is refused.",
        source=(
            f"{_ONEM_DECIDES}: ONEM tells the payment institution, which pays from "
            "the right's start"
        ),
        enforced_by=(f"{_FILE}.record_benefit_right",),
        tests=(
            f"{_TESTS}::test_ar_25_11_1991_an_opened_right_has_its_start_and_payment_institution",
        ),
        doc=_RIGHT,
    ),
    Rule(
        code="benefit_right.before_contract_end",
        statement=(
            "An opened right starting before the last day of the person's last "
            "art. 60 §7 or art. 61 job (its planned end while it runs) is refused: "
            "benefits are for unemployment."
        ),
        source=_ONEM_DECIDES,
        enforced_by=(f"{_FILE}.record_benefit_right",),
        tests=(
            f"{_TESTS}::test_a_right_starting_before_the_contract_end_is_refused",
            "tests/integration/test_placement_flow.py::test_an_article_60_contract_moves_the_trajectory_exactly_once",
        ),
        doc=_RIGHT,
    ),
    Rule(
        code="benefit_right.refusal_needs_reason",
        statement="ONEM's refusal recorded without ONEM's ground is refused.",
        source=_ONEM_DECIDES,
        enforced_by=(f"{_FILE}.record_benefit_right",),
        tests=(f"{_TESTS}::test_ar_25_11_1991_a_refused_right_carries_onems_ground",),
        doc=_RIGHT,
    ),
    Rule(
        code="article60.wrong_status",
        statement=(
            "A command on an art. 60 §7 contract in a status that does not allow it "
            "(starting a contract not signed, ending one not started, signing one "
            "already signed) is refused as a conflict (409); the message names the "
            "action and the status."
        ),
        source=_DATES,
        enforced_by=(f"{_FILE}._contract",),
        tests=(
            f"{_TESTS}::test_a_contract_acted_on_in_the_wrong_status_is_refused_as_a_conflict",
        ),
        kind="conflict",
        doc=_ART60,
    ),
    Rule(
        code="regional_cap.exceeded",
        statement=(
            "A contract beyond a regional cap that only limits the subsidy is "
            "recorded with the flag `regional_cap.exceeded:<rule id>` (the rule of "
            "services/placement/data/regional_caps.csv, e.g. the Walloon 312-day "
            "subsidy from 1 March 2026) and its subsidised days capped; a cap that "
            "limits the contract itself refuses it (`article60.regional_cap`)."
        ),
        source=(
            "Walloon Government on the 2026 reform: the art. 60 §7 subsidy covers "
            "the 312 days that open one year of benefits"
        ),
        enforced_by=(
            f"{_FILE}.sign_article60",
            "services.placement.periods:cap_findings",
        ),
        tests=(f"{_TESTS}::test_wallonia_flags_a_contract_beyond_its_312_day_subsidy",),
        kind="flag",
        doc="docs/domain/placements.md#wallonia-312-day-subsidy",
    ),
)
