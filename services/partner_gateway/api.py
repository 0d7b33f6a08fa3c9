"""The gateway's HTTP API: partners post messages; operators see what was kept."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import psycopg
from fastapi import FastAPI, Path, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contracts.text import Identifier
from services.common.auth import ApiClient, PartnerSender
from services.common.dead_letters import list_dead_letters
from services.common.http import error_body, service_api
from services.common.journal import (
    JournalledDeadLetterReader,
    database_journal,
    install_journal,
)
from services.common.refusals import Refused
from services.common.settings import MIB
from services.partner_gateway.inbound import InboundDesk
from services.partner_gateway.quarantine import QUARANTINE
from services.partner_gateway.registry import CHANNELS

__all__ = ["create_api"]

_CONFLICTS = frozenset(
    {
        "message.duplicate_different_content",
        "sequence.already_used",
        "federal_form.already_answered",
    }
)
# The body is the partner's own message: its JSON Schemas are per partner and
# message type (contracts/partners/), the route reads the bytes as sent.
_MESSAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "One message in the partner's format: "
                    "docs/partners/ and contracts/partners/<code>/inbound/.",
                }
            }
        },
    }
}


class MessageReceipt(BaseModel):
    """What became of a message taken in."""

    status: Literal["applied", "duplicate", "held"] = Field(
        description="applied; held (waits for its turn); duplicate (seen already)"
    )
    dead_letter_id: int | None = Field(
        description="Where a held message is kept until its turn."
    )


def create_api(
    desk: InboundDesk,
    database_url: str,
    keys: Mapping[str, ApiClient],
    *,
    max_request_bytes: int = MIB,
) -> FastAPI:
    """The gateway API over one inbound desk (bodies capped, 413 beyond)."""
    api = service_api(
        "partner gateway",
        "Regional employment services (Le Forem, Actiris, VDAB, ADG) post their "
        "messages here, in their own language and format (docs/partners/), and SPP "
        "IS its acknowledgements of the forms B, C and D (spp_is). Each is "
        "validated, matched to the person's case and recorded once; what cannot be "
        "applied is kept with its reason, never dropped.",
        keys,
        max_request_bytes=max_request_bytes,
    )
    install_journal(api, "partner gateway", database_journal(database_url))

    @api.post(
        "/partners/{code}/messages",
        status_code=status.HTTP_202_ACCEPTED,
        summary="Post one partner message (JSON in the partner's format)",
        response_model=MessageReceipt,
        responses={
            404: {"description": "No partner with this code (partner.unknown)"},
            409: {
                "description": "Kept as a dead letter: another message under its "
                "id or sequence (message.duplicate_different_content, "
                "sequence.already_used), or another answer about a form SPP IS "
                "already answered (federal_form.already_answered)"
            },
            422: {"description": "Kept as a dead letter: the rule and the field"},
        },
        openapi_extra=_MESSAGE_BODY,
    )
    async def post_message(
        code: Annotated[
            Identifier,
            Path(
                description="The partner's code (404 for another)",
                json_schema_extra={"enum": sorted(CHANNELS)},
            ),
        ],
        request: Request,
        client: PartnerSender,
    ) -> JSONResponse:
        if code not in CHANNELS:
            # The code is not echoed: it may be anything, a NISS included.
            raise Refused(
                404, ("path", "code"), "partner.unknown", "no partner with this code"
            )
        client.check_partner(code)
        raw = await request.body()  # at most max_request_bytes (service_api)
        receipt = await asyncio.to_thread(
            desk.receive, code, raw, f"http:{client.client}"
        )
        if receipt.status == "parked":
            body = error_body(
                receipt.field or "payload",
                receipt.rule or "rejected",
                receipt.message or "",
                dead_letter_id=receipt.dead_letter_id,
            )
            conflict = receipt.rule in _CONFLICTS
            return JSONResponse(status_code=409 if conflict else 422, content=body)
        return JSONResponse(
            status_code=202,
            content={
                "status": receipt.status,
                "dead_letter_id": receipt.dead_letter_id,
            },
        )

    @api.get(
        "/dead-letters",
        summary="Partner messages kept, with their reason",
        description="An operator's key (scope operations) lists every partner's; "
        "a partner's key (partner:messages) those of its own messages. Never a "
        "payload: it may hold personal data.",
    )
    def dead_letters(
        client: JournalledDeadLetterReader,
        status: Annotated[
            Identifier | None, Query(description="parked, held, applied, duplicate")
        ] = None,
    ) -> list[dict[str, Any]]:
        # Never a payload (personal data). An operator lists every partner's,
        # a partner's system the dead letters of its own messages only.
        with psycopg.connect(database_url) as conn:
            rows = list_dead_letters(
                conn, schema=QUARANTINE, status=status, partner=client.partner
            )
        return [{k: str(v) for k, v in row.items()} for row in rows]

    return api
