"""The one shape of every refusal of every API: where, which rule, why.

``{"detail": [{"loc": [...], "msg": "...", "type": "<rule>"}]}`` is FastAPI's
validation shape; the hub answers every 4xx with it (401, 403, 404, 409, 413
and 422 alike), so one model, `Error`, describes them all in the OpenAPI
documents. ``type`` is the hub's rule (``auth.unknown_key``,
``case.unknown``, ``niss.check_digits``…), ``loc`` the field or header, and
``msg`` explains without quoting the submitted value (it may be a NISS).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import HTTPException
from pydantic import BaseModel, Field

__all__ = ["Error", "ErrorItem", "Refused", "detail"]


class ErrorItem(BaseModel):
    """One refusal: the field, the rule, the explanation."""

    loc: list[str | int] = Field(
        description="Where: 'body', 'query', 'path' or 'header', then the field."
    )
    msg: str = Field(description="What is wrong, without the submitted value.")
    type: str = Field(description="The rule, e.g. niss.check_digits, auth.scope.")
    case_id: uuid.UUID | None = Field(
        default=None, description="A conflict: the case already recorded."
    )
    dead_letter_id: int | None = Field(
        default=None, description="A partner message: where it is kept."
    )


class Error(BaseModel):
    """Every refusal of the hub's APIs."""

    detail: list[ErrorItem] = Field(description="One entry per refusal.")


def detail(
    loc: Sequence[str | int], rule: str, message: str, **extra: Any
) -> dict[str, Any]:
    """An `Error` body of one refusal."""
    return {"detail": [{"loc": list(loc), "msg": message, "type": rule, **extra}]}


class Refused(HTTPException):
    """An HTTP refusal (401, 403, 404…) in the `Error` shape, naming its rule."""

    def __init__(
        self,
        status_code: int,
        loc: Sequence[str | int],
        rule: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            status_code,
            detail=detail(loc, rule, message)["detail"],
            headers=dict(headers) if headers else None,
        )
        self.rule = rule
