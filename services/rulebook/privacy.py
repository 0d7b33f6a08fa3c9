"""Rules of the personal-data area (see services/rulebook/__init__.py).

Erasure of a person's file: when it may happen, and what it needs.
"""

from __future__ import annotations

from services.rulebook import Rule

_ADR = (
    "Hub rule: a file is erased after the retention period the CPAS sets, or "
    "before it when forced with a reason, ADR 0023"
)
_DOC = "docs/decisions/0023-envelope-encryption.md"
_ERASE = "services.erasure:erase_person"
_TESTS = "tests/integration/test_erasure.py"
_ROUTE_TESTS = "tests/intake/test_erasure_route.py"
_WHOLE = (
    f"{_TESTS}::test_an_erased_person_is_gone_everywhere_and_everything_else_stands"
)

RULES: tuple[Rule, ...] = (
    Rule(
        code="erasure.unknown_case",
        statement="An erasure of a person the CPAS has no file of is refused.",
        source=_ADR,
        enforced_by=(_ERASE,),
        tests=(f"{_TESTS}::test_an_erasure_names_its_field_and_rule_when_refused",),
        doc=_DOC,
    ),
    Rule(
        code="erasure.case_elsewhere",
        statement=(
            "A file transferred to another CPAS is erased by that CPAS, which now "
            "keeps it, not by the former one."
        ),
        source=_ADR,
        enforced_by=(_ERASE,),
        tests=(f"{_TESTS}::test_an_erasure_names_its_field_and_rule_when_refused",),
        doc=_DOC,
    ),
    Rule(
        code="erasure.within_retention",
        statement=(
            "A file is not erased before its retention period "
            "(HUB_ERASURE_RETENTION_YEARS from its last stored event) has ended, "
            "unless the erasure is forced."
        ),
        source=_ADR,
        enforced_by=(f"{_ERASE}", "services.erasure:_reason"),
        tests=(_WHOLE,),
        doc=_DOC,
    ),
    Rule(
        code="erasure.reason_required",
        statement=(
            "An erasure forced before the end of the retention period states its "
            "reason: the person's request, a court order, or a file registered in "
            "error."
        ),
        source=_ADR,
        enforced_by=("services.erasure:_reason",),
        tests=(_WHOLE,),
        doc=_DOC,
    ),
    Rule(
        code="erasure.reason_unknown",
        statement="An erasure's reason is one of the hub's reason codes, never text.",
        source=_ADR,
        enforced_by=("services.erasure:_reason",),
        tests=(f"{_TESTS}::test_an_erasure_names_its_field_and_rule_when_refused",),
        kind="input",
        doc=_DOC,
    ),
    Rule(
        code="erasure.reference_names_a_person",
        statement=(
            "The CPAS's reference of an erasure decision names no person: a run "
            "of 11 digits (a national number, separators aside) is refused, "
            "since the erasure event outlives the person's key."
        ),
        source=_ADR,
        enforced_by=("services.erasure:erase_person",),
        tests=(
            f"{_ROUTE_TESTS}::test_adr_0023_a_reference_that_holds_a_national_number_is_refused",
        ),
        kind="input",
        doc=_DOC,
    ),
    Rule(
        code="erasure.unavailable",
        statement=(
            "An erasure asked of a process that cannot erase (an API built "
            "without the erasure) is answered 503: `hub erase` does it."
        ),
        source=_ADR,
        enforced_by=("services.intake.erasure_api:erasure_router",),
        tests=(
            "tests/intake/test_erasure_route.py::test_adr_0023_an_api_that_cannot_erase_says_so",
        ),
        kind="service",
        doc=_DOC,
    ),
    Rule(
        code="case.erased",
        statement=(
            "A command that would record new personal data of a person whose file "
            "was erased is refused with 410: nothing is sealed for them again."
        ),
        source=_ADR,
        enforced_by=(
            "services.common.vault:Vault.seal_bytes",
            "services.common.http:_erased",
        ),
        tests=(
            "tests/common/test_vault.py::test_adr_0023_an_erased_persons_event_decodes_without_its_personal_data",
            "tests/intake/test_erasure_route.py::test_adr_0023_a_command_for_an_erased_person_is_gone",
        ),
        kind="refusal",
        doc=_DOC,
    ),
)
