"""Bounded text, lists, maps and decimals: only what the broker and consumers carry.

Every text field of a contract or of an HTTP request has a maximum length and
refuses the control characters PostgreSQL, JSON consumers or a terminal choke
on (C0 ``U+0000-U+001F``, DEL ``U+007F``, C1 ``U+0080-U+009F``); only prose
(needs, objectives, reasons, outcomes…) may hold a tab, a line feed or a
carriage return. Every list and map has a maximum number of items, every
decimal a maximum written length (`Digits`). The limits keep the largest
possible event of every type far under the broker's message limit (ADR 0010).
Lone surrogates (which JSON text may escape but UTF-8 cannot carry) are refused
too; pydantic's own JSON parser refuses them before (``json_invalid``). The
published patterns leave them out: in JSON Schema's regular expressions a
surrogate range would also refuse every character beyond U+FFFF.

The checks run whenever a model is built or decoded, except under the
`HISTORY` validation context, with which the event store reads back its own
rows: events stored before a limit existed must still load, or their case
would be stuck for ever.

Errors are `PydanticCustomError` whose ``type`` is a hub rule (`RULES`) and
whose message explains it without the value (it may be a name or a health
matter); the error's location names the field.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sized
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Annotated, Any, Final

from pydantic import (
    BaseModel,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationInfo,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import (
    CoreSchema,
    PydanticCustomError,
    SchemaValidator,
    core_schema,
)

__all__ = [
    "DATES",
    "HISTORY",
    "ITEMS",
    "ONE_LINE_PATTERN",
    "PROSE_PATTERN",
    "RULES",
    "Code",
    "Digits",
    "DossierNumber",
    "Identifier",
    "Items",
    "Name",
    "Prose",
    "ProseItem",
    "ProseList",
    "Reason",
    "Reference",
    "ScoreDomain",
    "ShortDecimal",
    "Text",
    "history_validator",
    "history_validator_of_schema",
    "safe_loc",
]

RULES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "text.too_long": "the text is longer than the field allows",
        "text.control_character": "the text holds a control character (C0 U+0000-"
        "U+001F, DEL U+007F or C1 U+0080-U+009F); prose allows only tab, line feed "
        "and carriage return, a one-line field none",
        "list.too_long": "the list has more items than the field allows",
        "text.lone_surrogate": "the text holds half of a UTF-16 surrogate pair, "
        "which no encoding of text can carry",
        "map.too_long": "the map has more entries than the field allows",
        "decimal.too_long": "the decimal, written out, is longer than the field "
        "allows (trailing zeros count)",
    }
)
"""Every rule a bounded text, list or map can break, with its explanation."""

HISTORY: Final[Mapping[str, bool]] = MappingProxyType({"hub.stored_history": True})
"""Validation context of an event store reading its own rows: no bound is checked."""

_HISTORY_KEY: Final = "hub.stored_history"

# What each kind of text refuses, for the check (Python) and for the JSON Schema
# (ECMA-262, the dialect of JSON Schema patterns: the same classes).
_ONE_LINE_REFUSED: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_PROSE_REFUSED: Final = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]"
)
ONE_LINE_PATTERN: Final = r"^[^\u0000-\u001f\u007f-\u009f]*$"
PROSE_PATTERN: Final = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"

ITEMS: Final = 30
"""Most items of a list of texts or codes, and most entries of a map."""
DATES: Final = 50
"""Most dates of a plan (evaluation dates: at least three a year)."""


def _reading_history(info: ValidationInfo) -> bool:
    context = info.context
    # Identity first: the event store passes HISTORY itself, on its hot path.
    return context is HISTORY or (
        isinstance(context, dict) and context.get(_HISTORY_KEY) is True
    )


class _Bound(ABC):
    """A bound checked after pydantic validated the value's type."""

    __slots__ = ()

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.with_info_after_validator_function(
            self.check, handler(source)
        )

    @abstractmethod
    def check(self, value: Any, info: ValidationInfo) -> Any:
        """The value, or the rule it breaks (never quoting it)."""


@dataclass(frozen=True, slots=True)
class Text(_Bound):
    """Annotation of a bounded text: at most ``max_length`` characters.

    Attributes:
        max_length: Most characters (code points, as JSON Schema counts them).
        prose: Free prose may hold tab, line feed and carriage return; other
            text is one line.
    """

    max_length: int
    prose: bool = False

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["maxLength"] = self.max_length
        json_schema["pattern"] = PROSE_PATTERN if self.prose else ONE_LINE_PATTERN
        return json_schema

    def check(self, value: str, info: ValidationInfo) -> str:
        """The value, or the rule it breaks (never quoting it)."""
        if info.context is not None and _reading_history(info):
            return value
        if len(value) > self.max_length:
            raise PydanticCustomError(
                "text.too_long",
                "at most {max_length} characters ({length} given)",
                {"max_length": self.max_length, "length": len(value)},
            )
        # isprintable() is false for every refused character (and for some
        # allowed ones, e.g. a no-break space): the scan runs only then.
        if not value.isprintable():
            refused = _PROSE_REFUSED if self.prose else _ONE_LINE_REFUSED
            found = refused.search(value)
            if found is not None and found.group() >= "\ud800":
                raise PydanticCustomError(
                    "text.lone_surrogate",
                    "contains a lone surrogate ({code_point}), which is no character",
                    {"code_point": f"U+{ord(found.group()):04X}"},
                )
            if found is not None:
                raise PydanticCustomError(
                    "text.control_character",
                    "contains a control character ({code_point}); {allowed}",
                    {
                        "code_point": f"U+{ord(found.group()):04X}",
                        "allowed": "prose allows only tab, line feed and "
                        "carriage return"
                        if self.prose
                        else "a one-line field allows none",
                    },
                )
        return value


@dataclass(frozen=True, slots=True)
class Items(_Bound):
    """Annotation of a bounded list, tuple or map: at most ``max_items`` items."""

    max_items: int

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        if json_schema.get("type") != "object":
            json_schema["maxItems"] = self.max_items
            return json_schema
        # pydantic moves a key pattern into patternProperties, where keys that
        # do not match it would be unconstrained: every key is named here.
        for pattern, values in json_schema.pop("patternProperties", {}).items():
            json_schema["additionalProperties"] = values
            json_schema.setdefault("propertyNames", {})["pattern"] = pattern
        json_schema["maxProperties"] = self.max_items
        return json_schema

    def check(self, value: Sized, info: ValidationInfo) -> Any:
        """The value, or the rule it breaks."""
        if len(value) <= self.max_items or (
            info.context is not None and _reading_history(info)
        ):
            return value
        if isinstance(value, dict):
            raise _too_many("map.too_long", "entries", self.max_items, len(value))
        raise _too_many("list.too_long", "items", self.max_items, len(value))


def _too_many(
    rule: str, items: str, max_items: int, length: int
) -> PydanticCustomError:
    return PydanticCustomError(
        rule,
        "at most {max_items} {items} ({length} given)",
        {"max_items": max_items, "items": items, "length": length},
    )


@dataclass(frozen=True, slots=True)
class Digits(_Bound):
    """Annotation of a decimal written with at most ``max_length`` characters.

    Events carry a decimal as its text (``str`` of the value, trailing zeros
    kept): pydantic's own ``max_digits`` ignores trailing zeros, so a value of
    a megabyte of zeros would pass it. Checked like text, skipped like text
    under `HISTORY`.
    """

    max_length: int

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        if handler.mode == "serialization":  # the text events carry
            json_schema["maxLength"] = self.max_length
        return json_schema

    def check(self, value: Decimal, info: ValidationInfo) -> Decimal:
        """The value, or the rule it breaks."""
        written = len(str(value))
        if written <= self.max_length or (
            info.context is not None and _reading_history(info)
        ):
            return value
        raise PydanticCustomError(
            "decimal.too_long",
            "at most {max_length} characters written out ({length} given)",
            {"max_length": self.max_length, "length": written},
        )


Name = Annotated[str, Text(200)]
"""A name or title on one line: a person, an organisation, a job, a training."""
Identifier = Annotated[str, Text(64)]
"""A staff id, a reference, a code or an id on one line."""
Code = Annotated[str, Text(100)]
"""A code from another system or a finding kept for the auditor, on one line."""
Reference = Annotated[str, Text(200)]
"""A reference to a document or record elsewhere (a number, a file name)."""
ScoreDomain = Annotated[str, Text(64)]
"""A domain of a measurement instrument (a key of a score map)."""
DossierNumber = Annotated[str, Text(11)]
"""A normalised CPAS file number (no separators, no leading zeros)."""
Reason = Annotated[str, Text(500, prose=True)]
"""Why something was decided: short prose."""
Prose = Annotated[str, Text(2000, prose=True)]
"""A motivation, an outcome, a report: free prose."""
ProseItem = Annotated[str, Text(1000, prose=True)]
"""One need, strength, obstacle, objective or commitment: a paragraph."""
ProseList = Annotated[tuple[ProseItem, ...], Items(ITEMS)]
"""A list of prose items."""
ShortDecimal = Annotated[Decimal, Digits(16)]
"""An amount, a number of hours or a rate: at most 16 characters written out."""

_SHOWN_KEY: Final = 64


def safe_loc(loc: tuple[int | str, ...] | list[int | str]) -> list[int | str]:
    """An error location fit to show or store: keys that are not names are masked.

    A map's key is data: the location keeps field names, indexes and short
    printable keys, and says ``(key)`` for one too long or holding a control
    character, which neither an error body nor a text column should carry.
    """
    return [
        part
        if isinstance(part, int) or (len(part) <= _SHOWN_KEY and part.isprintable())
        else "(key)"
        for part in loc
    ]


def history_validator(model: type[BaseModel]) -> SchemaValidator:
    """A validator of ``model`` without its text, list, map and decimal checks.

    It gives what validating under `HISTORY` gives, without one Python call
    per field: the event store's reading path (`parse_stored_event`), where
    rebuilds decode hundreds of thousands of events a second. The model's own
    schema is compiled again with the checks taken out; since pydantic would
    reuse a model's prebuilt validator wherever its schema names the class,
    each model is built from its validated fields here instead.
    """
    schema = model.__pydantic_core_schema__
    return history_validator_of_schema(schema, schema.get("config"))


def history_validator_of_schema(schema: Any, config: Any) -> SchemaValidator:
    """`history_validator` of a core schema (which a caller may have reshaped)."""
    return SchemaValidator(_strip(schema), config)


def _strip(node: Any) -> Any:
    if isinstance(node, list):
        return [_strip(item) for item in node]
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    if kind == "function-after" and isinstance(
        getattr(node["function"]["function"], "__self__", None), _Bound
    ):
        return _strip(node["schema"])
    if kind == "model":
        return core_schema.no_info_after_validator_function(
            _builder(node), _strip(node["schema"])
        )
    return {key: _strip(value) for key, value in node.items()}


def _builder(node: Mapping[str, Any]) -> Callable[[Any], BaseModel]:
    """What pydantic does with a model's validated fields, for a plain model."""
    model: type[BaseModel] = node["cls"]
    plain = not (
        node.get("custom_init")
        or node.get("root_model")
        or node.get("post_init")
        or model.__private_attributes__
    )
    if not plain:
        raise TypeError(f"{model.__name__}: no history validator for this model")
    set_attribute = object.__setattr__

    def build(validated: tuple[dict[str, Any], Any, set[str]]) -> BaseModel:
        values, extra, fields_set = validated
        instance = model.__new__(model)
        set_attribute(instance, "__dict__", values)
        set_attribute(instance, "__pydantic_extra__", extra)
        set_attribute(instance, "__pydantic_fields_set__", fields_set)
        set_attribute(instance, "__pydantic_private__", None)
        return instance

    return build
