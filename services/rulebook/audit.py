"""Rules of the audit area (see services/rulebook/__init__.py).

What the auditor's replay (``hub audit report``, ``GET /audit/report``) lists
beyond the services' own rules, which its control grid cites by their codes
(docs/audit/report.md, ADR 0024).
"""

from __future__ import annotations

from services.rulebook import Rule

_GRID_TESTS = "tests/audit/test_grid.py"

RULES: tuple[Rule, ...] = (
    Rule(
        code="audit.prolongation_motivation",
        statement=(
            "A prolongation of the PIIS subsidy (form-B code 17) needs a written "
            "motivation. The control grid lists every prolongation the subsidy "
            "ledger gives (it gives one only with a PIIS in force on the last day "
            "of the year before and a motivation recorded in that year) as met, "
            "with the motivation among its evidence; a PIIS the CPAS signed typing "
            "code 17 where the ledger gives no prolongation from its start is a "
            "finding, not due before a month of income."
        ),
        source=(
            "Law of 21 July 2016 (the special subsidy of 10 % of the integration "
            "income for a PIIS) and SPP IS's instructions: a prolongation after "
            "the first subsidy is motivated in writing"
        ),
        enforced_by=("services.audit.grid:_prolongations",),
        tests=(
            f"{_GRID_TESTS}::test_law_21_july_2016_a_prolongation_claimed_with_its_motivation_recorded_is_met",
            f"{_GRID_TESTS}::test_law_21_july_2016_a_prolongation_claimed_without_a_recorded_motivation_is_a_finding",
            f"{_GRID_TESTS}::test_law_21_july_2016_every_prolongation_the_ledger_gives_is_listed_with_its_motivation",
        ),
        kind="flag",
        doc="docs/domain/federal-reporting.md#first-subsidy-and-prolongation",
    ),
    Rule(
        code="audit.as_of_range",
        statement=(
            "An audit report is asked as of a date between 1 January 1900 and 31 "
            "December 2999. The replay counts every month's end up to that date "
            "and the law's deadlines after it; a date at the calendar's end would "
            "leave them no room."
        ),
        source="Hub rule (bounded input, ADR 0010 and ADR 0024)",
        enforced_by=("services.audit.report:AuditRun.of",),
        tests=(
            "tests/audit/test_run.py::test_an_audit_date_outside_the_years_1900_to_2999_is_refused",
        ),
        kind="input",
    ),
)
