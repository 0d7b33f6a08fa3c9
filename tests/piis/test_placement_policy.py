"""The trajectory follows article 60 contracts, exactly once per placement event."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from contracts.piis import PhaseChangedV1
from contracts.placement import Article60EndedV1, Article60StartedV1
from services.common.aggregate import CommandContext
from services.common.application import Outcome
from services.common.consumer import NotYetError
from services.piis.application import PiisApplication, StartTrajectory
from services.piis.domain import CaseFacts
from services.piis.placement_policy import TrajectoryPolicy
from tests.intake.fakes import IN_MEMORY

CASE = uuid.UUID(int=701)
CPAS = "0212345668"
CONTRACT = uuid.UUID(int=702)
STREAM = uuid.UUID(int=703)


def piis() -> PiisApplication:
    facts = {CASE: CaseFacts(CASE, CPAS, dossier_number="D-701")}
    return PiisApplication(IN_MEMORY, facts=facts.get, id_secret="policy-tests")


def envelope(version: int) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid5(STREAM, str(version)),
        "occurred_at": dt.datetime(2026, 5, 4, 8, tzinfo=dt.UTC),
        "stream_id": STREAM,
        "stream_version": version,
        "case_id": CASE,
        "cpas_kbo": CPAS,
        "correlation_id": uuid.UUID(int=9),
    }


STARTED = Article60StartedV1(
    **envelope(5),
    contract_id=CONTRACT,
    employer_kbo=CPAS,
    start_date=dt.date(2026, 5, 4),
    planned_end_date=dt.date(2027, 5, 1),
    required_work_days=312,
    regime="full_time",
    region_scheme="WAL",
)


def ended(reason: Any) -> Article60EndedV1:
    return Article60EndedV1(
        **envelope(6),
        contract_id=CONTRACT,
        ended_on=dt.date(2027, 5, 1),
        early=reason != "required_days_reached",
        reason=reason,
        work_days_accrued=312,
        required_work_days=312,
    )


def phase_changes(app: PiisApplication) -> list[PhaseChangedV1]:
    stream = app.trajectory_file_id(CASE)
    return [e for e in app.events.get(stream) if isinstance(e, PhaseChangedV1)]


def in_phase(app: PiisApplication, phase: Any) -> None:
    app.start_trajectory(
        StartTrajectory(
            CommandContext(uuid.uuid4(), dt.datetime(2026, 1, 5, tzinfo=dt.UTC)),
            CASE,
            phase,
            dt.date(2026, 1, 5),
            "orientation after the bilan",
            "agent-3",
        )
    )


def test_article60_started_moves_the_phase_once_even_when_delivered_twice() -> None:
    app = piis()
    in_phase(app, "employment")
    policy = TrajectoryPolicy(app)
    first = policy.fold(None, STARTED)
    second = policy.fold(first, STARTED)
    changes = phase_changes(app)
    assert [(c.from_phase, c.to_phase) for c in changes] == [
        (None, "employment"),
        ("employment", "article_60"),
    ]
    moved = changes[-1]
    assert moved.effective_date == dt.date(2026, 5, 4)
    assert moved.causation_id == STARTED.event_id
    assert moved.decided_by == "policy:placement"
    assert first is not None
    assert first.action == "moved from employment to article_60"
    assert second is not None
    assert second.action == "already handled"


def test_without_a_trajectory_the_start_opens_one_in_article_60() -> None:
    app = piis()
    TrajectoryPolicy(app).fold(None, STARTED)
    assert [c.to_phase for c in phase_changes(app)] == ["article_60"]


@pytest.mark.parametrize(
    ("reason", "after"),
    [
        ("required_days_reached", "employment"),
        ("hired_elsewhere", "exit_employed"),
        ("moved_away", "exit_left_cpas"),
        ("dismissed", "employment"),
    ],
)
def test_the_end_moves_the_dossier_on(reason: str, after: str) -> None:
    app = piis()
    policy = TrajectoryPolicy(app)
    policy.fold(None, STARTED)
    policy.fold(None, ended(reason))
    policy.fold(None, ended(reason))
    changes = phase_changes(app)
    assert [c.to_phase for c in changes] == ["article_60", after]
    assert changes[-1].effective_date == dt.date(2027, 5, 2)


def test_an_end_leaves_a_dossier_a_caseworker_already_moved_alone() -> None:
    app = piis()
    in_phase(app, "studies_training")
    row = TrajectoryPolicy(app).fold(None, ended("resigned"))
    assert [c.to_phase for c in phase_changes(app)] == ["studies_training"]
    assert row is not None
    assert row.action.startswith("left alone")


def test_an_unknown_case_waits_instead_of_being_parked() -> None:
    app = PiisApplication(
        IN_MEMORY, facts=dict[uuid.UUID, CaseFacts]().get, id_secret="policy-tests"
    )
    with pytest.raises(NotYetError):
        TrajectoryPolicy(app).fold(None, STARTED)


def test_a_phase_moved_under_the_policy_makes_it_decide_again() -> None:
    app = piis()
    in_phase(app, "employment")
    real_change = app.change_phase

    def caseworker_first(cmd: Any) -> Outcome[None]:
        # A caseworker's change lands between the policy's read and its write.
        app.change_phase = real_change  # type: ignore[method-assign]
        real_change(
            cmd.__class__(
                CommandContext(uuid.uuid4(), dt.datetime(2026, 5, 4, tzinfo=dt.UTC)),
                CASE,
                "employment",
                "literacy",
                dt.date(2026, 5, 4),
                "literacy first",
                "agent-3",
            )
        )
        return real_change(cmd)

    app.change_phase = caseworker_first  # type: ignore[method-assign]
    policy = TrajectoryPolicy(app)
    with pytest.raises(NotYetError):
        policy.fold(None, STARTED)
    policy.fold(None, STARTED)  # the batch delivered again
    assert [c.to_phase for c in phase_changes(app)] == [
        "employment",
        "literacy",
        "article_60",
    ]
