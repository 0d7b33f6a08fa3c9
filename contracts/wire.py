"""Request types that take what their JSON Schema says, not what Python would coerce.

FastAPI validates a request's JSON body, once parsed, and its query and path
parameters, always text, in pydantic's Python mode, which coerces more than the
published schema allows: a Unix time (``-4590``) for a ``date-time``,
``"2026-03-02T00:00:00"`` for a ``date``, ``true`` or ``"5"`` for an
``integer``, ``"yes"`` for a ``boolean``, a UUID without its hyphens. The types
here refuse, in Python mode, whatever their schema refuses; the JSON mode (the
topic decoders, the event store reading its rows) and the schemas are those of
the plain types, unchanged.

A constraint on one of these types goes on the model field (``Field(ge=1)``)
or before the marker (``Annotated[int, Field(ge=0), AS_INTEGER]``,
``Annotated[int, Query(ge=1), AS_INTEGER_TEXT]``): pydantic publishes a
constraint put around the marker under its Python name (``ge``), which JSON
Schema does not know, and FastAPI drops a marker under a ``= Query(...)``
default.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Final

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

__all__ = [
    "AS_INTEGER",
    "AS_INTEGER_TEXT",
    "ISO_DATE",
    "ISO_DATE_TIME",
    "AsSent",
    "Boolean",
    "Date",
    "DateTime",
    "Integer",
    "Uuid",
]

ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
"""A ``date`` as JSON Schema writes it (RFC 3339 ``full-date``)."""
ISO_DATE_TIME: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})"
)
"""A ``date-time`` (RFC 3339, its UTC offset required; at most microseconds)."""
_UUID: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_DIGITS: Final = re.compile(r"-?[0-9]{1,18}")


@dataclass(frozen=True, slots=True)
class AsSent:
    """Marker: in Python mode, ``check`` admits the value first (or refuses it).

    JSON mode keeps the plain type's validation, and so its speed.
    """

    check: Callable[[Any], Any]

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        schema = handler(source)
        return core_schema.json_or_python_schema(
            json_schema=schema,
            python_schema=core_schema.no_info_before_validator_function(
                self.check, schema
            ),
        )


def _date(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        return value  # pydantic checks the day exists
    raise PydanticCustomError("date.format", "a date is written YYYY-MM-DD")


def _date_time(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str) and ISO_DATE_TIME.fullmatch(value):
        return value
    raise PydanticCustomError(
        "date.format",
        "a time is written YYYY-MM-DDThh:mm:ss with its UTC offset (Z or +01:00)",
    )


def _uuid(value: Any) -> Any:
    if isinstance(value, uuid.UUID) or (
        isinstance(value, str) and _UUID.fullmatch(value)
    ):
        return value
    raise PydanticCustomError(
        "uuid.format", "a UUID is written as 8-4-4-4-12 hexadecimal digits"
    )


def _integer(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)  # JSON Schema's integer: 2.0 is one
    raise PydanticCustomError("int_type", "Input should be a valid integer")


def _integer_text(value: Any) -> Any:
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return value
    return _integer(value)


def _boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    raise PydanticCustomError("bool_type", "Input should be a valid boolean")


AS_INTEGER: Final = AsSent(_integer)
"""The marker of `Integer`, to put after a constraint or on a ``Literal`` of ints."""
AS_INTEGER_TEXT: Final = AsSent(_integer_text)
"""An integer in a query, decimal digits only: ``Annotated[int, Query(...), this]``."""

Date = Annotated[dt.date, AsSent(_date)]
"""A date: ``YYYY-MM-DD`` only (no time, no number)."""
DateTime = Annotated[dt.datetime, AsSent(_date_time)]
"""A point in time: RFC 3339 with its UTC offset (no number, no naive time)."""
Uuid = Annotated[uuid.UUID, AsSent(_uuid)]
"""A UUID in its hyphenated form only."""
Integer = Annotated[int, AS_INTEGER]
"""A JSON integer (``2`` or ``2.0``; not a boolean, ``2.5`` or a string)."""
Boolean = Annotated[bool, AsSent(_boolean)]
"""A JSON boolean (not 0, 1, "true" or "yes")."""
