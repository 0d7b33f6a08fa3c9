"""The short chaos run of ``make test``: a kill of every process kind and more."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.registry import PROCESSES
from tests.chaos.chaos import run_chaos

pytestmark = pytest.mark.integration


def test_the_hub_keeps_everything_through_kills_and_restarts(tmp_path: Path) -> None:
    report = run_chaos(tmp_path, kills=12, seconds_between_kills=2.5)
    print("\n".join(report.lines()))
    assert set(report.kills) == set(PROCESSES)
    assert sum(report.kills.values()) >= 10
    assert (report.broker_restarts, report.postgres_restarts) == (1, 1)
    assert report.passed, "\n".join(report.lines())
