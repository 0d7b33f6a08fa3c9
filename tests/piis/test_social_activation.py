"""Social activation: at most twelve months, measured against the bilan's baseline."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest

from contracts.piis import (
    Commitments,
    SocialActivationEvaluatedV1,
    SocialActivationEvaluationOverdueV1,
)
from services.common.aggregate import CommandContext
from services.common.errors import ConflictError, DomainError
from services.piis.application import (
    EndPiis,
    EvaluateSocialActivation,
    PiisApplication,
    ProposePiis,
    SignPiis,
    StartSocialActivation,
)
from services.piis.domain import Bilan, CaseFacts
from tests.intake.fakes import IN_MEMORY
from tests.piis.intake_events import bilan, learned

CASE = uuid.UUID(int=777)
FACTS = CaseFacts(
    CASE,
    "0212345668",
    "D7",
    bilans=(Bilan(dt.date(2026, 1, 10), {"social": 30, "health": 50}),),
)
START = dt.date(2026, 2, 1)


def context(day: dt.date = dt.date(2026, 2, 1)) -> CommandContext:
    return CommandContext(uuid.uuid4(), dt.datetime.combine(day, dt.time(), dt.UTC))


def app_for(facts: CaseFacts = FACTS) -> PiisApplication:
    return PiisApplication(IN_MEMORY, facts={CASE: facts}.get, id_secret="activation")


def start(app: PiisApplication, end: dt.date) -> uuid.UUID:
    return app.start_social_activation(
        StartSocialActivation(context(), CASE, "volunteering", START, end)
    ).result


def test_a_trajectory_of_twelve_months_is_accepted() -> None:
    app = app_for()
    start(app, dt.date(2027, 1, 31))
    file = app.get_file(CASE)
    assert file is not None
    assert file.activation is not None
    assert file.activation.baseline_scores == {"social": 30, "health": 50}


def test_a_trajectory_longer_than_twelve_months_is_refused() -> None:
    app = app_for()
    with pytest.raises(DomainError) as refused:
        start(app, dt.date(2027, 2, 1))
    assert refused.value.rule == "social_activation.too_long"
    assert "Kortrijk" in str(refused.value)
    assert app.get_file(CASE) is None  # nothing stored


def test_without_a_bilan_baseline_there_is_nothing_to_measure_against() -> None:
    app = app_for(dataclasses.replace(FACTS, bilans=(Bilan(dt.date(2026, 1, 10)),)))
    with pytest.raises(DomainError) as refused:
        start(app, dt.date(2026, 12, 31))
    assert refused.value.rule == "social_activation.no_baseline"


def test_each_evaluation_measures_progress_against_the_baseline() -> None:
    app = app_for()
    start(app, dt.date(2027, 1, 31))
    app.evaluate_social_activation(
        EvaluateSocialActivation(context(), CASE, dt.date(2026, 5, 1), {"social": 45})
    )
    app.evaluate_social_activation(
        EvaluateSocialActivation(
            context(),
            CASE,
            dt.date(2027, 1, 31),
            {"social": 60, "health": 40},
            final=True,
        )
    )
    evaluations = [
        e
        for e in app.events.get(app.file_id(CASE))
        if isinstance(e, SocialActivationEvaluatedV1)
    ]
    assert [e.progress for e in evaluations] == [
        {"social": 15},
        {"social": 30, "health": -10},
    ]
    file = app.get_file(CASE)
    assert file is not None
    assert file.activation is None  # the final measurement ended it


def test_an_evaluation_outside_the_period_is_refused() -> None:
    app = app_for()
    start(app, dt.date(2026, 12, 31))
    with pytest.raises(DomainError) as refused:
        app.evaluate_social_activation(
            EvaluateSocialActivation(
                context(), CASE, dt.date(2027, 1, 5), {"social": 1}
            )
        )
    assert refused.value.rule == "social_activation.outside_period"


def test_an_overdue_quarterly_evaluation_is_flagged_once() -> None:
    app = app_for()
    start(app, dt.date(2027, 1, 31))
    assert app.watch_deadlines([FACTS], dt.date(2026, 5, 1)) == 0  # due that day
    assert app.watch_deadlines([FACTS], dt.date(2026, 5, 2)) == 1
    assert app.watch_deadlines([FACTS], dt.date(2026, 5, 3)) == 0
    app.evaluate_social_activation(
        EvaluateSocialActivation(context(), CASE, dt.date(2026, 5, 3), {"social": 35})
    )
    assert app.watch_deadlines([FACTS], dt.date(2026, 8, 3)) == 0
    assert app.watch_deadlines([FACTS], dt.date(2026, 8, 4)) == 1
    flagged = [
        e
        for e in app.events.get(app.file_id(CASE))
        if isinstance(e, SocialActivationEvaluationOverdueV1)
    ]
    assert [e.due_on for e in flagged] == [dt.date(2026, 5, 1), dt.date(2026, 8, 3)]


def evaluate(app: PiisApplication, day: dt.date, *, final: bool = False) -> None:
    app.evaluate_social_activation(
        EvaluateSocialActivation(context(day), CASE, day, {"social": 40}, final=final)
    )


def test_activation_baseline_is_the_bilan_that_opened_the_trajectory() -> None:
    # Kortrijk's rule: the trajectory starts with a bilan, its zero measure;
    # an older bilan, or one after the start, is not that measure.
    facts = learned(
        CASE,
        bilan(CASE, dt.date(2024, 1, 10), {"social": 10, "health": 20}),
        bilan(CASE, dt.date(2026, 1, 10), {"social": 30, "health": 50}),
        bilan(CASE, dt.date(2026, 1, 20), {}),  # no scores: not a measure
        bilan(CASE, dt.date(2026, 3, 1), {"social": 90}),  # after the start
    )
    app = app_for(facts)
    start(app, dt.date(2027, 1, 31))
    file = app.get_file(CASE)
    assert file is not None
    assert file.activation is not None
    assert file.activation.baseline_scores == {"social": 30, "health": 50}
    evaluate(app, dt.date(2026, 5, 1))
    [measured] = [
        e
        for e in app.events.get(app.file_id(CASE))
        if isinstance(e, SocialActivationEvaluatedV1)
    ]
    assert measured.progress == {"social": 10}


def test_activation_without_a_bilan_before_its_start_has_no_baseline() -> None:
    facts = learned(CASE, bilan(CASE, dt.date(2026, 3, 1), {"social": 90}))
    with pytest.raises(DomainError) as refused:
        start(app_for(facts), dt.date(2027, 1, 31))
    assert refused.value.rule == "social_activation.no_baseline"


def test_activation_closable_after_its_planned_end() -> None:
    # The final measure may come up to one evaluation interval (three months)
    # after the planned end; then the case may start another trajectory.
    app = app_for()
    start(app, dt.date(2026, 12, 31))
    with pytest.raises(DomainError) as refused:
        evaluate(app, dt.date(2027, 1, 15))  # a quarterly one: within the period
    assert refused.value.rule == "social_activation.outside_period"
    with pytest.raises(DomainError) as refused:
        evaluate(app, dt.date(2027, 4, 1), final=True)  # beyond 31 March
    assert refused.value.rule == "social_activation.outside_period"
    evaluate(app, dt.date(2027, 3, 31), final=True)
    file = app.get_file(CASE)
    assert file is not None
    assert file.activation is None
    app.start_social_activation(
        StartSocialActivation(
            context(dt.date(2027, 4, 1)),
            CASE,
            "workshop",
            dt.date(2027, 4, 1),
            dt.date(2028, 3, 31),
        )
    )


def test_activation_not_closed_in_time_lapses_and_another_may_start() -> None:
    app = app_for()
    start(app, dt.date(2026, 12, 31))
    again = StartSocialActivation(
        context(dt.date(2027, 3, 31)),
        CASE,
        "workshop",
        dt.date(2027, 4, 1),
        dt.date(2028, 3, 31),
    )
    with pytest.raises(ConflictError) as refused:
        app.start_social_activation(again)  # its final measure may still come
    assert refused.value.rule == "social_activation.already_active"
    assert "2027-03-31" in str(refused.value)
    app.start_social_activation(
        dataclasses.replace(again, context=context(dt.date(2027, 4, 2)))
    )
    file = app.get_file(CASE)
    assert file is not None
    assert file.activation is not None
    assert file.activation.starts_on == dt.date(2027, 4, 1)


def test_activation_fifth_evaluation_refused() -> None:
    # At most four evaluations, the final one included (Kortrijk's rule): the
    # fourth must be the final measure, and none comes after it.
    app = app_for()
    start(app, dt.date(2027, 1, 31))
    for day in (dt.date(2026, 5, 1), dt.date(2026, 8, 1), dt.date(2026, 11, 1)):
        evaluate(app, day)
    with pytest.raises(DomainError) as refused:
        evaluate(app, dt.date(2027, 1, 15))
    assert refused.value.rule == "social_activation.too_many_evaluations"
    evaluate(app, dt.date(2027, 1, 31), final=True)
    with pytest.raises(DomainError):
        evaluate(app, dt.date(2027, 1, 31), final=True)
    evaluations = [
        e
        for e in app.events.get(app.file_id(CASE))
        if isinstance(e, SocialActivationEvaluatedV1)
    ]
    assert len(evaluations) == 4
    assert evaluations[-1].final


def test_kortrijk_a_trajectory_ends_after_it_starts() -> None:
    app = app_for()
    with pytest.raises(DomainError) as refused:
        start(app, START)
    assert (refused.value.field, refused.value.rule) == (
        "planned_end_date",
        "social_activation.end_before_start",
    )


def test_kortrijk_an_evaluation_needs_a_trajectory() -> None:
    app = app_for()
    with pytest.raises(DomainError) as refused:
        evaluate(app, dt.date(2026, 5, 1))
    assert (refused.value.field, refused.value.rule) == (
        "case_id",
        "social_activation.none_active",
    )


def signed_piis(app: PiisApplication, *, ended: dt.date | None = None) -> uuid.UUID:
    proposed, signed_on = dt.date(2026, 1, 12), dt.date(2026, 1, 26)
    piis_id = app.propose_piis(
        ProposePiis(
            context=context(proposed),
            case_id=CASE,
            piis_type="social_activation_volunteering",
            proposed_on=proposed,
            start_date=signed_on,
            planned_end_date=dt.date(2027, 1, 25),
            objectives=("volunteer at the social grocery",),
            commitments=Commitments(beneficiary=("attend",), cpas=("guide",)),
            evaluation_plan=(),
            caseworker="sw-7",
        )
    ).result
    app.sign_piis(SignPiis(context(signed_on), CASE, piis_id, signed_on))
    if ended is not None:
        app.end_piis(EndPiis(context(ended), CASE, ended, "terminated", "moved"))
    return piis_id


def start_framed(app: PiisApplication, piis_id: uuid.UUID) -> uuid.UUID:
    return app.start_social_activation(
        StartSocialActivation(
            context(),
            CASE,
            "volunteering",
            START,
            dt.date(2027, 1, 31),
            piis_id=piis_id,
            aim="autonomy",
        )
    ).result


def test_rd_27_march_2015_only_a_signed_piis_of_the_case_frames_a_trajectory() -> None:
    app = app_for()
    with pytest.raises(DomainError) as refused:
        start_framed(app, uuid.UUID(int=5))
    assert (refused.value.field, refused.value.rule) == (
        "piis_id",
        "social_activation.piis_not_in_force",
    )
    piis_id = signed_piis(app)
    start_framed(app, piis_id)
    file = app.get_file(CASE)
    assert file is not None
    assert file.activation is not None
    assert (file.activation.piis_id, file.activation.aim) == (piis_id, "autonomy")


def test_rd_27_march_2015_a_piis_ended_before_the_trajectory_does_not_frame_it() -> (
    None
):
    app = app_for()
    piis_id = signed_piis(app, ended=dt.date(2026, 1, 31))
    with pytest.raises(DomainError) as refused:
        start_framed(app, piis_id)
    assert refused.value.rule == "social_activation.piis_not_in_force"


def test_rd_27_march_2015_the_outcome_is_recorded_with_the_final_measurement_only() -> (
    None
):
    app = app_for()
    start(app, dt.date(2027, 1, 31))
    quarterly = EvaluateSocialActivation(
        context(),
        CASE,
        dt.date(2026, 5, 1),
        {"social": 40},
        objective_achieved=True,
        partnerships=("0207350270",),
    )
    with pytest.raises(DomainError) as refused:
        app.evaluate_social_activation(quarterly)
    assert (refused.value.field, refused.value.rule) == (
        "final",
        "social_activation.outcome_only_final",
    )
    app.evaluate_social_activation(
        dataclasses.replace(quarterly, context=context(), final=True)
    )
    stored = [
        e
        for e in app.events.get(app.file_id(CASE))
        if isinstance(e, SocialActivationEvaluatedV1)
    ]
    assert [(e.objective_achieved, e.partnerships) for e in stored] == [
        (True, ("0207350270",))
    ]
