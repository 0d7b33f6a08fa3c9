"""Work days, the period a placed worker needs to open a benefit right, the schemes.

ONEM counts work days in the six-day scheme: a full-time year is 312 days, every
day but Sunday (paid public holidays count as worked), and part-time days are
converted to full-time equivalents by the share of a 38-hour week.

The required period comes from an effective-dated rule table
(``data/required_periods.csv``): before 1 March 2026 it depends on the age band,
from then on it is 312 days whatever the age. The rules are those in force, for
the person's age, on the day the period is reached: that is the day the person
would apply for benefits, so a contract crossing the reform date needs what the
new rule asks, and a 35-year-old who turns 36 before reaching 312 days needs
468. The same table serves article 60 §7 jobs and article 61 agreements (its
``articles`` column): both last as long as needed to open the right, so the
2026 reform shortens both.

The regional scheme of a job follows from the person's region on the day it
starts (``data/regional_schemes.csv``): the Regions' own schemes since the sixth
state reform, Flanders' tijdelijke werkervaring (TWE) from 1 January 2017, the
federal scheme before. Regional caps (``data/regional_caps.csv``) limit the
subsidy or the job itself under a scheme.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Literal

from services.common.law import LAW, add_months

__all__ = [
    "FEDERAL",
    "Article",
    "CapFinding",
    "RegionalCap",
    "RegionalScheme",
    "RequiredPeriod",
    "RequiredPeriodRule",
    "add_months",
    "age_on",
    "cap_findings",
    "date_reaching",
    "default_required_period",
    "regional_caps",
    "regional_scheme_on",
    "regional_schemes",
    "required_period_rules",
    "work_days_between",
]

DATA = Path(__file__).parent / "data"
_SUNDAY = 6
# The scheme of the table's rows before a Region's own: the organic law of
# 8 July 1976 art. 60 §7 with the federal subsidy.
FEDERAL = "FEDERAL"
# Article 60 §7 (the CPAS employs) or article 61 (a private employer hires).
Article = Literal["60§7", "61"]


def _in_force(start: dt.date | None, until: dt.date | None, day: dt.date) -> bool:
    return (start is None or start <= day) and (until is None or day <= until)


@dataclass(frozen=True, slots=True)
class RequiredPeriodRule:
    """Work days needed by an age band, for the days the rule is in force."""

    rule_id: str
    effective_from: dt.date
    effective_until: dt.date | None
    min_age: int
    max_age: int | None
    work_days: int
    reference_months: int
    articles: frozenset[Article]
    source: str

    def applies(self, day: dt.date, age: int) -> bool:
        """Whether the rule is in force on a day for a person of an age."""
        return (
            _in_force(self.effective_from, self.effective_until, day)
            and self.min_age <= age
            and (self.max_age is None or age <= self.max_age)
        )


@dataclass(frozen=True, slots=True)
class RegionalCap:
    """A Region's limit on article 60 work days, and what exceeding it means."""

    rule_id: str
    region_scheme: str
    effective_from: dt.date
    effective_until: dt.date | None
    max_work_days: int | None
    max_months: int | None
    effect: Literal["refuse", "flag"]
    source: str

    def exceeded_by(
        self, start: dt.date, planned_end: dt.date, planned_work_days: int
    ) -> bool:
        """Whether a contract goes beyond the cap (in work days or calendar months)."""
        if self.max_work_days is not None and planned_work_days > self.max_work_days:
            return True
        return self.max_months is not None and planned_end >= add_months(
            start, self.max_months
        )

    def in_force(self, day: dt.date) -> bool:
        """Whether the cap is in force on a day."""
        return _in_force(self.effective_from, self.effective_until, day)


@dataclass(frozen=True, slots=True)
class RegionalScheme:
    """The scheme a job of a person living in a region falls under, for some days.

    ``region_scheme`` is a Region's scheme (WAL, BRU, VDAB_TWE, DG) or
    ``FEDERAL`` for the days before the Region's own.
    """

    region: str
    region_scheme: str
    effective_from: dt.date | None
    effective_until: dt.date | None
    source: str


@dataclass(frozen=True, slots=True)
class RequiredPeriod:
    """Days to work and the day they are reached, with the rule that asked it."""

    work_days: int
    end_date: dt.date
    rule: RequiredPeriodRule


@dataclass(frozen=True, slots=True)
class CapFinding:
    """A contract beyond a regional cap."""

    cap: RegionalCap
    planned_work_days: int


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _int(text: str) -> int | None:
    return int(text) if text else None


@functools.cache
def required_period_rules(
    path: Path = DATA / "required_periods.csv",
) -> tuple[RequiredPeriodRule, ...]:
    """The rule table (shipped, or another file)."""
    return tuple(
        RequiredPeriodRule(
            rule_id=row["rule_id"],
            effective_from=dt.date.fromisoformat(row["effective_from"]),
            effective_until=_date(row["effective_until"]),
            min_age=int(row["min_age"]),
            max_age=int(row["max_age"]) if row["max_age"] else None,
            work_days=int(row["work_days"]),
            reference_months=int(row["reference_months"]),
            articles=_articles(row["articles"]),
            source=row["source"],
        )
        for row in _rows(path)
    )


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _articles(text: str) -> frozenset[Article]:
    articles: set[Article] = set()
    for word in text.split():
        if word == "60§7":
            articles.add("60§7")
        elif word == "61":
            articles.add("61")
        else:
            msg = f"articles: {word!r} is neither '60§7' nor '61'"
            raise ValueError(msg)
    return frozenset(articles)


@functools.cache
def regional_caps(path: Path = DATA / "regional_caps.csv") -> tuple[RegionalCap, ...]:
    """The regional caps (shipped, or another file)."""
    caps = []
    for row in _rows(path):
        effect = row["effect"]
        if effect not in {"refuse", "flag"}:
            msg = f"effect: {effect!r} is neither 'refuse' nor 'flag'"
            raise ValueError(msg)
        caps.append(
            RegionalCap(
                rule_id=row["rule_id"],
                region_scheme=row["region_scheme"],
                effective_from=dt.date.fromisoformat(row["effective_from"]),
                effective_until=_date(row["effective_until"]),
                max_work_days=_int(row["max_work_days"]),
                max_months=_int(row["max_months"]),
                effect="refuse" if effect == "refuse" else "flag",
                source=row["source"],
            )
        )
    return tuple(caps)


@functools.cache
def regional_schemes(
    path: Path = DATA / "regional_schemes.csv",
) -> tuple[RegionalScheme, ...]:
    """The schemes by region and date (shipped, or another file)."""
    return tuple(
        RegionalScheme(
            region=row["region"],
            region_scheme=row["region_scheme"],
            effective_from=_date(row["effective_from"]),
            effective_until=_date(row["effective_until"]),
            source=row["source"],
        )
        for row in _rows(path)
    )


def regional_scheme_on(
    region: str, day: dt.date, schemes: tuple[RegionalScheme, ...] | None = None
) -> RegionalScheme:
    """The scheme of a job starting on ``day`` for a person living in ``region``."""
    for scheme in schemes if schemes is not None else regional_schemes():
        if scheme.region == region and _in_force(
            scheme.effective_from, scheme.effective_until, day
        ):
            return scheme
    msg = f"no regional scheme covers {region} on {day.isoformat()}"
    raise LookupError(msg)


def _share(weekly_hours: Decimal | None, start: dt.date) -> Fraction:
    # Exact: a Decimal quotient such as 25/38 is rounded, and 152 days at 25
    # hours would then floor to 99 instead of 100.
    if weekly_hours is None:
        return Fraction(1)
    full_time = LAW.value("work.full_time_weekly_hours", start, field="start_date")
    return min(Fraction(1), Fraction(weekly_hours) / full_time)


def work_days_between(
    start: dt.date, end: dt.date, weekly_hours: Decimal | None = None
) -> int:
    """Full-time-equivalent work days from ``start`` to ``end``, both included."""
    if end < start:
        return 0
    days = (end - start).days + 1
    weeks, rest = divmod(days, 7)
    sundays = weeks + sum(
        1 for i in range(rest) if (start + dt.timedelta(days=i)).weekday() == _SUNDAY
    )
    return math.floor((days - sundays) * _share(weekly_hours, start))


def date_reaching(
    start: dt.date, work_days: int, weekly_hours: Decimal | None = None
) -> dt.date:
    """The first day on which ``work_days`` have been worked since ``start``."""
    six_day_week_days = math.ceil(work_days / _share(weekly_hours, start))
    weeks, rest = divmod(six_day_week_days, 6)
    day = start + dt.timedelta(days=7 * weeks + rest - 1)  # close; then exact
    while work_days_between(start, day, weekly_hours) < work_days:
        day += dt.timedelta(days=1)
    while day > start and (
        work_days_between(start, day - dt.timedelta(days=1), weekly_hours) >= work_days
    ):
        day -= dt.timedelta(days=1)
    return day


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Age in whole years on a day."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def _birthday(birth_date: dt.date, age: int) -> dt.date:
    try:
        return birth_date.replace(year=birth_date.year + age)
    except ValueError:  # born on 29 February
        return dt.date(birth_date.year + age, 3, 1)


def _rule_on(
    rules: Iterable[RequiredPeriodRule], day: dt.date, age: int
) -> RequiredPeriodRule:
    for rule in rules:
        if rule.applies(day, age):
            return rule
    msg = f"no required-period rule covers {day.isoformat()} at age {age}"
    raise LookupError(msg)


def default_required_period(
    birth_date: dt.date,
    start: dt.date,
    weekly_hours: Decimal | None = None,
    rules: tuple[RequiredPeriodRule, ...] | None = None,
    *,
    article: Article = "60§7",
) -> RequiredPeriod:
    """The first day on which the days worked since ``start`` meet the rule of that day.

    Only the rules for ``article`` count. The requirement changes only on
    birthdays and on the days a rule starts or ends, so each stretch between two
    such days is checked once.
    """
    table = tuple(
        rule
        for rule in (rules if rules is not None else required_period_rules())
        if article in rule.articles
    )
    changes = {start}
    for rule in table:
        changes.add(rule.effective_from)
        if rule.effective_until is not None:
            changes.add(rule.effective_until + dt.timedelta(days=1))
        for age in (rule.min_age, (rule.max_age or -2) + 1):
            if age > 0:
                changes.add(_birthday(birth_date, age))
    stretches = sorted(day for day in changes if day >= start)
    for index, stretch_start in enumerate(stretches):
        rule = _rule_on(table, stretch_start, age_on(birth_date, stretch_start))
        reached = max(stretch_start, date_reaching(start, rule.work_days, weekly_hours))
        next_change = stretches[index + 1] if index + 1 < len(stretches) else None
        if next_change is None or reached < next_change:
            return RequiredPeriod(rule.work_days, reached, rule)
    # The last stretch always answers: date_reaching is always before "never".
    raise AssertionError(start)  # pragma: no cover


def cap_findings(
    region_scheme: str,
    start: dt.date,
    planned_end: dt.date,
    weekly_hours: Decimal | None = None,
    caps: tuple[RegionalCap, ...] | None = None,
) -> list[CapFinding]:
    """The regional caps in force on the planned end that the contract exceeds."""
    planned = work_days_between(start, planned_end, weekly_hours)
    return [
        CapFinding(cap, planned)
        for cap in (caps if caps is not None else regional_caps())
        if cap.region_scheme == region_scheme
        and cap.in_force(planned_end)
        and cap.exceeded_by(start, planned_end, planned)
    ]
