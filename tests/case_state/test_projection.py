"""The whole case state, folded event by event (pure: no database)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pytest

from contracts.case_state import CaseStateV1
from contracts.envelope import ContractEvent
from contracts.household import HouseholdRecordedV1
from contracts.income import (
    IncomePaymentSuspendedV1,
    IncomeRightGrantedV1,
    IncomeRightModifiedV1,
    IncomeRightWithdrawnV1,
)
from contracts.intake import CaseTransferredV1, ResidenceChangedV1
from contracts.partner_reports import (
    JobSeekerRegisteredV1,
    JobSeekerRegistrationRejectedV1,
)
from contracts.piis import (
    Commitments,
    HearingHeldV1,
    PhaseChangedV1,
    PiisAmendedV1,
    PiisDeadlineMissedV1,
    PiisEndedV1,
    PiisEvaluatedV1,
    PiisExemptionGrantedV1,
    PiisNoticeServedV1,
    PiisProposedV1,
    PiisSanctionDecidedV1,
    PIISSignedV1,
    SocialActivationEvaluatedV1,
    SocialActivationEvaluationOverdueV1,
    SocialActivationStartedV1,
)
from contracts.placement import BenefitRightOpenedV1, BenefitRightRefusedV1
from contracts.regions import PartnerCode
from services.case_state.parts.piis import PiisPart
from services.case_state.projection import (
    FOLDS,
    CaseRow,
    CaseStateProjection,
    recording_day,
    row_of,
    state_of,
)
from services.common.vault import VaultError
from tests.contracts.samples import CASE, KBO, SAMPLES, envelope

REGISTERED, BILAN, CLAIMED = SAMPLES[0], SAMPLES[1], SAMPLES[2]
PIIS_ID = uuid.UUID(int=500)
START = dt.date(2026, 1, 5)


def sample(kind: type[ContractEvent]) -> Any:
    return next(s for s in SAMPLES if isinstance(s, kind))


def fold(events: Iterable[ContractEvent], row: CaseRow | None = None) -> CaseRow:
    projection = CaseStateProjection()
    for event in events:
        row = projection.fold(row, event) or row
    assert row is not None
    return row


def state(events: Iterable[ContractEvent]) -> CaseStateV1:
    return fold(events).state()


class Stream:
    """Events of one stream with the envelope a store gives them."""

    def __init__(self, stream: uuid.UUID, recorded: dt.datetime | None = None) -> None:
        self.stream, self.version = stream, 0
        self.recorded = recorded or dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)

    def __call__(self, event_class: type[Any], /, **fields: Any) -> Any:
        self.version += 1
        self.recorded += dt.timedelta(minutes=1)
        head = envelope(self.version, self.stream) | {"recorded_at": self.recorded}
        return event_class(**head, **fields)


def proposed(piis: Stream, piis_id: uuid.UUID = PIIS_ID, **more: Any) -> Any:
    return piis(
        PiisProposedV1,
        piis_id=piis_id,
        piis_type="general",
        proposed_on=dt.date(2025, 12, 20),
        start_date=START,
        planned_end_date=dt.date(2027, 1, 4),
        objectives=("a job",),
        commitments=Commitments(beneficiary=("attend",), cpas=("guide",)),
        evaluation_plan=(dt.date(2026, 4, 1), dt.date(2026, 7, 1)),
        caseworker=more.pop("caseworker", "sw-1"),
        **more,
    )


def signed(piis: Stream, piis_id: uuid.UUID = PIIS_ID) -> Any:
    return piis(
        PIISSignedV1,
        piis_id=piis_id,
        piis_type="general",
        signed_on=dt.date(2026, 1, 2),
        start_date=START,
        planned_end_date=dt.date(2027, 1, 4),
        objectives=("a job",),
        commitments=Commitments(beneficiary=("attend",), cpas=("guide",)),
        evaluation_plan=(dt.date(2026, 4, 1), dt.date(2026, 7, 1)),
        reflection_period_start=dt.date(2025, 12, 20),
    )


def evaluated(
    piis: Stream, day: dt.date, *, in_person: bool, next_on: dt.date | None = None
) -> Any:
    return piis(
        PiisEvaluatedV1,
        piis_id=PIIS_ID,
        evaluated_on=day,
        in_person=in_person,
        outcome="progress made",
        next_evaluation_on=next_on,
    )


def missed(piis: Stream, kind: str, due: dt.date, piis_id: uuid.UUID | None) -> Any:
    event = piis(
        PiisDeadlineMissedV1,
        kind="piis_not_signed",
        due_on=due,
        detected_on=due + dt.timedelta(days=1),
        piis_id=piis_id,
        caseworker="sw-1" if piis_id else None,
    )
    # A kind the watch may add later: the contract's list grows with it.
    return event.model_copy(update={"kind": kind})


# Intake.


def test_a_case_shows_its_registration_and_bilans() -> None:
    found = state([REGISTERED, BILAN])
    assert found.registration is not None
    assert (found.registration.region, found.registration.partner) == (
        "wallonia",
        "forem",
    )
    assert found.registration.dossier_number == "LG2026001"
    assert (found.bilan.status, found.bilan.count) == ("completed", 1)
    assert found.bilan.last_completed_on == dt.date(2026, 3, 20)
    assert found.bilan.orientation == "employment"
    assert found.income_right is None
    assert found.cpas_kbo == KBO


def test_the_income_right_shows_kind_category_amount_since_and_suspensions() -> None:
    granted, modified, suspended, withdrawn = (
        sample(IncomeRightGrantedV1),
        sample(IncomeRightModifiedV1),
        sample(IncomePaymentSuspendedV1),
        sample(IncomeRightWithdrawnV1),
    )
    right = state([REGISTERED, granted]).income_right
    assert right is not None
    assert (right.kind, right.category, right.status) == ("RIS", 2, "active")
    assert right.monthly_amount == Decimal("1314.20")
    assert right.since == right.category_since == dt.date(2026, 2, 20)
    assert right.piis_obligation == "compulsory_new_beneficiary"

    right = state([REGISTERED, granted, modified, suspended]).income_right
    assert right is not None
    assert (right.category, right.monthly_amount) == (3, Decimal("1776.07"))
    assert (right.since, right.category_since) == (
        dt.date(2026, 2, 20),
        dt.date(2026, 5, 1),
    )
    [suspension] = right.suspensions
    assert (suspension.reason, suspension.period_start, suspension.period_end) == (
        "stay_abroad_over_28_days",
        dt.date(2026, 7, 1),
        dt.date(2026, 7, 31),
    )
    right = state([REGISTERED, granted, modified, suspended, withdrawn]).income_right
    assert right is not None
    assert (right.status, right.withdrawn_from) == ("withdrawn", dt.date(2026, 10, 1))


def test_a_move_changes_the_region_and_the_partner_a_transfer_the_file_and_cpas() -> (
    None
):
    moved, transferred = sample(ResidenceChangedV1), sample(CaseTransferredV1)
    found = state([REGISTERED, moved]).registration
    assert found is not None
    assert (found.region, found.partner, found.moved_on) == (
        "flanders",
        "vdab",
        dt.date(2026, 10, 15),
    )
    after = state([REGISTERED, moved, transferred])
    assert after.registration is not None
    assert (after.registration.dossier_number, after.registration.transferred_on) == (
        "LV202688",
        dt.date(2026, 11, 1),
    )
    assert after.cpas_kbo == "0202239951"  # the new CPAS's, from the envelope
    assert "3000" not in after.model_dump_json()  # the new postal code


def test_the_household_in_force_is_counted_never_named() -> None:
    recorded = sample(HouseholdRecordedV1)
    found = state([REGISTERED, recorded]).household
    assert found is not None
    assert (found.since, found.partners, found.children, found.other_members) == (
        dt.date(2026, 5, 1),
        1,
        1,
        0,
    )
    earlier = recorded.model_copy(
        update={"effective_date": dt.date(2026, 1, 1), "children": ()}
    )
    assert state([REGISTERED, recorded, earlier]).household == found
    corrected = recorded.model_copy(update={"other_members": 2})
    later = state([REGISTERED, recorded, corrected]).household
    assert later is not None
    assert later.other_members == 2
    assert "1983-01-12" not in state([REGISTERED, recorded]).model_dump_json()


def test_a_change_to_another_right_than_the_one_shown_leaves_it() -> None:
    granted = sample(IncomeRightGrantedV1)
    other = sample(IncomeRightModifiedV1).model_copy(
        update={"right_id": uuid.UUID(int=999)}
    )
    assert state([REGISTERED, granted, other]).income_right == (
        state([REGISTERED, granted]).income_right
    )


def test_a_bilan_for_a_case_never_registered_cannot_be_folded() -> None:
    orphan = BILAN.model_copy(update=envelope(1, uuid.UUID(int=5)))
    with pytest.raises(LookupError, match="never registered"):
        CaseStateProjection().fold(None, orphan)


def test_events_that_do_not_concern_the_case_state_change_nothing() -> None:
    projection = CaseStateProjection()
    assert projection.fold(None, CLAIMED) is None
    row = fold([REGISTERED])
    ignored = [
        e
        for e in SAMPLES
        if e.event_type.startswith("hub.partners")
        and not isinstance(e, JobSeekerRegisteredV1 | JobSeekerRegistrationRejectedV1)
    ]
    assert ignored
    for event in [CLAIMED, *ignored]:
        assert projection.fold(row, event) is None


# The PIIS.


def test_a_signed_piis_shows_its_evaluations_of_the_rolling_twelve_months() -> None:
    piis = Stream(uuid.UUID(int=16))
    events = [REGISTERED, proposed(piis), signed(piis)]
    shown = state(events).piis
    assert shown is not None
    assert (shown.status, shown.signed_on, shown.caseworker) == (
        "signed",
        dt.date(2026, 1, 2),
        "sw-1",
    )
    assert shown.evaluations_window is None
    assert shown.next_evaluation_due == dt.date(2026, 4, 1)  # the plan's first

    events += [
        evaluated(piis, dt.date(2026, 4, 2), in_person=True),
        evaluated(piis, dt.date(2026, 7, 1), in_person=True),
        evaluated(piis, dt.date(2027, 3, 1), in_person=False),
    ]
    shown = state(events).piis
    assert shown is not None
    window = shown.evaluations_window
    assert window is not None
    assert (window.window_from, window.window_to) == (
        dt.date(2026, 3, 2),
        dt.date(2027, 3, 1),
    )
    assert (window.evaluations, window.in_person) == (3, 2)
    assert (window.required, window.required_in_person) == (3, 2)
    assert (shown.evaluations_total, shown.last_evaluated_on) == (
        3,
        dt.date(2027, 3, 1),
    )
    assert shown.next_evaluation_due is None  # the plan is done, none planned

    events.append(evaluated(piis, dt.date(2027, 8, 1), in_person=False))
    shown = state(events).piis
    assert shown is not None
    assert shown.evaluations_window is not None
    assert (
        shown.evaluations_window.evaluations,
        shown.evaluations_window.in_person,
    ) == (
        2,
        0,
    )


def test_the_window_does_not_start_before_the_piis() -> None:
    piis = Stream(uuid.UUID(int=16))
    events = [proposed(piis), signed(piis)]
    events.append(evaluated(piis, dt.date(2026, 2, 1), in_person=True))
    shown = state(events).piis
    assert shown is not None
    assert shown.evaluations_window is not None
    assert shown.evaluations_window.window_from == START


def test_the_next_evaluation_is_the_one_the_latest_planned_else_the_plans_next() -> (
    None
):
    piis = Stream(uuid.UUID(int=16))
    events = [proposed(piis), signed(piis)]
    events.append(evaluated(piis, dt.date(2026, 4, 2), in_person=True))
    shown = state(events).piis
    assert shown is not None
    assert shown.next_evaluation_due == dt.date(2026, 7, 1)
    planned = dt.date(2026, 6, 15)
    events.append(evaluated(piis, dt.date(2026, 5, 2), in_person=True, next_on=planned))
    shown = state(events).piis
    assert shown is not None
    assert shown.next_evaluation_due == planned
    events.append(
        piis(
            PiisAmendedV1,
            piis_id=PIIS_ID,
            amended_on=dt.date(2026, 5, 10),
            objectives=("a job",),
            planned_end_date=dt.date(2027, 6, 30),
            evaluation_plan=(dt.date(2026, 9, 1),),
            reason="training added",
        )
    )
    shown = state(events).piis
    assert shown is not None
    assert shown.planned_end_date == dt.date(2027, 6, 30)
    assert shown.next_evaluation_due == planned  # the latest evaluation said so


def test_a_draft_shows_until_a_piis_is_signed_then_the_signed_one() -> None:
    piis = Stream(uuid.UUID(int=16))
    other = uuid.UUID(int=501)
    events = [proposed(piis), proposed(piis, other, caseworker="sw-2")]
    shown = state(events).piis
    assert shown is not None
    assert (shown.piis_id, shown.status, shown.caseworker) == (
        other,
        "proposed",
        "sw-2",
    )
    assert shown.next_evaluation_due is None  # not in force
    shown = state([*events, signed(piis)]).piis
    assert shown is not None
    assert (shown.piis_id, shown.status, shown.caseworker) == (
        PIIS_ID,
        "signed",
        "sw-1",
    )
    assert shown.proposed_on == dt.date(2025, 12, 20)
    # A draft proposed while a PIIS is in force does not hide it.
    shown = state([*events, signed(piis), proposed(piis, uuid.UUID(int=502))]).piis
    assert shown is not None
    assert shown.piis_id == PIIS_ID


def test_notices_hearings_and_sanctions_show_on_the_piis() -> None:
    piis = Stream(uuid.UUID(int=16))
    events = [
        proposed(piis),
        signed(piis),
        piis(
            PiisNoticeServedV1,
            piis_id=PIIS_ID,
            served_on=dt.date(2026, 9, 1),
            grounds="three missed appointments",
        ),
        piis(
            HearingHeldV1, piis_id=PIIS_ID, held_on=dt.date(2026, 9, 15), attended=False
        ),
        piis(
            PiisSanctionDecidedV1,
            piis_id=PIIS_ID,
            decided_on=dt.date(2026, 9, 20),
            months=1,
            starts_on=dt.date(2026, 11, 1),
            ends_on=dt.date(2026, 11, 30),
            repeat=False,
            notice_served_on=dt.date(2026, 9, 1),
        ),
    ]
    shown = state(events).piis
    assert shown is not None
    [notice] = shown.notices
    assert (notice.served_on, notice.hearing_on, notice.attended) == (
        dt.date(2026, 9, 1),
        dt.date(2026, 9, 15),
        False,
    )
    [sanction] = shown.sanctions
    assert (sanction.months, sanction.starts_on, sanction.ends_on) == (
        1,
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 30),
    )
    assert "missed appointments" not in shown.model_dump_json()


def test_an_ended_piis_shows_how_it_ended_and_no_next_evaluation() -> None:
    piis = Stream(uuid.UUID(int=16))
    ended = piis(
        PiisEndedV1,
        piis_id=PIIS_ID,
        ended_on=dt.date(2026, 6, 30),
        outcome="completed",
        reason="found a job at the bakery",
    )
    shown = state([proposed(piis), signed(piis), ended]).piis
    assert shown is not None
    assert (shown.status, shown.ended_on, shown.outcome) == (
        "ended",
        dt.date(2026, 6, 30),
        "completed",
    )
    assert shown.next_evaluation_due is None
    assert "bakery" not in shown.model_dump_json()


def test_an_exemption_shows_without_its_ground() -> None:
    exemption = sample(PiisExemptionGrantedV1)
    found = state([exemption])
    assert found.piis_exemption is not None
    assert found.piis_exemption.decided_on == dt.date(2026, 4, 20)
    assert "health" not in found.model_dump_json()


def test_the_trajectory_shows_its_phase_and_since_when() -> None:
    trajectory = Stream(uuid.UUID(int=13))

    def change(before: str | None, after: str, day: dt.date) -> Any:
        return trajectory(
            PhaseChangedV1,
            trajectory_id=uuid.UUID(int=13),
            dossier_number="LG2026001",
            from_phase=before,
            to_phase=after,
            effective_date=day,
            reason="orientation",
            decided_by="sw-1",
        )

    events = [
        change(None, "facilitator", dt.date(2026, 3, 1)),
        change("facilitator", "employment", dt.date(2026, 5, 1)),
    ]
    shown = state(events).trajectory
    assert shown is not None
    assert (shown.phase, shown.since, shown.from_phase, shown.active) == (
        "employment",
        dt.date(2026, 5, 1),
        "facilitator",
        True,
    )
    events.append(change("employment", "exit_employed", dt.date(2026, 9, 1)))
    shown = state(events).trajectory
    assert shown is not None
    assert (shown.phase, shown.active) == ("exit_employed", False)


def test_social_activation_shows_its_progress_against_the_baseline() -> None:
    activation = Stream(uuid.UUID(int=17))
    activation_id = uuid.UUID(int=17)
    started = activation(
        SocialActivationStartedV1,
        activation_id=activation_id,
        activation_type="workshop",
        starts_on=dt.date(2026, 5, 1),
        planned_end_date=dt.date(2027, 4, 30),
        baseline_scores={"social": 30, "work": 20},
    )
    shown = state([started]).social_activation
    assert shown is not None
    assert (shown.status, shown.evaluations, shown.latest) == ("active", 0, None)
    assert shown.baseline == {"social": 30, "work": 20}

    def evaluation(day: dt.date, social: int, *, final: bool = False) -> Any:
        return activation(
            SocialActivationEvaluatedV1,
            activation_id=activation_id,
            evaluated_on=day,
            scores={"social": social, "work": 20},
            progress={"social": social - 30, "work": 0},
            final=final,
        )

    events = [started, evaluation(dt.date(2026, 8, 1), 40)]
    events.append(evaluation(dt.date(2026, 11, 1), 55, final=True))
    shown = state(events).social_activation
    assert shown is not None
    assert (shown.status, shown.evaluations, shown.last_evaluated_on) == (
        "ended",
        2,
        dt.date(2026, 11, 1),
    )
    assert shown.latest == {"social": 55, "work": 20}
    assert shown.progress == {"social": 25, "work": 0}


# Missed deadlines.


def test_law_2002_art11_a_missed_signature_is_open_until_a_piis_is_signed() -> None:
    piis = Stream(uuid.UUID(int=16))
    flag = missed(piis, "piis_not_signed", dt.date(2026, 1, 1), None)
    events = [proposed(piis), flag]
    [deadline] = state(events).open_deadlines
    assert (deadline.kind, deadline.due_on, deadline.detected_on) == (
        "piis_not_signed",
        dt.date(2026, 1, 1),
        dt.date(2026, 1, 2),
    )
    assert state([*events, signed(piis)]).open_deadlines == ()


def test_law_2002_art11_an_exemption_meets_a_missed_signature() -> None:
    piis = Stream(uuid.UUID(int=16))
    exemption = piis(
        PiisExemptionGrantedV1,
        ground="equity",
        motivation="x",
        decided_on=dt.date(2026, 1, 10),
    )
    flag = missed(piis, "piis_not_signed", dt.date(2026, 1, 1), None)
    assert state([flag, exemption]).open_deadlines == ()


def test_rd_2002_art11_missing_evaluations_stay_open_until_three_two_in_person() -> (
    None
):
    piis = Stream(uuid.UUID(int=16))
    year = dt.date(2027, 1, 5)
    events = [
        proposed(piis),
        signed(piis),
        evaluated(piis, dt.date(2026, 4, 2), in_person=True),
        evaluated(piis, dt.date(2026, 10, 2), in_person=False),
        missed(piis, "evaluations_missing", year, PIIS_ID),
    ]
    [deadline] = state(events).open_deadlines
    assert (deadline.kind, deadline.piis_id, deadline.caseworker) == (
        "evaluations_missing",
        PIIS_ID,
        "sw-1",
    )
    # A third one, not in person: still two in person short of one.
    events.append(evaluated(piis, dt.date(2027, 1, 20), in_person=False))
    assert len(state(events).open_deadlines) == 1
    # The twelve months before the next hold three, two in person.
    events.append(evaluated(piis, dt.date(2027, 2, 1), in_person=True))
    assert state(events).open_deadlines == ()


def test_law_2002_art11_a_signature_flagged_late_is_no_open_deadline() -> None:
    piis = Stream(uuid.UUID(int=16))
    unmet = missed(piis, "piis_not_signed", dt.date(2026, 1, 1), None)
    late = unmet.model_copy(
        update={"stream_version": 4, "signed_on": dt.date(2026, 1, 2)}
    )
    events = [proposed(piis), unmet, signed(piis), late]
    assert state(events).open_deadlines == ()
    assert state([late]).open_deadlines == ()


def test_missing_evaluations_of_a_piis_that_ended_are_no_open_deadline() -> None:
    piis = Stream(uuid.UUID(int=16))
    ended = piis(
        PiisEndedV1,
        piis_id=PIIS_ID,
        ended_on=dt.date(2026, 6, 30),
        outcome="terminated",
        reason="moved",
    )
    # Pro rata, flagged after the end: nothing can be done about it any more.
    flag = missed(piis, "evaluations_missing", dt.date(2026, 6, 30), PIIS_ID)
    assert state([proposed(piis), signed(piis), ended, flag]).open_deadlines == ()


def test_an_overdue_activation_evaluation_is_met_by_an_evaluation() -> None:
    activation = Stream(uuid.UUID(int=17))
    activation_id = uuid.UUID(int=17)
    overdue = activation(
        SocialActivationEvaluationOverdueV1,
        activation_id=activation_id,
        due_on=dt.date(2026, 8, 1),
        detected_on=dt.date(2026, 8, 2),
    )
    [deadline] = state([overdue]).open_deadlines
    assert (deadline.kind, deadline.activation_id) == (
        "social_activation_evaluation",
        activation_id,
    )
    evaluation = activation(
        SocialActivationEvaluatedV1,
        activation_id=activation_id,
        evaluated_on=dt.date(2026, 8, 5),
        scores={"social": 40},
        progress={"social": 10},
        final=False,
    )
    assert state([overdue, evaluation]).open_deadlines == ()


def test_a_deadline_of_a_kind_added_later_shows_until_its_piis_ends() -> None:
    piis = Stream(uuid.UUID(int=16))
    events = [proposed(piis), signed(piis)]
    events.append(missed(piis, "a_kind_of_tomorrow", dt.date(2026, 6, 1), PIIS_ID))
    events.append(evaluated(piis, dt.date(2026, 6, 3), in_person=True))
    [deadline] = state(events).open_deadlines
    assert deadline.kind == "a_kind_of_tomorrow"
    events.append(
        piis(
            PiisEndedV1,
            piis_id=PIIS_ID,
            ended_on=dt.date(2026, 7, 1),
            outcome="terminated",
            reason="moved",
        )
    )
    assert state(events).open_deadlines == ()


def test_open_deadlines_are_listed_oldest_due_first_each_once() -> None:
    piis = Stream(uuid.UUID(int=16))
    late = missed(piis, "piis_not_signed", dt.date(2026, 3, 1), None)
    early = missed(piis, "other_kind", dt.date(2026, 2, 1), None)
    again = missed(piis, "piis_not_signed", dt.date(2026, 3, 1), None)
    found = state([late, early, again]).open_deadlines
    assert [(d.kind, d.due_on) for d in found] == [
        ("other_kind", dt.date(2026, 2, 1)),
        ("piis_not_signed", dt.date(2026, 3, 1)),
    ]


# Placements, the benefit right, the partner.


def test_placements_show_every_contract_with_dates_and_status() -> None:
    found = state(e for e in SAMPLES if e.event_type.startswith("hub.placement"))
    kinds = [(p.kind, p.status) for p in found.placements]
    assert kinds == [
        ("article_60", "started"),
        ("article_60", "ended"),
        ("article_60", "cancelled"),
        ("article_61", "ended"),
    ]
    ended = found.placements[1]
    assert (ended.start_date, ended.ended_on, ended.required_work_days) == (
        dt.date(2026, 5, 4),
        dt.date(2026, 9, 30),
        290,
    )
    assert ended.user_organisation_name == "Commune de Namur"
    assert found.placements[3].employer_name == "Boulangerie du Centre SRL"


def test_a_placement_keeps_no_end_reason() -> None:
    row = fold(e for e in SAMPLES if e.event_type.startswith("hub.placement"))
    part = row.parts["placement"]
    assert "hired_elsewhere" not in FOLDS["placement"].dump(part, CASE)
    assert "hired_elsewhere" not in row.state().model_dump_json()


def test_the_latest_benefit_right_decision_shows() -> None:
    opened, refused = sample(BenefitRightOpenedV1), sample(BenefitRightRefusedV1)
    right = state([opened]).benefit_right
    assert right is not None
    assert (right.decision, right.right_start_date, right.source_channel) == (
        "opened",
        dt.date(2027, 7, 1),
        "partner",
    )
    right = state([opened, refused]).benefit_right
    assert right is not None
    assert (right.decision, right.work_days_counted) == ("refused", 298)


def test_the_partner_registration_shows_as_the_partner_reported_it() -> None:
    registered = sample(JobSeekerRegisteredV1)
    found = state([registered]).partner_registration
    assert found is not None
    assert (found.partner, found.status, found.registered_on) == (
        PartnerCode.FOREM,
        "registered",
        dt.date(2026, 3, 20),
    )
    assert "DE-2026-445566" not in state([registered]).model_dump_json()
    rejected = sample(JobSeekerRegistrationRejectedV1)
    found = state([registered, rejected]).partner_registration
    assert found is not None
    assert (found.status, found.partner_sequence) == ("rejected", 2)


# The whole.


def test_a_case_heard_of_first_from_another_service_waits_for_its_registration() -> (
    None
):
    registered_later = state([sample(BenefitRightOpenedV1)])
    assert registered_later.registration is None
    assert registered_later.bilan.status == "pending"
    assert state([sample(BenefitRightOpenedV1), REGISTERED]).registration is not None


def _history() -> list[ContractEvent]:
    """One case's events of the four services, each stream in its order."""
    piis = Stream(uuid.UUID(int=16), dt.datetime(2026, 3, 2, 11, tzinfo=dt.UTC))
    partners = Stream(uuid.UUID(int=40), dt.datetime(2026, 3, 3, 9, tzinfo=dt.UTC))
    stamped = [
        e.model_copy(
            update={"recorded_at": dt.datetime(2026, 3, 2, 9, i, tzinfo=dt.UTC)}
        )
        for i, e in enumerate(SAMPLES)
        if e.event_type.startswith(("hub.intake", "hub.placement"))
    ]
    return [
        *stamped,
        proposed(piis),
        signed(piis),
        evaluated(piis, dt.date(2026, 4, 2), in_person=True),
        missed(piis, "evaluations_missing", dt.date(2027, 1, 5), PIIS_ID),
        partners(
            JobSeekerRegisteredV1,
            partner=PartnerCode.FOREM,
            partner_message_id="F-1",
            partner_sequence=1,
            partner_content_hash="ab" * 32,
            partner_client_id="C-1",
            registered_on=dt.date(2026, 3, 3),
        ),
    ]


def _interleaved(events: list[ContractEvent], seed: int) -> list[ContractEvent]:
    """The events in another order across services, each service's kept."""
    by_service: dict[str, list[ContractEvent]] = {}
    for event in events:
        by_service.setdefault(event.event_type.split(".")[1], []).append(event)
    rng, out = random.Random(seed), []
    queues = [list(q) for q in by_service.values()]
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        out.append(queue.pop(0))
    return out


def test_the_state_is_the_same_whatever_the_services_interleaving() -> None:
    events = _history()
    expected = fold(events)
    ignored = (
        "dossier_number.claimed.v1",
        "person_index.claimed.v1",
        "period_requested.v1",
        # Reported to SPP IS (forms C and D); not part of the case state yet.
        "income_right.refused.v1",
        "income_recovery.decided.v1",
        # The erasure: the topic sends the case's tombstone instead (ADR 0023).
        "case.erased.v1",
    )
    assert expected.version == len(
        [e for e in events if not e.event_type.endswith(ignored)]
    )
    for seed in range(20):
        row = fold(_interleaved(events, seed))
        assert row.parts == expected.parts, seed
        assert row.state() == expected.state(), seed
    # As a rebuild replays them: one store after the other.
    by_store = sorted(
        events, key=lambda e: list(FOLDS).index(e.event_type.split(".")[1])
    )
    assert fold(by_store).state() == expected.state()


def test_the_version_counts_the_events_folded_in() -> None:
    row = fold([REGISTERED, CLAIMED, BILAN])
    assert row.version == row.state().version == 2
    assert fold([BILAN], row).version == 3


def test_the_newest_event_recorded_is_the_states_last() -> None:
    found = state(_history())
    assert found.updated_at == dt.datetime(2026, 3, 3, 9, 1, tzinfo=dt.UTC)
    assert found.last_event_type == "hub.partners.job_seeker.registered.v1"


def test_each_part_is_kept_as_it_stood_at_the_end_of_each_recording_day() -> None:
    intake = Stream(CASE, dt.datetime(2026, 3, 2, 22, 58, tzinfo=dt.UTC))
    registered = intake(type(REGISTERED), **_fields(REGISTERED))
    bilan = intake(type(BILAN), **_fields(BILAN))  # 23:00 UTC: midnight in Brussels
    assert recording_day(registered) == dt.date(2026, 3, 2)
    assert recording_day(bilan) == dt.date(2026, 3, 3)
    row = fold([registered, bilan])
    assert sorted(row.days) == [
        ("intake", dt.date(2026, 3, 2)),
        ("intake", dt.date(2026, 3, 3)),
    ]
    day_one = state_of(CASE, {"intake": row.days["intake", dt.date(2026, 3, 2)]})
    assert (day_one.bilan.count, day_one.version) == (0, 1)
    assert row.days["intake", dt.date(2026, 3, 3)] == row.parts["intake"]


def _fields(event: ContractEvent) -> dict[str, Any]:
    head = set(ContractEvent.model_fields) - {"event_type", "schema_version"}
    return {k: v for k, v in dict(event).items() if k not in head}


def test_parts_come_back_from_their_stored_json() -> None:
    row = fold(_history())
    texts = [FOLDS[s].dump(p, CASE) if (p := row.parts.get(s)) else None for s in FOLDS]
    assert row_of((CASE, *texts)) == dataclasses.replace(row, days={})


def test_adr_0023_the_activation_scores_are_stored_sealed_and_come_back() -> None:
    row = fold(SAMPLES)
    part = row.parts["piis"]
    assert isinstance(part, PiisPart)
    assert part.activation is not None
    assert part.activation.baseline
    assert part.activation.progress
    text = FOLDS["piis"].dump(part, CASE)
    stored = json.loads(text)
    assert "sealed" in stored
    assert not {"baseline", "latest", "progress"} & set(stored["activation"])
    assert FOLDS["piis"].load(text, CASE) == part
    # Sealed for its own case: under another case id the box does not open.
    with pytest.raises(VaultError):
        FOLDS["piis"].load(text, uuid.UUID(int=99))


def test_the_state_holds_no_identity_nor_free_text() -> None:
    text = state(_history()).model_dump_json() + FOLDS["intake"].dump(
        fold(_history()).parts["intake"], CASE
    )
    for personal in (
        "85073003328",  # NISS
        "Dumont",
        "Léa",
        "1985-07-30",  # birth date
        '"4000"',  # postal code
        '"3000"',  # the postal code after a move
        "1983-01-12",  # a household member's birth date
        "housing",  # needs of the bilan
        "C-1",  # the partner's id of the person
        "progress made",  # an evaluation's outcome
        "a job",  # objectives
        "found a job",  # a withdrawal's reason
    ):
        assert personal not in text, personal


def test_the_registry_replays_the_services_in_the_parts_order() -> None:
    from services.registry import consumer

    assert consumer("case-state").services == tuple(FOLDS)
