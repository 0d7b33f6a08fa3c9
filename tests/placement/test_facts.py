"""What services keep of intake: the region by date, the CPAS after a transfer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from contracts.envelope import ContractEvent
from contracts.intake import (
    BeneficiaryRegisteredV1,
    CaseTransferredV1,
    ResidenceChangedV1,
)
from services.piis.facts import CaseFactsProjection
from services.placement.domain import PlacementFacts
from services.placement.facts import PlacementFactsProjection
from tests.contracts.samples import SAMPLES

PROJECTION = PlacementFactsProjection()
CASE_EVENTS: list[ContractEvent] = [
    e
    for e in SAMPLES
    if isinstance(e, BeneficiaryRegisteredV1 | ResidenceChangedV1 | CaseTransferredV1)
]


def fold(events: Sequence[ContractEvent]) -> PlacementFacts:
    row: PlacementFacts | None = None
    for event in events:
        row = PROJECTION.fold(row, event) or row
    assert row is not None
    return row


def test_a_move_changes_the_region_from_its_date_only() -> None:
    facts = fold(CASE_EVENTS)
    assert facts.region_on(dt.date(2026, 10, 14)) == "wallonia"
    assert facts.region_on(dt.date(2026, 10, 15)) == "flanders"


def test_a_transfer_moves_the_case_to_the_new_cpas_and_its_file_number() -> None:
    facts = fold(CASE_EVENTS)
    assert (facts.cpas_kbo, facts.dossier_number) == ("0202239951", "LV202688")


def test_the_facts_survive_their_table_row_and_a_redelivered_move() -> None:
    facts = fold([*CASE_EVENTS, CASE_EVENTS[1]])
    assert len(facts.moves) == 1
    assert PROJECTION.decode(_as_stored(PROJECTION.encode(facts))) == facts


def _as_stored(values: tuple[object, ...]) -> tuple[object, ...]:
    *plain, moves = values
    return (*plain, getattr(moves, "obj", moves))


def test_the_piis_service_follows_a_transfer_to_the_new_cpas() -> None:
    projection = CaseFactsProjection()
    row = None
    for event in CASE_EVENTS:
        row = projection.fold(row, event) or row
    assert row is not None
    assert (row.cpas_kbo, row.dossier_number) == ("0202239951", "LV202688")
