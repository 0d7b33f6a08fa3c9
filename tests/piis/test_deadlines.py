"""The deadline watch: each missed deadline becomes one event, at the right date."""

from __future__ import annotations

import datetime as dt
import uuid

from contracts.piis import Commitments, PiisDeadlineMissedV1
from services.common.aggregate import CommandContext
from services.piis.application import (
    EvaluatePiis,
    GrantExemption,
    PiisApplication,
    ProposePiis,
    SignPiis,
)
from services.piis.domain import CaseFacts
from tests.intake.fakes import IN_MEMORY

CASE = uuid.UUID(int=901)
DECIDED = dt.date(2026, 3, 10)


def context() -> CommandContext:
    return CommandContext(uuid.uuid4(), dt.datetime(2026, 3, 10, tzinfo=dt.UTC))


def setup(
    obligation: str = "compulsory_new_beneficiary",
) -> tuple[PiisApplication, CaseFacts]:
    facts = CaseFacts(
        CASE,
        "0212345668",
        "D1",
        first_bilan_on=dt.date(2026, 2, 1),
        income_decision_date=DECIDED,
        piis_obligation=obligation,
    )
    app = PiisApplication(IN_MEMORY, facts={CASE: facts}.get, id_secret="watch")
    return app, facts


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
    assert (event.kind, event.due_on, event.detected_on) == (
        "piis_not_signed",
        dt.date(2026, 6, 10),
        dt.date(2026, 6, 11),
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


def sign_piis(app: PiisApplication) -> None:
    piis_id = app.propose_piis(
        ProposePiis(
            context=context(),
            case_id=CASE,
            piis_type="general",
            proposed_on=dt.date(2026, 3, 16),
            start_date=dt.date(2026, 4, 1),
            planned_end_date=dt.date(2028, 3, 31),
            objectives=("work",),
            commitments=Commitments(beneficiary=("attend",), cpas=("guide",)),
            evaluation_plan=(),
            caseworker="sw-7",
        )
    ).result
    app.sign_piis(SignPiis(context(), CASE, piis_id, dt.date(2026, 3, 30)))


def test_no_event_when_a_signed_piis_exists() -> None:
    app, facts = setup()
    sign_piis(app)
    assert app.watch_deadlines([facts], dt.date(2026, 7, 1)) == 0


def test_too_few_evaluations_in_the_first_year_are_flagged_for_the_caseworker() -> None:
    app, facts = setup()
    sign_piis(app)
    for day, in_person in ((dt.date(2026, 7, 1), True), (dt.date(2026, 11, 1), False)):
        app.evaluate_piis(EvaluatePiis(context(), CASE, day, in_person, "ok"))
    assert app.watch_deadlines([facts], dt.date(2027, 4, 1)) == 0  # the year ends then
    assert app.watch_deadlines([facts], dt.date(2027, 4, 2)) == 1
    assert app.watch_deadlines([facts], dt.date(2027, 4, 3)) == 0
    [event] = missed(app)
    assert (event.kind, event.caseworker) == ("evaluations_missing", "sw-7")


def test_three_evaluations_two_in_person_meet_the_rule() -> None:
    app, facts = setup()
    sign_piis(app)
    for day, in_person in (
        (dt.date(2026, 7, 1), True),
        (dt.date(2026, 11, 1), False),
        (dt.date(2027, 2, 1), True),
    ):
        app.evaluate_piis(EvaluatePiis(context(), CASE, day, in_person, "ok"))
    assert app.watch_deadlines([facts], dt.date(2027, 4, 2)) == 0
