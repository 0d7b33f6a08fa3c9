"""Rules of the input area (see services/rulebook/__init__.py).

Bounded text and well-formed bodies: what an API request or a partner message
must be before any rule of the law is looked at.
"""

from __future__ import annotations

from services.rulebook import Rule

_BOUNDED = "Hub rule: nothing is stored that the hub cannot carry, ADR 0010"
_BOUNDED_DOC = "docs/decisions/0010-bounded-input.md"
_PARTNER = (
    "Hub rule: a partner message is read by its partner's published vocabulary or "
    "kept for an operator with the reason, ADR 0009"
)
_GATEWAY_DOC = "docs/decisions/0009-partner-gateway.md"
_TEXT_TESTS = "tests/contracts/test_text.py"
_INBOUND_TESTS = "tests/partner_gateway/test_inbound_rejections.py"

RULES: tuple[Rule, ...] = (
    Rule(
        code="text.too_long",
        statement=(
            "A text longer than its field allows (in code points) is refused, naming "
            "the limit and the length, never the text. Events already stored are "
            "read without the bounds."
        ),
        source=_BOUNDED,
        enforced_by=("contracts.text:Text.check",),
        tests=(
            f"{_TEXT_TESTS}::test_a_text_longer_than_its_limit_is_refused_as_too_long",
            f"{_TEXT_TESTS}::test_history_is_read_without_the_bounds",
        ),
        kind="input",
        doc=_BOUNDED_DOC,
    ),
    Rule(
        code="text.control_character",
        statement=(
            "A one-line text with any control character, or a prose text with one "
            "other than tab, line feed and carriage return (a NUL included), is "
            "refused, naming the code point."
        ),
        source=_BOUNDED,
        enforced_by=("contracts.text:Text.check",),
        tests=(
            f"{_TEXT_TESTS}::test_a_one_line_text_with_any_control_character_is_refused_by_rule",
            f"{_TEXT_TESTS}::test_prose_refuses_every_control_character_but_tab_and_line_breaks",
        ),
        kind="input",
        doc=_BOUNDED_DOC,
    ),
    Rule(
        code="text.lone_surrogate",
        statement=(
            "A text holding a lone surrogate (U+D800 to U+DFFF), which is no "
            "character and cannot be stored as UTF-8, is refused."
        ),
        source=_BOUNDED,
        enforced_by=("contracts.text:Text.check",),
        tests=(f"{_TEXT_TESTS}::test_lone_surrogates_are_refused",),
        kind="input",
        doc=_BOUNDED_DOC,
    ),
    Rule(
        code="list.too_long",
        statement=(
            "A list with more items than its field allows is refused, naming the "
            "limit and the count."
        ),
        source=_BOUNDED,
        enforced_by=("contracts.text:Items.check",),
        tests=(
            f"{_TEXT_TESTS}::test_a_list_and_a_map_with_too_many_items_are_refused_by_rule",
            f"{_TEXT_TESTS}::test_items_bound_a_list_of_anything",
        ),
        kind="input",
        doc=_BOUNDED_DOC,
    ),
    Rule(
        code="map.too_long",
        statement=(
            "A map (such as a bilan's baseline scores) with more entries than its "
            "field allows is refused, naming the limit and the count."
        ),
        source=_BOUNDED,
        enforced_by=("contracts.text:Items.check",),
        tests=(
            f"{_TEXT_TESTS}::test_a_list_and_a_map_with_too_many_items_are_refused_by_rule",
        ),
        kind="input",
        doc=_BOUNDED_DOC,
    ),
    Rule(
        code="body.too_large",
        statement=(
            "A request body announced or growing larger than the cap "
            "(HUB_MAX_REQUEST_BYTES, 1 MiB by default) is refused with 413 as soon "
            "as it passes it; nothing more is read."
        ),
        source=_BOUNDED,
        enforced_by=("services.common.http:BoundedBody.__call__",),
        tests=(
            "tests/common/test_http.py::test_a_body_announced_over_the_cap_is_refused_unread",
            "tests/common/test_http.py::test_a_chunked_body_is_refused_once_it_grows_past_the_cap",
        ),
        kind="input",
        doc=_BOUNDED_DOC,
    ),
    Rule(
        code="json.too_deep",
        statement=(
            "A request body whose JSON nests deeper than the hub's limit (32 "
            "levels) is refused with 422 before any route reads it."
        ),
        source=_BOUNDED,
        enforced_by=("services.common.http:BoundedBody.__call__",),
        tests=("tests/common/test_http.py::test_a_body_nested_too_deeply_is_refused",),
        kind="input",
        doc=_BOUNDED_DOC,
    ),
    Rule(
        code="json.not_utf8",
        statement=(
            "An API request body that is not UTF-8 is refused with 422 (not "
            "FastAPI's 400), naming the byte where it stops being UTF-8."
        ),
        source="Hub rule: every answer declared and in the error shape, ADR 0015",
        enforced_by=("services.common.http:_http_error",),
        tests=(
            "tests/common/test_refusals.py::test_a_body_that_is_not_utf_8_is_refused_with_422_not_400",
        ),
        kind="input",
        doc="docs/decisions/0015-truthful-openapi.md",
    ),
    Rule(
        code="encoding.not_utf8",
        statement=(
            "A partner message whose body is not UTF-8 (accents in Latin-1 or "
            "Windows-1252, for instance) is parked with this reason, naming the "
            "byte, and answered 422."
        ),
        source=_PARTNER,
        enforced_by=("services.partner_gateway.vocabulary:_decode",),
        tests=(f"{_INBOUND_TESTS}::test_latin_1_accents_are_refused",),
        kind="parked",
        doc=_GATEWAY_DOC,
    ),
    Rule(
        code="payload.not_json",
        statement=(
            "A partner message that is not a JSON document (a syntax error, NaN or "
            "Infinity, or nesting deeper than the hub's JSON depth limit) is parked "
            "with this reason and answered 422."
        ),
        source=_PARTNER,
        enforced_by=("services.partner_gateway.vocabulary:_json_object",),
        tests=(
            f"{_INBOUND_TESTS}::test_a_payload_that_is_no_message_is_refused",
            f"{_INBOUND_TESTS}::test_a_payload_nested_too_deeply_is_refused_not_a_crash",
        ),
        kind="parked",
        doc=_GATEWAY_DOC,
    ),
    Rule(
        code="schema.invalid",
        statement=(
            "A partner message that breaks its JSON Schema (not an object, no "
            "message-type field, a field missing, not allowed, given twice, of the "
            "wrong type or out of range, an unknown code, a NISS or KBO number whose "
            "check digits fail, a decimal written as a string) is parked with this "
            "reason, naming the partner's field names but never their values."
        ),
        source=_PARTNER,
        enforced_by=(
            "services.partner_gateway.vocabulary:PartnerTranslator._vocabulary_of",
            "services.partner_gateway.vocabulary:_json_object",
            "services.partner_gateway.vocabulary:_refuse_local_formats",
            "services.partner_gateway.vocabulary:_schema_invalid",
        ),
        tests=(
            f"{_INBOUND_TESTS}::test_schema_violations_name_the_partner_field",
            f"{_INBOUND_TESTS}::test_a_field_given_twice_is_refused",
            f"{_INBOUND_TESTS}::test_a_field_name_that_could_be_a_niss_is_not_echoed",
        ),
        kind="parked",
        doc=_GATEWAY_DOC,
    ),
)
