"""The sealed form of an event: its personal data apart, in a box only a key opens.

A contract marks its personal-data fields (`contracts.envelope.personal_data`).
In the sealed form, the form every event store row and every hub topic carries,
those fields are taken out of the event's JSON, at any depth (a household's
members, a list of children), and put in one box under the key ``sealed``::

    {"event_type": "...", ..., "sealed": {"person": "<uuid>", "key": "<id>",
     "box": "<base64 of nonce and AES-GCM ciphertext>"}}

Everything else stays in clear: the envelope, dates, codes, amounts. Who may
open the box, and with which key, is the vault's business
(docs/decisions/0023-envelope-encryption.md); this module only knows which
fields go in it and how they come back. Once a person's key is destroyed, the
event still decodes, its personal-data fields empty (`erased_validator`): the
history keeps its shape, every other field reads as before.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Mapping
from typing import Any, Final, Union

from pydantic import BaseModel
from pydantic_core import SchemaValidator, core_schema

from contracts.envelope import PERSONAL_DATA_KEY
from contracts.text import history_validator_of_schema

__all__ = [
    "SEALED_KEY",
    "Plan",
    "erased_validator",
    "merge_personal",
    "models_in",
    "personal_plan",
    "split_personal",
]

SEALED_KEY: Final = "sealed"

# A field's node: True, the whole value is personal; a Plan, the value is a
# model (or a list of models) some of whose fields are.
Plan = Mapping[str, "bool | Plan"]


def _is_personal(field: Any) -> bool:
    extra = field.json_schema_extra
    return isinstance(extra, Mapping) and extra.get(PERSONAL_DATA_KEY) is True


def models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation can hold (``X``, ``X | None``, ``list[X]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return models_in(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType) or origin is not None:
        return [m for arg in typing.get_args(annotation) for m in models_in(arg)]
    return []


@functools.cache
def personal_plan(model: type[BaseModel]) -> Plan:
    """Where a model's personal data is (empty: it holds none)."""
    plan: dict[str, bool | Plan] = {}
    for name, field in model.model_fields.items():
        if _is_personal(field):
            plan[name] = True
            continue
        nested: dict[str, bool | Plan] = {}
        for inner in models_in(field.annotation):
            nested.update(personal_plan(inner))
        if nested:
            plan[name] = nested
    return plan


def split_personal(data: dict[str, Any], plan: Plan) -> dict[str, Any] | None:
    """Take the personal data out of a model's JSON (in place); what was taken."""
    taken = _split(data, plan)
    return taken if isinstance(taken, dict) else None


def _split(value: Any, plan: Plan) -> Any:
    if isinstance(value, list):
        parts = [_split(item, plan) for item in value]
        return parts if any(part is not None for part in parts) else None
    if not isinstance(value, dict):
        return None
    taken: dict[str, Any] = {}
    for name, node in plan.items():
        if name not in value:
            continue
        if node is True:
            taken[name] = value.pop(name)
        elif isinstance(node, Mapping):
            inner = _split(value[name], node)
            if inner is not None:
                taken[name] = inner
    return taken or None


def merge_personal(data: dict[str, Any], taken: Mapping[str, Any]) -> None:
    """Put the personal data back where `split_personal` took it (in place)."""
    _merge(data, taken)


def _merge(value: Any, taken: Any) -> None:
    if isinstance(taken, list) and isinstance(value, list):
        for item, part in zip(value, taken, strict=False):
            if part is not None:
                _merge(item, part)
        return
    if not (isinstance(taken, Mapping) and isinstance(value, dict)):
        return
    for name, part in taken.items():
        here = value.get(name)
        if isinstance(part, list | Mapping) and isinstance(here, list | dict):
            _merge(here, part)
        else:
            value[name] = part


@functools.cache
def erased_validator(model: type[BaseModel]) -> SchemaValidator:
    """A history validator of ``model`` whose personal-data fields may be absent.

    For an event whose person's key is destroyed: it decodes with those
    fields None, and the rest of the event as stored.
    """
    schema = model.__pydantic_core_schema__
    return history_validator_of_schema(_erasable(schema), schema.get("config"))


def _erasable(node: Any) -> Any:
    if isinstance(node, list):
        return [_erasable(item) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("type") == "model":
        cls: type[BaseModel] = node["cls"]
        personal = {name for name, n in personal_plan(cls).items() if n is True}
        inner = _erasable(node["schema"])
        return {**node, "schema": _nullable_fields(inner, personal)}
    return {key: _erasable(value) for key, value in node.items()}


def _nullable_fields(node: Any, names: set[str]) -> Any:
    """The model-fields schema under a model node, those fields optional."""
    if not names or not isinstance(node, dict):
        return node
    if node.get("type") == "model-fields":
        fields = dict(node["fields"])
        for name in names & fields.keys():
            field = dict(fields[name])
            field["schema"] = core_schema.with_default_schema(
                core_schema.nullable_schema(field["schema"]), default=None
            )
            fields[name] = field
        return {**node, "fields": fields}
    if "schema" in node and node.get("type") != "model":
        return {**node, "schema": _nullable_fields(node["schema"], names)}
    return node
