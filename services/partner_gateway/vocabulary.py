"""The partner engine: partners are declared as data and translated both ways here.

A declaration (`Partner`) gives, per language, each message type's name, the
partner's name of every canonical field the message may carry and the label of
every code. `PartnerTranslator` applies it: the allow-list is enforced in one
place (`translate`), one pydantic model (and so one JSON Schema) is generated per
partner message type, and inbound bytes become a `CanonicalInbound` or an
`InboundRejected` with a stable rule. Pure: no I/O, no clock.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated, Any, Final, Literal, NamedTuple, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic.fields import FieldInfo

from contracts.limits import MAX_JSON_DEPTH, json_too_deep
from contracts.regions import PARTNER_FOR_REGION, PartnerCode, Region
from contracts.wire import ISO_DATE, ISO_DATE_TIME
from services.partner_gateway.canonical import (
    INBOUND_BODIES,
    OUTBOUND_FIELDS,
    CanonicalInbound,
    CanonicalOutbound,
    CodeSet,
    InboundKind,
    Language,
    OutboundKind,
    RoutingFacts,
)

__all__ = [
    "ENVELOPE",
    "INBOUND_ENVELOPE",
    "LANGUAGE_NAMES",
    "OUTBOUND_ENVELOPE",
    "REJECTION_RULES",
    "Inbound",
    "InboundRejected",
    "MessageModel",
    "MisroutedCaseError",
    "Outbound",
    "Partner",
    "PartnerTranslator",
    "Vocabulary",
    "code_set",
    "translators",
]

Direction = Literal["outbound", "inbound"]
OUTBOUND_ENVELOPE: Final = (
    "message_id",
    "message_type",
    "version",
    "occurred_on",
    "cpas_kbo",
    "case_id",
)
INBOUND_ENVELOPE: Final = (
    "message_id",
    "message_type",
    "version",
    "sequence",
    "sent_at",
    "niss",
    "cpas_kbo",
)
ENVELOPE: Final = tuple(dict.fromkeys(OUTBOUND_ENVELOPE + INBOUND_ENVELOPE))
"""Canonical names of the envelope fields every vocabulary names."""

LANGUAGE_NAMES: Final[Mapping[str, str]] = {
    "fr": "French",
    "nl": "Dutch",
    "de": "German",
}
REJECTION_RULES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "encoding.not_utf8": "The body is not UTF-8, e.g. accents encoded in Latin-1 "
        "or Windows-1252.",
        "payload.not_json": "The body is not a JSON document.",
        "message_type.unknown": "The message type is not one this partner sends in "
        "this version of the format.",
        "language.wrong": "Field names of another vocabulary: another language's "
        "(e.g. Dutch names sent to a French-speaking adapter) or another partner's.",
        "schema.invalid": "The message breaks its JSON Schema: a field missing, not "
        "allowed, repeated, of the wrong type or out of range, an unknown code, or "
        "an identifier (NISS, KBO) whose check digits fail.",
        "date.format": "A date not written YYYY-MM-DD (e.g. 12/03/2026), or a time "
        "not ISO 8601 with its UTC offset.",
        "decimal.comma": 'A decimal written with a comma or as a string ("21,09"): '
        "decimals are JSON numbers with a point (21.09).",
    }
)
"""Every rule an `InboundRejected` can carry, with its meaning (for partners' docs)."""

_FIELD_NAME: Final = re.compile(r"[^\W\d]\w{0,63}")
_WHOLE: Final = "$"
_SHOWN: Final = 5


class InboundRejected(ValueError):  # noqa: N818 - the name the runtime codes against
    """A partner message refused: a stable rule, the partner's field, an explanation.

    The message never holds a value of the payload (it may be a NISS or a name):
    it names the field and the rule.
    """

    def __init__(self, rule: str, field: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule
        self.field = field
        self.message = message

    def __reduce__(self) -> tuple[type[InboundRejected], tuple[str, str, str]]:
        return (type(self), (self.rule, self.field, self.message))


class MisroutedCaseError(ValueError):
    """A case given to the translator of a partner that does not serve its region."""


@dataclass(frozen=True, slots=True)
class Outbound:
    """An outbound message type: its name and canonical → partner field names.

    The keys are the allow-list: a canonical field not named here never leaves.
    """

    message_type: str
    fields: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Inbound:
    """An inbound message type: its name and partner → canonical field names."""

    message_type: str
    fields: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """A partner's terms in one language.

    Attributes:
        envelope: Canonical envelope field (`ENVELOPE`) → the partner's name.
        labels: Code set (`canonical.CODE_SETS`) → canonical code → the label.
    """

    language: Language
    envelope: Mapping[str, str]
    outbound: Mapping[OutboundKind, Outbound]
    inbound: Mapping[InboundKind, Inbound]
    labels: Mapping[str, Mapping[str, str]]


@dataclass(frozen=True, slots=True)
class Partner:
    """A partner as declared; its first vocabulary is its default language."""

    code: PartnerCode
    name: str
    version: int
    legal_basis: str
    vocabularies: tuple[Vocabulary, ...]


class MessageModel(NamedTuple):
    """The generated model of one partner message type in one language."""

    direction: Direction
    kind: str
    language: Language
    message_type: str
    model: type[BaseModel]


def code_set(info: FieldInfo) -> CodeSet | None:
    """The code set of a canonical field, if its values are codes."""
    return next((m for m in info.metadata if isinstance(m, CodeSet)), None)


class PartnerTranslator:
    """Translates canonical messages into one partner's JSON, and its JSON back."""

    def __init__(self, partner: Partner, neighbours: Iterable[Partner] = ()) -> None:
        """Generate the partner's message models.

        Args:
            partner: The declaration.
            neighbours: The other declared partners: their field names tell a
                message in another language from a merely malformed one.
        """
        self.partner = partner
        self.code = partner.code
        self.version = partner.version
        self.languages = tuple(v.language for v in partner.vocabularies)
        self._vocabularies: dict[str, Vocabulary] = {
            v.language: v for v in partner.vocabularies
        }
        self._models: dict[tuple[str, str, str], MessageModel] = {
            (m.direction, m.kind, m.language): m for m in self._build()
        }
        self._schemas = {
            key: m.model.model_json_schema() for key, m in self._models.items()
        }
        # Made once: each message is checked against them.
        self._local_formats = {
            key: local_formats(schema) for key, schema in self._schemas.items()
        }
        self._names = {v.language: frozenset(_names(v)) for v in partner.vocabularies}
        self._owners = _owners_by_name([partner, *neighbours])

    def models(self) -> Iterator[MessageModel]:
        """Every generated message model, in declaration order."""
        return iter(self._models.values())

    def model(self, direction: Direction, kind: str, language: str) -> type[BaseModel]:
        """The generated model of one message type in one language."""
        return self._models[direction, kind, language].model

    def language_for(self, facts: RoutingFacts) -> str:
        """The person's language if the partner works in it, else its default."""
        if facts.preferred_language in self.languages:
            return facts.preferred_language
        return self.languages[0]

    def allowed_fields(self, kind: OutboundKind, language: str) -> frozenset[str]:
        """Every partner field name an outbound message of this kind may hold."""
        vocabulary = self._vocabularies[language]
        envelope = {vocabulary.envelope[name] for name in OUTBOUND_ENVELOPE}
        return frozenset(envelope | set(vocabulary.outbound[kind].fields.values()))

    # -- outbound ------------------------------------------------------------------

    def translate(
        self, message: CanonicalOutbound, facts: RoutingFacts
    ) -> dict[str, Any]:
        """The partner's JSON object for a message: envelope and allow-listed fields.

        Raises:
            MisroutedCaseError: The case's region is served by another partner,
                or the facts are not those of the message's case.
        """
        if {facts.partner, PARTNER_FOR_REGION[Region(facts.region)]} != {self.code}:
            raise MisroutedCaseError(
                f"{self.code}: the case is for {facts.partner} ({facts.region})"
            )
        if (message.case_id, message.cpas_kbo) != (facts.case_id, facts.cpas_kbo):
            raise MisroutedCaseError(f"{self.code}: the facts are of another case")
        vocabulary = self._vocabularies[self.language_for(facts)]
        spec = vocabulary.outbound[message.kind]
        envelope = {
            "message_id": str(message.message_id),
            "message_type": spec.message_type,
            "version": self.version,
            "occurred_on": message.occurred_on.isoformat(),
            "cpas_kbo": message.cpas_kbo,
            "case_id": str(message.case_id),
        }
        result = {vocabulary.envelope[name]: value for name, value in envelope.items()}
        canonical = OUTBOUND_FIELDS[message.kind].model_fields
        # The allow-list, enforced here and only here: the declared fields leave.
        for field, name in spec.fields.items():
            result[name] = _label(vocabulary, canonical[field], message.fields[field])
        return result

    # -- inbound -------------------------------------------------------------------

    def parse(self, raw: bytes) -> CanonicalInbound:
        """The canonical form of a partner's message.

        Raises:
            InboundRejected: With one of the rules of `REJECTION_RULES`.
        """
        text = _decode(raw)
        data = _json_object(text)
        vocabulary = self._vocabulary_of(data)
        kind = self._kind_of(vocabulary, data)
        key = ("inbound", kind, vocabulary.language)
        self._refuse_foreign(data, vocabulary)
        _refuse_local_formats(data, self._local_formats[key])
        try:
            message = self._models[key].model.model_validate_json(text, strict=True)
        except ValidationError as error:
            raise _schema_invalid(error, {}) from None
        return self._canonical(kind, vocabulary, dict(message))

    def render(self, message: CanonicalInbound) -> bytes:
        """The JSON body a partner sends for a canonical message (for simulators)."""
        vocabulary = self._vocabularies[message.language]
        spec = vocabulary.inbound[message.kind]
        values = message.model_dump(include=set(INBOUND_ENVELOPE))
        values |= {"message_type": spec.message_type, "version": self.version}
        result = {vocabulary.envelope[name]: values[name] for name in INBOUND_ENVELOPE}
        body = message.body.model_dump()
        canonical = INBOUND_BODIES[message.kind].model_fields
        for name, field in spec.fields.items():
            result[name] = _label(vocabulary, canonical[field], body[field])
        text = json.dumps(result, ensure_ascii=False, indent=2, default=_json_default)
        return text.encode()

    def _vocabulary_of(self, data: dict[str, Any]) -> Vocabulary:
        for vocabulary in self.partner.vocabularies:
            if vocabulary.envelope["message_type"] in data:
                return vocabulary
        self._refuse_foreign(data, *self.partner.vocabularies)
        names = [v.envelope["message_type"] for v in self.partner.vocabularies]
        raise InboundRejected(
            "schema.invalid", names[0], f"{' or '.join(names)}: field required"
        )

    def _kind_of(self, vocabulary: Vocabulary, data: dict[str, Any]) -> InboundKind:
        field = vocabulary.envelope["message_type"]
        for kind, spec in vocabulary.inbound.items():
            if data[field] == spec.message_type:
                return kind
        known = ", ".join(spec.message_type for spec in vocabulary.inbound.values())
        raise InboundRejected(
            "message_type.unknown",
            field,
            f"{field}: not a message type of {self.partner.name} version "
            f"{self.version}; expected one of {known}",
        )

    def _refuse_foreign(self, data: dict[str, Any], *reading: Vocabulary) -> None:
        """Names unknown to the vocabularies read here but used by another one."""
        own = frozenset().union(*(self._names[v.language] for v in reading))
        foreign = sorted(n for n in data if n not in own and n in self._owners)
        if not foreign:
            return
        theirs = sorted({owner for name in foreign for owner in self._owners[name]})
        ours = " or ".join(_owner(self.partner, v) for v in reading)
        shown = ", ".join(foreign[:_SHOWN]) + (", …" if len(foreign) > _SHOWN else "")
        raise InboundRejected(
            "language.wrong",
            foreign[0],
            f"{shown}: field names of {' and '.join(theirs)}; this message is "
            f"read with {ours}",
        )

    def _canonical(
        self, kind: InboundKind, vocabulary: Vocabulary, values: dict[str, Any]
    ) -> CanonicalInbound:
        spec = vocabulary.inbound[kind]
        canonical = INBOUND_BODIES[kind].model_fields
        body = {
            field: _code(vocabulary, canonical[field], values[name])
            for name, field in spec.fields.items()
        }
        envelope = {
            name: values[vocabulary.envelope[name]]
            for name in INBOUND_ENVELOPE
            if name not in {"message_type", "version"}
        }
        try:  # the schema held; what is left are rules across fields
            return CanonicalInbound.model_validate(
                {
                    "kind": kind,
                    "partner": self.code,
                    "language": vocabulary.language,
                    "body": INBOUND_BODIES[kind](**body),
                    **envelope,
                }
            )
        except ValidationError as error:
            names = {field: name for name, field in spec.fields.items()}
            raise _schema_invalid(error, names | dict(vocabulary.envelope)) from None

    # -- model generation ----------------------------------------------------------

    def _build(self) -> Iterator[MessageModel]:
        for vocabulary in self.partner.vocabularies:
            for out_kind, out in vocabulary.outbound.items():
                canonical = OUTBOUND_FIELDS[out_kind].model_fields
                fields = {name: canonical[f] for f, name in out.fields.items()}
                yield self._message("outbound", out_kind, vocabulary, out, fields)
            for in_kind, into in vocabulary.inbound.items():
                canonical = INBOUND_BODIES[in_kind].model_fields
                fields = {name: canonical[f] for name, f in into.fields.items()}
                yield self._message("inbound", in_kind, vocabulary, into, fields)

    def _message(
        self,
        direction: Direction,
        kind: str,
        vocabulary: Vocabulary,
        spec: Outbound | Inbound,
        fields: dict[str, FieldInfo],
    ) -> MessageModel:
        """The model of a message: its envelope, then its fields, in partner terms."""
        source = CanonicalOutbound if direction == "outbound" else CanonicalInbound
        constants: dict[str, tuple[str | int, str]] = {
            "message_type": (spec.message_type, "Type of the message."),
            "version": (self.version, "Version of the partner's message format."),
        }
        definitions: dict[str, Any] = {}
        for name in OUTBOUND_ENVELOPE if direction == "outbound" else INBOUND_ENVELOPE:
            title = vocabulary.envelope[name]
            if name in constants:
                value, meaning = constants[name]
                definitions[title] = Annotated[
                    _literal(value), Field(title=title, description=meaning)
                ]
            else:
                definitions[title] = _retyped(title, source.model_fields[name], None)
        for name, info in fields.items():
            definitions[name] = _retyped(name, info, _labels(vocabulary, info))
        suffix = f"_{vocabulary.language}" if len(self.languages) > 1 else ""
        model = create_model(
            f"{self.code}_{spec.message_type}_v{self.version}{suffix}",
            __config__=ConfigDict(
                extra="forbid", frozen=True, hide_input_in_errors=True
            ),
            __doc__=f"{self.partner.name}, {direction}: {kind.replace('_', ' ')} "
            f"({LANGUAGE_NAMES[vocabulary.language]}).",
            **definitions,
        )
        language = vocabulary.language
        return MessageModel(direction, kind, language, spec.message_type, model)


def translators(*partners: Partner) -> Mapping[str, PartnerTranslator]:
    """One translator per declared partner, each aware of the others' vocabularies."""
    return MappingProxyType(
        {p.code: PartnerTranslator(p, neighbours=partners) for p in partners}
    )


# -- helpers -------------------------------------------------------------------------


def _literal(*values: str | int) -> Any:
    """``Literal[values]`` built at run time (the values come from declarations)."""
    return Literal.__getitem__(values)


def _retyped(name: str, info: FieldInfo, labels: Mapping[str, str] | None) -> Any:
    """A canonical field in partner terms: its name as title, its codes as labels."""
    annotation: Any = info.annotation
    if labels is not None:
        optional = type(None) in get_args(annotation)
        annotation = _literal(*labels.values())
        annotation = annotation | None if optional else annotation
    return Annotated[annotation, info, Field(title=name)]


def _labels(vocabulary: Vocabulary, info: FieldInfo) -> Mapping[str, str] | None:
    codes = code_set(info)
    return None if codes is None else vocabulary.labels[codes.name]


def _label(vocabulary: Vocabulary, info: FieldInfo, value: Any) -> Any:
    labels = _labels(vocabulary, info)
    return value if labels is None or value is None else labels[value]


def _code(vocabulary: Vocabulary, info: FieldInfo, value: Any) -> Any:
    labels = _labels(vocabulary, info)
    if labels is None or value is None:
        return value
    return next(code for code, label in labels.items() if label == value)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return float(value)  # a Decimal: partners get JSON numbers, never strings


def _names(vocabulary: Vocabulary) -> set[str]:
    """Every field name a vocabulary uses, in any message."""
    return {
        *vocabulary.envelope.values(),
        *(n for spec in vocabulary.outbound.values() for n in spec.fields.values()),
        *(n for spec in vocabulary.inbound.values() for n in spec.fields),
    }


def _owner(partner: Partner, vocabulary: Vocabulary) -> str:
    return f"the {LANGUAGE_NAMES[vocabulary.language]} vocabulary of {partner.name}"


def _owners_by_name(partners: Iterable[Partner]) -> dict[str, set[str]]:
    """Every field name of every vocabulary, with the vocabularies that use it."""
    owners: dict[str, set[str]] = {}
    for partner in partners:
        for v in partner.vocabularies:
            for name in _names(v):
                owners.setdefault(name, set()).add(_owner(partner, v))
    return owners


def _safe(name: object) -> str:
    """A field name fit for an error message; anything else is not echoed."""
    text = str(name)
    return text if _FIELD_NAME.fullmatch(text) else "(a field name that is not one)"


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InboundRejected(
            "encoding.not_utf8",
            _WHOLE,
            f"the body is not UTF-8 (byte {error.start}): accents must be UTF-8, "
            "not Latin-1 or Windows-1252",
        ) from None


class _RepeatedNameError(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise _RepeatedNameError(name)
        result[name] = value
    return result


def _no_constant(name: str) -> None:
    raise ValueError(f"not JSON: {name} is not a number")


def _json_object(text: str) -> dict[str, Any]:
    if json_too_deep(text):
        raise InboundRejected(
            "payload.not_json",
            _WHOLE,
            f"nested deeper than {MAX_JSON_DEPTH} levels: not a partner message",
        )
    try:
        data = json.loads(
            text, object_pairs_hook=_unique_names, parse_constant=_no_constant
        )
    except _RepeatedNameError as error:
        field = _safe(error.name)
        raise InboundRejected("schema.invalid", field, f"{field}: twice") from None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise InboundRejected(
            "payload.not_json", _WHOLE, f"not JSON: {error.msg} ({where})"
        ) from None
    except ValueError as error:
        raise InboundRejected("payload.not_json", _WHOLE, str(error)) from None
    if not isinstance(data, dict):
        raise InboundRejected("schema.invalid", _WHOLE, "the message is an object")
    return data


LocalFormats = tuple[tuple[str, bool, bool, bool], ...]
"""Per field of a schema, in its order: (name, a date, a time, a number)."""


def local_formats(schema: dict[str, Any]) -> LocalFormats:
    """The fields of a schema a partner might write the local way."""
    found = []
    for name, prop in schema["properties"].items():
        kinds = prop.get("anyOf", [prop])
        formats = {k.get("format") for k in kinds}
        number = "number" in {k.get("type") for k in kinds}
        if "date" in formats or "date-time" in formats or number:
            found.append((name, "date" in formats, "date-time" in formats, number))
    return tuple(found)


def _refuse_local_formats(data: dict[str, Any], fields: LocalFormats) -> None:
    """Dates and decimals written the local way (12/03/2026, 21,09), by field."""
    for name, is_date, is_time, is_number in fields:
        value = data.get(name)
        if not isinstance(value, str):
            continue
        if is_date and not ISO_DATE.fullmatch(value):
            raise InboundRejected(
                "date.format", name, f"{name}: a date is written YYYY-MM-DD"
            )
        if is_time and not ISO_DATE_TIME.fullmatch(value):
            raise InboundRejected(
                "date.format",
                name,
                f"{name}: a time is written YYYY-MM-DDThh:mm:ss with its UTC offset",
            )
        if is_number:
            point = f"{name}: a decimal is a JSON number with a point, e.g. 21.09"
            if "," in value:
                raise InboundRejected("decimal.comma", name, point)
            raise InboundRejected("schema.invalid", name, point)


def _schema_invalid(
    error: ValidationError, names: Mapping[str, str]
) -> InboundRejected:
    """One rejection naming each failing field by the partner's name, no values."""
    problems = []
    for detail in error.errors(include_url=False, include_input=False):
        loc = detail["loc"]
        where = detail.get("ctx", {}).get("field") or (loc[0] if loc else _WHOLE)
        field = _safe(names.get(str(where), where))
        problems.append((field, f"{field}: {detail['msg']}"))
    return InboundRejected(
        "schema.invalid", problems[0][0], "; ".join(text for _, text in problems)
    )
