"""The "due and overdue" read model: missed PIIS deadlines per CPAS and caseworker."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import psycopg

from contracts.envelope import ContractEvent
from contracts.piis import PiisDeadlineMissedV1, SocialActivationEvaluationOverdueV1
from services.common.row_table import RowTable

__all__ = [
    "ACTIVATION_EVALUATION",
    "MISSED",
    "CaseDeadlines",
    "DeadlinesProjection",
    "missed_kind",
    "overdue_for",
]

# Events that report a deadline passed unmet.
MISSED: Final = (PiisDeadlineMissedV1, SocialActivationEvaluationOverdueV1)
# The watch's word for an overdue social-activation evaluation (an event type
# of its own, hub.piis.social_activation.evaluation_overdue.v1).
ACTIVATION_EVALUATION: Final = "social_activation_evaluation"


def missed_kind(event: ContractEvent) -> str | None:
    """Which deadline a missed-deadline event reports, by its ``kind`` (any kind).

    A signature deadline met late carries the day it was signed: its line is
    ``piis_signed_late``. None: not a missed-deadline event.
    """
    match event:
        case PiisDeadlineMissedV1():
            late = event.kind == "piis_not_signed" and event.signed_on is not None
            return "piis_signed_late" if late else str(event.kind)
        case SocialActivationEvaluationOverdueV1():
            return ACTIVATION_EVALUATION
        case _:
            return None


@dataclass(frozen=True, slots=True)
class CaseDeadlines:
    """The missed deadlines of one case: (kind, due on, detected on, caseworker)."""

    case_id: uuid.UUID
    cpas_kbo: str
    missed: tuple[tuple[str, str, str, str | None], ...] = ()


class DeadlinesProjection(RowTable[CaseDeadlines]):
    """Folds missed-deadline events into one row per case."""

    name = "deadlines"
    table = "case_deadlines"
    columns = (
        ("case_id", "uuid PRIMARY KEY"),
        ("cpas_kbo", "text NOT NULL"),
        ("missed", "jsonb NOT NULL"),
    )
    indexes = ("cpas_kbo",)

    def fold(
        self, row: CaseDeadlines | None, event: ContractEvent
    ) -> CaseDeadlines | None:
        """The row after one event."""
        kind = missed_kind(event)
        if kind is None:
            return None
        assert isinstance(event, MISSED)  # noqa: S101 - missed_kind said so
        caseworker = getattr(event, "caseworker", None)
        current = row or CaseDeadlines(event.case_id, event.cpas_kbo)
        item = (
            kind,
            event.due_on.isoformat(),
            event.detected_on.isoformat(),
            caseworker,
        )
        return dataclasses.replace(current, missed=(*current.missed, item))

    def encode(self, row: CaseDeadlines) -> tuple[Any, ...]:
        """The row's column values."""
        return (row.case_id, row.cpas_kbo, json.dumps(row.missed))

    def decode(self, record: Sequence[Any]) -> CaseDeadlines:
        """A row from its column values."""
        case_id, cpas_kbo, missed = record
        return CaseDeadlines(case_id, cpas_kbo, tuple(tuple(m) for m in missed))


async def overdue_for(
    conn: psycopg.AsyncConnection[Any],
    schema: str,
    cpas_kbo: str,
    caseworker: str | None = None,
) -> list[dict[str, Any]]:
    """Missed deadlines of a CPAS (and caseworker), oldest due first."""
    rows = await DeadlinesProjection().rows_where(conn, schema, "cpas_kbo", cpas_kbo)
    items = []
    for row in rows:
        for kind, due_on, detected_on, worker in row.missed:
            if caseworker is None or worker == caseworker:
                items.append(
                    {
                        "case_id": str(row.case_id),
                        "kind": kind,
                        "due_on": due_on,
                        "detected_on": detected_on,
                        "caseworker": worker,
                        "days_overdue": (
                            dt.date.fromisoformat(detected_on)
                            - dt.date.fromisoformat(due_on)
                        ).days,
                    }
                )
    return sorted(items, key=lambda i: (i["due_on"], i["case_id"]))


def _days_between(first: str, second: str) -> int:
    return (dt.date.fromisoformat(second) - dt.date.fromisoformat(first)).days
