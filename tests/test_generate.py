"""The synthetic history: deterministic, through the command path, mostly accepted."""

from __future__ import annotations

import datetime as dt

from services.generate import GeneratedHub, Generator, HistorySpec
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
