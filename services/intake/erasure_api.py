"""``POST /erasures``: the operator's route to erase a person's file at a CPAS.

The same erasure as ``hub erase`` (services/erasure.py): refused within the
retention period unless forced with a reason code. Intake records the erasure
and destroys the person's key, then answers 202: each service purges its own
rows as the erasure event reaches it. The answer names the case and what was
done, never the person.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from contracts.intake import ErasureReason
from contracts.text import Identifier
from services.common.auth import Operator
from services.common.refusals import Refused
from services.erasure import PURGED_BY_SERVICES, ErasureDone

__all__ = ["Eraser", "ErasureRequest", "erasure_router"]

log = logging.getLogger(__name__)

Eraser = Callable[..., ErasureDone]


class ErasureRequest(BaseModel):
    """Whose file, at which CPAS, and whether it is forced (with its reason)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    person: str = Field(
        pattern=r"^[0-9]{11}$",
        max_length=11,
        description="NISS of the person (11 digits), never repeated in an answer.",
    )
    cpas_kbo: str = Field(
        pattern=r"^[01][0-9]{9}$", max_length=10, description="KBO number of the CPAS."
    )
    force: bool = Field(
        default=False, description="Erase before the retention period has ended."
    )
    reason: ErasureReason | None = Field(
        default=None, description="Why, when forced (a code, never text)."
    )
    reference: Identifier | None = Field(
        default=None, description="The CPAS's reference of the decision (no name)."
    )


class ErasureAnswer(BaseModel):
    """What the erasure did, and what the services do as its event reaches them."""

    case_id: str
    erased_on: str
    forced: bool
    key_destroyed: bool = Field(
        description="Whether a key was destroyed now (false: it was already)."
    )
    event_recorded: bool = Field(
        description="Whether hub.intake.case.erased.v1 was recorded now (false: "
        "the file was erased before, this finished it)."
    )
    purged: dict[str, int] = Field(
        description="Rows intake purged itself (its dead letters), per table."
    )
    purging: list[str] = Field(
        description="The consumers that purge their service's rows of the case "
        "when the erasure event reaches them."
    )
    then: str = Field(examples=[PURGED_BY_SERVICES])


def erasure_router(eraser: Eraser | None) -> APIRouter:
    """The route, erasing with ``eraser`` (None: this process cannot erase)."""
    router = APIRouter()

    @router.post(
        "/erasures",
        summary="Erase a person's file at a CPAS (operator)",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=ErasureAnswer,
    )
    def erase(body: ErasureRequest, client: Operator) -> dict[str, Any]:
        if eraser is None:
            raise Refused(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                ("body",),
                "erasure.unavailable",
                "this process cannot erase: use `hub erase`",
            )
        log.warning("erasure asked by client %s", client.client)
        done = eraser(
            niss=body.person,
            cpas_kbo=body.cpas_kbo,
            force=body.force,
            reason=body.reason,
            reference=body.reference,
        )
        return done.answer()

    return router
