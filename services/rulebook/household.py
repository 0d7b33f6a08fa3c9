"""Rules of the household area: who lives with the person, moves and transfers.

A household is recorded from a date (partners, dependent children, others);
the income category is judged against it. A move changes the region, and so
the partner who follows the person, from its date; a transfer hands the case to
another CPAS with its history (ADR 0017).
"""

from __future__ import annotations

from services.rulebook import Rule

_HOUSEHOLD = "services.intake.household"
_BENEFICIARY = "services.intake.domain:Beneficiary"
_HOUSEHOLD_TESTS = "tests/intake/test_household.py"
_MOVES_TESTS = "tests/intake/test_moves.py"
_HOUSEHOLD_DOC = "docs/domain/households.md#category-is-not-household-composition"
_MOVES_DOC = "docs/domain/partners.md#people-who-move"
_ADR = "Hub rule: the household and moves are recorded in date order, ADR 0017"

RULES: tuple[Rule, ...] = (
    Rule(
        code="household.partner_case_unknown",
        statement=(
            "A partner named by a case id must have a case at the person's own CPAS."
        ),
        source=_ADR,
        enforced_by=(f"{_HOUSEHOLD}:resolve_partners",),
        tests=(
            f"{_HOUSEHOLD_TESTS}::test_a_partner_the_hub_cannot_place_is_refused",
            f"{_HOUSEHOLD_TESTS}::test_a_partner_is_another_person_of_the_same_cpas",
        ),
        doc=_HOUSEHOLD_DOC,
    ),
    Rule(
        code="household.partner_is_the_person",
        statement="A partner is someone other than the person whose case it is.",
        source=_ADR,
        enforced_by=(f"{_HOUSEHOLD}:resolve_partners",),
        tests=(
            f"{_HOUSEHOLD_TESTS}::test_a_partner_is_another_person_of_the_same_cpas",
        ),
        doc=_HOUSEHOLD_DOC,
    ),
    Rule(
        code="household.partner_birth_date_required",
        statement=(
            "A partner without a case at the CPAS is given by birth date: the "
            "partner's own age decides whether a PIIS is compulsory for them."
        ),
        source="Law of 26 May 2002 art. 11 (the obligation is decided per person)",
        enforced_by=(f"{_HOUSEHOLD}:resolve_partners",),
        tests=(f"{_HOUSEHOLD_TESTS}::test_a_partner_the_hub_cannot_place_is_refused",),
        doc="docs/domain/households.md#couples-the-piis-obligation-is-per-person",
    ),
    Rule(
        code="household.partner_birth_date_mismatch",
        statement=(
            "A birth date given for a partner who has a case must be the one that "
            "case records."
        ),
        source=_ADR,
        enforced_by=(f"{_HOUSEHOLD}:resolve_partners",),
        tests=(
            f"{_HOUSEHOLD_TESTS}::test_a_partner_is_another_person_of_the_same_cpas",
        ),
        doc=_HOUSEHOLD_DOC,
    ),
    Rule(
        code="household.member_not_born",
        statement=(
            "No member of a household may be born after the date the household "
            "is recorded from."
        ),
        source=_ADR,
        enforced_by=(f"{_HOUSEHOLD}:check_born",),
        tests=(
            f"{_HOUSEHOLD_TESTS}::test_a_child_born_after_the_households_date_is_refused",
        ),
        doc=_HOUSEHOLD_DOC,
    ),
    Rule(
        code="residence.in_future",
        statement="A move is recorded once it happened: a date after today is refused.",
        source=_ADR,
        enforced_by=(f"{_BENEFICIARY}.move", f"{_BENEFICIARY}._in_date_order"),
        tests=(
            f"{_MOVES_TESTS}::test_a_move_that_breaks_a_rule_is_refused_and_stores_nothing",
        ),
        doc=_MOVES_DOC,
    ),
    Rule(
        code="residence.before_current_address",
        statement=(
            "Moves and transfers are recorded in the order they happened: a move "
            "dated before the current residence or CPAS took effect is refused."
        ),
        source=_ADR,
        enforced_by=(f"{_BENEFICIARY}.move", f"{_BENEFICIARY}._in_date_order"),
        tests=(f"{_MOVES_TESTS}::test_moves_are_recorded_in_date_order",),
        doc=_MOVES_DOC,
    ),
    Rule(
        code="residence.unchanged",
        statement="A move to the postal code the person already lives at is refused.",
        source=_ADR,
        enforced_by=(f"{_BENEFICIARY}.move",),
        tests=(
            f"{_MOVES_TESTS}::test_a_move_that_breaks_a_rule_is_refused_and_stores_nothing",
        ),
        doc=_MOVES_DOC,
    ),
    Rule(
        code="transfer.same_cpas",
        statement="A transfer to the CPAS the case is already at is refused.",
        source=_ADR,
        enforced_by=(f"{_BENEFICIARY}.transfer",),
        tests=(
            f"{_MOVES_TESTS}::test_a_transfer_that_breaks_a_rule_is_refused_and_stores_nothing",
        ),
        doc=_MOVES_DOC,
    ),
    Rule(
        code="transfer.income_right_active",
        statement=(
            "A case is not transferred while the income right its CPAS granted is "
            "active: that CPAS withdraws it and the CPAS now competent decides its "
            "own grant."
        ),
        source=(
            "Law of 2 April 1965 art. 1: the competent CPAS is that of the person's "
            "usual residence"
        ),
        enforced_by=(f"{_BENEFICIARY}.transfer",),
        tests=(
            f"{_MOVES_TESTS}::test_law_2_april_1965_art1_no_transfer_while_this_cpas_income_right_is_active",
        ),
        doc=_MOVES_DOC,
    ),
    Rule(
        code="transfer.in_future",
        statement="A transfer is recorded once it happened: a date after today is refused.",
        source=_ADR,
        enforced_by=(f"{_BENEFICIARY}.transfer", f"{_BENEFICIARY}._in_date_order"),
        tests=(
            f"{_MOVES_TESTS}::test_a_transfer_that_breaks_a_rule_is_refused_and_stores_nothing",
        ),
        doc=_MOVES_DOC,
    ),
    Rule(
        code="transfer.before_current_address",
        statement=(
            "A transfer dated before the current residence or CPAS took effect is "
            "refused: moves and transfers are recorded in the order they happened."
        ),
        source=_ADR,
        enforced_by=(f"{_BENEFICIARY}.transfer", f"{_BENEFICIARY}._in_date_order"),
        tests=(
            f"{_MOVES_TESTS}::test_a_transfer_that_breaks_a_rule_is_refused_and_stores_nothing",
        ),
        doc=_MOVES_DOC,
    ),
    Rule(
        code="transfer.person_has_case_there",
        statement=(
            "A case is not transferred to a CPAS where the person already has "
            "another case: one case per person and CPAS (409)."
        ),
        source="Hub rule: one case per person and CPAS (SPP IS form A)",
        enforced_by=("services.intake.application:IntakeApplication.transfer_case",),
        tests=(
            f"{_MOVES_TESTS}::test_a_transfer_where_the_person_has_another_case_is_refused",
        ),
        kind="conflict",
        doc="docs/domain/identifiers.md#one-case-per-person-and-cpas",
    ),
)
