"""The synthetic history: deterministic, through the command path, mostly accepted."""

from __future__ import annotations

import datetime as dt

from contracts.envelope import ContractEvent
from contracts.federal_reporting import FederalFormSubmittedV1
from contracts.income import IncomeRightGrantedV1
from contracts.intake import CaseTransferredV1
from services.generate import DEFAULT_INS_CODES, GeneratedHub, Generator, HistorySpec
from services.partner_gateway.federal_policy import FederalReportingPolicy
from tests.intake.fakes import IN_MEMORY

SPEC = HistorySpec(cases=24, years=2, seed=7)


def in_memory_hub() -> GeneratedHub:
    return GeneratedHub(
        {
            "intake": IN_MEMORY,
            "piis": IN_MEMORY,
            "placement": IN_MEMORY,
            "partners": IN_MEMORY,
        },
        id_secret="generate-tests",
    )


def played(spec: HistorySpec = SPEC) -> Generator:
    generator = Generator(in_memory_hub(), spec)
    generator.run()
    return generator


def test_the_same_seed_gives_the_same_commands() -> None:
    first, second = played(), played()
    assert first.log == second.log
    assert len(first.log) > 5 * SPEC.cases
    other = played(HistorySpec(cases=24, years=2, seed=8))
    assert other.log != first.log


def test_most_commands_are_stored_and_every_kind_of_life_occurs() -> None:
    tally = played(HistorySpec(cases=60, years=2, seed=3)).tally
    stored = sum(tally.stored.values())
    assert stored >= 0.95 * tally.commands
    assert set(tally.stored) >= {
        "register",
        "household",
        "bilan",
        "grant",
        "refuse_income",
        "modify",
        "withdraw",
        "start_trajectory",
        "change_phase",
        "propose_piis",
        "sign_piis",
        "evaluate_piis",
        "serve_notice",
        "hold_hearing",
        "decide_sanction",
        "PlanArticle60",
        "SignArticle60",
        "StartArticle60",
        "SignArticle61",
        "move",
        "partner:registration_confirmed",
        "partner:follow_up_report",
        "partner:training_enrolled",
        "partner:training_completed",
        "partner:employment_started",
    }


def test_a_history_goes_on_from_where_it_stopped_and_a_replay_stores_nothing() -> None:
    whole = played()
    hub = in_memory_hub()
    halves = Generator(hub, SPEC)
    middle = dt.date(2025, 12, 31)
    halves.run(middle)
    assert all(day <= middle.isoformat() for day, *_ in halves.log)
    halves.run()
    assert halves.log == whole.log
    again = Generator(hub, SPEC)
    again.run()
    assert sum(again.tally.stored.values()) == 0
    assert sum(again.tally.handled.values()) == sum(whole.tally.stored.values())


LIVES = HistorySpec(cases=200, years=2, seed=3)


def test_transfers_recoveries_and_federal_forms_with_their_answers_occur() -> None:
    tally = played(LIVES).tally
    assert set(tally.stored) >= {
        "transfer",
        "recovery",
        "federal:form_B",
        "federal:form_C",
        "federal:form_D",
        "federal:answer",
    }
    assert tally.refused["transfer"] == tally.refused["recovery"] == 0


def test_a_transferred_case_is_granted_again_by_the_cpas_now_competent() -> None:
    generator = played(LIVES)
    hub = generator.hub
    moved = [
        case
        for case in generator.cases
        if any(
            isinstance(e, CaseTransferredV1)
            for e in hub.intake.events.get(case.case_id)
        )
    ]
    assert moved
    for case in moved:
        events = list(hub.intake.events.get(case.case_id))
        handed = next(e for e in events if isinstance(e, CaseTransferredV1))
        later = [
            e
            for e in events
            if isinstance(e, IncomeRightGrantedV1)
            and e.stream_version > handed.stream_version
        ]
        assert later
        assert all(e.cpas_kbo == handed.cpas_kbo == case.cpas_kbo for e in later)
        forms = hub.partners.federal_forms(case.case_id)
        grants = {e.event_id for e in later}
        regranted = [f for f in forms if grants & set(f.source_event_ids)]
        assert regranted
        assert {f.content.cpas_ins_code for f in regranted} == {
            DEFAULT_INS_CODES[handed.cpas_kbo]
        }


def test_the_forms_are_the_live_policys_and_spp_is_answers_each_in_time() -> None:
    generator = played(LIVES)
    hub = generator.hub

    def forms_stored() -> list[FederalFormSubmittedV1]:
        return [
            e
            for c in generator.cases
            for e in hub.partners.events.get(hub.partners.federal_file_id(c.case_id))
            if isinstance(e, FederalFormSubmittedV1)
        ]

    before = forms_stored()
    rejected = {
        fate.form_id
        for c in generator.cases
        for fate in hub.partners.federal_forms(c.case_id)
        if fate.fate == "rejected"
    }
    # The gateway's policy, folding the same events again: every submission
    # is a command the generator already gave (the same command ids), but
    # for a form SPP IS rejected, which the policy submits again.
    live = FederalReportingPolicy(
        hub.partners, hub.routing.get, DEFAULT_INS_CODES, hub.federal_rows.get
    )
    for case in generator.cases:
        events = [
            *hub.intake.events.get(case.case_id),
            *hub.piis.events.get(hub.piis.file_id(case.case_id)),
        ]
        for event in events:
            assert isinstance(event, ContractEvent)
            live.fold(hub.federal_rows.get(case.case_id), event)
    known = {form.form_id for form in before}
    again = [form for form in forms_stored() if form.form_id not in known]
    assert {form.replaces for form in again} <= rejected
    assert len(again) <= len(rejected)
    answered_by = LIVES.until - dt.timedelta(days=10)
    fates = [
        fate
        for case in generator.cases
        for fate in hub.partners.federal_forms(case.case_id)
        if fate.effective_date <= answered_by
    ]
    assert fates
    late = [f for f in fates if f.fate == "submitted"]
    assert len(late) <= 0.02 * len(fates)
    assert {f.fate for f in fates} >= {"accepted", "rejected"}
