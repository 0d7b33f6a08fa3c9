"""Rules of the intake area (see services/rulebook/__init__.py).

Who a case is for: one case per person and CPAS, its file number, its region
of residence, its bilan, and the partner messages about people without one.
"""

from __future__ import annotations

from services.rulebook import Rule

_GATEWAY_FLOW = "tests/integration/test_gateway_flow.py::test_partners_exchange_with_the_hub_both_ways"

RULES: tuple[Rule, ...] = (
    Rule(
        code="beneficiary.duplicate",
        statement=(
            "A registration of a person (NISS) who already has a case at the CPAS, "
            "registered there or transferred to it, is refused with 409, naming "
            "that case; the same person may have a case at another CPAS."
        ),
        source=(
            "Hub rule: one case per person and CPAS, the case id derived from the "
            "CPAS's KBO number and the NISS under a secret (SPP IS form A: one file "
            "per person at a CPAS)"
        ),
        enforced_by=(
            "services.intake.domain:Beneficiary.register",
            "services.intake.domain:DuplicateRegistrationError",
        ),
        tests=(
            "tests/intake/test_application.py::test_a_second_registration_of_the_same_person_is_refused",
            "tests/integration/test_intake_http.py::test_a_duplicate_registration_is_refused_with_409",
        ),
        kind="conflict",
        doc="docs/domain/identifiers.md#one-case-per-person-and-cpas",
    ),
    Rule(
        code="dossier_number.reused",
        statement=(
            "A CPAS file number already given to a case of that CPAS, at a "
            "registration or a transfer, is refused with 409; look-alike numbers "
            "(separators, case, leading zeros) are the same number."
        ),
        source=(
            "SPP IS, form A under the law of 2 April 1965 (Primabook): a file number "
            "is unique and never reused"
        ),
        enforced_by=(
            "services.intake.application:IntakeApplication._claim_number",
            "services.intake.domain:DossierNumberTakenError",
        ),
        tests=(
            "tests/intake/test_application.py::test_file_numbers_that_differ_by_separators_or_leading_zeros_collide",
            "tests/integration/test_intake_http.py::test_a_reused_file_number_is_refused_with_409",
        ),
        kind="conflict",
        doc="docs/domain/identifiers.md#cpas-file-number",
    ),
    Rule(
        code="postal_code.format",
        statement=(
            "A postal code that is not four digits (optionally after B- or BE-) is "
            "refused, without repeating it."
        ),
        source=(
            "Hub rule: the region of residence, and so the employment service, "
            "follows from the Belgian postal code"
        ),
        enforced_by=("services.intake.regions:residence_for_postal_code",),
        tests=(
            "tests/intake/test_regions.py::test_a_malformed_code_is_refused_without_echoing_it",
        ),
        kind="input",
        doc="docs/domain/partners.md#region-from-the-postal-code",
    ),
    Rule(
        code="postal_code.unknown",
        statement=(
            "A four-digit code that is no current Belgian postal code (the table "
            "services/intake/data/postal_codes.csv) is refused."
        ),
        source=(
            "Hub rule: the region of residence, and so the employment service, "
            "follows from the Belgian postal code"
        ),
        enforced_by=("services.intake.regions:residence_for_postal_code",),
        tests=("tests/intake/test_regions.py::test_an_unknown_code_is_refused",),
        kind="input",
        doc="docs/domain/partners.md#region-from-the-postal-code",
    ),
    Rule(
        code="bilan.future_date",
        statement="A bilan dated after the command's date is refused.",
        source=(
            "Hub rule: a bilan records an assessment made (royal decree of 11 July "
            "2002 art. 11 §1: the needs are assessed before the PIIS)"
        ),
        enforced_by=("services.intake.domain:Beneficiary.complete_bilan",),
        tests=(
            "tests/intake/test_application.py::test_a_bilan_in_the_future_is_refused",
        ),
        doc="docs/domain/income-right.md#bilan-before-the-piis",
    ),
    Rule(
        code="beneficiary.unknown",
        statement=(
            "A valid partner message about a person no case of that CPAS has (by "
            "NISS and KBO number) is parked for an operator with this reason and "
            "answered 422: the gateway never creates a case (register the person at "
            "intake, then re-drive the message)."
        ),
        source="Hub rule: cases are opened at intake only, ADR 0009",
        enforced_by=("services.partner_gateway.inbound:InboundDesk._receive",),
        tests=(_GATEWAY_FLOW,),
        kind="parked",
        doc="docs/domain/partners.md#messages-about-another-region",
    ),
    Rule(
        code="beneficiary.other_region",
        statement=(
            "A valid partner message about a person whose region another partner "
            "serves (a VDAB message about a resident of Liège) is parked with this "
            "reason and not applied; the partner is answered as for an unknown "
            "person (beneficiary.unknown), so it learns nothing of where a NISS is a "
            "CPAS client."
        ),
        source=(
            "Hub rule: each partner speaks only for the people of its region "
            "(employment policy is regional), ADR 0009"
        ),
        enforced_by=("services.partner_gateway.inbound:InboundDesk._receive",),
        tests=(_GATEWAY_FLOW,),
        kind="parked",
        doc="docs/domain/partners.md#messages-about-another-region",
    ),
)
