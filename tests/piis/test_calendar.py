"""Belgian working days for the reflection period."""

from __future__ import annotations

import datetime as dt

import pytest

from services.piis.calendar import add_working_days, easter, is_working_day


@pytest.mark.parametrize(
    ("year", "sunday"),
    [
        (2024, dt.date(2024, 3, 31)),
        (2025, dt.date(2025, 4, 20)),
        (2026, dt.date(2026, 4, 5)),
    ],
)
def test_easter_is_computed(year: int, sunday: dt.date) -> None:
    assert easter(year) == sunday


def test_weekends_and_public_holidays_are_not_working_days() -> None:
    assert not is_working_day(dt.date(2026, 11, 21))  # Saturday
    assert not is_working_day(dt.date(2026, 11, 11))  # Armistice
    assert not is_working_day(dt.date(2026, 5, 14))  # Ascension
    assert is_working_day(dt.date(2026, 11, 23))


def test_five_working_days_skip_christmas_and_the_weekend() -> None:
    assert add_working_days(dt.date(2026, 12, 23), 5) == dt.date(2026, 12, 31)
