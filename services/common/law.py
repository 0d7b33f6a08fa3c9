"""Every figure of the law the hub applies, with the dates it applies and its source.

The law changes its figures by date (the 2016 reform, the 2026 unemployment
reform, a regional decree), so no deadline, duration or count is a bare
constant: a rule asks the table for the figure in force on the day it judges.
A day that no published version covers is refused, never answered with the
nearest version. The table ships as ``data/law_figures.csv``; each row names
the document of ``docs/domain/`` that explains it. Money amounts have their
own table (``services/intake/parameters.py``) with the same discipline.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from services.common.errors import DomainError

__all__ = [
    "LAW",
    "FigureVersion",
    "LawFigures",
    "Unit",
    "add_months",
    "first_of_month_after",
]

DEFAULT_FILE: Final = Path(__file__).parent / "data" / "law_figures.csv"

Unit = Literal[
    "days",
    "working_days",
    "weeks",
    "months",
    "years",
    "hours",
    "count",
    "percent",
    "code",
]


@dataclass(frozen=True, slots=True)
class FigureVersion:
    """One figure of the law over the dates it applies (``valid_to`` included)."""

    name: str
    value: int
    unit: Unit
    valid_from: dt.date
    valid_to: dt.date | None
    source: str
    doc: str

    def covers(self, day: dt.date) -> bool:
        """Whether this version applies on ``day``."""
        until = self.valid_to
        return self.valid_from <= day and (until is None or day <= until)


class LawFigures:
    """The versions of every figure; the one covering a day applies."""

    def __init__(self, versions: Iterable[FigureVersion]) -> None:
        by_name: defaultdict[str, list[FigureVersion]] = defaultdict(list)
        for version in versions:
            by_name[version.name].append(version)
        for name, found in by_name.items():
            found.sort(key=lambda v: v.valid_from)
            for earlier, later in itertools.pairwise(found):
                if earlier.valid_to is None or earlier.valid_to >= later.valid_from:
                    msg = f"law figure {name}: versions overlap at {later.valid_from}"
                    raise ValueError(msg)
        self._versions: Mapping[str, tuple[FigureVersion, ...]] = {
            name: tuple(found) for name, found in by_name.items()
        }

    @classmethod
    def from_csv(cls, path: Path = DEFAULT_FILE) -> LawFigures:
        """Read ``name,value,unit,valid_from,valid_to,source,doc`` rows."""
        with path.open(newline="", encoding="utf-8") as handle:
            return cls(
                FigureVersion(
                    name=row["name"],
                    value=int(row["value"]),
                    unit=row["unit"],  # type: ignore[arg-type]
                    valid_from=dt.date.fromisoformat(row["valid_from"]),
                    valid_to=(
                        dt.date.fromisoformat(row["valid_to"])
                        if row["valid_to"]
                        else None
                    ),
                    source=row["source"],
                    doc=row["doc"],
                )
                for row in csv.DictReader(handle)
            )

    def names(self) -> tuple[str, ...]:
        """Every figure the table knows."""
        return tuple(sorted(self._versions))

    def versions(self, name: str) -> tuple[FigureVersion, ...]:
        """The versions of one figure, oldest first."""
        return self._versions[name]

    def version(self, name: str, day: dt.date, *, field: str) -> FigureVersion:
        """The version of ``name`` in force on ``day``; refused when none covers it."""
        for version in self._versions[name]:
            if version.covers(day):
                return version
        raise DomainError(
            field,
            "parameters.no_version",
            f"no published version of the law's figure '{name}' covers "
            f"{day.isoformat()}; the hub applies only figures in force on the day "
            "judged (see docs/rules.md)",
        )

    def value(self, name: str, day: dt.date, *, field: str) -> int:
        """The figure ``name`` in force on ``day``."""
        return self.version(name, day, field=field).value


LAW: Final = LawFigures.from_csv()


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def first_of_month_after(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after the month of ``day``."""
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)
