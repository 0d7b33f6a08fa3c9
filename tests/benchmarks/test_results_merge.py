"""A suite run again replaces every line it wrote; other suites' lines stay."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from bench import run
from bench.infra import Figure


def _written(results: Path, figures: list[Figure]) -> None:
    (results / "results.json").write_text(
        json.dumps([dataclasses.asdict(f) for f in figures])
    )


def test_a_suite_run_again_drops_its_lines_whose_names_changed(tmp_path: Path) -> None:
    before = [
        Figure(
            "end to end at 472 events/s reached", None, 1982, "ms", "-", suite="e2e"
        ),
        Figure(
            "relay, store to broker ack", None, 12795, "events/s", "-", suite="relay"
        ),
        Figure("a line from before suites were recorded", None, 1, "s", "-"),
    ]
    _written(tmp_path, before)
    now = [
        Figure("end to end at 919 events/s reached", None, 1520, "ms", "-", suite="e2e")
    ]
    merged = run._merge(now, tmp_path)
    assert [f.name for f in merged] == [
        "relay, store to broker ack",
        "end to end at 919 events/s reached",
    ]
