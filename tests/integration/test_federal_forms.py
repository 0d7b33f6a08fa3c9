"""SPP IS forms through the gateway's real event store (PostgreSQL).

A form B is submitted, SPP IS rejects it with its reason, a modification of the
same date fixes the cause and the new form is accepted; another process reads
the whole lineage back from the store (ADR 0021). A refused application and a
recovery recorded at intake become a form C (type 1) and forms D, by month, in
the gateway, through the real processes. The PIIS code of form B follows the
subsidy's periods: 11 at the signature whatever was typed, 17 sent ahead once
the motivation is recorded, withdrawn by a correction when the PIIS ends first.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import httpx
import pytest

from contracts.federal_reporting import FormCContent, FormDContent
from contracts.income import IncomeRightModifiedV1
from services.common.settings import HubSettings
from services.partner_gateway.service import create_application
from services.supervisor import wait_healthy
from tests.integration.harness import HEADERS, component, wait_until
from tests.integration.load import registration_body
from tests.integration.test_gateway_flow import grant, post
from tests.partner_gateway.test_spp_is import (
    CASE,
    GRANT,
    MARCH_2025,
    MARCH_2026,
    MAY,
    RECOVERED,
    REFUSED,
    Feed,
    _codes,
    _ended,
    _first_year,
    _motivated,
    _policy,
    answer,
    recovered,
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


def test_a_refusal_and_a_recovery_make_forms_c_and_d_that_survive_the_store(
    hub_settings: HubSettings,
) -> None:
    app = create_application(hub_settings)
    try:
        policy = _policy(app)
        policy.react(REFUSED)
        policy.react(RECOVERED)
        second = recovered(16, (MAY, "10.00"), (MAY.replace(month=6), "20.00"))
        policy.react(second)
        policy.react(second)  # a redelivery submits nothing more
    finally:
        app.close()
    reader = create_application(hub_settings)
    try:
        forms = reader.federal_forms(CASE, current=True)
    finally:
        reader.close()
    refusal, *recoveries = (f.content for f in forms)
    assert isinstance(refusal, FormCContent)
    assert (refusal.decision_type, refusal.form_b_id) == (1, None)
    assert [
        (d.effective_date.month, d.sequence, str(d.amount))
        for d in recoveries
        if isinstance(d, FormDContent)
    ] == [(5, 1, "120.50"), (5, 2, "10.00"), (6, 1, "20.00")]
    assert forms[-1].source_event_ids == (second.event_id,)


def test_a_refusal_and_a_recovery_at_intake_become_forms_c_and_d_in_the_gateway(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    granted, refused = registration_body(0), registration_body(1)
    codes = {granted["cpas_kbo"]: "62063", refused["cpas_kbo"]: "62063"}
    settings = hub_settings.model_copy(update={"cpas_ins_codes": json.dumps(codes)})
    intake = f"http://127.0.0.1:{settings.intake_port}"
    gateway = f"http://127.0.0.1:{settings.partner_gateway_port}"
    with (
        component(settings, "intake-api", tmp_path / "intake.log"),
        component(settings, "intake-relay", tmp_path / "relay.log"),
        component(settings, "partner-gateway", tmp_path / "gateway.log"),
    ):
        for api in (intake, gateway):
            wait_healthy(f"{api}/openapi.json")
        cases = []
        for body in (granted, refused):
            registered = httpx.post(f"{intake}/cases", json=body, headers=HEADERS)
            assert registered.status_code == 201, registered.text
            cases.append(uuid.UUID(registered.json()["case_id"]))
        grant(intake, str(cases[0]))  # a RIS from 1 October 2026, EUR 1,314.20
        post(
            f"{intake}/cases/{cases[0]}/income-right/recoveries",
            {
                "command_id": str(uuid.uuid4()),
                "decision_date": "2026-11-20",
                "period_start": "2026-10-16",
                "period_end": "2026-11-15",
                "amount": "600.00",
                "recovery_type": "01",
                "reason": "retroactive_social_benefit",
            },
        )
        post(
            f"{intake}/cases/{cases[1]}/income-right/refusals",
            {
                "command_id": str(uuid.uuid4()),
                "kind": "RIS",
                "application_date": "2026-11-03",
                "decision_date": "2026-11-20",
                "reason": "sufficient_resources",
                "category_asked": 2,
            },
            expected=204,
        )
        reader = create_application(settings)
        try:
            wait_until(
                lambda: (
                    len(reader.federal_forms(cases[0], current=True)) == 3
                    and bool(reader.federal_forms(cases[1], current=True))
                ),
                what="the forms B and D of the recovery, the form C of the refusal",
            )
            b, *d = reader.federal_forms(cases[0], current=True)
            [c] = reader.federal_forms(cases[1], current=True)
        finally:
            reader.close()
    assert b.kind == "B"
    # 16 to 31 October (16 days of 31) and 1 to 15 November (15 of 30): the
    # amount pro rata of what each month granted.
    assert [
        (
            f.content.effective_date.isoformat(),
            f.content.sequence,
            str(f.content.amount),
        )
        for f in d
        if isinstance(f.content, FormDContent)
    ] == [("2026-10-01", 1, "304.76"), ("2026-11-01", 1, "295.24")]
    assert isinstance(c.content, FormCContent)
    assert (c.content.decision_type, c.content.effective_date.isoformat()) == (
        1,
        "2026-11-03",
    )
    assert c.content.niss == refused["niss"]


def test_law_21_july_2016_the_piis_code_of_form_b_follows_the_subsidy_through_the_store(
    hub_settings: HubSettings,
) -> None:
    app = create_application(hub_settings)
    try:
        feed = Feed(app)
        grant, signed = _first_year(code="17")  # typed 17 at its first signature
        evaluation = _motivated()
        for event in (grant, signed, evaluation, evaluation):  # one redelivered
            feed(event)
        feed(_ended(dt.date(2026, 2, 20)))  # before the first year's last day
    finally:
        app.close()
    reader = create_application(hub_settings)
    try:
        forms = list(reader.federal_forms(CASE, current=True))
    finally:
        reader.close()
    assert _codes(forms) == [
        (MARCH_2025, None, 0),  # the grant
        (MARCH_2025, 11, 1),  # the first year, from the grant's day
        (MARCH_2026, 17, 0),  # the prolongation, sent when motivated
        (MARCH_2026, None, 1),  # withdrawn: no PIIS in force on 28 February
    ]
    assert forms[3].replaces == forms[2].form_id
    assert forms[2].source_event_ids == (evaluation.event_id,)
