"""Rules of the platform area (see services/rulebook/__init__.py).

Who may call, and what every command on a case may be told whatever its rule:
an unknown case, a reused command id, a case too busy, a database away.
"""

from __future__ import annotations

from services.rulebook import Rule

_KEYS = (
    "Hub rule: every request carries an API key of one role, with its scopes "
    "and limits, ADR 0006 and ADR 0025"
)
_KEYS_DOC = "docs/decisions/0025-roles-and-hashed-keys.md"
_ROLES = "tests/common/test_roles.py"
_ONE_PATH = "docs/decisions/0011-one-command-path.md"
_REFUSALS = "tests/common/test_refusals.py"

RULES: tuple[Rule, ...] = (
    Rule(
        code="auth.missing_key",
        statement="A request without an X-API-Key header, or with an empty one, is refused with 401.",
        source=_KEYS,
        enforced_by=("services.common.auth:_client_of",),
        tests=(f"{_REFUSALS}::test_a_missing_or_unknown_key_is_refused_with_401",),
        kind="input",
        doc=_KEYS_DOC,
    ),
    Rule(
        code="auth.unknown_key",
        statement=(
            "A request whose API key is not one the hub was given, or one revoked "
            "since (its SHA-256 compared in constant time with every live key's), "
            "is refused with 401, the same answer for both; the key is never "
            "repeated."
        ),
        source=_KEYS,
        enforced_by=("services.common.auth:_client_of",),
        tests=(
            f"{_REFUSALS}::test_a_missing_or_unknown_key_is_refused_with_401",
            f"{_ROLES}::test_adr_0025_every_route_refuses_a_revoked_key_as_an_unknown_one",
            "tests/integration/test_intake_http.py::test_a_request_without_a_known_key_is_refused",
        ),
        kind="input",
        doc=_KEYS_DOC,
    ),
    Rule(
        code="auth.scope",
        statement=(
            "A request whose client lacks the route's scope (cases:read, "
            "cases:write, partner:messages, audit:read or operations) is refused "
            "with 403: a partner's key reads no case, an auditor's writes nothing, "
            "an operator's reads no case."
        ),
        source=_KEYS,
        enforced_by=("services.common.auth:_Authenticator.__call__",),
        tests=(
            f"{_REFUSALS}::test_scope_cpas_and_partner_refusals_name_their_rule",
            f"{_ROLES}::test_adr_0025_every_route_refuses_each_role_outside_its_scope",
        ),
        kind="input",
        doc=_KEYS_DOC,
    ),
    Rule(
        code="auth.cpas",
        statement=(
            "A client limited to some CPAS is refused with 403 on a command or a "
            "listing naming another CPAS (a case of another CPAS is answered as "
            "an unknown case)."
        ),
        source=_KEYS,
        enforced_by=("services.common.auth:ApiClient.check_cpas",),
        tests=(f"{_REFUSALS}::test_scope_cpas_and_partner_refusals_name_their_rule",),
        kind="input",
        doc=_KEYS_DOC,
    ),
    Rule(
        code="auth.remit",
        statement=(
            "An auditor's key (the scope audit:read alone, with a remit of CPAS "
            "numbers) is refused with 403 on the audit of a CPAS outside its "
            "remit; it reads no other route (auth.scope), and no other key reads "
            "an audit route."
        ),
        source=(
            "Hub rule: an auditor reads the record of the CPAS it audits, read "
            "only, and nothing else, ADR 0024"
        ),
        enforced_by=(
            "services.common.auth:ApiClient.check_remit",
            "services.common.auth:ApiClient._auditor_is_its_own_kind",
        ),
        tests=(
            "tests/common/test_auditor_scope.py::test_adr_0024_an_auditor_is_refused_a_cpas_outside_its_remit",
            "tests/common/test_auditor_scope.py::test_adr_0024_an_auditor_reads_no_route_but_the_audit",
            "tests/common/test_auditor_scope.py::test_adr_0024_no_other_key_reads_an_audit",
        ),
        kind="input",
        doc="docs/decisions/0024-the-auditors-replay.md",
    ),
    Rule(
        code="auth.partner",
        statement=(
            "A partner's system that posts a message under another partner's code "
            "is refused with 403: it speaks for its own partner only."
        ),
        source=_KEYS,
        enforced_by=("services.common.auth:ApiClient.check_partner",),
        tests=(f"{_REFUSALS}::test_scope_cpas_and_partner_refusals_name_their_rule",),
        kind="input",
        doc=_KEYS_DOC,
    ),
    Rule(
        code="case.unknown",
        statement=(
            "A command or read naming a case the service has not heard of (not "
            "registered at intake, or its registration has not reached the service "
            "yet) is refused: 404 at intake and in the case state, 422 in the PIIS "
            "and placement services. It is never guessed."
        ),
        source=(
            "Hub rule: each service judges on the case facts intake's events told "
            "it, ADR 0007"
        ),
        enforced_by=(
            "services.intake.api:unknown_case",
            "services.case_state.service:create_api",
            "services.piis.application:CaseUnknownError",
            "services.placement.application:CaseUnknownError",
        ),
        tests=(
            "tests/integration/test_piis_flow.py::test_a_piis_is_signed_once_the_bilan_reached_the_piis_service",
            "tests/piis/test_application.py::test_a_case_the_service_never_heard_of_is_refused",
            "tests/placement/test_article60.py::test_an_unknown_case_is_refused",
        ),
        kind="input",
        doc="docs/decisions/0007-read-models-across-services.md",
    ),
    Rule(
        code="case.concurrent_writes",
        statement=(
            "When other commands on the same case kept changing it while a command "
            "was decided (each attempt decides again on fresh state), the command "
            "is refused with 409 and nothing is stored; sending it again is safe."
        ),
        source=(
            "Hub rule: a refusal is true of what is stored, and a 2xx means stored, "
            "ADR 0011"
        ),
        enforced_by=(
            "services.common.application:HubApplication.execute",
            "services.common.application:StreamBusyError",
        ),
        tests=(
            "tests/intake/test_application.py::test_adr_0011_a_command_overtaken_at_every_attempt_answers_concurrent_writes",
            "tests/integration/test_concurrent_commands.py::test_every_2xx_is_stored_and_every_conflict_is_a_409",
        ),
        kind="conflict",
        doc=_ONE_PATH,
    ),
    Rule(
        code="case.corrupt",
        statement=(
            "A case stream that holds no registration cannot answer for a "
            "registration: the command is refused rather than answered with a guess "
            "(a registered case always has it)."
        ),
        source="Hub rule: answers come from the stored events, ADR 0011",
        enforced_by=("services.intake.application:_registration",),
        tests=(
            "tests/intake/test_application.py::test_a_case_stream_without_its_registration_is_corrupt_not_answered",
        ),
        kind="refusal",
        doc=_ONE_PATH,
    ),
    Rule(
        code="command_id.reused",
        statement=(
            "A command whose id was already recorded on the stream for a different "
            "command is refused with 409; the same command sent again answers what "
            "it answered the first time and stores nothing more."
        ),
        source=(
            "Hub rule: the caller's command id makes a retry safe, so it names one "
            "command only, ADR 0011"
        ),
        enforced_by=(
            "services.common.application:HubApplication._attempt",
            "services.common.application:CommandIdReusedError",
        ),
        tests=(
            "tests/intake/test_application.py::test_a_command_id_reused_for_another_command_on_the_case_is_refused",
            "tests/intake/test_application.py::test_a_registration_id_reused_for_another_person_is_refused",
        ),
        kind="conflict",
        doc=_ONE_PATH,
    ),
    Rule(
        code="service.unavailable",
        statement=(
            "When the hub's database is unreachable, a request answers 503 with "
            "Retry-After: the command may or may not be stored, and the same command "
            "(the same command id) sent again is stored once."
        ),
        source=(
            "Hub rule: every answer declared, the 503 included, ADR 0015; a retry "
            "is safe, ADR 0011"
        ),
        enforced_by=("services.common.http:_unavailable",),
        tests=(
            "tests/common/test_http.py::test_an_unreachable_database_answers_503_and_stores_nothing",
        ),
        kind="service",
        doc="docs/decisions/0015-truthful-openapi.md",
    ),
    Rule(
        code="route.unknown",
        statement=("A path no route serves answers 404 in the hub's one error shape."),
        source="Hub rule: every answer in one declared shape, ADR 0015",
        enforced_by=("services.common.http:_http_error",),
        tests=(
            f"{_REFUSALS}::test_a_path_or_method_no_route_has_answers_the_error_shape",
        ),
        kind="input",
        doc="docs/decisions/0015-truthful-openapi.md",
    ),
    Rule(
        code="method.not_allowed",
        statement="A method a route does not take answers 405 in the one error shape.",
        source="Hub rule: every answer in one declared shape, ADR 0015",
        enforced_by=("services.common.http:_http_error",),
        tests=(
            f"{_REFUSALS}::test_a_path_or_method_no_route_has_answers_the_error_shape",
        ),
        kind="input",
        doc="docs/decisions/0015-truthful-openapi.md",
    ),
)
