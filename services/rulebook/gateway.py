"""Rules of the gateway area (see services/rulebook/__init__.py).

What the partner gateway does with a partner's message that it cannot apply:
refuse it at the door, or keep it (parked or held) for an operator, with the
rule as its reason; nothing it keeps is stuck (ADR 0009, ADR 0014).
"""

from __future__ import annotations

from services.rulebook import Rule

_VOCABULARY = (
    "Hub rule: a partner writes in its own published vocabulary and language, ADR 0009"
)
_ORDER = (
    "Hub rule: a partner's messages about a person apply once and in their "
    "sequence order, ADR 0009"
)
_GATEWAY_DOC = "docs/decisions/0009-partner-gateway.md"
_INBOUND_TESTS = "tests/partner_gateway/test_inbound_rejections.py"
_FILE_TESTS = "tests/partner_gateway/test_partner_file.py"
_HELD_TESTS = "tests/integration/test_partner_held_sweep.py"

RULES: tuple[Rule, ...] = (
    Rule(
        code="partner.unknown",
        statement=(
            "A message posted under a partner code the hub does not have is refused "
            "with 404, without repeating the code."
        ),
        source="Hub rule: the gateway speaks with the partners it has a vocabulary for, ADR 0009",
        enforced_by=("services.partner_gateway.api:create_api",),
        tests=(
            "tests/common/test_refusals.py::test_an_unknown_partner_code_is_not_echoed",
        ),
        kind="input",
        doc=_GATEWAY_DOC,
    ),
    Rule(
        code="message_type.unknown",
        statement=(
            "A partner message whose type is not one that partner sends in this "
            "version of its format is parked with this reason, naming the types "
            "expected."
        ),
        source=_VOCABULARY,
        enforced_by=("services.partner_gateway.vocabulary:PartnerTranslator._kind_of",),
        tests=(f"{_INBOUND_TESTS}::test_a_payload_that_is_no_message_is_refused",),
        kind="parked",
        doc=_GATEWAY_DOC,
    ),
    Rule(
        code="language.wrong",
        statement=(
            "A partner message using field names of another vocabulary (another "
            "language's, e.g. Dutch names sent to a French-speaking adapter, or "
            "another partner's) is parked with this reason, naming those fields."
        ),
        source=_VOCABULARY,
        enforced_by=(
            "services.partner_gateway.vocabulary:PartnerTranslator._refuse_foreign",
        ),
        tests=(
            f"{_INBOUND_TESTS}::test_field_names_of_another_language_are_named",
            f"{_INBOUND_TESTS}::test_a_french_message_with_dutch_fields_on_the_bilingual_adapter",
        ),
        kind="parked",
        doc=_GATEWAY_DOC,
    ),
    Rule(
        code="message.duplicate_different_content",
        statement=(
            "A partner message whose id was already received for the person with "
            "other content is parked with this reason and answered 409 (the same "
            "content again is a duplicate, applied once); a correction is a new "
            "message with its own id."
        ),
        source=_ORDER,
        enforced_by=("services.partner_gateway.domain:PartnerFile.check",),
        tests=(
            f"{_FILE_TESTS}::test_the_same_id_with_other_content_is_refused",
            "tests/integration/test_gateway_flow.py::test_partners_exchange_with_the_hub_both_ways",
        ),
        kind="parked",
        doc=_GATEWAY_DOC,
    ),
    Rule(
        code="sequence.already_used",
        statement=(
            "A partner message whose sequence number is below the next one expected "
            "for that partner and person (another message used it) is parked with "
            "this reason and answered 409."
        ),
        source=_ORDER,
        enforced_by=("services.partner_gateway.domain:PartnerFile.check",),
        tests=(f"{_FILE_TESTS}::test_a_sequence_number_used_twice_is_refused",),
        kind="parked",
        doc=_GATEWAY_DOC,
    ),
    Rule(
        code="sequence.waiting",
        statement=(
            "A partner message ahead of its turn (its sequence number above the "
            "next one expected) is held with this reason and answered 202; it is "
            "applied, in order, once its predecessors are recorded."
        ),
        source=_ORDER,
        enforced_by=(
            "services.partner_gateway.domain:PartnerFile.check",
            "services.partner_gateway.inbound:InboundDesk._receive",
        ),
        tests=(
            f"{_HELD_TESTS}::test_adr_0009_a_message_ahead_of_its_turn_is_held_as_sequence_waiting",
            f"{_FILE_TESTS}::test_a_message_ahead_of_its_turn_is_held_then_applied_in_order",
        ),
        kind="parked",
        doc=_GATEWAY_DOC,
    ),
    Rule(
        code="gateway.failed",
        statement=(
            "A partner message from a partner's topic on which the gateway itself "
            "failed (a fault, not a rule the message broke) is parked with this "
            "reason, so the topic flows on; fix the cause, then re-drive it."
        ),
        source="Hub rule: no message stops a flow, ADR 0012",
        enforced_by=("services.partner_gateway.inbound:InboundDesk.keep_failed",),
        tests=(
            f"{_HELD_TESTS}::test_adr_0012_a_message_the_desk_failed_on_is_kept_as_gateway_failed",
        ),
        kind="parked",
        doc="docs/decisions/0012-nothing-stuck.md",
    ),
    Rule(
        code="partner.refused",
        statement=(
            "An outbound message a partner's API refused for good (a 4xx answer "
            "other than 401, 403, 408, 409, 425 and 429, which are retried or "
            "taken) is parked with this reason and the push goes on with the next "
            "one in order; it can be re-driven once the cause is fixed."
        ),
        source="Hub rule: nothing the gateway keeps is stuck, ADR 0014",
        enforced_by=("services.partner_gateway.outbound:push_to_endpoint",),
        tests=(
            "tests/integration/test_partner_push.py::test_the_push_retries_parks_refusals_and_keeps_the_order",
            "tests/integration/test_partner_push.py::test_a_refused_message_is_redriven_with_its_key_and_delivered_once",
        ),
        kind="parked",
        doc="docs/decisions/0014-gateway-nothing-stuck.md",
    ),
    Rule(
        code="partner.unpublishable",
        statement=(
            "An outbound message the broker refuses for good on a partner's topic "
            "(too large, corrupt) is parked with this reason while the rest flows; "
            "it can be re-driven to the topic."
        ),
        source=(
            "Hub rule: partner topics are a copy and nothing the gateway keeps is "
            "stuck, ADR 0014"
        ),
        enforced_by=("services.partner_gateway.outbound:_BrokerPublisher._publish",),
        tests=(
            "tests/integration/test_partner_topics.py::test_a_message_the_broker_refuses_is_parked_and_the_rest_flows",
        ),
        kind="parked",
        doc="docs/decisions/0014-gateway-nothing-stuck.md",
    ),
)
