"""SPP IS forms through the gateway's real event store (PostgreSQL).

A form B is submitted, SPP IS rejects it with its reason, a modification of the
same date fixes the cause and the new form is accepted; another process reads
the whole lineage back from the store (ADR 0021).
"""

from __future__ import annotations

import pytest

from contracts.income import IncomeRightModifiedV1
from services.common.settings import HubSettings
from services.partner_gateway.service import create_application
from tests.partner_gateway.test_spp_is import (
    CASE,
    GRANT,
    answer,
    report,
    sample,
)

pytestmark = pytest.mark.integration


def test_a_rejected_form_and_its_corrected_successor_survive_the_store(
    hub_settings: HubSettings,
) -> None:
    app = create_application(hub_settings)
    try:
        first = report(app, GRANT)
        assert first is not None
        assert answer(app, first[0], "SPPIS-1", code="B-CAT-02", text="Catégorie.")
        fix = sample(
            IncomeRightModifiedV1, 18, effective_date=GRANT.effective_date, category=1
        )
        second = report(app, fix)
        assert second is not None
        assert answer(app, second[0], "SPPIS-2") == "accepted"
        assert report(app, fix) == second  # a redelivery submits nothing
    finally:
        app.close()
    reader = create_application(hub_settings)
    try:
        forms = reader.federal_forms(CASE, current=True)
    finally:
        reader.close()
    assert [(f.fate, f.reason_code) for f in forms] == [
        ("rejected", "B-CAT-02"),
        ("accepted", None),
    ]
    assert forms[1].replaces == forms[0].form_id
    assert forms[1].source_event_ids == (fix.event_id,)
