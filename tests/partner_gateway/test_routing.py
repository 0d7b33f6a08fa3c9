"""Routing by date and the hand-over: a move or a transfer changes who hears what."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import os
import uuid
from collections.abc import Iterable
from typing import Any, Self

import pytest

from contracts.envelope import ContractEvent
from contracts.income import IncomeRightGrantedV1, IncomeRightWithdrawnV1
from contracts.intake import (
    BeneficiaryRegisteredV1,
    CaseErasedV1,
    CaseTransferredV1,
    ResidenceChangedV1,
)
from contracts.piis import PIISSignedV1
from contracts.regions import PartnerCode, Region
from services.common.vault import LocalMasterKeys, MemoryKeyStore, Vault
from services.partner_gateway import outbound
from services.partner_gateway.canonical import RoutingFacts
from services.partner_gateway.facts import RoutingFactsTable, routing_facts
from services.partner_gateway.outbound import (
    GatewayCase,
    OutboundProjection,
    OutboxEntry,
)
from services.partner_gateway.registry import PARTNERS
from services.partner_gateway.routing import route
from tests.contracts.samples import SAMPLES
from tests.partner_gateway.samples import BRUSSELS, FACTS

NAMUR = dataclasses.replace(FACTS["forem", "fr"])
LEUVEN_OCMW = "0202239951"


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=BRUSSELS)


def sample(cls: type[ContractEvent], day: dt.date, **changes: Any) -> Any:
    event = next(e for e in SAMPLES if isinstance(e, cls))
    update = {
        "case_id": NAMUR.case_id,
        "cpas_kbo": NAMUR.cpas_kbo,
        "event_id": uuid.uuid5(NAMUR.case_id, f"{cls.__name__}:{day}"),
        "occurred_at": _at(day),
        **changes,
    }
    return event.model_copy(update=update)


def registered() -> RoutingFacts:
    event = sample(
        BeneficiaryRegisteredV1,
        dt.date(2026, 3, 2),
        niss=NAMUR.niss,
        family_name=NAMUR.family_name,
        given_name=NAMUR.given_name,
        birth_date=NAMUR.birth_date,
        postal_code="5000",
        dossier_number=NAMUR.dossier_number,
        registered_on=dt.date(2026, 3, 2),
    )
    return routing_facts(event)


def granted(facts: RoutingFacts) -> RoutingFacts:
    event = sample(
        IncomeRightGrantedV1, dt.date(2026, 3, 10), decision_date=dt.date(2026, 3, 10)
    )
    after, [(message, to)] = route(event, facts)
    assert (message.kind, to.partner) == ("registration_request", "forem")
    return after


def to_leuven(day: dt.date = dt.date(2026, 6, 1)) -> ResidenceChangedV1:
    moved: ResidenceChangedV1 = sample(
        ResidenceChangedV1,
        day,
        moved_on=day,
        postal_code="3000",
        region=Region.FLANDERS,
        partner=PartnerCode.VDAB,
        previous_region=Region.WALLONIA,
        previous_partner=PartnerCode.FOREM,
    )
    return moved


def signed(day: dt.date, **changes: Any) -> PIISSignedV1:
    event: PIISSignedV1 = sample(PIISSignedV1, day, signed_on=day, **changes)
    return event


def test_a_move_to_another_region_hands_the_case_to_the_new_partner() -> None:
    facts = granted(registered())
    after, messages = route(to_leuven(), facts)
    [(closure, old), (registration, new)] = messages
    assert (closure.kind, old.partner) == ("case_closed", "forem")
    assert closure.fields["closed_on"] == "2026-06-01"
    assert closure.fields["closure_reason"] == "moved_to_other_region"
    assert closure.occurred_on == dt.date(2026, 6, 1)
    assert (registration.kind, new.partner, new.region) == (
        "registration_request",
        "vdab",
        "flanders",
    )
    # The same message a new case gets: who, which income, granted when.
    assert registration.fields["granted_on"] == "2026-03-10"
    assert registration.fields["income_kind"] == "RIS"
    assert registration.fields["family_name"] == NAMUR.family_name
    assert closure.message_id != registration.message_id
    assert (after.partner, after.registered_with) == ("vdab", "vdab")
    assert [p.partner for p in after.periods] == ["forem", "vdab"]


def test_events_go_to_the_partner_of_their_own_date() -> None:
    after, _ = route(to_leuven(), granted(registered()))
    _, [(later, to)] = route(signed(dt.date(2026, 6, 15)), after)
    assert (later.kind, to.partner) == ("integration_contract_signed", "vdab")
    # Recorded late, dated before the move: the partner that followed the person then.
    _, [(earlier, before)] = route(signed(dt.date(2026, 5, 20)), after)
    assert before.partner == "forem"
    assert earlier.occurred_on == dt.date(2026, 5, 20)
    # From the day of the move on, the new partner.
    _, [(_, on_the_day)] = route(signed(dt.date(2026, 6, 1)), after)
    assert on_the_day.partner == "vdab"


def test_a_move_into_wallonia_gives_forem_four_weeks_from_the_move() -> None:
    flanders = dataclasses.replace(
        granted(registered()), partner="vdab", region="flanders", periods=()
    )
    into_wallonia = to_leuven(dt.date(2026, 9, 1)).model_copy(
        update={
            "region": Region.WALLONIA,
            "partner": PartnerCode.FOREM,
            "previous_region": Region.FLANDERS,
            "previous_partner": PartnerCode.VDAB,
        }
    )
    _, [_, (registration, to)] = route(into_wallonia, flanders)
    assert to.partner == "forem"
    assert registration.fields["register_by"] == "2026-09-29"


def test_without_an_income_right_a_move_only_changes_the_route() -> None:
    facts = registered()
    after, messages = route(to_leuven(), facts)
    assert messages == ()
    assert (after.partner, after.registered_with) == ("vdab", None)
    # The grant after the move registers the person with the new partner.
    event = sample(
        IncomeRightGrantedV1, dt.date(2026, 6, 5), decision_date=dt.date(2026, 6, 5)
    )
    _, [(_, to)] = route(event, after)
    assert to.partner == "vdab"


def test_a_withdrawn_right_is_closed_at_the_old_partner_and_not_registered_again() -> (
    None
):
    facts = granted(registered())
    withdrawn = sample(IncomeRightWithdrawnV1, dt.date(2026, 5, 1))
    facts, nothing = route(withdrawn, facts)
    assert nothing == ()
    _, messages = route(to_leuven(), facts)
    assert [(m.kind, to.partner) for m, to in messages] == [("case_closed", "forem")]


def test_a_move_within_the_region_changes_nothing() -> None:
    facts = granted(registered())
    liege = to_leuven().model_copy(
        update={
            "postal_code": "4000",
            "region": Region.WALLONIA,
            "partner": PartnerCode.FOREM,
        }
    )
    assert route(liege, facts) == (facts, ())


def test_a_transfer_closes_the_old_file_and_addresses_the_new_one() -> None:
    facts, _ = route(
        sample(IncomeRightWithdrawnV1, dt.date(2026, 5, 1)), granted(registered())
    )
    transfer: CaseTransferredV1 = sample(
        CaseTransferredV1,
        dt.date(2026, 6, 1),
        cpas_kbo=LEUVEN_OCMW,
        transferred_on=dt.date(2026, 6, 1),
        from_cpas_kbo=NAMUR.cpas_kbo,
        previous_dossier_number=NAMUR.dossier_number,
        dossier_number="LV202688",
    )
    after, [(closure, old)] = route(transfer, facts)
    assert (closure.cpas_kbo, closure.fields["dossier_number"]) == (
        NAMUR.cpas_kbo,
        NAMUR.dossier_number,
    )
    assert closure.fields["closure_reason"] == "transferred_to_other_cpas"
    assert old.partner == "forem"
    assert (after.cpas_kbo, after.dossier_number) == (LEUVEN_OCMW, "LV202688")
    # A later fact, even one another service still files under the old CPAS,
    # names the file that follows the person on its date.
    _, [(later, _)] = route(signed(dt.date(2026, 7, 1)), after)
    assert (later.cpas_kbo, later.fields["dossier_number"]) == (
        LEUVEN_OCMW,
        "LV202688",
    )


def test_the_periods_survive_the_table() -> None:
    after, _ = route(to_leuven(), granted(registered()))
    table = RoutingFactsTable()
    record = list(table.encode(after))
    record[-4] = json.loads(record[-4])  # as PostgreSQL returns jsonb
    assert table.decode(record) == after


def test_the_fold_writes_the_closure_and_the_registration_to_their_partners() -> None:
    projection = OutboundProjection()
    row = GatewayCase(granted(registered()))
    folded = projection.fold(row, to_leuven())
    assert folded is not None
    assert folded.facts_changed
    assert [(e.partner, e.kind) for e in folded.outbox] == [
        ("forem", "case_closed"),
        ("vdab", "registration_request"),
    ]
    assert folded.outbox[0].payload["type_message"] == "cloture_dossier"
    assert folded.outbox[1].payload["berichtType"] == "inschrijvingsaanvraag"


def erased(facts: RoutingFacts, day: dt.date = dt.date(2036, 11, 2)) -> CaseErasedV1:
    event: CaseErasedV1 = sample(
        CaseErasedV1,
        day,
        case_id=facts.case_id,
        cpas_kbo=facts.cpas_kbo,
        erased_on=day,
    )
    return event


def purged(facts: RoutingFacts) -> RoutingFacts:
    """The facts as the gateway reads them once the erasure purged them."""
    return dataclasses.replace(
        facts,
        niss=None,  # type: ignore[arg-type]
        family_name=None,  # type: ignore[arg-type]
        given_name=None,  # type: ignore[arg-type]
        birth_date=None,  # type: ignore[arg-type]
    )


def test_an_erasure_is_told_to_the_partner_holding_the_file_only() -> None:
    # Registered with Le Forem, moved to Leuven on the income: Le Forem was
    # sent the closure, VDAB the registration, so VDAB alone holds the file.
    moved, _ = route(to_leuven(), granted(registered()))
    after, [(notice, to)] = route(erased(moved), purged(moved))
    assert (notice.kind, to.partner) == ("case_erased", "vdab")
    assert notice.fields == {
        "dossier_number": NAMUR.dossier_number,
        "erased_on": "2036-11-02",
    }
    assert (notice.case_id, notice.cpas_kbo) == (NAMUR.case_id, NAMUR.cpas_kbo)
    assert notice.occurred_on == dt.date(2036, 11, 2)
    # The facts stay as they are: nothing is sealed for an erased person.
    assert after == purged(moved)


def test_an_erasure_is_told_to_the_first_partner_when_the_file_never_moved() -> None:
    facts = granted(registered())
    _, [(notice, to)] = route(erased(facts), facts)
    assert (notice.kind, to.partner) == ("case_erased", "forem")


def test_an_erasure_is_told_to_no_partner_when_none_holds_the_file() -> None:
    never_granted = registered()
    assert route(erased(never_granted), never_granted) == (never_granted, ())
    # Closed at Le Forem by the move, the right withdrawn before it: no holder.
    withdrawn = sample(IncomeRightWithdrawnV1, dt.date(2026, 5, 1))
    facts, _ = route(withdrawn, granted(registered()))
    closed, _ = route(to_leuven(), facts)
    assert route(erased(closed), closed) == (closed, ())


def test_the_erasure_notice_leaves_no_personal_data_in_any_partner_format() -> None:
    for (code, _), facts in FACTS.items():
        holder = dataclasses.replace(facts, registered_with=facts.partner)
        [(notice, to)] = route(erased(holder), purged(holder))[1]
        payload = PARTNERS[code].translate(notice, to)
        language = PARTNERS[code].language_for(to)
        assert set(payload) == PARTNERS[code].allowed_fields("case_erased", language)
        text = json.dumps(payload, ensure_ascii=False)
        for value in (facts.niss, facts.family_name, facts.given_name):
            assert value not in text, code
        assert facts.birth_date.isoformat() not in text
        assert facts.dossier_number in text
        assert str(facts.case_id) in text


def test_the_fold_adds_the_erasure_notice_once_whatever_the_redeliveries() -> None:
    projection = OutboundProjection()
    moved, _ = route(to_leuven(), granted(registered()))
    event = erased(moved)
    row = GatewayCase(purged(moved))
    first = projection.fold(row, event)
    again = projection.fold(row, event)
    assert first is not None
    assert again is not None
    assert [(e.partner, e.kind) for e in first.outbox] == [("vdab", "case_erased")]
    assert first.outbox == again.outbox  # the same message id: the outbox keeps one
    assert not first.facts_changed
    assert first.outbox[0].payload["berichtType"] == "dossierGewist"


class _Recording:
    """An async connection that keeps the rows an outbox insert is given."""

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []

    def cursor(self) -> _Recording:
        return self

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def executemany(self, _query: object, rows: Iterable[Any]) -> None:
        self.rows += list(rows)


def test_an_erasure_notice_is_sealed_under_a_key_the_erasure_keeps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    vault = Vault(MemoryKeyStore(), LocalMasterKeys({"k1": os.urandom(32)}, "k1"))
    monkeypatch.setattr(outbound, "current_vault", lambda: vault)
    moved, _ = route(to_leuven(), granted(registered()))
    folded = OutboundProjection().fold(GatewayCase(purged(moved)), erased(moved))
    assert folded is not None
    vault.erase(NAMUR.case_id)  # the erasure destroyed the case's key first
    conn = _Recording()
    asyncio.run(OutboundProjection().store(conn, "partners", {NAMUR.case_id: folded}))  # type: ignore[arg-type]
    [(message_id, partner, case_id, kind, payload)] = conn.rows
    assert (partner, case_id, kind) == ("vdab", NAMUR.case_id, "case_erased")
    opened = vault.open_document(payload.obj, message_id.bytes)
    assert opened == folded.outbox[0].payload
    assert payload.obj["sealed"]["person"] != str(NAMUR.case_id)


def test_a_refused_erasure_notice_is_kept_under_its_own_key() -> None:
    vault = Vault(MemoryKeyStore(), LocalMasterKeys({"k1": os.urandom(32)}, "k1"))
    payload = {"berichtType": "gpmiOndertekend"}
    other = outbound.seal_kept(vault, NAMUR.case_id, uuid.uuid4(), payload)
    assert other["sealed"]["person"] == str(NAMUR.case_id)
    # The outbox sealed the notice under its own key; the case is erased since.
    row = OutboxEntry(uuid.uuid4(), "vdab", NAMUR.case_id, "case_erased", payload)
    stored = vault.seal_document(
        outbound._sealed_for(row), payload, row.message_id.bytes
    )
    vault.erase(NAMUR.case_id)
    kept = outbound.seal_kept(vault, NAMUR.case_id, row.message_id, payload)
    assert kept["sealed"]["person"] == stored["sealed"]["person"]
    assert vault.open_document(kept, row.message_id.bytes) == payload


def test_an_erasure_of_a_case_never_routed_tells_nobody_and_does_not_wait() -> None:
    # Its registration was parked: the erasure is not "not yet" (it would
    # wait for ever), it folds into nothing and the gateway's purge runs.
    projection = OutboundProjection()
    assert projection.fold(None, erased(NAMUR)) is None
    assert projection.fold(GatewayCase(None), erased(NAMUR)) is None
