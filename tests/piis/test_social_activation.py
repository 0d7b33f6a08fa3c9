"""Social activation: at most twelve months, measured against the bilan's baseline."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest

from contracts.piis import (
    SocialActivationEvaluatedV1,
    SocialActivationEvaluationOverdueV1,
)
from services.common.aggregate import CommandContext
from services.common.errors import DomainError
from services.piis.application import (
    EvaluateSocialActivation,
    PiisApplication,
    StartSocialActivation,
)
from services.piis.domain import CaseFacts
from tests.intake.fakes import IN_MEMORY

CASE = uuid.UUID(int=777)
FACTS = CaseFacts(
    CASE,
    "0212345668",
    "D7",
    first_bilan_on=dt.date(2026, 1, 10),
    baseline_scores={"social": 30, "health": 50},
)
START = dt.date(2026, 2, 1)


def context() -> CommandContext:
    return CommandContext(uuid.uuid4(), dt.datetime(2026, 2, 1, tzinfo=dt.UTC))


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
    assert "I18" in str(refused.value)
    assert app.get_file(CASE) is None  # nothing stored


def test_without_a_bilan_baseline_there_is_nothing_to_measure_against() -> None:
    app = app_for(dataclasses.replace(FACTS, baseline_scores=None))
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
