"""Rules of the subsidy area: what the ledger says of each beneficiary-month.

The ledger (``services/case_state/subsidies.py``, ADR 0022) gives every month
of income the PIIS subsidy it carries and why, as one of these codes: flags
of the ledger, never refusals. Figures by date:
services/common/data/law_figures.csv.
"""

from __future__ import annotations

import datetime as dt

from services.rulebook import Rule

_LEDGER = "services.case_state.subsidies"
_TESTS = "tests/case_state/test_subsidies.py"
_DOC = "docs/domain/federal-reporting.md"
_PROLONGATION = f"{_DOC}#first-subsidy-and-prolongation"
_PRIMABOOK = (
    "SPP IS case practice (Primabook: first subsidy and prolongation of the PIIS "
    "subsidy of the law of 21 July 2016)"
)
_LAW_2016 = dt.date(2016, 11, 1)
_ENFORCED = (f"{_LEDGER}:ledger", f"{_LEDGER}:_lineages")
# The same periods put on SPP IS's form B (ADR 0021): one rule in one place.
_FORM_B = (
    f"{_LEDGER}:piis_code_periods",
    "services.partner_gateway.partners.spp_is:piis_code_form",
    "services.partner_gateway.federal_policy:FederalReportingPolicy._align",
)
_FORM_TESTS = "tests/partner_gateway/test_spp_is.py"
_INTEGRATION = "tests/integration/test_federal_forms.py"
_PERIODS = f"{_TESTS}::test_piis_code_periods_are_the_ledgers_months_law_21_july_2016"

RULES: tuple[Rule, ...] = (
    Rule(
        code="subsidy.piis_first_year",
        statement=(
            "A PIIS signed gives the first subsidy (form B code 11), 10% of the "
            "income granted, for twelve months from the first day of the month of "
            "signature, or from the grant's first day when the PIIS is signed in "
            "the month of the grant."
        ),
        source=(
            "Law of 21 July 2016 (the 10% subsidy); SPP IS FAQ on the date of the "
            "special subsidy; " + _PRIMABOOK
        ),
        enforced_by=(*_ENFORCED, *_FORM_B),
        tests=(
            f"{_TESTS}::test_piis_first_year_code_11_from_the_month_of_signature_law_21_july_2016",
            f"{_TESTS}::test_piis_signed_in_the_month_of_the_grant_counts_from_the_grant_spp_is_faq",
            _PERIODS,
            f"{_FORM_TESTS}::test_law_21_july_2016_a_piis_typed_17_at_its_first_signature_is_code_11_on_form_b",
            f"{_FORM_TESTS}::test_spp_is_piis_subsidy_starts_the_first_day_of_the_month_of_signature",
        ),
        kind="flag",
        doc=f"{_DOC}#subsidy-start-date",
        applies_from=_LAW_2016,
    ),
    Rule(
        code="subsidy.piis_prolongation",
        statement=(
            "After the first year, the subsidy is prolonged (form B code 17) for "
            "another year when a PIIS of the household is in force on the last day "
            "of the year before and a written motivation was given in it (at an "
            "evaluation); it counts the days a PIIS is in force."
        ),
        source=_PRIMABOOK,
        enforced_by=(*_ENFORCED, *_FORM_B),
        tests=(
            f"{_TESTS}::test_piis_prolongation_code_17_with_written_motivation_spp_is_primabook",
            _PERIODS,
            f"{_FORM_TESTS}::test_law_21_july_2016_prolongation_form_b_code_17_from_the_first_day_after_the_first_year",
            f"{_FORM_TESTS}::test_law_21_july_2016_a_modification_carries_the_code_of_its_date",
            f"{_FORM_TESTS}::test_spp_is_faq_a_partners_piis_gives_the_household_its_code_on_form_b",
            f"{_INTEGRATION}::test_law_21_july_2016_the_piis_code_of_form_b_follows_the_subsidy_through_the_store",
        ),
        kind="flag",
        doc=_PROLONGATION,
        applies_from=_LAW_2016,
    ),
    Rule(
        code="subsidy.prolongation_without_motivation",
        statement=(
            "No prolongation (code 17) without a written motivation given in the "
            "year before: the subsidy stops after its year."
        ),
        source=_PRIMABOOK,
        enforced_by=_ENFORCED,
        tests=(
            f"{_TESTS}::test_piis_prolongation_without_motivation_is_not_due_spp_is_primabook",
            f"{_TESTS}::test_piis_first_year_code_11_from_the_month_of_signature_law_21_july_2016",
        ),
        kind="flag",
        doc=_PROLONGATION,
        applies_from=_LAW_2016,
    ),
    Rule(
        code="subsidy.prolongation_no_piis_on_last_day",
        statement=(
            "No prolongation (code 17) when no PIIS of the household is in force on "
            "the last day of the year before (one ended earlier)."
        ),
        source=_PRIMABOOK,
        enforced_by=(*_ENFORCED, *_FORM_B),
        tests=(
            f"{_TESTS}::test_piis_ended_before_the_last_day_of_the_first_period_no_prolongation",
            f"{_FORM_TESTS}::test_law_21_july_2016_a_piis_ended_before_the_last_day_of_the_first_year_gets_no_17",
            f"{_FORM_TESTS}::test_law_21_july_2016_code_17_sent_then_piis_ended_before_the_last_day_is_corrected",
        ),
        kind="flag",
        doc=_PROLONGATION,
        applies_from=_LAW_2016,
    ),
    Rule(
        code="subsidy.prolongation_piis_ended",
        statement=(
            "A prolongation counts only the days a PIIS of the household is in "
            "force: once it has ended, the month carries no code 17."
        ),
        source=_PRIMABOOK + "; the hub's reading of a prolonged PIIS",
        enforced_by=(f"{_LEDGER}:ledger", *_FORM_B),
        tests=(
            f"{_TESTS}::test_piis_prolongation_counts_only_the_days_a_piis_is_in_force",
            _PERIODS,
            f"{_FORM_TESTS}::test_law_21_july_2016_a_piis_ended_during_the_prolongation_ends_code_17",
        ),
        kind="flag",
        doc=_PROLONGATION,
        applies_from=_LAW_2016,
    ),
    Rule(
        code="subsidy.lost_after_interruption",
        statement=(
            "After an interruption of the income of more than three months the "
            "subsidy is lost until a new PIIS is signed, which opens a new first "
            "year; a shorter interruption keeps it."
        ),
        source=_PRIMABOOK,
        enforced_by=_ENFORCED,
        tests=(
            f"{_TESTS}::test_piis_subsidy_lost_after_interruption_over_three_months_spp_is_primabook",
            f"{_TESTS}::test_piis_subsidy_kept_after_interruption_of_three_months_or_less",
        ),
        kind="flag",
        doc=_PROLONGATION,
        applies_from=_LAW_2016,
    ),
    Rule(
        code="subsidy.compulsory_piis_missing",
        statement=(
            "When a PIIS the grant makes compulsory (for the beneficiary or a "
            "partner with a case at the CPAS) is neither signed nor exempted once "
            "the three months of the law are over, the 10% counted on that grant "
            "is recovered, every month of it."
        ),
        source=(
            "SPP IS FAQ on the household rate of a couple with children; law of 26 "
            "May 2002 art. 11 (the three months)"
        ),
        enforced_by=(f"{_LEDGER}:_missing", f"{_LEDGER}:ledger"),
        tests=(
            f"{_TESTS}::test_piis_subsidy_recovered_when_a_compulsory_piis_is_missing_spp_is_faq",
        ),
        kind="flag",
        doc=f"{_DOC}#subsidy-recovered-when-a-compulsory-piis-is-missing",
        applies_from=_LAW_2016,
    ),
    Rule(
        code="subsidy.no_piis",
        statement=(
            "A month of income with no PIIS of the household signed yet carries no "
            "PIIS subsidy (the State still reimburses the income)."
        ),
        source="Law of 21 July 2016 (the subsidy follows a PIIS)",
        enforced_by=(f"{_LEDGER}:ledger",),
        tests=(
            f"{_TESTS}::test_piis_first_year_code_11_from_the_month_of_signature_law_21_july_2016",
        ),
        kind="flag",
        doc=f"{_DOC}#piis-10-percent-subsidy",
    ),
    Rule(
        code="subsidy.too_many_months",
        statement=(
            "A ledger gives at most 240 months of a case at once (the months from "
            "its first income, or from_month, to as_of's or to_month): a longer "
            "range is refused with 422; ask for a range of months."
        ),
        source="Hub rule: bounded answers, ADR 0022 (and ADR 0010)",
        enforced_by=(f"{_LEDGER}:ledger",),
        tests=(
            f"{_TESTS}::test_a_ledger_of_more_than_twenty_years_of_months_at_once_is_refused",
        ),
        doc="docs/domain/federal-reporting.md#subsidy-ledger",
    ),
)
