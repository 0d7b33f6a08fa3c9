"""The `hub` command's read-model commands, against the real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app
from services.common.settings import HubSettings
from services.intake.service import create_application
from tests.intake.fakes import bilan, registration
from tests.integration.harness import hub_env, table

pytestmark = pytest.mark.integration


def test_projections_rebuild_builds_the_case_state_from_the_store(
    hub_settings: HubSettings,
) -> None:
    intake = create_application(hub_settings)
    case_id = intake.register_beneficiary(registration()).case_id
    intake.record_bilan(bilan(case_id))
    intake.close()
    result = CliRunner().invoke(
        app, ["projections", "rebuild", "case-state"], env=hub_env(hub_settings)
    )
    assert result.exit_code == 0, result.output
    assert "from 3 events" in result.output
    [row] = table(hub_settings, "case_state", "cases", "case_id")
    assert row[0] == case_id


def test_dead_letters_list_shows_reasons_not_payloads(
    hub_settings: HubSettings,
) -> None:
    result = CliRunner().invoke(
        app, ["projections", "rebuild", "case-state"], env=hub_env(hub_settings)
    )
    assert result.exit_code == 0
    listed = CliRunner().invoke(
        app, ["dead-letters", "list"], env=hub_env(hub_settings)
    )
    assert listed.exit_code == 0
    assert listed.output == ""


def test_an_unknown_projection_is_refused() -> None:
    result = CliRunner().invoke(app, ["projections", "rebuild", "nope"])
    assert result.exit_code != 0


def test_the_activation_report_comes_as_json_or_csv_only() -> None:
    result = CliRunner().invoke(
        app,
        [
            "report",
            "social-activation",
            "--cpas",
            "0212345668",
            "--year",
            "2026",
            "--format",
            "xml",
        ],
    )
    assert result.exit_code == 2
    assert "json or csv" in result.output


def test_generate_writes_a_history_through_the_command_path_once(
    hub_settings: HubSettings,
) -> None:
    command = ["generate", "--cases", "6", "--years", "1", "--seed", "5"]
    first = CliRunner().invoke(app, command, env=hub_env(hub_settings))
    assert first.exit_code == 0, first.output
    assert "from 2025-12-31 to 2026-12-31" in first.output
    [registered] = [
        line for line in first.output.splitlines() if line.startswith("register ")
    ]
    assert registered.split()[1:] == ["6", "0", "0"]
    events = table(hub_settings, "intake", "intake_events", "notification_id")
    assert len(events) > 6 * 3
    # The same options again: every command found handled, nothing stored.
    again = CliRunner().invoke(app, command, env=hub_env(hub_settings))
    assert again.exit_code == 0, again.output
    assert ": 0 stored," in again.output
    assert table(hub_settings, "intake", "intake_events", "notification_id") == events


def test_hub_audit_public_key_never_makes_a_key_an_auditor_would_trust(
    tmp_path: Path,
) -> None:
    """On a host without the relays' key it made one, which had signed nothing."""
    env = {"HUB_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(app, ["audit", "public-key"], env=env)
    assert result.exit_code == 1
    assert "no signing key" in result.output
    assert list(tmp_path.iterdir()) == []
