"""A seconds-long run of every benchmark, so none can rot between full runs.

No timing is asserted: only that each suite runs against the real servers and
writes what `make bench` writes, each figure with its runs, and each
rate-driven one with the load it offered and the load it reached.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import run

pytestmark = pytest.mark.integration

RATE_DRIVEN = ("relay latency", "end to end")


def test_every_benchmark_runs_and_reports_its_load(tmp_path: Path) -> None:
    run.main(["--scale", "smoke", "--results", str(tmp_path)])
    figures = json.loads((tmp_path / "results.json").read_text())
    table = (tmp_path / "RESULTS.md").read_text()
    names = [f["name"] for f in figures]
    assert len(names) == len(set(names))
    for prefix in (
        "commands/s",
        "registrations/s, personal data sealed",
        "projection rebuild",
        "partner file import",
        "relay, store to broker ack",
        "ordered read of the event log",
        "hub audit verify",
        "audit replay",
        "erasure of one person",
        *RATE_DRIVEN,
    ):
        assert any(n.startswith(prefix) for n in names), prefix
    for figure in figures:
        assert figure["suite"] in run.SUITES
        assert figure["runs"] >= 1
        assert figure["hub"] >= 0
        assert figure["name"] in table
        if figure["name"].startswith(RATE_DRIVEN):
            assert figure["offered"] == 1000
            assert figure["reached"] > 0
            # Labelled with the rate it reached when it fell short of the offer.
            short = figure["reached"] < 0.95 * figure["offered"]
            assert ("not sustained" in figure["name"]) == short
