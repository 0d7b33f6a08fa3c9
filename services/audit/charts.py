"""The report's charts as inline SVG geometry, computed on the server.

Every bar carries its value in ``data-*`` attributes (the template writes
them), so a reader (a test, a screen reader's user) finds the figure itself,
not a picture of it. No script, no external resource.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from services.audit.model import LedgerSection, PhaseMonth
from services.case_state.statistics import ISP_PHASES

__all__ = ["PHASE_COLOURS", "Bar", "Chart", "phase_chart", "subsidy_chart"]

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 1000, 320, 56, 48, 16

PHASE_COLOURS = {
    "facilitator": "#1f77b4",
    "literacy": "#ff7f0e",
    "studies_training": "#2ca02c",
    "employment": "#9467bd",
    "article_60": "#8c564b",
}


@dataclass(frozen=True, slots=True)
class Bar:
    """One rectangle: where it is, its colour, and what it stands for."""

    x: float
    y: float
    width: float
    height: float
    colour: str
    key: str  # the day or month
    series: str  # the phase, or "subsidies"
    value: str


@dataclass(frozen=True, slots=True)
class Chart:
    """A bar chart: its bars, its axis labels and its largest value."""

    bars: tuple[Bar, ...]
    labels: tuple[tuple[float, str], ...]
    top: str
    width: int = WIDTH
    height: int = HEIGHT


def _slots(count: int) -> tuple[float, float]:
    inner = WIDTH - LEFT - 8
    slot = inner / max(count, 1)
    return slot, max(slot * 0.8, 1.0)


def _labels(keys: list[str], slot: float) -> tuple[tuple[float, str], ...]:
    step = max(1, len(keys) // 12)
    return tuple(
        (LEFT + i * slot + slot / 2, key)
        for i, key in enumerate(keys)
        if i % step == 0 or i == len(keys) - 1
    )


def phase_chart(months: tuple[PhaseMonth, ...]) -> Chart:
    """Files per ISP phase at each month's end, stacked."""
    peak = max((m.isp_files for m in months), default=0) or 1
    slot, width = _slots(len(months))
    scale = (HEIGHT - BOTTOM - TOP) / peak
    bars = []
    for i, month in enumerate(months):
        base = float(HEIGHT - BOTTOM)
        for phase in ISP_PHASES:
            value = month.per_phase.get(phase, 0)
            height = value * scale
            base -= height
            bars.append(
                Bar(
                    LEFT + i * slot,
                    round(base, 2),
                    round(width, 2),
                    round(height, 2),
                    PHASE_COLOURS[phase],
                    month.on.isoformat(),
                    phase,
                    str(value),
                )
            )
    keys = [m.on.isoformat()[:7] for m in months]
    return Chart(tuple(bars), _labels(keys, slot), str(peak))


def subsidy_chart(ledger: LedgerSection) -> Chart:
    """Subsidies per month, from the ledger section (no bars when not computed)."""
    months = ledger.months if ledger.status == "computed" else ()
    peak = max((m.amount for m in months), default=Decimal(0)) or Decimal(1)
    slot, width = _slots(len(months))
    scale = Decimal(HEIGHT - BOTTOM - TOP) / peak
    bars = tuple(
        Bar(
            LEFT + i * slot,
            round(float(HEIGHT - BOTTOM - m.amount * scale), 2),
            round(width, 2),
            round(float(m.amount * scale), 2),
            "#17becf",
            m.month,
            "subsidies",
            str(m.amount),
        )
        for i, m in enumerate(months)
    )
    return Chart(bars, _labels([m.month for m in months], slot), str(peak))
