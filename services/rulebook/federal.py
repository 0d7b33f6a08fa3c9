"""Rules of the federal reporting area (see services/rulebook/__init__.py).

The forms B, C and D the gateway sends to SPP IS, and SPP IS's answers
(docs/domain/federal-reporting.md, docs/partners/spp-is.md, ADR 0021).
"""

from __future__ import annotations

import datetime as dt

from services.rulebook import Rule

_FORMS = "SPP IS, forms B, C and D of the law of 26 May 2002 (Primabook)"
_DOC = "docs/domain/federal-reporting.md"
_ADR = "docs/decisions/0021-spp-is-forms.md"
_TESTS = "tests/partner_gateway/test_spp_is.py"
_TRANSPORT_TESTS = "tests/partner_gateway/test_spp_is_transport.py"
_FILE = "services.partner_gateway.federal:FederalFile"
_SPP_IS = "services.partner_gateway.partners.spp_is"
_REFORM = dt.date(2016, 11, 1)

RULES: tuple[Rule, ...] = (
    Rule(
        code="federal_form.niss_missing",
        statement=(
            "A form to SPP IS (B, C or D) is never made without the person's NISS "
            "or BIS number: it is refused before it is submitted."
        ),
        source=f"{_FORMS}: the NISS is compulsory; a person without one gets a "
        "BIS number from the BCSS first",
        enforced_by=(f"{_SPP_IS}:_identified",),
        tests=(
            f"{_TESTS}::test_spp_is_every_form_has_a_niss_a_form_without_one_is_refused",
        ),
        doc=f"{_DOC}#every-form-has-a-niss",
    ),
    Rule(
        code="federal_form.correction_status",
        statement=(
            "A form B with the effective date of a form B SPP IS holds is a "
            "correction (notice status 1) that replaces it; with another date it is "
            "a new form B (status 0). A form whose status disagrees is refused."
        ),
        source=f"{_FORMS}: status code 1 = correction, which replaces the earlier "
        "form B with the same effective date",
        enforced_by=(f"{_FILE}._check",),
        tests=(
            f"{_TESTS}::test_spp_is_form_b_status_0_with_the_date_of_a_held_form_b_is_refused",
            f"{_TESTS}::test_spp_is_form_b_correction_keeps_the_effective_date_with_status_1",
        ),
        doc=f"{_DOC}#form-b-correction",
    ),
    Rule(
        code="federal_form.c_without_b",
        statement=(
            "A form C withdrawing the income names exactly one form B that SPP IS "
            "holds (neither rejected nor replaced); otherwise it is refused."
        ),
        source=f"{_FORMS}: a form C refers to exactly one form B",
        enforced_by=(f"{_FILE}._check",),
        tests=(f"{_TESTS}::test_spp_is_form_c_without_a_form_b_is_refused",),
        doc=f"{_DOC}#form-c",
    ),
    Rule(
        code="federal_form.d_sequence",
        statement=(
            "The forms D of one month and person are numbered 1, 2, … in the "
            "order they are sent; a form D with another number is refused."
        ),
        source=f"{_FORMS}: a sequence number per month of recovery and person",
        enforced_by=(f"{_FILE}._check",),
        tests=(f"{_TESTS}::test_spp_is_form_d_numbers_the_forms_of_a_month_from_1",),
        doc=f"{_DOC}#form-d",
    ),
    Rule(
        code="federal_form.piis_code_unknown",
        statement=(
            "A PIIS subsidy code that is not a code of form B (1 to 12, 15, 17) is "
            "refused when the form B is made."
        ),
        source=f"{_FORMS}: the list of PIIS codes of form B",
        enforced_by=(f"{_SPP_IS}:piis_code_on",),
        tests=(f"{_TESTS}::test_spp_is_piis_code_that_is_no_form_b_code_is_refused",),
        doc=f"{_DOC}#piis-codes-on-form-b",
    ),
    Rule(
        code="federal_form.piis_code_not_in_force",
        statement=(
            "A PIIS code is taken only for an effective date on which SPP IS uses "
            "it: codes 1 to 7 until 31 October 2016, 11 and 17 from 1 November "
            "2016, 12 and 15 until 30 September 2018, 8 to 10 throughout."
        ),
        source="Law of 21 July 2016 (the special PIIS subsidy from 1 November "
        f"2016) and {_FORMS}: the PIIS codes and their dates",
        enforced_by=(f"{_SPP_IS}:piis_code_on",),
        tests=(
            f"{_TESTS}::test_law_of_21_july_2016_piis_code_not_in_use_on_the_date_is_refused",
            f"{_TESTS}::test_spp_is_piis_code_in_use_on_the_effective_date_is_taken",
        ),
        doc=f"{_DOC}#piis-codes-on-form-b",
        applies_from=_REFORM,
    ),
    Rule(
        code="federal_form.unknown",
        statement=(
            "An SPP IS answer about a form the case never submitted (or from "
            "another CPAS) is not recorded; the gateway keeps it for an operator."
        ),
        source="Hub rule: an answer applies to the form it names, ADR 0021",
        enforced_by=(f"{_FILE}.answer",),
        tests=(f"{_TESTS}::test_an_answer_about_a_form_never_submitted_is_refused",),
        kind="parked",
        doc=_ADR,
    ),
    Rule(
        code="federal_form.already_answered",
        statement=(
            "A form SPP IS already accepted or rejected takes no other answer; the "
            "same answer again (same answer id, same result, date and reason) is a "
            "duplicate, the same answer id saying something else is refused too. "
            "A form sent again is a new form with its own id."
        ),
        source="Hub rule: a form's fate is recorded once, ADR 0021",
        enforced_by=(f"{_FILE}.answer",),
        tests=(
            f"{_TESTS}::test_an_answer_twice_is_recorded_once_and_another_answer_is_refused",
            f"{_TRANSPORT_TESTS}::test_adr0021_the_same_answer_id_saying_something_else_is_a_conflict",
        ),
        kind="conflict",
        doc=_ADR,
    ),
    Rule(
        code="federal_form.digest_mismatch",
        statement=(
            "A submitted form goes to SPP IS only as the wire JSON whose SHA-256 "
            "the federal file recorded: made again from the event, a payload with "
            "another digest is not put on the outbox (the event is parked)."
        ),
        source="Hub rule: what leaves the hub is what the federal file says was "
        "sent, so that an inspector can check it, ADR 0021",
        enforced_by=(f"{_SPP_IS}:sent_payload",),
        tests=(
            f"{_TRANSPORT_TESTS}::test_adr0021_a_form_is_sent_only_as_the_payload_whose_sha256_the_file_keeps",
        ),
        kind="parked",
        doc=_ADR,
    ),
    Rule(
        code="federal_form.answer_too_large",
        statement=(
            "An SPP IS acknowledgement larger than 64 KiB is not read: it is kept "
            "as a dead letter with this rule, and the other answers flow on."
        ),
        source="Hub rule: input is bounded (ADR 0010); an acknowledgement is a "
        "few hundred bytes, ADR 0021",
        enforced_by=(f"{_SPP_IS}:parse_answer",),
        tests=(
            f"{_TRANSPORT_TESTS}::test_spp_is_answer_larger_than_an_acknowledgement_is_not_read",
        ),
        kind="parked",
        doc="docs/partners/spp-is.md#transport",
    ),
    Rule(
        code="federal_form.cpas_ins_code_missing",
        statement=(
            "An event of a CPAS whose INS code is not configured "
            "(HUB_CPAS_INS_CODES) makes no form: it is parked with this rule and "
            "re-driven once the code is configured."
        ),
        source=f"{_FORMS}: every form names the CPAS's municipality by its INS code",
        enforced_by=(
            "services.partner_gateway.federal_policy:FederalReportingPolicy.react",
        ),
        tests=(
            f"{_TESTS}::test_spp_is_form_of_a_cpas_without_its_ins_code_is_parked_with_the_rule",
        ),
        kind="parked",
        doc="docs/domain/identifiers.md#ins-municipality-code",
    ),
    Rule(
        code="ins_code.format",
        statement="The INS/NIS code of the CPAS's municipality is 5 digits.",
        source="Statbel's REFNIS codes, named on every SPP IS form with the KBO",
        enforced_by=("services.intake.regions:check_ins_code",),
        tests=(
            f"{_TESTS}::test_spp_is_form_names_the_cpas_by_a_municipality_ins_code",
        ),
        doc="docs/domain/identifiers.md#ins-municipality-code",
    ),
    Rule(
        code="ins_code.unknown",
        statement=(
            "The INS/NIS code of the CPAS's municipality is one of a current "
            "municipality (the postal-code table's)."
        ),
        source="Statbel's REFNIS codes, named on every SPP IS form with the KBO",
        enforced_by=("services.intake.regions:check_ins_code",),
        tests=(
            f"{_TESTS}::test_spp_is_form_names_the_cpas_by_a_municipality_ins_code",
        ),
        doc="docs/domain/identifiers.md#ins-municipality-code",
    ),
)
