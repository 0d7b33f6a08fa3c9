"""Statistics through the real broker: intake and PIIS events meet in one read model."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from services.cli import app as hub
from services.common.rebuild import build_shadow
from services.common.settings import HubSettings
from services.registry import consumer
from services.supervisor import wait_healthy
from tests.integration.harness import HEADERS, component, hub_env, table, wait_until
from tests.integration.load import registration_body

pytestmark = pytest.mark.integration


def test_a_dossier_in_a_phase_counts_in_the_isp_rate(
    hub_settings: HubSettings, tmp_path: Path
) -> None:
    intake = f"http://127.0.0.1:{hub_settings.intake_port}"
    piis = f"http://127.0.0.1:{hub_settings.piis_port}"
    reads = f"http://127.0.0.1:{hub_settings.case_state_port}"
    names = ("intake-api", "intake-relay", "piis-api", "piis-relay", "case-state")
    processes = [component(hub_settings, n, tmp_path / f"{n}.log") for n in names]
    for process in processes:
        process.__enter__()
    try:
        for url in (intake, piis, reads):
            wait_healthy(f"{url}/openapi.json")
        cases = []
        for number in (0, 7):  # two people at the same CPAS (load cycles 7 KBOs)
            body = registration_body(number)
            case_id = httpx.post(f"{intake}/cases", json=body, headers=HEADERS).json()[
                "case_id"
            ]
            cases.append((case_id, body["cpas_kbo"]))
            httpx.post(
                f"{intake}/cases/{case_id}/income-right",
                json={
                    "command_id": str(uuid.uuid4()),
                    "kind": "RIS",
                    "category": 2,
                    "application_date": "2026-10-01",
                    "decision_date": "2026-10-10",
                    "effective_date": "2026-10-01",
                },
                headers=HEADERS,
            ).raise_for_status()
        case_id, cpas = cases[0]
        wait_until(
            lambda: (
                httpx.get(f"{piis}/cases/{case_id}/piis", headers=HEADERS).status_code
                == 404
            ),
            60,
            "the PIIS service to hear of the case",
        )
        httpx.post(
            f"{piis}/cases/{case_id}/trajectory",
            json={
                "command_id": str(uuid.uuid4()),
                "phase": "literacy",
                "effective_date": "2026-10-15",
                "reason": "orientation after the bilan",
                "decided_by": "sw-1",
            },
            headers=HEADERS,
        ).raise_for_status()
        query = {"cpas_kbo": cpas, "as_of": "2026-11-01"}

        def counted() -> bool:
            answer = httpx.get(f"{reads}/statistics/isp", params=query, headers=HEADERS)
            return answer.status_code == 200 and (
                answer.json()["files"],
                answer.json()["isp_files"],
            ) == (2, 1)

        wait_until(counted, 60, "the phase in the statistics")
        figures = httpx.get(
            f"{reads}/statistics/isp", params=query, headers=HEADERS
        ).json()
        assert (figures["files"], figures["per_phase"]["literacy"]) == (2, 1)
        assert figures["rate"] == "50.00"
        before = httpx.get(
            f"{reads}/statistics/isp",
            params={"cpas_kbo": cpas, "as_of": "2026-10-12"},
            headers=HEADERS,
        ).json()
        assert (before["files"], before["isp_files"]) == (2, 0)

        cli = CliRunner().invoke(
            hub,
            ["stats", "isp", "--cpas", cpas, "--as-of", "2026-11-01", "--json"],
            env=hub_env(hub_settings),
        )
        assert cli.exit_code == 0, cli.output
        assert json.loads(cli.output)["rate"] == "50.00"
        table_output = CliRunner().invoke(
            hub,
            ["stats", "isp", "--cpas", cpas, "--as-of", "2026-11-01"],
            env=hub_env(hub_settings),
        )
        assert "50,00%" in table_output.output

        # The deadline watch: both compulsory PIIS are unsigned three months after
        # the decision of 2026-10-10; the due and overdue list shows them.
        watch = ["deadlines", "watch", "--today", "2027-01-11"]
        first = CliRunner().invoke(hub, watch, env=hub_env(hub_settings))
        assert first.exit_code == 0, first.output
        assert first.output.startswith("2 missed deadline(s)")
        again = CliRunner().invoke(hub, watch, env=hub_env(hub_settings))
        assert again.output.startswith("0 missed deadline(s)")

        def listed() -> list[dict[str, object]]:
            answer = httpx.get(
                f"{reads}/deadlines", params={"cpas_kbo": cpas}, headers=HEADERS
            )
            return list(answer.json()) if answer.status_code == 200 else []

        wait_until(lambda: len(listed()) == 2, 60, "the deadlines in the read model")
        assert {(d["kind"], d["due_on"], d["days_overdue"]) for d in listed()} == {
            ("piis_not_signed", "2027-01-10", 1)
        }
    finally:
        for process in reversed(processes):
            process.__exit__(None, None, None)
    for name, table_name in (
        ("statistics", "case_history"),
        ("deadlines", "case_deadlines"),
    ):
        model = consumer(name)
        asyncio.run(build_shadow(hub_settings, f"{name}_check", model))
        assert table(hub_settings, model.schema, table_name, "case_id") == table(
            hub_settings, f"{name}_check", table_name, "case_id"
        )
