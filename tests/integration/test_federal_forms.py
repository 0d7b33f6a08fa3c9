"""SPP IS forms through the gateway's real event store (PostgreSQL).

A form B is submitted, SPP IS rejects it with its reason, a modification of the
same date fixes the cause and the new form is accepted; another process reads
the whole lineage back from the store (ADR 0021).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest

from contracts.income import IncomeRightModifiedV1
from services.common.settings import HubSettings
from services.partner_gateway.service import create_application
from services.supervisor import wait_healthy
from tests.integration.harness import HEADERS, component, wait_until
from tests.integration.load import registration_body
from tests.integration.test_gateway_flow import grant
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


def test_a_grant_at_intake_becomes_a_form_b_in_the_gateway(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    body = registration_body(0)
    settings = hub_settings.model_copy(
        update={"cpas_ins_codes": json.dumps({body["cpas_kbo"]: "62063"})}
    )
    intake = f"http://127.0.0.1:{settings.intake_port}"
    gateway = f"http://127.0.0.1:{settings.partner_gateway_port}"
    with (
        component(settings, "intake-api", tmp_path / "intake.log"),
        component(settings, "intake-relay", tmp_path / "relay.log"),
        component(settings, "partner-gateway", tmp_path / "gateway.log"),
    ):
        for api in (intake, gateway):
            wait_healthy(f"{api}/openapi.json")
        registered = httpx.post(f"{intake}/cases", json=body, headers=HEADERS)
        assert registered.status_code == 201, registered.text
        case_id = uuid.UUID(registered.json()["case_id"])
        grant(intake, str(case_id))  # a RIS from 1 October 2026
        reader = create_application(settings)
        try:
            wait_until(
                lambda: bool(reader.federal_forms(case_id, current=True)),
                what="the form B of the grant",
            )
            [form] = reader.federal_forms(case_id, current=True)
        finally:
            reader.close()
    assert form.kind == "B"
    assert form.content.cpas_ins_code == "62063"
    assert form.content.niss == body["niss"]
    assert form.fate == "submitted"
