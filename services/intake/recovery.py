"""What intake knows a right granted, month by month: the base of a recovery.

A CPAS recovers integration income it paid unduly (law of 26 May 2002 art. 24
ff.) and reports each recovery to SPP IS on form D, by month of reference
(docs/domain/income-right.md#recovery-of-income-paid-unduly). A recovery is
held to what the right granted over its period: the amount in force each day
(the category's, or the smaller amount granted after resources), pro rata of
the days of the month, less the share of a suspension without stay, as the
subsidy ledger counts it. Pure functions, no clock.
"""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

__all__ = ["RightHistory", "allocate", "granted_by_month"]

_CENT = Decimal("0.01")
_ONE_DAY = dt.timedelta(days=1)


@dataclass
class RightHistory:
    """One income right of a case: its days, its amounts by date, its suspensions."""

    right_id: uuid.UUID
    kind: str
    start: dt.date
    # The CPAS that granted it (and paid it): the one that recovers it.
    cpas_kbo: str
    end: dt.date | None = None
    # (first day, monthly amount granted from it), in date order.
    amounts: list[tuple[dt.date, Decimal]] = field(default_factory=list)
    # (first day, last day, percent suspended): suspensions without stay.
    suspended: list[tuple[dt.date, dt.date, int]] = field(default_factory=list)

    def covers(self, first: dt.date, last: dt.date) -> bool:
        """Whether the right was in force on every day from first to last."""
        return self.start <= first and (self.end is None or last <= self.end)

    def amount_on(self, day: dt.date) -> Decimal:
        """The monthly amount granted on a day of the right."""
        amount = Decimal(0)
        for since, value in self.amounts:
            if since <= day:
                amount = value
        return amount

    def suspended_on(self, day: dt.date) -> int:
        """The percent of the income suspended without stay on a day (0 to 100)."""
        return max(
            (share for first, last, share in self.suspended if first <= day <= last),
            default=0,
        )


def granted_by_month(
    right: RightHistory, first: dt.date, last: dt.date
) -> dict[dt.date, Decimal]:
    """The amount granted in each month from first to last, to the cent."""
    months: dict[dt.date, Decimal] = {}
    day = first
    while day <= last:
        length = calendar.monthrange(day.year, day.month)[1]
        share = Decimal(100 - right.suspended_on(day)) / 100
        month = day.replace(day=1)
        months[month] = months.get(month, Decimal(0)) + (
            right.amount_on(day) * share / length
        )
        day += _ONE_DAY
    return {m: v.quantize(_CENT) for m, v in months.items()}


def allocate(
    amount: Decimal, granted: dict[dt.date, Decimal]
) -> dict[dt.date, Decimal]:
    """An amount spread over months pro rata of what each granted, to the cent.

    Each month gets its share rounded down; the cents left go to the months
    with the largest remainders, earliest first. Months that get nothing are
    left out. ``amount`` is at most the sum granted.
    """
    total = sum(granted.values(), Decimal(0))
    exact = {m: amount * g / total for m, g in granted.items()}
    shares = {m: v.quantize(_CENT, rounding=ROUND_FLOOR) for m, v in exact.items()}
    left = int((amount - sum(shares.values(), Decimal(0))) / _CENT)
    by_remainder = sorted(exact, key=lambda m: (-(exact[m] - shares[m]), m))
    for month in by_remainder[:left]:
        shares[month] += _CENT
    return {m: v for m, v in sorted(shares.items()) if v > 0}
