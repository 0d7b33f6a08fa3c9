"""The deadline watch: each missed deadline becomes one event, at the right date."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from contracts.piis import Commitments, PiisDeadlineMissedV1
from services.common.aggregate import CommandContext
from services.common.errors import DomainError
from services.piis.application import (
    EndPiis,
    EvaluatePiis,
    GrantExemption,
    PiisApplication,
    ProposePiis,
    SignPiis,
)
from services.piis.domain import CaseFacts
from tests.intake.fakes import IN_MEMORY
from tests.piis.intake_events import bilan, grant, learned, withdrawal

CASE = uuid.UUID(int=901)
DECIDED = dt.date(2026, 3, 10)
RIGHT = uuid.UUID(int=902)


def context(day: dt.date = DECIDED) -> CommandContext:
    return CommandContext(uuid.uuid4(), dt.datetime.combine(day, dt.time(), dt.UTC))


def setup(
    obligation: str = "compulsory_new_beneficiary",
) -> tuple[PiisApplication, CaseFacts]:
    facts = learned(
        CASE,
        bilan(CASE, dt.date(2026, 2, 1), {}),
        grant(CASE, RIGHT, DECIDED, obligation),
    )
    return app_for(facts), facts


def app_for(facts: CaseFacts) -> PiisApplication:
    return PiisApplication(IN_MEMORY, facts={CASE: facts}.get, id_secret="watch")


def missed(app: PiisApplication) -> list[PiisDeadlineMissedV1]:
    return [
        e
        for e in app.events.get(app.file_id(CASE))
        if isinstance(e, PiisDeadlineMissedV1)
    ]


def test_an_unsigned_compulsory_piis_is_flagged_once_the_day_after_three_months() -> (
    None
):
    app, facts = setup()
    assert app.watch_deadlines([facts], dt.date(2026, 6, 10)) == 0  # due that day
    assert app.watch_deadlines([facts], dt.date(2026, 6, 11)) == 1
    assert app.watch_deadlines([facts], dt.date(2026, 6, 12)) == 0  # once only
    assert app.watch_deadlines([facts], dt.date(2026, 9, 1)) == 0
    [event] = missed(app)
    assert (event.kind, event.due_on, event.detected_on, event.right_id) == (
        "piis_not_signed",
        dt.date(2026, 6, 10),
        dt.date(2026, 6, 11),
        RIGHT,
    )


def test_no_event_when_an_exemption_exists() -> None:
    app, facts = setup()
    app.grant_exemption(
        GrantExemption(
            context(), CASE, "health", "certified long-term illness", DECIDED
        )
    )
    assert app.watch_deadlines([facts], dt.date(2026, 7, 1)) == 0


def test_no_event_when_the_piis_is_optional() -> None:
    app, facts = setup("optional")
    assert app.watch_deadlines([facts], dt.date(2026, 7, 1)) == 0


def sign_piis(
    app: PiisApplication,
    proposed: dt.date = dt.date(2026, 3, 16),
    signed: dt.date = dt.date(2026, 3, 30),
    start: dt.date = dt.date(2026, 4, 1),
) -> uuid.UUID:
    piis_id = app.propose_piis(
        ProposePiis(
            context=context(proposed),
            case_id=CASE,
            piis_type="general",
            proposed_on=proposed,
            start_date=start,
            planned_end_date=start + dt.timedelta(days=729),
            objectives=("work",),
            commitments=Commitments(beneficiary=("attend",), cpas=("guide",)),
            evaluation_plan=(),
            caseworker="sw-7",
        )
    ).result
    app.sign_piis(SignPiis(context(signed), CASE, piis_id, signed))
    return piis_id


def evaluate(app: PiisApplication, *held: tuple[dt.date, bool]) -> None:
    for day, in_person in held:
        app.evaluate_piis(EvaluatePiis(context(day), CASE, day, in_person, "ok"))


def end_piis(app: PiisApplication, day: dt.date) -> None:
    app.end_piis(EndPiis(context(day), CASE, day, "terminated", "moved away"))


def test_no_event_when_a_signed_piis_exists() -> None:
    app, facts = setup()
    sign_piis(app)
    assert app.watch_deadlines([facts], dt.date(2026, 7, 1)) == 0


def test_art11_compulsory_grant_in_2026_after_a_piis_of_2020_is_flagged_at_three_months() -> (  # noqa: E501
    None
):
    # Law of 26 May 2002 art. 11 (as amended 21 July 2016): each grant that
    # makes a PIIS compulsory is watched, not only the case's first one.
    old, new = uuid.UUID(int=1), uuid.UUID(int=2)
    facts = learned(
        CASE,
        bilan(CASE, dt.date(2020, 1, 5), {}),
        grant(CASE, old, dt.date(2020, 1, 10)),
        withdrawal(CASE, old, dt.date(2021, 3, 1)),
        grant(CASE, new, DECIDED),
    )
    app = app_for(facts)
    sign_piis(app, dt.date(2020, 1, 20), dt.date(2020, 2, 3), dt.date(2020, 2, 10))
    evaluate(
        app,
        (dt.date(2020, 5, 4), True),
        (dt.date(2020, 9, 7), True),
        (dt.date(2021, 1, 11), False),
    )
    end_piis(app, dt.date(2021, 2, 9))
    assert app.watch_deadlines([facts], dt.date(2026, 6, 10)) == 0
    assert app.watch_deadlines([facts], dt.date(2026, 6, 11)) == 1
    [event] = missed(app)
    assert (event.kind, event.due_on, event.right_id) == (
        "piis_not_signed",
        dt.date(2026, 6, 10),
        new,
    )


def test_art11_withdrawn_grant_is_not_flagged() -> None:
    # A right withdrawn before the PIIS was due owes none (law of 26 May 2002
    # art. 11: the PIIS follows the grant of the income).
    facts = learned(
        CASE,
        grant(CASE, RIGHT, DECIDED),
        withdrawal(CASE, RIGHT, dt.date(2026, 5, 1)),
    )
    app = app_for(facts)
    assert app.watch_deadlines([facts], dt.date(2026, 6, 11)) == 0
    assert app.watch_deadlines([facts], dt.date(2027, 1, 1)) == 0
    assert missed(app) == []


def test_art11_a_withdrawal_after_the_due_date_does_not_excuse_it() -> None:
    facts = learned(
        CASE,
        grant(CASE, RIGHT, DECIDED),
        withdrawal(CASE, RIGHT, dt.date(2026, 7, 1)),
    )
    assert app_for(facts).watch_deadlines([facts], dt.date(2026, 8, 1)) == 1


def test_art11_a_piis_signed_after_three_months_is_flagged_once_as_late() -> None:
    app, facts = setup()
    assert app.watch_deadlines([facts], dt.date(2026, 6, 11)) == 1  # not signed
    piis_id = sign_piis(app, dt.date(2026, 6, 15), dt.date(2026, 6, 22))
    assert app.watch_deadlines([facts], dt.date(2026, 6, 23)) == 1  # signed late
    assert app.watch_deadlines([facts], dt.date(2026, 6, 24)) == 0
    not_signed, late = missed(app)
    assert not_signed.signed_on is None
    assert (late.kind, late.due_on, late.signed_on, late.piis_id, late.right_id) == (
        "piis_not_signed",
        dt.date(2026, 6, 10),
        dt.date(2026, 6, 22),
        piis_id,
        RIGHT,
    )
    assert late.caseworker == "sw-7"


def test_art11_an_exemption_answers_only_the_grant_it_was_decided_for() -> None:
    # The dispense (health or equity, law of 26 May 2002 art. 11) of 2020 is
    # not one for a grant of 2026.
    old = uuid.UUID(int=1)
    facts = learned(
        CASE,
        grant(CASE, old, dt.date(2020, 1, 10)),
        withdrawal(CASE, old, dt.date(2021, 3, 1)),
        grant(CASE, RIGHT, DECIDED),
    )
    app = app_for(facts)
    exemption = GrantExemption(
        context(dt.date(2020, 2, 1)),
        CASE,
        "health",
        "long illness",
        dt.date(2020, 2, 1),
    )
    app.grant_exemption(exemption)
    assert app.watch_deadlines([facts], dt.date(2026, 6, 11)) == 1
    [event] = missed(app)
    assert event.right_id == RIGHT

    app = app_for(facts)
    app.grant_exemption(exemption)
    app.grant_exemption(
        GrantExemption(context(), CASE, "equity", "carer of a parent", DECIDED)
    )
    assert app.watch_deadlines([facts], dt.date(2026, 6, 11)) == 0


def test_too_few_evaluations_in_the_first_year_are_flagged_for_the_caseworker() -> None:
    app, facts = setup()
    sign_piis(app)
    evaluate(app, (dt.date(2026, 7, 1), True), (dt.date(2026, 11, 1), False))
    assert app.watch_deadlines([facts], dt.date(2027, 4, 1)) == 0  # the year ends then
    assert app.watch_deadlines([facts], dt.date(2027, 4, 2)) == 1
    assert app.watch_deadlines([facts], dt.date(2027, 4, 3)) == 0
    [event] = missed(app)
    assert (event.kind, event.caseworker) == ("evaluations_missing", "sw-7")
    assert (event.window_start, event.due_on) == (
        dt.date(2026, 4, 1),
        dt.date(2027, 4, 1),
    )


def test_three_evaluations_two_in_person_meet_the_rule() -> None:
    app, facts = setup()
    sign_piis(app)
    evaluate(
        app,
        (dt.date(2026, 7, 1), True),
        (dt.date(2026, 11, 1), False),
        (dt.date(2027, 2, 1), True),
    )
    assert app.watch_deadlines([facts], dt.date(2027, 4, 2)) == 0


def test_royal_decree_art11_evaluations_are_counted_over_rolling_twelve_months() -> (
    None
):
    # Three in the first quarter of the first year and three in the last
    # quarter of the second meet fixed anniversary windows, but the twelve
    # months from the day after the first evaluation hold only two (royal
    # decree of 11 July 2002 art. 11: three a year, two in person).
    app, facts = setup()
    sign_piis(app)
    evaluate(
        app,
        (dt.date(2026, 4, 15), True),
        (dt.date(2026, 5, 15), True),
        (dt.date(2026, 6, 15), False),
        (dt.date(2028, 1, 15), True),
        (dt.date(2028, 2, 15), True),
        (dt.date(2028, 3, 15), False),
    )
    assert app.watch_deadlines([facts], dt.date(2028, 4, 2)) == 1
    [event] = missed(app)
    assert (event.kind, event.window_start, event.due_on) == (
        "evaluations_missing",
        dt.date(2026, 4, 16),
        dt.date(2027, 4, 16),
    )


def test_royal_decree_art11_evaluations_at_a_steady_pace_meet_every_window() -> None:
    app, facts = setup()
    sign_piis(app)
    days = [dt.date(2026 + (m // 12), m % 12 + 1, 10) for m in range(3, 28, 4)]
    evaluate(app, *((day, n % 3 != 2) for n, day in enumerate(days)))
    assert app.watch_deadlines([facts], dt.date(2028, 4, 2)) == 0


def test_royal_decree_art11_piis_ended_after_fourteen_months_is_judged_on_the_windows_it_lived() -> (  # noqa: E501
    None
):
    app, facts = setup()
    sign_piis(app)
    evaluate(app, (dt.date(2026, 7, 1), True), (dt.date(2026, 11, 1), False))
    end_piis(app, dt.date(2027, 5, 31))
    assert app.watch_deadlines([facts], dt.date(2027, 6, 1)) == 1
    assert app.watch_deadlines([facts], dt.date(2028, 6, 1)) == 0  # nothing after
    [event] = missed(app)
    assert (event.window_start, event.due_on) == (
        dt.date(2026, 4, 1),
        dt.date(2027, 4, 1),
    )


def test_royal_decree_art11_piis_ended_before_its_first_year_is_judged_pro_rata() -> (
    None
):
    # Eight whole months lived owe two evaluations, one in person (three and
    # two a year, for every whole four and six months lived).
    app, facts = setup()
    sign_piis(app)
    evaluate(app, (dt.date(2026, 7, 1), True))
    end_piis(app, dt.date(2026, 11, 30))
    assert app.watch_deadlines([facts], dt.date(2026, 11, 30)) == 0  # its last day
    assert app.watch_deadlines([facts], dt.date(2026, 12, 1)) == 1
    [event] = missed(app)
    assert (event.kind, event.window_start, event.due_on) == (
        "evaluations_missing",
        dt.date(2026, 4, 1),
        dt.date(2026, 11, 30),
    )

    app, facts = setup()
    sign_piis(app)
    evaluate(app, (dt.date(2026, 7, 1), True), (dt.date(2026, 10, 1), False))
    end_piis(app, dt.date(2026, 11, 30))
    assert app.watch_deadlines([facts], dt.date(2026, 12, 1)) == 0


def test_royal_decree_art11_a_piis_of_five_weeks_owes_no_evaluation() -> None:
    app, facts = setup()
    sign_piis(app)
    end_piis(app, dt.date(2026, 5, 5))
    assert app.watch_deadlines([facts], dt.date(2026, 12, 1)) == 0


def test_royal_decree_art11_evaluation_in_the_future_is_refused() -> None:
    # Only evaluations held count towards the three a year (royal decree of
    # 11 July 2002 art. 11): one dated after the command's today is refused.
    app, _ = setup()
    sign_piis(app)
    with pytest.raises(DomainError) as refused:
        app.evaluate_piis(
            EvaluatePiis(
                context(dt.date(2026, 12, 1)),
                CASE,
                dt.date(2026, 12, 2),
                in_person=True,
                outcome="ok",
            )
        )
    assert refused.value.rule == "piis.evaluation_in_future"
    assert "royal decree of 11 July 2002 art. 11" in str(refused.value)
    # Over HTTP the business time is the evaluation's own date: the day the
    # command was given (``given_on``, from the clock at the edge) decides.
    ahead = dt.date(2026, 12, 5)
    given = CommandContext(
        uuid.uuid4(),
        dt.datetime.combine(ahead, dt.time(), dt.UTC),
        given_on=dt.date(2026, 12, 1),
    )
    with pytest.raises(DomainError) as refused:
        app.evaluate_piis(
            EvaluatePiis(given, CASE, ahead, in_person=True, outcome="ok")
        )
    assert refused.value.rule == "piis.evaluation_in_future"
