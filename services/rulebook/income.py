"""Rules of the income area (see services/rulebook/__init__.py).

The integration income (RIS) and its equivalent (ERIS): the grant and its
changes, and the suspensions of payment art. 30 of the law of 26 May 2002
allows. Figures by date: services/common/data/law_figures.csv.
"""

from __future__ import annotations

from services.rulebook import Rule

_INCOME_TESTS = "tests/intake/test_income_right.py"
_ART30_TESTS = "tests/intake/test_art30_suspensions.py"
_LIFECYCLE = "docs/domain/income-right.md#income-right-lifecycle"
_DAY_JUDGED = "docs/domain/README.md#figures-change-over-time"
_ART30_1 = "Law of 26 May 2002 art. 30 §1"
_ART30_2 = "Law of 26 May 2002 art. 30 §2"
_SANCTIONS = "services.common.sanctions"
_BENEFICIARY = "services.intake.domain:Beneficiary"
_RECOVERY_TESTS = "tests/intake/test_refusal_and_recovery.py"
_ART24 = "Law of 26 May 2002 art. 24 ff."
_REFUSAL = "docs/domain/income-right.md#refusal-of-an-application"
_RECOVERY = "docs/domain/income-right.md#recovery-of-income-paid-unduly"

RULES: tuple[Rule, ...] = (
    Rule(
        code="income_right.already_active",
        statement=(
            "A grant on a case that already has an active income right is refused "
            "with 409: modify or withdraw the right first."
        ),
        source="Hub rule: a case has at most one active right (RIS or ERIS)",
        enforced_by=(f"{_BENEFICIARY}.grant_income_right",),
        tests=(
            f"{_INCOME_TESTS}::test_a_second_active_right_is_refused",
            "tests/integration/test_intake_http.py::test_an_income_right_is_granted_once_and_read_back",
        ),
        kind="conflict",
        doc=_LIFECYCLE,
    ),
    Rule(
        code="income_right.decision_before_application",
        statement="A grant whose decision date is before its application date is refused.",
        source=(
            "Law of 26 May 2002 art. 21 §1: the CPAS decides on the application it "
            "received (the order of the dates is a hub rule)"
        ),
        enforced_by=(
            f"{_BENEFICIARY}.grant_income_right",
            f"{_BENEFICIARY}.refuse_income_application",
            "services.intake.domain:_decided_in_order",
        ),
        tests=(
            f"{_INCOME_TESTS}::test_art21_a_decision_before_its_application_or_in_the_future_is_refused",
            f"{_RECOVERY_TESTS}::test_art21_a_refusal_before_its_application_or_in_the_future_is_refused",
        ),
        doc=_LIFECYCLE,
    ),
    Rule(
        code="income_right.future_decision",
        statement=(
            "A grant, a refusal or a recovery whose decision date is after the "
            "command's date is refused."
        ),
        source="Hub rule: the hub records decisions taken, never one still to come",
        enforced_by=(
            f"{_BENEFICIARY}.grant_income_right",
            f"{_BENEFICIARY}.refuse_income_application",
            f"{_BENEFICIARY}._recoverable",
            "services.intake.domain:_decided_in_order",
        ),
        tests=(
            f"{_INCOME_TESTS}::test_art21_a_decision_before_its_application_or_in_the_future_is_refused",
            f"{_RECOVERY_TESTS}::test_art21_a_refusal_before_its_application_or_in_the_future_is_refused",
            f"{_RECOVERY_TESTS}::test_art24_a_recovery_of_income_not_paid_yet_is_refused",
        ),
        doc=_LIFECYCLE,
    ),
    Rule(
        code="income_right.refused_while_active",
        statement=(
            "A refusal of an application on a case whose income right is in force "
            "is refused with 409: an application is refused only when the case has "
            "no right (none yet, or a new application after a withdrawal); a right "
            "in force ends with a withdrawal."
        ),
        source=(
            "Law of 26 May 2002 art. 21 §1: the CPAS decides on the application "
            "for a right the person does not have (one active right per case is a "
            "hub rule)"
        ),
        enforced_by=(f"{_BENEFICIARY}.refuse_income_application",),
        tests=(
            f"{_RECOVERY_TESTS}::test_art21_an_application_is_not_refused_while_a_right_is_in_force",
            f"{_RECOVERY_TESTS}::test_a_refusal_and_a_recovery_over_http_name_their_rule_when_refused",
        ),
        kind="conflict",
        doc=_REFUSAL,
    ),
    Rule(
        code="income_recovery.outside_right",
        statement=(
            "A recovery whose period is not wholly within the days of one income "
            "right the case had (from its effective date to the day before its "
            "withdrawal) is refused, as is a recovery on a case that never had one."
        ),
        source=f"{_ART24}: the CPAS recovers the integration income it granted",
        enforced_by=(f"{_BENEFICIARY}._recoverable",),
        tests=(
            f"{_RECOVERY_TESTS}::test_art24_a_recovery_outside_the_days_of_a_right_is_refused",
            f"{_RECOVERY_TESTS}::test_art24_a_recovery_on_a_case_that_never_had_a_right_is_refused",
        ),
        doc=_RECOVERY,
    ),
    Rule(
        code="income_recovery.right_of_another_cpas",
        statement=(
            "A recovery of income granted by the CPAS a case was transferred from "
            "is refused at the new CPAS: the CPAS that granted and paid the income "
            "recovers it and reports it to SPP IS."
        ),
        source=(
            f"{_ART24} (the CPAS recovers the income it paid) and art. 32 (the "
            "State reimbursed that CPAS)"
        ),
        enforced_by=(f"{_BENEFICIARY}._recoverable",),
        tests=(
            f"{_RECOVERY_TESTS}::test_art24_income_granted_before_a_transfer_is_not_recovered_by_the_new_cpas",
        ),
        doc=_RECOVERY,
    ),
    Rule(
        code="income_recovery.above_granted",
        statement=(
            "A recovery of more than the income the right granted over its period "
            "is refused: the amount in force each day (the category's, or the "
            "smaller amount granted after resources), pro rata of the days of "
            "each month, less the share of a suspension without stay."
        ),
        source=f"{_ART24}: what was paid unduly is recovered, nothing more",
        enforced_by=(f"{_BENEFICIARY}.decide_recovery",),
        tests=(
            f"{_RECOVERY_TESTS}::test_art24_a_recovery_above_what_was_granted_over_the_period_is_refused",
            f"{_RECOVERY_TESTS}::test_a_refusal_and_a_recovery_over_http_name_their_rule_when_refused",
        ),
        doc=_RECOVERY,
    ),
    Rule(
        code="income_recovery.amount_not_positive",
        statement="A recovery of zero or a negative amount is refused.",
        source=f"{_ART24}: a recovery is of income paid",
        enforced_by=(f"{_BENEFICIARY}.decide_recovery",),
        tests=(f"{_RECOVERY_TESTS}::test_art24_a_recovery_of_no_amount_is_refused",),
        doc=_RECOVERY,
    ),
    Rule(
        code="income_recovery.period_in_future",
        statement=(
            "A recovery whose period ends after the command's date is refused: "
            "income not paid yet is not recovered."
        ),
        source=f"{_ART24}: the CPAS recovers income it paid",
        enforced_by=(f"{_BENEFICIARY}._recoverable",),
        tests=(
            f"{_RECOVERY_TESTS}::test_art24_a_recovery_of_income_not_paid_yet_is_refused",
        ),
        doc=_RECOVERY,
    ),
    Rule(
        code="income_recovery.decided_before_period",
        statement="A recovery decided before the first day of its period is refused.",
        source=f"{_ART24}: a recovery follows the payment it recovers",
        enforced_by=(f"{_BENEFICIARY}._recoverable",),
        tests=(
            f"{_RECOVERY_TESTS}::test_art24_a_recovery_of_income_not_paid_yet_is_refused",
        ),
        doc=_RECOVERY,
    ),
    Rule(
        code="income_recovery.end_before_start",
        statement="A recovery whose period ends before it starts is refused.",
        source="Hub rule: a recovery names its period, first and last day",
        enforced_by=(f"{_BENEFICIARY}._recoverable",),
        tests=(
            f"{_RECOVERY_TESTS}::test_art24_a_recovery_of_income_not_paid_yet_is_refused",
        ),
        doc=_RECOVERY,
    ),
    Rule(
        code="income_recovery.too_many_months",
        statement=(
            "A recovery decision covers at most 30 months of reference (the bound "
            "of the event's list of months); a longer one is recorded as several "
            "decisions."
        ),
        source=(
            "Hub rule: every list an event carries is bounded "
            "(docs/decisions/0010-bounded-input.md)"
        ),
        enforced_by=(f"{_BENEFICIARY}._recoverable",),
        tests=(
            f"{_RECOVERY_TESTS}::test_a_recovery_over_more_than_30_months_is_refused",
        ),
        doc=_RECOVERY,
    ),
    Rule(
        code="income_right.none_active",
        statement=(
            "A modification, suspension or withdrawal on a case without an active "
            "income right is refused."
        ),
        source="Hub rule: a right is changed only while it is granted",
        enforced_by=(f"{_BENEFICIARY}._active_right",),
        tests=(f"{_INCOME_TESTS}::test_a_change_without_an_active_right_is_refused",),
        doc=_LIFECYCLE,
    ),
    Rule(
        code="income_right.before_grant",
        statement=(
            "A modification, suspension or withdrawal dated before the day the "
            "right took effect is refused."
        ),
        source="Hub rule: a right changes only from the day it took effect",
        enforced_by=(f"{_BENEFICIARY}._not_before_grant",),
        tests=(
            f"{_INCOME_TESTS}::test_changes_that_break_a_rule_are_refused_and_store_nothing",
        ),
        doc=_LIFECYCLE,
    ),
    Rule(
        code="parameters.no_version",
        statement=(
            "A date that no published version of a figure covers is refused: a law "
            "figure of services/common/data/law_figures.csv (a time limit, a "
            "sanction length) or the integration-income amounts of "
            "services/intake/data/ri_amounts.csv. The hub applies only figures in "
            "force on the day judged."
        ),
        source=(
            "Hub rule: the law's figures are indexed or reformed, so each is kept "
            "with the dates it is valid and its source (law of 26 May 2002 art. 14 "
            "for the amounts)"
        ),
        enforced_by=(
            "services.common.law:LawFigures.version",
            "services.intake.parameters:AmountTable.version_on",
        ),
        tests=(
            f"{_INCOME_TESTS}::test_a_date_before_every_published_table_is_refused",
            f"{_INCOME_TESTS}::test_amounts_a_grant_on_a_date_no_amount_version_covers_is_refused",
            f"{_ART30_TESTS}::test_art30_a_decision_no_published_figure_covers_is_refused",
        ),
        doc=_DAY_JUDGED,
    ),
    Rule(
        code="suspension.end_before_start",
        statement="A suspension of payment whose last day is before its first is refused.",
        source="Hub rule: a suspension names its period, first and last day",
        enforced_by=(f"{_BENEFICIARY}.suspend_income_payment",),
        tests=(
            f"{_INCOME_TESTS}::test_changes_that_break_a_rule_are_refused_and_store_nothing",
        ),
        doc="docs/domain/sanctions.md#suspension-reasons-reported-since-2020",
    ),
    Rule(
        code="suspension.decision_date_required",
        statement=(
            "A suspension for a declaration sanction without the date of its "
            "decision is refused: the sanction takes effect from that date (a PIIS "
            "sanction's date comes from the PIIS service's decision)."
        ),
        source=f"{_ART30_1} (the sanction is a decision of the CPAS)",
        enforced_by=(f"{_BENEFICIARY}.suspend_income_payment",),
        tests=(
            f"{_ART30_TESTS}::test_art30_a_sanction_takes_effect_on_the_first_day_of_the_second_month",
        ),
        doc="docs/domain/sanctions.md#effect-on-the-first-day-of-the-second-month",
    ),
    Rule(
        code="suspension.piis_sanction_not_decided",
        statement=(
            "A suspension with the reason piis_sanction is recorded only from the "
            "PIIS service's decision (PiisSanctionDecided, after notice and "
            "hearing), never keyed in directly."
        ),
        source=f"{_ART30_2}: a PIIS sanction follows a formal notice",
        enforced_by=(f"{_BENEFICIARY}._decided_piis_sanction",),
        tests=(
            f"{_ART30_TESTS}::test_art30_par2_piis_sanction_without_a_decision_is_refused_even_for_a_month",
            "tests/integration/test_sanction_policy.py::test_art30_par2_piis_sanction_becomes_exactly_one_suspension_from_the_second_month",
        ),
        doc="docs/domain/sanctions.md#art-30-2-piis-sanction",
    ),
    Rule(
        code="suspension.sanction_already_executed",
        statement=(
            "A second suspension carrying out the same PIIS sanction decision is "
            "refused with 409: a decision suspends payment once."
        ),
        source=f"{_ART30_2} (one decision, one suspension)",
        enforced_by=(f"{_BENEFICIARY}._decided_piis_sanction",),
        tests=(
            f"{_ART30_TESTS}::test_art30_par2_a_decided_piis_sanction_is_carried_out_once",
        ),
        kind="conflict",
        doc="docs/domain/sanctions.md#art-30-2-piis-sanction",
    ),
    Rule(
        code="suspension.before_effect_date",
        statement=(
            "A sanction suspension starting before the first day of the second "
            "month after its decision is refused (decided on 15 November 2023, it "
            "takes effect on 1 January 2024)."
        ),
        source=(
            "SPP IS practice under the law of 26 May 2002 art. 30 (the legal text "
            "that fixes this start is not verified)"
        ),
        enforced_by=(f"{_SANCTIONS}:check_period", f"{_SANCTIONS}:effect_date"),
        tests=(
            f"{_ART30_TESTS}::test_art30_a_sanction_takes_effect_on_the_first_day_of_the_second_month",
        ),
        doc="docs/domain/sanctions.md#effect-on-the-first-day-of-the-second-month",
    ),
    Rule(
        code="suspension.too_long",
        statement=(
            "A sanction suspension longer than art. 30 allows on its decision date "
            "is refused: for a PIIS not respected at most 1 month, 3 on a repeat "
            "within twelve calendar months of an earlier one, the anniversary "
            "included (§2); for undeclared resources or a false declaration at most "
            "6 months, 12 with fraudulent intent, doubled on a repeat within three "
            "years (§1). Figures by date: services/common/data/law_figures.csv."
        ),
        source=f"{_ART30_1} and §2",
        enforced_by=(f"{_SANCTIONS}:check_period", f"{_SANCTIONS}:limit_for"),
        tests=(
            f"{_ART30_TESTS}::test_art30_par1_declaration_sanction_lasts_at_most_six_months",
            f"{_ART30_TESTS}::test_art30_par1_twelve_months_with_fraudulent_intent",
            f"{_ART30_TESTS}::test_art30_par1_a_decision_three_years_after_the_earlier_is_no_repeat",
        ),
        doc="docs/domain/sanctions.md#art-30-1-declaration-sanction",
    ),
    Rule(
        code="suspension.offence_date_required",
        statement=(
            "A declaration-sanction suspension that does not state the date of the "
            "omission or false declaration is refused: the two-year limit counts "
            "from it."
        ),
        source=f"{_ART30_1}, third paragraph",
        enforced_by=(f"{_SANCTIONS}:_check_time_limits",),
        tests=(f"{_ART30_TESTS}::test_art30_par1_needs_the_date_of_the_omission",),
        doc="docs/domain/sanctions.md#art-30-1-two-year-limits",
    ),
    Rule(
        code="suspension.offence_after_decision",
        statement=(
            "A declaration-sanction suspension whose omission or false declaration "
            "is dated after the decision is refused."
        ),
        source=f"Hub rule: a sanction follows the omission it punishes ({_ART30_1})",
        enforced_by=(f"{_SANCTIONS}:_check_time_limits",),
        tests=(
            f"{_ART30_TESTS}::test_art30_par1_the_omission_cannot_come_after_the_decision",
        ),
        doc="docs/domain/sanctions.md#art-30-1-two-year-limits",
    ),
    Rule(
        code="suspension.pronounced_too_late",
        statement=(
            "A declaration sanction decided more than two years (24 months) after "
            "the omission or false declaration is refused."
        ),
        source=f"{_ART30_1}, third paragraph",
        enforced_by=(f"{_SANCTIONS}:_check_time_limits",),
        tests=(
            f"{_ART30_TESTS}::test_art30_par1_not_pronounced_more_than_two_years_after_the_omission",
        ),
        doc="docs/domain/sanctions.md#art-30-1-two-year-limits",
    ),
    Rule(
        code="suspension.executed_too_late",
        statement=(
            "A declaration-sanction suspension starting more than two years (24 "
            "months) after the decision is refused. The law counts from the day the "
            "sanction became final; the hub counts from the decision."
        ),
        source=f"{_ART30_1}, third paragraph",
        enforced_by=(f"{_SANCTIONS}:_check_time_limits",),
        tests=(
            f"{_ART30_TESTS}::test_art30_par1_not_executed_more_than_two_years_after_the_decision",
        ),
        doc="docs/domain/sanctions.md#art-30-1-two-year-limits",
    ),
    Rule(
        code="income_right.category_3_needs_minor_child",
        statement=(
            "Category 3 (a family to support) is refused unless the household in "
            "force on the grant's or modification's effective date counts at least "
            "one dependent, unmarried child under 18."
        ),
        source="Law of 26 May 2002 art. 14 §1 3°; majority at 18 (Civil Code)",
        enforced_by=("services.intake.household:check_category",),
        tests=(
            "tests/intake/test_household.py::test_art14_category_3_refused_without_a_dependent_minor_child",
            "tests/intake/test_household.py::test_art14_par1_3_the_child_must_be_a_minor_on_the_effective_date",
        ),
        doc="docs/domain/households.md#category-3-family-with-a-minor-child",
    ),
    Rule(
        code="income_right.granted_above_category_amount",
        statement=(
            "The amount granted, when the person's resources are deducted (such as "
            "an article 60 §7 worker's complementary income), is at most the "
            "category's amount."
        ),
        source="Law of 26 May 2002 art. 14 and 16 (the articles are not verified)",
        enforced_by=(
            "services.intake.domain:Subsidised.fields",
            f"{_BENEFICIARY}.grant_income_right",
            f"{_BENEFICIARY}.modify_income_right",
        ),
        tests=(
            f"{_INCOME_TESTS}::test_art16_an_amount_granted_above_the_category_amount_is_refused",
        ),
        doc="docs/domain/federal-reporting.md#art-60-worker-with-a-complementary-income",
    ),
    Rule(
        code="income_right.category_2_not_alone",
        statement=(
            "Category 2 (living alone) is refused when a partner, a child or another "
            "member lives with the person on the effective date. No household "
            "recorded means living alone."
        ),
        source="Law of 26 May 2002 art. 14 §1 2°",
        enforced_by=("services.intake.household:check_category",),
        tests=(
            "tests/intake/test_household.py::test_art14_par1_2_category_2_refused_when_someone_lives_with_the_person",
        ),
        doc="docs/domain/households.md#category-2-living-alone",
    ),
    Rule(
        code="income_right.category_1_needs_household",
        statement=(
            "Category 1 (cohabitant) needs someone to share the household with on "
            "the effective date."
        ),
        source="Law of 26 May 2002 art. 14 §1 1°",
        enforced_by=("services.intake.household:check_category",),
        tests=(
            "tests/intake/test_household.py::test_art14_par1_1_category_1_refused_without_anyone_to_share_the_household",
            "tests/intake/test_household.py::test_the_category_is_checked_against_the_household_of_the_modifications_date",
        ),
        doc="docs/domain/households.md#category-1-cohabitant",
    ),
)
