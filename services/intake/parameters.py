"""The effective-dated table of integration-income amounts (never hard-coded).

Amounts follow the health index and the welfare adjustments, so each version
has the dates it applies (``valid_from`` to ``valid_to``, both included) and
its published source. A date no version covers is refused, never given the
nearest version: before the first one, in a period whose published amounts the
hub could not verify, and after the last one the hub vouches for
(docs/domain/income-right.md#amounts-and-indexation). The table ships as
``data/ri_amounts.csv``; ``HUB_RI_AMOUNTS_FILE`` points at another one (an
operator adding a version, or a test replaying history).
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from contracts.identifiers import IdentifierError

__all__ = ["AmountTable", "AmountVersion", "default_table"]

DEFAULT_FILE = Path(__file__).parent / "data" / "ri_amounts.csv"


@dataclass(frozen=True, slots=True)
class AmountVersion:
    """The monthly amounts valid from a date, by category (1, 2, 3)."""

    valid_from: dt.date
    amounts: tuple[Decimal, Decimal, Decimal]
    source: str
    valid_to: dt.date | None = None

    @property
    def label(self) -> str:
        """How events name this version."""
        return f"ri-amounts@{self.valid_from.isoformat()}"


class AmountTable:
    """Versions in date order; the one in force on a date applies."""

    def __init__(self, versions: list[AmountVersion]) -> None:
        self._versions = sorted(versions, key=lambda v: v.valid_from)
        self._starts = [v.valid_from for v in self._versions]

    @classmethod
    def from_csv(cls, path: Path) -> AmountTable:
        """Read ``valid_from,valid_to,cohabitant,isole,family,source`` rows."""
        with path.open(newline="", encoding="utf-8") as handle:
            return cls(
                [
                    AmountVersion(
                        dt.date.fromisoformat(row["valid_from"]),
                        (
                            Decimal(row["cohabitant"]),
                            Decimal(row["isole"]),
                            Decimal(row["family"]),
                        ),
                        row["source"],
                        (
                            dt.date.fromisoformat(row["valid_to"])
                            if row.get("valid_to")
                            else None
                        ),
                    )
                    for row in csv.DictReader(handle)
                ]
            )

    def version_on(
        self, day: dt.date, *, field: str = "effective_date"
    ) -> AmountVersion:
        """The version in force on a day; refused when no version covers it."""
        index = bisect.bisect_right(self._starts, day) - 1
        until = self._versions[index].valid_to if index >= 0 else None
        if index < 0 or (until is not None and day > until):
            raise IdentifierError(
                field,
                "parameters.no_version",
                "no published integration-income amounts the hub could verify "
                "cover this date; add the version in force then to the amount "
                "table (docs/domain/income-right.md#amounts-and-indexation)",
            )
        return self._versions[index]

    def amount(self, category: int, day: dt.date) -> tuple[Decimal, AmountVersion]:
        """The monthly amount of a category on a day, and the version it comes from."""
        version = self.version_on(day)
        return version.amounts[category - 1], version


def default_table(path: Path | None = None) -> AmountTable:
    """The shipped table, or the one at ``path``."""
    return AmountTable.from_csv(path or DEFAULT_FILE)
