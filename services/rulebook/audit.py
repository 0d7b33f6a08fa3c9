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
            "A PIIS whose special subsidy is claimed as a prolongation (form-B "
            "code 17) needs a written motivation of the prolongation. The hub "
            "records none, so the control grid lists every such PIIS as a line to "
            "check in the file, with its signature as evidence; it never says met."
        ),
        source=(
            "Law of 21 July 2016 (the special subsidy of 10 % of the integration "
            "income for a PIIS) and SPP IS's instructions: a prolongation after "
            "the first subsidy is motivated in writing"
        ),
        enforced_by=("services.audit.grid:control_grid",),
        tests=(
            f"{_GRID_TESTS}::test_law_21_july_2016_a_prolongation_subsidy_is_listed_to_check_its_written_motivation",
        ),
        kind="flag",
        doc="docs/domain/federal-reporting.md#first-subsidy-and-prolongation",
    ),
)
