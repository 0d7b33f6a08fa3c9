"""Rules of the access journal (see services/rulebook/__init__.py).

Every read over the APIs of what the hub holds about people is journalled
before it is answered (docs/decisions/0026-access-journal.md).
"""

from __future__ import annotations

from services.rulebook import Rule

_SOURCE = (
    "Hub rule: every read of a person's file is recorded with who read it and "
    "why, before it is answered, ADR 0026"
)
_DOC = "docs/decisions/0026-access-journal.md"
_TESTS = "tests/common/test_access_journal.py"

RULES: tuple[Rule, ...] = (
    Rule(
        code="journal.purpose",
        statement=(
            "The purpose a client states for a read, in the X-Purpose header, is "
            "1 to 200 printable ASCII characters, not only spaces, and names no "
            "person: no run of 11 digits (a national number, separators aside). "
            "Another is refused with 422 before anything is read; a read without "
            "the header is answered and journalled as stating none."
        ),
        source=_SOURCE,
        enforced_by=("services.common.journal:checked_purpose",),
        tests=(
            f"{_TESTS}::test_adr_0026_a_bad_purpose_is_refused_with_422_naming_the_header_and_the_rule",
            f"{_TESTS}::test_adr_0026_a_purpose_is_journalled_as_stated_and_none_stated_as_null",
        ),
        kind="input",
        doc=_DOC,
    ),
    Rule(
        code="journal.unavailable",
        statement=(
            "A read whose line the access journal cannot append is not answered: "
            "503 with Retry-After instead of the data. A refusal (which gives "
            "nothing) is answered as it is."
        ),
        source=_SOURCE,
        enforced_by=("services.common.journal:JournalGate",),
        tests=(
            f"{_TESTS}::test_adr_0026_a_read_the_journal_cannot_record_answers_503_not_the_data",
            f"{_TESTS}::test_adr_0026_an_api_without_the_journal_reads_nothing",
            "tests/integration/test_access_journal.py::test_adr_0026_a_read_whose_line_postgresql_refuses_is_answered_503_not_the_case",
        ),
        kind="service",
        doc=_DOC,
    ),
)
