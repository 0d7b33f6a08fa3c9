"""PIIS rules on in-memory persistence, with the case facts given."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any, Literal

import pytest
from fastapi.testclient import TestClient

from contracts.piis import (
    Commitments,
    Phase,
    PiisEvaluatedV1,
    PiisSanctionDecidedV1,
    PIISSignedV1,
)
from services.common.aggregate import CommandContext
from services.common.errors import ConflictError, DomainError
from services.piis.api import create_api
from services.piis.application import (
    AmendPiis,
    CaseUnknownError,
    ChangePhase,
    DecideSanction,
    EndPiis,
    EvaluatePiis,
    GrantExemption,
    HoldHearing,
    PiisApplication,
    ProposePiis,
    ServeNotice,
    SignPiis,
    StartTrajectory,
)
from services.piis.domain import Bilan, CaseFacts
from tests.common.apis import KEY, KEYS
from tests.intake.fakes import IN_MEMORY

CASE = uuid.UUID(int=501)
PROPOSED = dt.date(2026, 11, 2)  # a Monday
NAMESPACE = "piis-tests"


TODAY = dt.date(2026, 12, 1)


def context(day: dt.date = TODAY) -> CommandContext:
    return CommandContext(uuid.uuid4(), dt.datetime.combine(day, dt.time(), dt.UTC))


def app_with(bilan: dt.date | None) -> PiisApplication:
    bilans = (Bilan(bilan),) if bilan else ()
    facts = {CASE: CaseFacts(CASE, "0212345668", bilans=bilans)}
    return PiisApplication(IN_MEMORY, facts=facts.get, id_secret=NAMESPACE)


def proposal(**changes: Any) -> ProposePiis:
    """A general PIIS proposed on a Monday, valid unless a test changes a field."""
    command = ProposePiis(
        context=context(),
        case_id=CASE,
        piis_type="general",
        proposed_on=PROPOSED,
        start_date=dt.date(2026, 11, 15),
        planned_end_date=dt.date(2027, 11, 14),
        objectives=("find a job in logistics",),
        commitments=Commitments(beneficiary=("attend",), cpas=("guide",)),
        evaluation_plan=(
            dt.date(2027, 2, 1),
            dt.date(2027, 5, 1),
            dt.date(2027, 8, 1),
        ),
        caseworker="sw-1",
    )
    return dataclasses.replace(command, **changes)


def propose(app: PiisApplication) -> uuid.UUID:
    return app.propose_piis(proposal()).result


def sign(
    app: PiisApplication, piis_id: uuid.UUID, day: dt.date, waived: bool = False
) -> None:
    reason = "wants to start the training on Monday" if waived else None
    app.sign_piis(
        SignPiis(
            context(),
            CASE,
            piis_id,
            signed_on=day,
            reflection_waived=waived,
            waiver_reason=reason,
        )
    )


def test_a_piis_signed_after_its_bilan_and_the_reflection_period_is_recorded() -> None:
    app = app_with(bilan=dt.date(2026, 10, 20))
    piis_id = propose(app)
    sign(app, piis_id, dt.date(2026, 11, 9))  # five working days after Monday
    file = app.get_file(CASE)
    assert file is not None
    assert file.active == piis_id
    signed = list(app.events.get(file.id))[-1]
    assert isinstance(signed, PIISSignedV1)
    assert signed.reflection_period_start == PROPOSED


def test_a_piis_signed_before_any_bilan_is_refused_naming_its_source() -> None:
    app = app_with(bilan=None)
    piis_id = propose(app)
    with pytest.raises(DomainError) as refused:
        sign(app, piis_id, dt.date(2026, 11, 9))
    assert refused.value.rule == "piis.no_bilan"
    assert "AR 11 July 2002 art. 11" in str(refused.value)


def test_a_bilan_dated_after_the_signature_does_not_count() -> None:
    app = app_with(bilan=dt.date(2026, 11, 10))
    piis_id = propose(app)
    with pytest.raises(DomainError, match="bilan"):
        sign(app, piis_id, dt.date(2026, 11, 9))


def test_a_piis_signed_inside_the_reflection_period_is_refused() -> None:
    app = app_with(bilan=dt.date(2026, 10, 20))
    piis_id = propose(app)
    with pytest.raises(DomainError) as refused:
        sign(app, piis_id, PROPOSED)
    assert refused.value.rule == "piis.reflection_period"
    assert "2026-11-09" in str(refused.value)
    file = app.get_file(CASE)
    assert file is not None
    assert file.version == 1  # nothing stored


def test_the_person_may_waive_the_reflection_period() -> None:
    app = app_with(bilan=dt.date(2026, 10, 20))
    piis_id = propose(app)
    sign(app, piis_id, PROPOSED, waived=True)
    file = app.get_file(CASE)
    assert file is not None
    assert file.active == piis_id


def test_a_second_active_piis_is_refused() -> None:
    app = app_with(bilan=dt.date(2026, 10, 20))
    sign(app, propose(app), dt.date(2026, 11, 9))
    with pytest.raises(ConflictError) as refused:
        propose(app)
    assert refused.value.rule == "piis.already_active"


def test_one_piis_in_force_at_signature_a_second_draft_signed_is_refused() -> None:
    app = app_with(bilan=dt.date(2026, 10, 20))
    first, second = propose(app), propose(app)  # two drafts, none in force yet
    sign(app, first, dt.date(2026, 11, 9))
    with pytest.raises(ConflictError) as refused:
        sign(app, second, dt.date(2026, 11, 9))
    assert refused.value.rule == "piis.already_active"
    file = app.get_file(CASE)
    assert file is not None
    assert (file.active, set(file.signed)) == (first, {first})


def test_an_exemption_is_recorded_with_its_ground() -> None:
    app = app_with(bilan=None)
    app.grant_exemption(
        GrantExemption(
            context(), CASE, "health", "long-term illness, certified", PROPOSED
        )
    )
    file = app.get_file(CASE)
    assert file is not None
    assert file.exemption is not None


def test_a_case_the_service_never_heard_of_is_refused() -> None:
    app = PiisApplication(IN_MEMORY, facts=lambda _: None, id_secret=NAMESPACE)
    with pytest.raises(CaseUnknownError):
        propose(app)


def test_a_retried_proposal_returns_the_same_piis() -> None:
    app = app_with(bilan=None)
    command = proposal(
        piis_type="accompaniment",
        planned_end_date=dt.date(2027, 5, 14),
        objectives=("housing",),
        evaluation_plan=(),
    )
    first, retry = app.propose_piis(command), app.propose_piis(command)
    assert (first.stored, retry.stored) == (True, False)
    assert first.result == retry.result
    file = app.get_file(CASE)
    assert file is not None
    assert file.version == 1


def signed_app() -> PiisApplication:
    app = app_with(bilan=dt.date(2026, 10, 20))
    sign(app, propose(app), dt.date(2026, 11, 9))
    return app


def test_a_first_sanction_after_notice_and_hearing_starts_in_the_second_month() -> None:
    app = signed_app()
    app.serve_notice(ServeNotice(context(), CASE, dt.date(2027, 1, 5), "no show"))
    app.hold_hearing(HoldHearing(context(), CASE, dt.date(2027, 1, 20), attended=True))
    app.decide_sanction(DecideSanction(context(), CASE, dt.date(2027, 1, 25), months=1))
    file = app.get_file(CASE)
    assert file is not None
    decided = list(app.events.get(file.id))[-1]
    assert isinstance(decided, PiisSanctionDecidedV1)
    assert (decided.starts_on, decided.ends_on) == (
        dt.date(2027, 3, 1),
        dt.date(2027, 3, 31),
    )


def test_a_first_sanction_longer_than_one_month_is_refused() -> None:
    app = signed_app()
    app.serve_notice(ServeNotice(context(), CASE, dt.date(2027, 1, 5), "no show"))
    app.hold_hearing(HoldHearing(context(), CASE, dt.date(2027, 1, 20), attended=False))
    with pytest.raises(DomainError) as refused:
        app.decide_sanction(
            DecideSanction(context(), CASE, dt.date(2027, 1, 25), months=2)
        )
    assert refused.value.rule == "sanction.too_long"
    assert "art. 30" in str(refused.value)


def test_a_repeat_within_a_year_may_last_three_months() -> None:
    app = signed_app()
    for year_day, months in ((dt.date(2027, 1, 25), 1), (dt.date(2027, 6, 25), 3)):
        app.serve_notice(ServeNotice(context(), CASE, year_day - dt.timedelta(20), "x"))
        app.hold_hearing(
            HoldHearing(context(), CASE, year_day - dt.timedelta(5), attended=True)
        )
        app.decide_sanction(DecideSanction(context(), CASE, year_day, months=months))
    file = app.get_file(CASE)
    assert file is not None
    assert len(file.sanctions) == 2


def test_a_sanction_without_a_prior_notice_is_refused() -> None:
    app = signed_app()
    with pytest.raises(DomainError) as refused:
        app.decide_sanction(
            DecideSanction(context(), CASE, dt.date(2027, 1, 25), months=1)
        )
    assert refused.value.rule == "sanction.no_notice"
    file = app.get_file(CASE)
    assert file is not None
    assert not file.sanctions


def test_a_sanction_without_a_hearing_is_refused() -> None:
    app = signed_app()
    app.serve_notice(ServeNotice(context(), CASE, dt.date(2027, 1, 5), "no show"))
    with pytest.raises(DomainError) as refused:
        app.decide_sanction(
            DecideSanction(context(), CASE, dt.date(2027, 1, 25), months=1)
        )
    assert refused.value.rule == "sanction.no_hearing"


def test_an_evaluation_needs_a_signed_piis() -> None:
    app = app_with(bilan=None)
    with pytest.raises(DomainError) as refused:
        app.evaluate_piis(
            EvaluatePiis(
                context(), CASE, dt.date(2026, 11, 20), in_person=True, outcome="ok"
            )
        )
    assert refused.value.rule == "piis.none_active"
    app = signed_app()
    app.evaluate_piis(
        EvaluatePiis(
            context(), CASE, dt.date(2026, 11, 20), in_person=True, outcome="ok"
        )
    )


def test_a_phase_change_from_a_phase_the_dossier_is_not_in_is_refused() -> None:
    app = app_with(bilan=None)
    app.start_trajectory(
        StartTrajectory(
            context(), CASE, "facilitator", dt.date(2026, 11, 2), "start", "sw"
        )
    )
    with pytest.raises(DomainError) as refused:
        app.change_phase(
            ChangePhase(
                context(),
                CASE,
                "literacy",
                "employment",
                dt.date(2026, 12, 1),
                "x",
                "sw",
            )
        )
    assert refused.value.rule == "trajectory.wrong_from_phase"
    assert "current phase" in str(refused.value)
    app.change_phase(
        ChangePhase(
            context(),
            CASE,
            "facilitator",
            "employment",
            dt.date(2026, 12, 1),
            "x",
            "sw",
        )
    )
    trajectory = app.get_trajectory(CASE)
    assert trajectory is not None
    assert trajectory.phase == "employment"


def test_a_second_active_trajectory_is_refused() -> None:
    app = app_with(bilan=None)
    start = StartTrajectory(
        context(), CASE, "literacy", dt.date(2026, 11, 2), "s", "sw"
    )
    app.start_trajectory(start)
    with pytest.raises(ConflictError) as refused:
        app.start_trajectory(
            StartTrajectory(
                context(), CASE, "facilitator", dt.date(2026, 11, 3), "s", "sw"
            )
        )
    assert refused.value.rule == "trajectory.already_active"
    app.start_trajectory(start)  # a retry of the first is no conflict


def test_an_exit_ends_the_trajectory_and_a_new_one_may_start() -> None:
    app = app_with(bilan=None)
    app.start_trajectory(
        StartTrajectory(context(), CASE, "literacy", dt.date(2026, 11, 2), "s", "sw")
    )
    app.change_phase(
        ChangePhase(
            context(),
            CASE,
            "literacy",
            "exit_left_cpas",
            dt.date(2026, 12, 1),
            "x",
            "sw",
        )
    )
    app.start_trajectory(
        StartTrajectory(
            context(), CASE, "facilitator", dt.date(2027, 1, 4), "back", "sw"
        )
    )
    trajectory = app.get_trajectory(CASE)
    assert trajectory is not None
    assert trajectory.phase == "facilitator"


def test_an_amended_piis_then_completed_frees_the_case_for_a_new_one() -> None:
    app = signed_app()
    app.amend_piis(
        AmendPiis(
            context(),
            CASE,
            dt.date(2027, 1, 10),
            ("find a job in logistics", "forklift licence"),
            dt.date(2028, 1, 31),
            (dt.date(2027, 4, 1),),
            "licence added",
        )
    )
    app.end_piis(EndPiis(context(), CASE, dt.date(2027, 9, 30), "completed", "hired"))
    file = app.get_file(CASE)
    assert file is not None
    assert file.active is None
    propose(app)  # a new PIIS may now be proposed


def test_an_amendment_without_an_active_piis_is_refused() -> None:
    app = app_with(bilan=None)
    with pytest.raises(DomainError) as refused:
        app.end_piis(EndPiis(context(), CASE, dt.date(2027, 9, 30), "terminated", "x"))
    assert refused.value.rule == "piis.none_active"


def test_a_waiver_without_its_reason_is_refused() -> None:
    app = app_with(bilan=dt.date(2026, 10, 20))
    piis_id = propose(app)
    with pytest.raises(DomainError) as refused:
        app.sign_piis(
            SignPiis(context(), CASE, piis_id, PROPOSED, reflection_waived=True)
        )
    assert refused.value.rule == "piis.waiver_without_reason"


def test_refused_signatures_and_sanctions_store_nothing() -> None:
    app = app_with(bilan=None)
    piis_id = propose(app)
    with pytest.raises(DomainError):
        sign(app, piis_id, dt.date(2026, 11, 9))
    file = app.get_file(CASE)
    assert file is not None
    assert file.version == 1
    app = signed_app()
    app.serve_notice(ServeNotice(context(), CASE, dt.date(2027, 1, 5), "no show"))
    app.hold_hearing(HoldHearing(context(), CASE, dt.date(2027, 1, 20), attended=True))
    file = app.get_file(CASE)
    assert file is not None
    before = file.version
    with pytest.raises(DomainError):
        app.decide_sanction(
            DecideSanction(context(), CASE, dt.date(2027, 1, 25), months=2)
        )
    file = app.get_file(CASE)
    assert file is not None
    assert file.version == before


def sanction_app(decided_on: dt.date) -> PiisApplication:
    app = signed_app()
    notify(app, decided_on)
    return app


def notify(app: PiisApplication, decided_on: dt.date) -> None:
    app.serve_notice(
        ServeNotice(context(), CASE, decided_on - dt.timedelta(20), "no show")
    )
    app.hold_hearing(
        HoldHearing(context(), CASE, decided_on - dt.timedelta(5), attended=True)
    )


def last_sanction(app: PiisApplication) -> PiisSanctionDecidedV1:
    file = app.get_file(CASE)
    assert file is not None
    decided = list(app.events.get(file.id))[-1]
    assert isinstance(decided, PiisSanctionDecidedV1)
    return decided


def test_art30_par2_partial_sanction_with_a_stay_names_its_share_and_id() -> None:
    # Law of 26 May 2002 art. 30 §2: payment suspended fully or partly; a stay
    # of execution (sursis) may be granted (Constitutional Court 148/2010).
    app = sanction_app(dt.date(2027, 1, 25))
    command = DecideSanction(
        context(),
        CASE,
        dt.date(2027, 1, 25),
        months=1,
        extent="partial",
        partial_percent=30,
        stay_of_execution=True,
    )
    outcome = app.decide_sanction(command)
    decided = last_sanction(app)
    assert (decided.extent, decided.partial_percent, decided.stay_of_execution) == (
        "partial",
        30,
        True,
    )
    file_id = app.file_id(CASE)
    assert decided.sanction_id == uuid.uuid5(
        file_id, f"sanction:{command.context.command_id}"
    )
    assert outcome.result == decided.sanction_id
    assert app.decide_sanction(command).result == decided.sanction_id  # a retry


def test_art30_par2_a_full_sanction_is_the_default() -> None:
    app = sanction_app(dt.date(2027, 1, 25))
    app.decide_sanction(DecideSanction(context(), CASE, dt.date(2027, 1, 25), months=1))
    decided = last_sanction(app)
    assert (decided.extent, decided.partial_percent, decided.stay_of_execution) == (
        "full",
        None,
        False,
    )
    assert decided.sanction_id is not None


@pytest.mark.parametrize(
    ("extent", "percent"), [("partial", None), ("full", 50), ("partial", 100)]
)
def test_art30_par2_a_partial_sanction_needs_its_share_and_only_it(
    extent: Literal["full", "partial"], percent: int | None
) -> None:
    app = sanction_app(dt.date(2027, 1, 25))
    with pytest.raises(DomainError) as refused:
        app.decide_sanction(
            DecideSanction(
                context(),
                CASE,
                dt.date(2027, 1, 25),
                months=1,
                extent=extent,
                partial_percent=percent,
            )
        )
    assert refused.value.rule == "sanction.partial_percent"
    assert "art. 30" in str(refused.value)


def test_art30_par2_repeat_within_one_year_is_counted_in_months_not_365_days() -> None:
    # 29 February 2028 is 365 days after 1 March 2027, yet within the year
    # that ends on 1 March 2028: a repeat, which may last three months.
    app = sanction_app(dt.date(2027, 3, 1))
    app.decide_sanction(DecideSanction(context(), CASE, dt.date(2027, 3, 1), months=1))
    notify(app, dt.date(2028, 2, 29))
    app.decide_sanction(DecideSanction(context(), CASE, dt.date(2028, 2, 29), months=3))
    decided = last_sanction(app)
    assert (decided.repeat, decided.months) == (True, 3)


def test_art30_par2_a_sanction_after_one_year_is_a_first_one_again() -> None:
    app = sanction_app(dt.date(2027, 3, 1))
    app.decide_sanction(DecideSanction(context(), CASE, dt.date(2027, 3, 1), months=1))
    notify(app, dt.date(2028, 3, 2))
    with pytest.raises(DomainError) as refused:
        app.decide_sanction(
            DecideSanction(context(), CASE, dt.date(2028, 3, 2), months=3)
        )
    assert refused.value.rule == "sanction.too_long"


def refusal(error: type[DomainError], act: Callable[[], object]) -> tuple[str, str]:
    """The field and rule of the refusal ``act`` meets."""
    with pytest.raises(error) as refused:
        act()
    return refused.value.field, refused.value.rule


def test_a_piis_ending_on_or_before_its_start_is_refused_law_26_may_2002_art_11() -> (
    None
):
    # Art. 11: a PIIS sets a duration; the hub keeps its end after its start,
    # at the proposal and at every amendment.
    app = signed_app()
    assert refusal(
        DomainError,
        lambda: app.amend_piis(
            AmendPiis(
                context(),
                CASE,
                dt.date(2027, 1, 10),
                ("x",),
                dt.date(2026, 11, 15),
                (),
                "shorter",
            )
        ),
    ) == ("planned_end_date", "piis.end_before_start")
    draft = app_with(bilan=None)
    assert refusal(
        DomainError,
        lambda: draft.propose_piis(proposal(planned_end_date=dt.date(2026, 11, 15))),
    ) == ("planned_end_date", "piis.end_before_start")


def test_only_a_proposed_piis_not_yet_signed_can_be_signed() -> None:
    app = app_with(bilan=dt.date(2026, 10, 20))
    assert refusal(
        DomainError, lambda: sign(app, uuid.uuid4(), dt.date(2026, 11, 9))
    ) == ("piis_id", "piis.not_proposed")
    piis_id = propose(app)
    sign(app, piis_id, dt.date(2026, 11, 9))
    again = SignPiis(context(), CASE, piis_id, signed_on=dt.date(2026, 11, 10))
    assert refusal(DomainError, lambda: app.sign_piis(again)) == (
        "piis_id",
        "piis.not_proposed",
    )


def test_a_piis_signed_before_it_was_proposed_is_refused_even_with_a_waiver() -> None:
    app = app_with(bilan=dt.date(2026, 10, 20))
    piis_id = propose(app)
    assert refusal(
        DomainError,
        lambda: sign(app, piis_id, PROPOSED - dt.timedelta(days=1), waived=True),
    ) == ("signed_on", "piis.signed_before_proposal")


def test_an_action_on_a_piis_dated_before_its_signature_is_refused() -> None:
    app = signed_app()  # signed on 2026-11-09
    early = EvaluatePiis(
        context(), CASE, dt.date(2026, 11, 8), in_person=True, outcome="ok"
    )
    assert refusal(DomainError, lambda: app.evaluate_piis(early)) == (
        "evaluated_on",
        "piis.before_signature",
    )


def test_art11_no_exemption_for_health_or_equity_while_a_piis_is_in_force() -> None:
    # Law of 26 May 2002 art. 11: the dispensation replaces a PIIS; end it first.
    app = signed_app()
    exemption = GrantExemption(context(), CASE, "health", "certified", PROPOSED)
    assert refusal(DomainError, lambda: app.grant_exemption(exemption)) == (
        "case_id",
        "piis.exemption_with_active_piis",
    )


def test_art30_par2_a_hearing_before_its_notice_is_refused() -> None:
    app = signed_app()
    app.serve_notice(ServeNotice(context(), CASE, dt.date(2027, 1, 5), "no show"))
    early = HoldHearing(context(), CASE, dt.date(2027, 1, 4), attended=True)
    assert refusal(DomainError, lambda: app.hold_hearing(early)) == (
        "held_on",
        "sanction.hearing_before_notice",
    )


def change(from_phase: Phase, to_phase: Phase, day: dt.date) -> ChangePhase:
    return ChangePhase(context(), CASE, from_phase, to_phase, day, "x", "sw")


def test_a_trajectory_starts_in_a_phase_not_with_an_exit() -> None:
    app = app_with(bilan=None)
    start = StartTrajectory(
        context(), CASE, "exit_employed", dt.date(2026, 11, 2), "s", "sw"
    )
    assert refusal(DomainError, lambda: app.start_trajectory(start)) == (
        "to_phase",
        "trajectory.starts_with_exit",
    )


def test_a_phase_change_needs_an_active_trajectory() -> None:
    app = app_with(bilan=None)
    moved = change("facilitator", "employment", dt.date(2026, 12, 1))
    assert refusal(DomainError, lambda: app.change_phase(moved)) == (
        "case_id",
        "trajectory.none_active",
    )


def test_a_phase_change_goes_to_another_phase_not_before_the_current_began() -> None:
    app = app_with(bilan=None)
    app.start_trajectory(
        StartTrajectory(
            context(), CASE, "facilitator", dt.date(2026, 11, 2), "start", "sw"
        )
    )
    same = change("facilitator", "facilitator", dt.date(2026, 12, 1))
    assert refusal(DomainError, lambda: app.change_phase(same)) == (
        "to_phase",
        "trajectory.same_phase",
    )
    earlier = change("facilitator", "employment", dt.date(2026, 11, 1))
    assert refusal(DomainError, lambda: app.change_phase(earlier)) == (
        "effective_date",
        "trajectory.before_last_change",
    )
    app.change_phase(change("facilitator", "exit_employed", dt.date(2026, 12, 1)))
    back = StartTrajectory(
        context(), CASE, "employment", dt.date(2026, 11, 30), "back", "sw"
    )
    assert refusal(DomainError, lambda: app.start_trajectory(back)) == (
        "effective_date",
        "trajectory.before_last_change",
    )


def test_a_case_with_no_piis_or_trajectory_yet_answers_404_naming_which() -> None:
    client = TestClient(create_api(app_with(bilan=None), KEYS))
    headers = {"X-API-Key": KEY}
    for path, rule in (("piis", "piis.none"), ("trajectory", "trajectory.none")):
        answer = client.get(f"/cases/{CASE}/{path}", headers=headers)
        assert answer.status_code == 404
        assert answer.json()["detail"][0]["type"] == rule


def test_piis_subsidy_prolongation_motivation_is_recorded_on_the_evaluation() -> None:
    """SPP IS (Primabook): a prolongation of the subsidy needs a written motivation."""
    app = signed_app()
    app.evaluate_piis(
        EvaluatePiis(
            context(),
            CASE,
            dt.date(2026, 11, 20),
            in_person=True,
            outcome="ok",
            subsidy_prolongation_motivation="a second year to finish the training",
        )
    )
    file = app.get_file(CASE)
    assert file is not None
    evaluated = list(app.events.get(file.id))[-1]
    assert isinstance(evaluated, PiisEvaluatedV1)
    assert evaluated.subsidy_prolongation_motivation == (
        "a second year to finish the training"
    )
