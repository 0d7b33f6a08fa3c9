"""The case-state fold, event by event (pure: no database)."""

from __future__ import annotations

import uuid

import pytest

from contracts.envelope import ContractEvent
from contracts.income import (
    IncomePaymentSuspendedV1,
    IncomeRightGrantedV1,
    IncomeRightModifiedV1,
    IncomeRightWithdrawnV1,
)
from services.case_state.projection import CaseStateProjection
from tests.contracts.samples import SAMPLES, envelope


def sample(kind: type[ContractEvent]) -> ContractEvent:
    return next(s for s in SAMPLES if isinstance(s, kind))


REGISTERED, BILAN, CLAIMED = SAMPLES[0], SAMPLES[1], SAMPLES[2]
GRANTED, MODIFIED, SUSPENDED, WITHDRAWN = (
    sample(IncomeRightGrantedV1),
    sample(IncomeRightModifiedV1),
    sample(IncomePaymentSuspendedV1),
    sample(IncomeRightWithdrawnV1),
)


def test_a_case_follows_its_registration_bilan_and_income_right() -> None:
    fold = CaseStateProjection().fold
    row = None
    for event in (REGISTERED, BILAN, GRANTED, MODIFIED, SUSPENDED):
        row = fold(row, event)
    assert row is not None
    assert (row.region, row.partner, row.bilan_status) == (
        "wallonia",
        "forem",
        "completed",
    )
    assert (row.income_kind, row.income_category, row.income_status) == (
        "RIS",
        3,
        "active",
    )
    assert row.piis_obligation == "compulsory_new_beneficiary"
    assert row.last_event_type == SUSPENDED.event_type
    withdrawn = fold(row, WITHDRAWN)
    assert withdrawn is not None
    assert withdrawn.income_status == "withdrawn"


def test_the_case_state_holds_no_personal_data() -> None:
    row = CaseStateProjection().fold(None, REGISTERED)
    assert row is not None
    personal = {"niss", "family_name", "given_name", "birth_date", "postal_code"}
    assert not set(row.__dataclass_fields__) & personal
    assert "85073003328" not in repr(row)
    assert "Dumont" not in repr(row)


def test_events_that_do_not_concern_the_case_state_change_nothing() -> None:
    assert CaseStateProjection().fold(None, CLAIMED) is None


def test_a_bilan_for_a_case_never_registered_cannot_be_folded() -> None:
    orphan = BILAN.model_copy(update=envelope(1, uuid.UUID(int=5)))
    with pytest.raises(LookupError, match="never registered"):
        CaseStateProjection().fold(None, orphan)


def test_the_table_columns_follow_the_row_fields() -> None:
    import dataclasses

    from services.case_state.projection import CaseRow

    columns = [name for name, _ in CaseStateProjection.columns]
    assert columns == [f.name for f in dataclasses.fields(CaseRow)]
