"""SPP IS (POD MI), the federal administration: forms B, C and D, and its answers.

Not a regional partner: SPP IS hears of every case, whatever the region, and
about the income right, not the trajectory. So it is not a `vocabulary.Partner`
(routed by region, one message per event) but a translator of its own, of the
same shape: pure functions from the hub's events to canonical forms
(``contracts.federal_reporting``), the forms into SPP IS's (French) field
names, and SPP IS's acknowledgement back into an `federal.Answer`, refused with
the gateway's rules (``vocabulary.REJECTION_RULES``) when it cannot be read.
No public schema of these forms exists (docs/domain/federal-reporting.md): the
wire format is the hub's, documented in docs/partners/spp-is.md. No I/O, no clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    create_model,
)
from pydantic.fields import FieldInfo

from contracts.envelope import ContractEvent
from contracts.federal_reporting import (
    FederalFormSubmittedV1,
    FormBContent,
    FormCContent,
    FormContent,
    FormDContent,
    RecoveryType,
)
from contracts.identifiers import IdentifierError, normalise_kbo, parse_niss
from contracts.income import (
    IncomeRecoveryDecidedV1,
    IncomeRightGrantedV1,
    IncomeRightModifiedV1,
    IncomeRightRefusedV1,
    IncomeRightWithdrawnV1,
)
from contracts.text import Code, Identifier, Reason
from contracts.wire import AS_INTEGER, Uuid
from services.case_state.subsidies import SUBSIDY_RULES, CodePeriod, period_on
from services.common.errors import DomainError
from services.common.law import LAW
from services.intake.regions import check_ins_code
from services.partner_gateway.canonical import occurred_on
from services.partner_gateway.federal import Answer, FederalFile
from services.partner_gateway.vocabulary import (
    InboundRejected,
    _decode,
    _json_object,
    _refuse_local_formats,
    _schema_invalid,
    local_formats,
)

__all__ = [
    "ANSWER_MODEL",
    "CODE",
    "FORM_EVENTS",
    "FORM_MODELS",
    "MAX_ANSWER_BYTES",
    "NAME",
    "VERSION",
    "FederalFacts",
    "content_digest",
    "form_c_refusal",
    "form_d",
    "form_for",
    "forms_for",
    "parse_answer",
    "piis_code_days",
    "piis_code_form",
    "piis_code_on",
    "render_answer",
    "sent_payload",
    "wire",
]

CODE: Final = "spp_is"
NAME: Final = "SPP IS (POD MI)"
VERSION: Final = 1
LEGAL_BASIS: Final = (
    "Law of 26 May 2002 art. 32 (the State reimburses the integration income "
    "lawfully granted) and the SPP IS forms B, C and D through which the CPAS "
    "reports each decision (Primabook)."
)
FORM_EVENTS: Final = (
    IncomeRightGrantedV1,
    IncomeRightModifiedV1,
    IncomeRightWithdrawnV1,
    IncomeRightRefusedV1,
    IncomeRecoveryDecidedV1,
)
"""The events a form B, C or D is generated from (a PIIS code: ``piis_code_form``)."""

# -- who the form is about -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FederalFacts:
    """The CPAS and the person every form names (the NISS off the repr)."""

    case_id: uuid.UUID
    cpas_kbo: str
    cpas_ins_code: str
    niss: str | None = field(repr=False)


def _identified(facts: FederalFacts) -> dict[str, str]:
    """The identifiers every form carries, each checked; refused with its rule."""
    if not facts.niss:
        raise DomainError(
            "niss",
            "federal_form.niss_missing",
            "a form to SPP IS without the person's NISS (or BIS number) is not "
            "accepted: ask the BCSS for a BIS number first (SPP IS, forms B, C "
            "and D, docs/domain/federal-reporting.md#every-form-has-a-niss)",
        )
    try:
        return {
            "niss": parse_niss(facts.niss).value,
            "cpas_kbo": normalise_kbo(facts.cpas_kbo),
            "cpas_ins_code": check_ins_code(facts.cpas_ins_code),
        }
    except IdentifierError as error:  # the explanation never holds a NISS
        raise DomainError(error.field, error.rule, error.explanation) from None


# -- the PIIS code of form B ---------------------------------------------------------


def piis_code_on(code: str, day: dt.date) -> int:
    """A PIIS code of form B, if SPP IS takes it for that effective date.

    The codes and their dates are the law table's (``spp_is.piis_code_<n>``,
    docs/domain/federal-reporting.md#piis-codes-on-form-b).
    """
    name = f"spp_is.piis_code_{code}"
    if not code.isdigit() or name not in LAW.names():
        raise DomainError(
            "piis_code",
            "federal_form.piis_code_unknown",
            "not a PIIS code of form B (SPP IS, docs/domain/federal-reporting.md"
            "#piis-codes-on-form-b)",
        )
    for version in LAW.versions(name):
        if version.covers(day):
            return version.value
    raise DomainError(
        "piis_code",
        "federal_form.piis_code_not_in_force",
        f"PIIS code {int(code)} is not in use on {day.isoformat()}: codes 1 to 7 "
        "end on 31 October 2016, 11 and 17 start on 1 November 2016 (law of 21 "
        "July 2016), 12 and 15 end on 30 September 2018 (SPP IS, "
        "docs/domain/federal-reporting.md#piis-codes-on-form-b)",
    )


# -- forms from events ---------------------------------------------------------------


def form_for(
    event: ContractEvent,
    facts: FederalFacts,
    file: FederalFile,
    periods: Sequence[CodePeriod] | None = None,
) -> FormContent | None:
    """The form an event means for SPP IS, given the case's federal file; or None.

    * a RIS grant: a form B from its effective date (an ERIS is reported on
      the forms of the law of 1965, not built);
    * a modification: a form B restating every field of the last one, with
      the new category from its date;
    * a withdrawal: a form C ending the last form B (a regularisation when a
      form C already ends it);
    * a refused RIS application: a form C of type 1 (``form_c_refusal``).

    A recovery means one form D per month (``forms_for``); the PIIS code a
    form B carries follows the subsidy's periods (``periods``: a grant's or a
    modification's form B carries its date's code; later changes:
    ``piis_code_form``), never the code the CPAS typed on the PIIS; without
    periods a modification restates the code. A form B with the
    effective date of a form B standing is a correction (status 1). Raises
    ``DomainError`` when an identifier or the PIIS code breaks its rule.
    """
    match event:
        case IncomeRightWithdrawnV1():
            return _form_c(event, facts, file)
        case IncomeRightRefusedV1(kind="RIS"):
            return form_c_refusal(
                facts,
                file,
                effective_date=event.application_date,
                council_date=event.decision_date,
            )
        case IncomeRightRefusedV1():
            return None
        case _:
            return _form_b(event, facts, file, periods)


FormBuilder = Callable[[FederalFile], FormContent | None]


def forms_for(
    event: ContractEvent,
    facts: FederalFacts,
    periods: Sequence[CodePeriod] | None = None,
) -> tuple[tuple[str, FormBuilder], ...]:
    """Every form an event means, each with the key of its own submission.

    A recovery of a RIS makes one form D per month of reference of its
    period, with that month's share and the next sequence number of the
    month on the file (key: the month); an ERIS is reported on the forms of
    the law of 1965 (not built). Any other event makes at most one form
    (``form_for``, key "").
    """
    match event:
        case IncomeRecoveryDecidedV1(kind="RIS"):
            return tuple(
                (
                    part.month.isoformat(),
                    _form_d_builder(
                        facts, part.month, event.recovery_type, part.amount
                    ),
                )
                for part in event.months
            )
        case IncomeRecoveryDecidedV1():
            return ()
        case _:
            return (("", lambda file: form_for(event, facts, file, periods)),)


def _form_d_builder(
    facts: FederalFacts, month: dt.date, recovery_type: RecoveryType, amount: Decimal
) -> FormBuilder:
    return lambda file: form_d(
        facts, file, month=month, recovery_type=recovery_type, amount=amount
    )


def _form_b(
    event: ContractEvent,
    facts: FederalFacts,
    file: FederalFile,
    periods: Sequence[CodePeriod] | None,
) -> FormBContent | None:
    match event:
        case IncomeRightGrantedV1(kind="RIS"):
            return FormBContent(
                **_identified(facts),
                effective_date=event.effective_date,
                decision_date=event.decision_date,
                category=event.category,
                notice_status=_status(file, event.effective_date),
                piis_code=_code_of(periods or (), event.effective_date),
            )
        case IncomeRightModifiedV1():
            code = (
                {}
                if periods is None
                else {"piis_code": _code_of(periods, event.effective_date)}
            )
            return _restated(
                file,
                facts,
                effective_date=event.effective_date,
                decision_date=occurred_on(event),
                category=event.category,
                **code,
            )
        case _:
            return None


def _code_of(periods: Sequence[CodePeriod], day: dt.date) -> int | None:
    """The PIIS code form B carries on a day (checked in use on it), or none."""
    period = period_on(periods, day)
    if period is None or period.code is None:
        return None
    return piis_code_on(period.code, day)


def piis_code_days(file: FederalFile, periods: Sequence[CodePeriod]) -> list[dt.date]:
    """The days whose PIIS code SPP IS may hold wrong, in order.

    Each day a period starts and each effective date of a form B on the file
    (a modification restates the code of the form it restates), from the
    first form B on.
    """
    first = file.first_b()
    if first is None:
        return []
    days = {p.start for p in periods} | {
        f.effective_date for f in file.forms.values() if f.kind == "B"
    }
    return sorted(d for d in days if d >= first.effective_date)


def piis_code_form(
    file: FederalFile,
    facts: FederalFacts,
    periods: Sequence[CodePeriod],
    day: dt.date,
    decision_date: dt.date,
) -> FormBContent | None:
    """The form B giving a day the code of the subsidy's periods; None if held.

    The form B SPP IS holds for that day (the latest standing one dated on or
    before it, not ended by a form C by then) restated from that day with the
    code the periods give: 11 from the first year's first day, 17 from a
    prolongation's. A form B of that very date standing is corrected (status
    1): that is how a code sent ahead is withdrawn when a later event takes
    the prolongation away. No code is said from a later day only when the
    PIIS of a prolongation ended: a year of code 11 or 17 runs out by itself.
    """
    held = file.b_in_force(day)
    if held is None or not isinstance(held.content, FormBContent):
        return None
    ended = file.c_of(held.form_id)
    if ended is not None and ended.effective_date <= day:
        return None
    period = period_on(periods, day)
    code = _code_of(periods, day)
    if held.content.piis_code == code:
        return None
    stopped = period is not None and period.status == SUBSIDY_RULES["ended"]
    if code is None and held.effective_date != day and not stopped:
        return None
    restated = held.content.model_dump() | _identified(facts)
    restated |= {"effective_date": day, "decision_date": decision_date}
    restated |= {"piis_code": code, "notice_status": _status(file, day)}
    return FormBContent.model_validate(restated)


def _form_c(
    event: IncomeRightWithdrawnV1, facts: FederalFacts, file: FederalFile
) -> FormCContent | None:
    ended = file.last_b()
    if ended is None:
        return None
    return FormCContent(
        **_identified(facts),
        effective_date=event.effective_date,
        council_date=occurred_on(event),
        decision_type=2,
        regularisation=0 if file.c_of(ended.form_id) is None else 1,
        form_b_id=ended.form_id,
    )


def _status(file: FederalFile, effective_date: dt.date) -> Literal[0, 1]:
    return 0 if file.b_of(effective_date) is None else 1


def _restated(
    file: FederalFile, facts: FederalFacts, **changes: Any
) -> FormBContent | None:
    """The last form B with every field restated and some changed; None before one."""
    last = file.latest_b()
    if last is None or not isinstance(last.content, FormBContent):
        return None
    restated = last.content.model_dump() | _identified(facts) | changes
    restated["notice_status"] = _status(file, restated["effective_date"])
    return FormBContent.model_validate(restated)


def form_c_refusal(
    facts: FederalFacts,
    file: FederalFile,
    *,
    effective_date: dt.date,
    council_date: dt.date,
) -> FormCContent:
    """The form C (type 1) of a refused application, which no form B reported.

    Dated with the application (``effective_date``) and the council's decision;
    a second one for the same date regularises the first (regularisation 1).
    """
    earlier = any(
        isinstance(f.content, FormCContent)
        and f.content.decision_type == 1
        and f.effective_date == effective_date
        for f in file.standing("C")
    )
    return FormCContent(
        **_identified(facts),
        effective_date=effective_date,
        council_date=council_date,
        decision_type=1,
        regularisation=1 if earlier else 0,
        form_b_id=None,
    )


def form_d(
    facts: FederalFacts,
    file: FederalFile,
    *,
    month: dt.date,
    recovery_type: RecoveryType,
    amount: Decimal,
) -> FormDContent:
    """The form D of a recovery, numbered after the month's earlier ones."""
    first = month.replace(day=1)
    return FormDContent(
        **_identified(facts),
        effective_date=first,
        sequence=file.next_d_sequence(first),
        recovery_type=recovery_type,
        amount=amount,
    )


# -- SPP IS's wire format ------------------------------------------------------------

_COMMON: Final[Mapping[str, str]] = {
    "cpas_kbo": "numero_bce_cpas",
    "cpas_ins_code": "code_ins_cpas",
    "niss": "niss",
}
WIRE_NAMES: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {
        "B": {
            **_COMMON,
            "effective_date": "date_entree_en_vigueur",
            "decision_date": "date_decision",
            "category": "categorie",
            "notice_status": "statut_avis",
            "piis_code": "code_piis",
        },
        "C": {
            **_COMMON,
            "effective_date": "date_entree_en_vigueur",
            "council_date": "date_seance_conseil",
            "decision_type": "type_decision",
            "regularisation": "regularisation",
            "form_b_id": "formulaire_b",
        },
        "D": {
            **_COMMON,
            "effective_date": "mois_recuperation",
            "sequence": "numero_sequence",
            "recovery_type": "type_recuperation",
            "amount": "montant",
        },
    }
)
"""Canonical field → SPP IS's name, per form: the allow-list of what leaves."""
_CONTENT: Final[Mapping[str, type[BaseModel]]] = {
    "B": FormBContent,
    "C": FormCContent,
    "D": FormDContent,
}


_AMOUNT: Final = {"type": "number", "exclusiveMinimum": 0}


def _form_model(kind: str) -> type[BaseModel]:
    canonical: dict[str, FieldInfo] = _CONTENT[kind].model_fields
    definitions: dict[str, Any] = {
        "identifiant_formulaire": Annotated[
            uuid.UUID, Field(description="Id of the form; SPP IS answers with it.")
        ],
        "formulaire": Annotated[
            Literal.__getitem__((kind,)), Field(description="Kind of the form.")
        ],
        "version": Annotated[
            Literal[1], Field(description="Version of the hub's SPP IS format.")
        ],
        "reference_dossier": Annotated[
            uuid.UUID,
            Field(
                description="The hub's reference of the case; SPP IS quotes it "
                "in its answer."
            ),
        ],
        "remplace_formulaire": Annotated[
            uuid.UUID | None,
            Field(
                description="The form this one replaces (the form B a correction "
                "replaces, or a rejected form sent again); null otherwise."
            ),
        ],
    }
    for name, wire_name in WIRE_NAMES[kind].items():
        info = canonical[name]
        # Amounts are JSON numbers on the wire, never strings.
        number = [WithJsonSchema(_AMOUNT)] if name == "amount" else []
        definitions[wire_name] = Annotated[
            info.annotation, info, Field(title=wire_name), *number
        ]
    return create_model(
        f"spp_is_formulaire_{kind.lower()}_v{VERSION}",
        __config__=ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True),
        __doc__=(_CONTENT[kind].__doc__ or "").strip().splitlines()[0],
        **definitions,
    )


FORM_MODELS: Final[Mapping[str, type[BaseModel]]] = MappingProxyType(
    {kind: _form_model(kind) for kind in _CONTENT}
)
"""The model (and so the JSON Schema) of each form as SPP IS receives it."""


def wire(
    case_id: uuid.UUID,
    form_id: uuid.UUID,
    content: FormContent,
    replaces: uuid.UUID | None,
) -> dict[str, Any]:
    """A form in SPP IS's names: the envelope, then the form's fields."""
    values = content.model_dump(mode="json")
    result: dict[str, Any] = {
        "identifiant_formulaire": str(form_id),
        "formulaire": content.form,
        "version": VERSION,
        "reference_dossier": str(case_id),
        "remplace_formulaire": None if replaces is None else str(replaces),
    }
    for name, wire_name in WIRE_NAMES[content.form].items():
        value = values[name]
        # Amounts are JSON numbers with a point, never strings.
        result[wire_name] = float(Decimal(value)) if name == "amount" else value
    return result


def content_digest(payload: Mapping[str, Any]) -> str:
    """SHA-256 of a form as sent (canonical JSON: sorted keys, no spaces)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def sent_payload(event: FederalFormSubmittedV1) -> dict[str, Any]:
    """The wire JSON of a submitted form: what goes to SPP IS, as the event keeps it.

    Made again from the event's content; refused when its SHA-256 is not the
    digest the event recorded (what leaves the hub is what an auditor checks).
    """
    payload = wire(event.case_id, event.form_id, event.content, event.replaces)
    if content_digest(payload) != event.content_digest:
        raise DomainError(
            "content_digest",
            "federal_form.digest_mismatch",
            "the form made again from its event does not have the SHA-256 the "
            "event recorded: it is not sent (what reaches SPP IS must be what "
            "the federal file says was sent, docs/decisions/0021-spp-is-forms.md)",
        )
    return payload


# -- SPP IS's answers ----------------------------------------------------------------


class SppIsAnswer(BaseModel):
    """SPP IS's acknowledgement of one form: accepted, or rejected with its reason."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    identifiant_message: Identifier = Field(
        min_length=1, description="SPP IS's id of this answer."
    )
    type_message: Literal["accuse_reception"] = Field(
        description="Type of the message."
    )
    version: Annotated[Literal[1], AS_INTEGER] = Field(
        description="Version of the hub's SPP IS format."
    )
    identifiant_formulaire: Uuid = Field(
        description="The form answered about (its identifiant_formulaire)."
    )
    reference_dossier: Uuid = Field(
        description="The hub's reference of the case, as on the form."
    )
    numero_bce_cpas: str = Field(
        pattern=r"^[01][0-9]{9}$",
        max_length=10,
        description="KBO/BCE number of the CPAS the form came from.",
    )
    resultat: Literal["accepte", "refuse"] = Field(
        description="accepte: the form is taken; refuse: it is not, see the reason."
    )
    date_traitement: dt.date = Field(description="Day SPP IS processed the form.")
    code_motif: Code | None = Field(
        default=None, description="SPP IS's reason code (required when refused)."
    )
    motif: Reason | None = Field(
        default=None, description="SPP IS's reason in words (required when refused)."
    )


ANSWER_MODEL: Final = SppIsAnswer
MAX_ANSWER_BYTES: Final = 64 * 1024
"""An acknowledgement is a few hundred bytes; a larger one is not read."""


_ANSWER_FORMATS = local_formats(SppIsAnswer.model_json_schema())


def parse_answer(raw: bytes) -> Answer:
    """SPP IS's acknowledgement in the hub's terms.

    Raises:
        InboundRejected: With a rule of ``vocabulary.REJECTION_RULES``; a
            rejection without its reason is ``schema.invalid``.
    """
    if len(raw) > MAX_ANSWER_BYTES:
        raise InboundRejected(
            "federal_form.answer_too_large",
            "$",
            f"an SPP IS acknowledgement is at most {MAX_ANSWER_BYTES} bytes; "
            f"this one has {len(raw)} and is kept unread "
            "(docs/partners/spp-is.md#transport)",
        )
    text = _decode(raw)
    data = _json_object(text)
    _refuse_local_formats(data, _ANSWER_FORMATS)
    try:
        # Python mode on the parsed object: the wire types' own checks run
        # (a UUID hyphenated only, an integer that is not a boolean).
        answer = SppIsAnswer.model_validate(data)
    except ValidationError as error:
        raise _schema_invalid(error, {}) from None
    if not answer.identifiant_message.strip():
        raise InboundRejected(
            "schema.invalid", "identifiant_message", "identifiant_message: blank"
        )
    if answer.resultat == "refuse":
        for name in ("code_motif", "motif"):
            if not (getattr(answer, name) or "").strip():
                raise InboundRejected(
                    "schema.invalid", name, f"{name}: required when refused"
                )
    try:
        kbo = normalise_kbo(answer.numero_bce_cpas, field="numero_bce_cpas")
    except IdentifierError as error:
        raise InboundRejected("schema.invalid", error.field, str(error)) from None
    return Answer(
        case_id=answer.reference_dossier,
        answer_id=answer.identifiant_message,
        form_id=answer.identifiant_formulaire,
        cpas_kbo=kbo,
        accepted=answer.resultat == "accepte",
        answered_on=answer.date_traitement,
        reason_code=answer.code_motif,
        reason_text=answer.motif,
    )


def render_answer(answer: Answer) -> bytes:
    """The JSON SPP IS sends for an answer (for simulators and golden files)."""
    body = {
        "identifiant_message": answer.answer_id,
        "type_message": "accuse_reception",
        "version": VERSION,
        "identifiant_formulaire": str(answer.form_id),
        "reference_dossier": str(answer.case_id),
        "numero_bce_cpas": answer.cpas_kbo,
        "resultat": "accepte" if answer.accepted else "refuse",
        "date_traitement": answer.answered_on.isoformat(),
        "code_motif": answer.reason_code,
        "motif": answer.reason_text,
    }
    return json.dumps(body, ensure_ascii=False, indent=2).encode()
