"""Article 30 of the law of 26 May 2002: how long payment may be suspended, and when.

Two kinds of sanction suspend the payment of the integration income (the right
itself stays; see docs/domain/sanctions.md):

* **a PIIS not respected** (art. 30 §2), after formal notice and a hearing:
  at most one month, three on a repeat within one year of the earlier one;
* **undeclared resources or a false declaration** (art. 30 §1): at most six
  months, twelve with fraudulent intent, both doubled on a repeat within three
  years of the earlier one; never pronounced more than two years after the
  omission, never executed more than two years after the decision.

Either takes effect on the first day of the second month after the decision,
and may be full or partial and granted with a stay. PIIS (which decides its
sanctions) and intake (which records every suspension) judge with this one
module, so the limits cannot differ between them. Every figure comes from the
law table (``services/common/law.py``) in force on the decision's day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from services.common.errors import DomainError
from services.common.law import LAW, add_months, first_of_month_after

__all__ = [
    "SanctionKind",
    "SanctionLimit",
    "check_extent",
    "check_period",
    "effect_date",
    "limit_for",
]

SanctionKind = Literal["piis", "declaration"]


@dataclass(frozen=True, slots=True)
class SanctionLimit:
    """The longest suspension a decision may impose, and why."""

    months: int
    repeat: bool
    article: str


def effect_date(decided_on: dt.date) -> dt.date:
    """The day a sanction decided on ``decided_on`` takes effect (art. 30)."""
    offset = LAW.value("sanction.effect_month_offset", decided_on, field="decided_on")
    return first_of_month_after(decided_on, offset)


def limit_for(
    kind: SanctionKind,
    decided_on: dt.date,
    earlier: Iterable[dt.date],
    *,
    fraudulent: bool = False,
) -> SanctionLimit:
    """The art. 30 limit for a decision, given the earlier decisions of its kind.

    A repeat is counted from the earlier sanction: a decision within one year
    (§2) or three years (§1) of an earlier one of the same kind.
    """
    law = "sanction.piis" if kind == "piis" else "sanction.declaration"
    window = LAW.value(f"{law}.repeat_window_months", decided_on, field="decided_on")
    # The anniversary day still falls within the year (or the three years).
    repeat = any(
        before <= decided_on <= add_months(before, window) for before in earlier
    )
    if kind == "piis":
        name = "repeat_months" if repeat else "first_months"
        months = LAW.value(f"{law}.{name}", decided_on, field="decided_on")
        return SanctionLimit(months, repeat, "law of 26 May 2002 art. 30 §2")
    name = "fraud_months" if fraudulent else "months"
    months = LAW.value(f"{law}.{name}", decided_on, field="decided_on")
    if repeat:
        months *= LAW.value(f"{law}.repeat_factor", decided_on, field="decided_on")
    return SanctionLimit(months, repeat, "law of 26 May 2002 art. 30 §1")


def check_period(
    kind: SanctionKind,
    *,
    decided_on: dt.date,
    period_start: dt.date,
    period_end: dt.date,
    earlier: Iterable[dt.date],
    fraudulent: bool = False,
    offence_on: dt.date | None = None,
) -> SanctionLimit:
    """Refuse a suspension period art. 30 does not allow; the limit that applied."""
    limit = limit_for(kind, decided_on, earlier, fraudulent=fraudulent)
    starts = effect_date(decided_on)
    if period_start < starts:
        raise DomainError(
            "period_start",
            "suspension.before_effect_date",
            f"a sanction takes effect on the first day of the second month after "
            f"the decision, here {starts.isoformat()} (law of 26 May 2002 art. 30)",
        )
    if period_end >= add_months(period_start, limit.months):
        repeat = "a repeat" if limit.repeat else "a first"
        raise DomainError(
            "period_end",
            "suspension.too_long",
            f"{repeat} {_KIND_WORDS[kind]} suspends payment for at most "
            f"{limit.months} month(s) ({limit.article})",
        )
    if kind == "declaration":
        _check_time_limits(decided_on, period_start, offence_on)
    return limit


def check_extent(extent: str, partial_percent: int | None) -> None:
    """A suspension is full, or partial with the share suspended (art. 30)."""
    partial = extent == "partial"
    if partial != (partial_percent is not None) or not (
        partial_percent is None or 1 <= partial_percent <= 99  # noqa: PLR2004
    ):
        raise DomainError(
            "partial_percent",
            "sanction.partial_percent",
            "a partial suspension states the share of the payment suspended "
            "(1 to 99 %), a full one states none (law of 26 May 2002 art. 30 §1 "
            "and §2: payment is suspended fully or partly)",
        )


def _check_time_limits(
    decided_on: dt.date, period_start: dt.date, offence_on: dt.date | None
) -> None:
    if offence_on is None:
        raise DomainError(
            "offence_on",
            "suspension.offence_date_required",
            "a declaration sanction states the date of the omission or false "
            "declaration: it cannot be pronounced more than two years after it "
            "(law of 26 May 2002 art. 30 §1)",
        )
    if offence_on > decided_on:
        raise DomainError(
            "offence_on",
            "suspension.offence_after_decision",
            "the omission or false declaration cannot come after the decision",
        )
    pronounce = LAW.value(
        "sanction.declaration.pronounce_limit_months", decided_on, field="decided_on"
    )
    if decided_on > add_months(offence_on, pronounce):
        raise DomainError(
            "decided_on",
            "suspension.pronounced_too_late",
            f"a declaration sanction cannot be pronounced more than {pronounce} "
            f"months after the omission or false declaration (law of 26 May 2002 "
            f"art. 30 §1)",
        )
    execute = LAW.value(
        "sanction.declaration.execute_limit_months", decided_on, field="decided_on"
    )
    if period_start > add_months(decided_on, execute):
        raise DomainError(
            "period_start",
            "suspension.executed_too_late",
            f"a declaration sanction cannot be executed more than {execute} months "
            f"after the decision (law of 26 May 2002 art. 30 §1)",
        )


_KIND_WORDS = {
    "piis": "sanction for a PIIS not respected",
    "declaration": "sanction for undeclared resources or a false declaration",
}
