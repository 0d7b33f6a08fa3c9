"""The annual social-activation report: a test per counting rule, its golden files.

The rules: docs/domain/trajectory-and-activation.md#annual-social-activation-report
(the 2015 social-activation conventions, royal decree of 27 March 2015).
``UPDATE_GOLDEN=1 pytest tests/case_state/test_activation_report.py`` rewrites the
golden files: review the difference before committing it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

from contracts.envelope import ContractEvent
from contracts.piis import SocialActivationEvaluatedV1, SocialActivationStartedV1
from services.case_state.activation import ActivationProgress, ActivationProjection
from services.case_state.activation_report import (
    annual_report,
    as_csv,
    as_json,
    replay,
)
from services.common.http import BRUSSELS
from tests.contracts.samples import KBO
from tests.golden import compare_golden

CPAS = KBO
OTHER_CPAS = "0000000196"
PARTNER = "0207350270"  # a partner organisation (KBO)
OTHER_PARTNER = "0403170701"
GOLDEN = Path(__file__).parent / "golden"


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """A store time in Brussels."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=BRUSSELS)


def case(number: int) -> uuid.UUID:
    return uuid.UUID(int=number)


def activation(number: int) -> uuid.UUID:
    return uuid.UUID(int=10_000 + number)


class Events:
    """Builds social-activation events with the envelope a store would give them."""

    def __init__(self) -> None:
        self.versions: dict[uuid.UUID, int] = {}
        self.log: list[ContractEvent] = []

    def _envelope(
        self, number: int, recorded: dt.datetime | None, cpas: str
    ) -> dict[str, Any]:
        stream = case(number)  # one PIIS file per case
        version = self.versions.get(stream, 0) + 1
        self.versions[stream] = version
        return {
            "event_id": uuid.uuid5(stream, str(version)),
            "occurred_at": recorded or at(dt.date(2025, 1, 1)),
            "recorded_at": recorded,
            "stream_id": stream,
            "stream_version": version,
            "case_id": stream,
            "cpas_kbo": cpas,
            "correlation_id": uuid.UUID(int=7),
        }

    def started(
        self,
        number: int,
        starts_on: dt.date,
        planned_end: dt.date,
        *,
        kind: str = "volunteering",
        piis: bool = True,
        aim: str | None = None,
        cpas: str = CPAS,
        recorded: dt.datetime | None = None,
        trajectory: int | None = None,
    ) -> Events:
        """A start; ``trajectory`` numbers a case's later trajectory."""
        event = SocialActivationStartedV1.model_validate(
            {
                **self._envelope(number, recorded or at(starts_on), cpas),
                "activation_id": activation(trajectory or number),
                "activation_type": kind,
                "starts_on": starts_on,
                "planned_end_date": planned_end,
                "baseline_scores": {"social": 30, "health": 50},
                "piis_id": uuid.UUID(int=20_000 + number) if piis else None,
                "aim": aim,
            }
        )
        self.log.append(event)
        return self

    def evaluated(
        self,
        number: int,
        on: dt.date,
        progress: dict[str, int],
        *,
        final: bool = False,
        achieved: bool | None = None,
        partnerships: tuple[str, ...] = (),
        reason: str | None = None,
        cpas: str = CPAS,
        recorded: dt.datetime | None = None,
        trajectory: int | None = None,
    ) -> Events:
        baseline = {"social": 30, "health": 50}
        event = SocialActivationEvaluatedV1.model_validate(
            {
                **self._envelope(number, recorded or at(on), cpas),
                "activation_id": activation(trajectory or number),
                "evaluated_on": on,
                "scores": {d: baseline[d] + p for d, p in progress.items()},
                "progress": progress,
                "final": final,
                "objective_achieved": achieved,
                "partnerships": partnerships,
                "failure_reason": reason,
            }
        )
        self.log.append(event)
        return self


def report(events: Events, year: int = 2026, **kwargs: Any) -> dict[str, Any]:
    return annual_report(replay(events.log), cpas_kbo=CPAS, year=year, **kwargs)


def line(figures: dict[str, Any], number: int) -> dict[str, Any]:
    return next(
        x for x in figures["lines"] if x["activation_id"] == str(activation(number))
    )


D = dt.date


def test_a_participant_runs_on_at_least_one_day_of_the_year() -> None:
    events = (
        Events()
        .started(1, D(2025, 3, 1), D(2026, 2, 28))  # runs into 2026
        .started(2, D(2026, 12, 31), D(2027, 6, 30))  # its first day in 2026
        .started(3, D(2027, 1, 1), D(2027, 6, 30))  # next year
        .started(4, D(2025, 1, 1), D(2025, 12, 31))  # last year
        .started(5, D(2025, 2, 1), D(2026, 1, 31))  # ended early, in 2025
        .evaluated(5, D(2025, 12, 15), {"social": 5}, final=True)
    )
    figures = report(events)
    assert [x["activation_id"] for x in figures["lines"]] == [
        str(activation(1)),
        str(activation(2)),
    ]
    assert figures["participants"]["all"] == figures["trajectories"]["all"] == 2


def test_a_person_with_two_trajectories_in_the_year_is_one_participant() -> None:
    events = (
        Events()
        .started(1, D(2026, 1, 5), D(2026, 4, 30))
        .evaluated(1, D(2026, 4, 30), {"social": 5}, final=True)
    )
    events.started(1, D(2026, 6, 1), D(2026, 11, 30), trajectory=99)
    figures = report(events)
    assert figures["trajectories"]["all"] == 2
    assert figures["participants"]["all"] == 1


def test_a_late_final_measurement_does_not_lengthen_the_trajectory() -> None:
    # Planned to end on 31 December 2025, measured for the last time in February.
    events = (
        Events()
        .started(1, D(2025, 1, 1), D(2025, 12, 31))
        .evaluated(1, D(2026, 2, 15), {"social": 10}, final=True)
    )
    assert report(events)["participants"]["all"] == 0
    assert report(events)["evaluations_held"] == {"all": 1, "final": 1}
    last_year = report(events, 2025)
    assert line(last_year, 1)["measured"] == "end"
    assert line(last_year, 1)["measured_on"] == "2026-02-15"
    assert line(last_year, 1)["progress"] == "positive"


def test_rd_27_march_2015_only_a_trajectory_naming_its_piis_is_framed_by_a_piis() -> (
    None
):
    events = (
        Events()
        .started(1, D(2026, 2, 1), D(2027, 1, 31), piis=True)
        .started(2, D(2026, 3, 1), D(2027, 2, 28), piis=False)
    )
    figures = report(events)
    assert figures["participants"] == {"all": 2, "framed_by_piis": 1}
    assert figures["trajectories"]["framed_by_piis"] == 1
    assert line(figures, 1)["framed_by_piis"] is True
    assert line(figures, 2)["framed_by_piis"] is False


def test_evaluations_held_are_those_dated_in_the_year() -> None:
    events = (
        Events()
        .started(1, D(2025, 9, 1), D(2026, 8, 31))
        .evaluated(1, D(2025, 12, 1), {"social": 1})  # last year
        .evaluated(1, D(2026, 3, 1), {"social": 2})
        .evaluated(1, D(2026, 6, 1), {"social": 3})
        .evaluated(1, D(2026, 8, 31), {"social": 4}, final=True)
    )
    figures = report(events)
    assert figures["evaluations_held"] == {"all": 3, "final": 1}
    assert line(figures, 1)["evaluations_in_year"] == 3


def test_rd_27_march_2015_progress_is_a_positive_difference_against_the_baseline() -> (
    None
):
    events = Events()
    for number, progress in enumerate(
        ({"social": 10}, {"social": 10, "health": -10}, {"social": -1}), start=1
    ):
        events.started(number, D(2026, 1, 1), D(2026, 6, 30)).evaluated(
            number, D(2026, 6, 30), progress, final=True
        )
    figures = report(events)
    assert [line(figures, n)["progress"] for n in (1, 2, 3)] == [
        "positive",
        "zero",
        "negative",
    ]
    assert [line(figures, n)["difference"] for n in (1, 2, 3)] == [10, 0, -1]
    assert figures["progress"]["all"] == {
        "positive": 1,
        "zero": 1,
        "negative": 1,
        "missing": 0,
    }


def test_a_trajectory_ended_without_its_final_measurement_has_missing_progress() -> (
    None
):
    events = (
        Events()
        .started(1, D(2026, 1, 1), D(2026, 6, 30))
        .evaluated(1, D(2026, 4, 1), {"social": 20})  # quarterly, not final
    )
    figures = report(events)
    assert line(figures, 1)["measured"] == "end"
    assert (line(figures, 1)["progress"], line(figures, 1)["difference"]) == (
        "missing",
        None,
    )
    assert figures["progress"]["all"]["missing"] == 1


def test_rd_27_march_2015_a_trajectory_running_on_31_december_is_measured_then() -> (
    None
):
    events = (
        Events()
        .started(1, D(2026, 6, 1), D(2027, 5, 31))
        .evaluated(1, D(2026, 9, 1), {"social": -5})
        .evaluated(1, D(2026, 12, 1), {"social": 5})
        .evaluated(1, D(2027, 3, 1), {"social": -20})  # after 31 December
        .started(2, D(2026, 12, 1), D(2027, 5, 31))  # no evaluation yet
    )
    figures = report(events)
    first = line(figures, 1)
    assert (first["measured"], first["measured_on"], first["progress"]) == (
        "31_december",
        "2026-12-01",
        "positive",
    )
    assert (line(figures, 2)["measured"], line(figures, 2)["progress"]) == (
        "31_december",
        "missing",
    )
    assert figures["measured"] == {"end": 0, "31_december": 2}


def test_a_trajectory_ended_in_the_year_is_measured_at_the_end() -> None:
    events = (
        Events()
        .started(1, D(2026, 1, 1), D(2026, 12, 31))
        .evaluated(1, D(2026, 4, 1), {"social": 9})
        .evaluated(1, D(2026, 10, 1), {"social": -3}, final=True)  # early end
    )
    first = line(report(events), 1)
    assert (first["ends_on"], first["measured"], first["measured_on"]) == (
        "2026-10-01",
        "end",
        "2026-10-01",
    )
    assert first["progress"] == "negative"


def test_rd_27_march_2015_qualitative_objectives_are_reported_as_recorded() -> None:
    events = (
        Events()
        .started(1, D(2026, 1, 1), D(2026, 6, 30), aim="autonomy")
        .evaluated(
            1,
            D(2026, 6, 30),
            {"social": 4},
            final=True,
            achieved=True,
            partnerships=(PARTNER, OTHER_PARTNER),
        )
        .started(2, D(2026, 1, 1), D(2026, 6, 30), aim="volunteering")
        .evaluated(
            2,
            D(2026, 6, 30),
            {"social": 4},
            final=True,
            achieved=False,
            partnerships=(PARTNER,),
            reason="the workshop closed",
        )
        .started(3, D(2026, 1, 1), D(2026, 6, 30))
        .evaluated(3, D(2026, 6, 30), {"social": 0}, final=True)
    )
    figures = report(events)
    assert figures["qualitative_objectives"] == {
        "measured_at_end": 3,
        "achieved": 1,
        "not_achieved": 1,
        "not_recorded": 1,
        "with_failure_reason": 1,
        "partnerships": {OTHER_PARTNER: 1, PARTNER: 2},
    }
    assert line(figures, 2)["failure_reason"] == "the workshop closed"
    # Achieved as the CPAS judged it, whatever the difference says.
    assert (line(figures, 1)["objective_achieved"], line(figures, 3)["progress"]) == (
        True,
        "zero",
    )
    by_aim = figures["progress_by_aim"]
    assert (by_aim["autonomy"]["positive"], by_aim["not_recorded"]["zero"]) == (1, 1)


def test_known_at_leaves_out_what_was_recorded_later() -> None:
    events = (
        Events()
        .started(1, D(2026, 1, 1), D(2026, 6, 30))
        .evaluated(
            1, D(2026, 6, 30), {"social": 8}, final=True, recorded=at(D(2027, 1, 20))
        )
        .started(2, D(2026, 3, 1), D(2026, 8, 31), recorded=at(D(2027, 1, 25)))
    )
    wall_clock = dt.datetime(2027, 1, 10, 12)  # noqa: DTZ001 - read as Brussels time
    then = report(events, known_at=wall_clock)
    assert then["known_at"] == "2027-01-10T12:00:00+01:00"
    assert then["trajectories"]["all"] == 1
    assert line(then, 1)["progress"] == "missing"
    now = report(events)
    assert now["trajectories"]["all"] == 2
    assert line(now, 1)["progress"] == "positive"


def test_a_trajectory_belongs_to_the_cpas_that_recorded_its_start() -> None:
    events = (
        Events()
        .started(1, D(2026, 1, 1), D(2026, 6, 30))
        .started(2, D(2026, 1, 1), D(2026, 6, 30), cpas=OTHER_CPAS)
        .evaluated(2, D(2026, 3, 1), {"social": 1}, cpas=OTHER_CPAS)
    )
    figures = report(events)
    assert figures["trajectories"]["all"] == 1
    assert figures["evaluations_held"]["all"] == 0


def test_the_read_model_keeps_what_the_replay_folds() -> None:
    events = golden_events()
    projection = ActivationProjection()
    rows: dict[uuid.UUID, ActivationProgress] = {}
    for event in events.log:
        after = projection.fold(rows.get(event.case_id), event)
        if after is not None:
            # As PostgreSQL gives it back: the jsonb columns parsed.
            *columns, progress, trajectories = projection.encode(after)
            record = (*columns, json.loads(progress), json.loads(trajectories))
            rows[event.case_id] = projection.decode(record)
    from_rows = [t for row in rows.values() for t in row.trajectories]
    assert from_rows == replay(events.log)


def golden_events() -> Events:
    """One year of a CPAS: every counting rule meets at least one trajectory."""
    return (
        Events()
        # Framed, running on 31 December: measured by its November evaluation.
        .started(1, D(2026, 2, 1), D(2027, 1, 31), aim="autonomy")
        .evaluated(1, D(2026, 5, 1), {"social": 5, "health": 0})
        .evaluated(1, D(2026, 8, 1), {"social": 10, "health": -5})
        .evaluated(1, D(2026, 11, 1), {"social": 15, "health": 5})
        .evaluated(1, D(2027, 1, 31), {"social": 20, "health": 5}, final=True)
        # Started last year, ended in May with no progress; final keyed in late.
        .started(2, D(2025, 6, 1), D(2026, 5, 31), kind="workshop", aim="volunteering")
        .evaluated(2, D(2025, 9, 1), {"social": 5})
        .evaluated(2, D(2025, 12, 1), {"social": 5})
        .evaluated(2, D(2026, 3, 1), {"social": 0})
        .evaluated(
            2,
            D(2026, 5, 31),
            {"social": 0, "health": 0},
            final=True,
            achieved=False,
            partnerships=(PARTNER,),
            reason="moved to a training course before the end",
            recorded=at(D(2026, 6, 20)),
        )
        # Not framed, ended in August without its final measurement.
        .started(3, D(2026, 3, 1), D(2026, 8, 31), kind="preparation", piis=False)
        .evaluated(3, D(2026, 6, 1), {"social": 10})
        # Ended early with a negative difference, the objective achieved.
        .started(4, D(2026, 1, 15), D(2026, 12, 14), aim="socio_professional")
        .evaluated(
            4,
            D(2026, 10, 14),
            {"social": -5},
            final=True,
            achieved=True,
            partnerships=(PARTNER, OTHER_PARTNER),
        )
        # Started in December: no measure yet on 31 December.
        .started(5, D(2026, 12, 1), D(2027, 5, 31), kind="workshop")
        # Another CPAS's.
        .started(6, D(2026, 1, 1), D(2026, 6, 30), cpas=OTHER_CPAS)
        # Ended last year.
        .started(7, D(2025, 1, 1), D(2025, 11, 30))
        .evaluated(7, D(2025, 11, 30), {"social": 3}, final=True)
        # Planned to end last year, its final measurement in February.
        .started(8, D(2025, 1, 1), D(2025, 12, 31))
        .evaluated(8, D(2026, 2, 15), {"social": 7}, final=True)
    )


def test_the_annual_report_equals_its_golden_file() -> None:
    figures = report(golden_events())
    compare_golden(GOLDEN / "social_activation_2026.json", as_json(figures))
    compare_golden(GOLDEN / "social_activation_2026.csv", as_csv(figures))


def test_the_annual_report_known_in_june_equals_its_golden_file() -> None:
    figures = report(golden_events(), known_at=at(D(2026, 6, 10), 12))
    compare_golden(
        GOLDEN / "social_activation_2026_known_2026-06-10.json", as_json(figures)
    )
