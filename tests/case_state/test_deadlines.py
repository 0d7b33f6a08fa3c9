"""The due and overdue list: one line per missed deadline, a late signature named."""

from __future__ import annotations

import datetime as dt
import uuid

from contracts.piis import PiisDeadlineMissedV1
from services.case_state.deadlines import DeadlinesProjection

CASE = uuid.UUID(int=41)


def missed(version: int, **fields: object) -> PiisDeadlineMissedV1:
    return PiisDeadlineMissedV1(
        event_id=uuid.uuid4(),
        occurred_at=dt.datetime(2026, 6, 11, tzinfo=dt.UTC),
        stream_id=CASE,
        stream_version=version,
        case_id=CASE,
        cpas_kbo="0212345668",
        correlation_id=uuid.uuid4(),
        kind="piis_not_signed",
        due_on=dt.date(2026, 6, 10),
        **fields,
    )


def test_art11_a_signature_after_its_due_date_is_listed_as_late() -> None:
    projection = DeadlinesProjection()
    row = projection.fold(None, missed(1, detected_on=dt.date(2026, 6, 11)))
    row = projection.fold(
        row,
        missed(
            2,
            detected_on=dt.date(2026, 6, 23),
            signed_on=dt.date(2026, 6, 22),
            caseworker="sw-7",
        ),
    )
    assert row is not None
    assert row.missed == (
        ("piis_not_signed", "2026-06-10", "2026-06-11", None),
        ("piis_signed_late", "2026-06-10", "2026-06-23", "sw-7"),
    )
