"""``hub audit report`` shows a bar per pass on a terminal, and nothing elsewhere."""

from __future__ import annotations

import io

from rich.console import Console

from services.audit.cli import progress_bars


def test_a_terminal_shows_a_bar_per_pass_with_cases_done_of_all() -> None:
    out = io.StringIO()
    terminal = Console(file=out, force_terminal=True, width=100)
    with progress_bars(3, terminal) as task:
        sections, grids = task("sections"), task("grids")
        for _ in range(3):
            sections(1)
            grids(1)
    shown = out.getvalue()
    assert "sections" in shown
    assert "grids" in shown
    assert "3/3" in shown


def test_elsewhere_nothing_but_the_report_is_written() -> None:
    out = io.StringIO()
    with progress_bars(3, Console(file=out, force_terminal=False)) as task:
        task("sections")(3)
    assert out.getvalue() == ""
