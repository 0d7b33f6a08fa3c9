"""Belgian working days: weekends and the ten legal public holidays are not counted.

Used for the working days of reflection before a PIIS is signed (royal
decree of 11 July 2002 art. 11; the figure is ``piis.reflection_working_days``
of the law's table). Legal holidays: AR of 18 April 1974 (New Year, Easter
Monday, 1 May, Ascension, Whit Monday, 21 July, 15 August, 1 November,
11 November, Christmas).
"""

from __future__ import annotations

import datetime as dt
import functools

__all__ = ["add_working_days", "easter", "is_working_day", "public_holidays"]

_FIXED = ((1, 1), (5, 1), (7, 21), (8, 15), (11, 1), (11, 11), (12, 25))
_SATURDAY = 5


def easter(year: int) -> dt.date:
    """Easter Sunday of a year (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return dt.date(year, month, day + 1)


@functools.cache
def public_holidays(year: int) -> frozenset[dt.date]:
    """The ten Belgian legal public holidays of a year."""
    sunday = easter(year)
    moving = (
        sunday + dt.timedelta(days=1),  # Easter Monday
        sunday + dt.timedelta(days=39),  # Ascension
        sunday + dt.timedelta(days=50),  # Whit Monday
    )
    return frozenset({dt.date(year, m, d) for m, d in _FIXED} | set(moving))


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday and not a legal public holiday."""
    return day.weekday() < _SATURDAY and day not in public_holidays(day.year)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date ``days`` working days after ``start`` (``start`` itself not counted)."""
    day = start
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day
