"""What the PIIS service learns of each case from intake's events (its own table).

Fed through the consumer framework from ``hub.intake.events.v1``; the PIIS
service never reads intake's tables (ADR 0007). Every bilan is kept with its
date and scores, every income grant with its decision, obligation and
withdrawal, so that each rule finds the one it concerns.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Jsonb

from contracts.envelope import ContractEvent
from contracts.income import IncomeRightGrantedV1, IncomeRightWithdrawnV1
from contracts.intake import (
    BeneficiaryRegisteredV1,
    BilanCompletedV1,
    CaseTransferredV1,
)
from services.common.erasure import ErasableRowTable
from services.piis.case_facts import Bilan, CaseFacts, IncomeGrant

__all__ = ["CaseFactsProjection"]


def _bilan(row: CaseFacts, event: BilanCompletedV1) -> CaseFacts:
    bilan = Bilan(event.completed_on, dict(event.baseline_scores) or None)
    return dataclasses.replace(row, bilans=(*row.bilans, bilan))


def _grant(row: CaseFacts, event: IncomeRightGrantedV1) -> CaseFacts | None:
    if any(g.right_id == event.right_id for g in row.grants):
        return None
    grant = IncomeGrant(event.right_id, event.decision_date, event.piis_obligation)
    return dataclasses.replace(row, grants=(*row.grants, grant))


def _withdrawal(row: CaseFacts, event: IncomeRightWithdrawnV1) -> CaseFacts | None:
    grants = tuple(
        dataclasses.replace(g, withdrawn_on=event.effective_date)
        if g.right_id == event.right_id
        else g
        for g in row.grants
    )
    return dataclasses.replace(row, grants=grants) if grants != row.grants else None


class CaseFactsProjection(ErasableRowTable[CaseFacts]):
    """Case id, CPAS, file number, every bilan and every income grant."""

    name = "piis-facts"
    table = "case_facts"
    columns = (
        ("case_id", "uuid PRIMARY KEY"),
        ("cpas_kbo", "text NOT NULL"),
        ("dossier_number", "text NOT NULL"),
        ("bilans", "jsonb NOT NULL DEFAULT '[]'::jsonb"),
        ("grants", "jsonb NOT NULL DEFAULT '[]'::jsonb"),
    )

    def fold(self, row: CaseFacts | None, event: ContractEvent) -> CaseFacts | None:
        """The facts after one event."""
        match event:
            case BeneficiaryRegisteredV1():
                return CaseFacts(event.case_id, event.cpas_kbo, event.dossier_number)
            case BilanCompletedV1() if row is not None:
                return _bilan(row, event)
            case IncomeRightGrantedV1() if row is not None:
                return _grant(row, event)
            case IncomeRightWithdrawnV1() if row is not None:
                return _withdrawal(row, event)
            case CaseTransferredV1() if row is not None:
                # The file goes with the case: its later events name the new CPAS.
                return dataclasses.replace(
                    row, cpas_kbo=event.cpas_kbo, dossier_number=event.dossier_number
                )
            case BilanCompletedV1() | IncomeRightGrantedV1() | IncomeRightWithdrawnV1():
                raise LookupError(
                    f"case_id: {event.event_type} for a case never registered"
                )
            case _:
                return None

    def encode(self, row: CaseFacts) -> tuple[Any, ...]:
        """The facts' column values (bilans and grants as JSON)."""
        bilans = [
            {"completed_on": b.completed_on.isoformat(), "scores": b.scores}
            for b in row.bilans
        ]
        grants = [
            {
                "right_id": str(g.right_id),
                "decided_on": g.decided_on.isoformat(),
                "obligation": g.obligation,
                "withdrawn_on": g.withdrawn_on.isoformat() if g.withdrawn_on else None,
            }
            for g in row.grants
        ]
        return (
            row.case_id,
            row.cpas_kbo,
            row.dossier_number,
            Jsonb(bilans),
            Jsonb(grants),
        )

    def decode(self, record: Sequence[Any]) -> CaseFacts:
        """Facts from their column values."""
        case_id, cpas_kbo, dossier_number, bilans, grants = record
        return CaseFacts(
            case_id,
            cpas_kbo,
            dossier_number,
            tuple(
                Bilan(dt.date.fromisoformat(b["completed_on"]), b["scores"])
                for b in bilans
            ),
            tuple(
                IncomeGrant(
                    uuid.UUID(g["right_id"]),
                    dt.date.fromisoformat(g["decided_on"]),
                    g["obligation"],
                    dt.date.fromisoformat(g["withdrawn_on"])
                    if g["withdrawn_on"]
                    else None,
                )
                for g in grants
            ),
        )
