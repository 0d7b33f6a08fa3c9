"""Seed 002's table, reproduced from events made by the public commands."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest

from contracts.piis import Phase
from services.case_state.statistics import (
    ISP_PHASES,
    CaseHistory,
    StatisticsProjection,
    isp_statistics,
)
from services.common.aggregate import CommandContext
from services.demo import make_kbo, make_niss
from services.intake.application import (
    GrantIncomeRight,
    IntakeApplication,
    RegisterBeneficiary,
    WithdrawIncomeRight,
)
from services.intake.parameters import AmountTable, AmountVersion
from services.piis.application import ChangePhase, PiisApplication, StartTrajectory
from services.piis.domain import CaseFacts
from tests.intake.fakes import IN_MEMORY

MOLENBEEK = make_kbo(2123499)
# Seed 002: date, files RIS+ERIS, phases 1-4 and article 60, ISP files, rate.
SEED_002 = (
    (dt.date(2009, 12, 31), 5131, (208, 81, 300, 192, 301), 1082, "21.09"),
    (dt.date(2010, 12, 31), 5640, (1005, 682, 707, 314, 297), 3005, "53.28"),
    (dt.date(2011, 12, 31), 5832, (665, 1087, 1092, 833, 332), 4009, "68.74"),
    (dt.date(2012, 6, 30), 5633, (920, 1034, 1087, 772, 332), 4145, "73.58"),
)
# Test amounts, not the real ones of 2009: the shipped table starts in 2019.
TEST_AMOUNTS = AmountTable(
    [AmountVersion(dt.date(2000, 1, 1), (Decimal(1), Decimal(2), Decimal(3)), "test")]
)


def command() -> CommandContext:
    return CommandContext(uuid.uuid4(), dt.datetime(2012, 1, 1, tzinfo=dt.UTC))


class History:
    """Drives the public commands to build one history across the four dates."""

    def __init__(self) -> None:
        self.intake = IntakeApplication(
            IN_MEMORY, id_secret="stats", amounts=TEST_AMOUNTS, today=dt.date.today
        )
        self.facts: dict[uuid.UUID, CaseFacts] = {}
        self.piis = PiisApplication(IN_MEMORY, facts=self.facts.get, id_secret="stats")
        self.cases: list[uuid.UUID] = []
        self.active: list[bool] = []
        self.phase: list[Phase | None] = []

    def register(self, count: int) -> None:
        while len(self.cases) < count:
            n = len(self.cases)
            birth = dt.date(1960, 1, 1) + dt.timedelta(days=n)
            result = self.intake.register_beneficiary(
                RegisterBeneficiary(
                    context=command(),
                    cpas_kbo=MOLENBEEK,
                    niss=make_niss(birth, 1),
                    birth_date=birth,
                    family_name="Case",
                    given_name=str(n),
                    preferred_language="fr",
                    postal_code="1080",
                    dossier_number=f"M{n}",
                    registered_on=dt.date(2009, 1, 5),
                )
            )
            self.facts[result.case_id] = CaseFacts(result.case_id, MOLENBEEK, f"M{n}")
            self.cases.append(result.case_id)
            self.active.append(False)
            self.phase.append(None)

    def reach(self, effective: dt.date, files: int, phases: tuple[int, ...]) -> None:
        """Move the files so that, from ``effective``, the table's row holds."""
        self.register(files)
        targets: list[Phase | None] = []
        for phase, count in zip(ISP_PHASES, phases, strict=True):
            targets += [phase] * count  # type: ignore[list-item]
        for n, case_id in enumerate(self.cases):
            self._income(n, case_id, effective, active=n < files)
            self._phase(n, case_id, effective, targets[n] if n < len(targets) else None)

    def _income(
        self, n: int, case_id: uuid.UUID, day: dt.date, *, active: bool
    ) -> None:
        if active and not self.active[n]:
            self.intake.grant_income_right(
                GrantIncomeRight(
                    command(), case_id, "RIS", 2, day - dt.timedelta(days=10), day, day
                )
            )
        elif not active and self.active[n]:
            self.intake.withdraw_income_right(
                WithdrawIncomeRight(command(), case_id, day, "left the CPAS")
            )
        self.active[n] = active

    def _phase(
        self, n: int, case_id: uuid.UUID, day: dt.date, target: Phase | None
    ) -> None:
        current = self.phase[n]
        if current == target:
            return
        if current is None:
            self.piis.start_trajectory(
                StartTrajectory(command(), case_id, target, day, "orientation", "sw-1")  # type: ignore[arg-type]
            )
        else:
            self.piis.change_phase(
                ChangePhase(
                    command(),
                    case_id,
                    current,
                    target or "exit_left_cpas",
                    day,
                    "evaluation",
                    "sw-1",
                )
            )
        self.phase[n] = target

    def histories(self) -> list[CaseHistory]:
        """Every event of both services, folded as the projection does."""
        projection = StatisticsProjection()
        rows: dict[uuid.UUID, CaseHistory] = {}
        for app in (self.intake, self.piis):
            start = 1
            while True:
                notifications = app.recorder.select_notifications(start, 1000)
                for notification in notifications:
                    event: Any = app.mapper.to_domain_event(notification)
                    row = projection.fold(rows.get(event.case_id), event)
                    if row is not None:
                        rows[event.case_id] = row
                if len(notifications) < 1000:
                    break
                start = notifications[-1].id + 1
        return list(rows.values())


@pytest.fixture(scope="module")
def history() -> History:
    built = History()
    for day, files, phases, _, _ in SEED_002:
        built.reach(day.replace(day=1), files, phases)
    return built


@pytest.mark.parametrize(("day", "files", "phases", "isp", "rate"), SEED_002)
def test_each_row_of_seed_002_is_reproduced_as_of_its_own_date(
    history: History,
    day: dt.date,
    files: int,
    phases: tuple[int, ...],
    isp: int,
    rate: str,
) -> None:
    stats = isp_statistics(history.histories(), cpas_kbo=MOLENBEEK, as_of=day)
    assert stats.files == files
    assert tuple(stats.per_phase[p] for p in ISP_PHASES) == phases
    assert stats.isp_files == isp
    assert stats.rate == Decimal(rate)


def test_the_rate_is_rounded_half_up_not_truncated() -> None:
    # 1082 / 5131 = 21.0875...: truncation would give 21.08 (the table rounds half up).
    stats = isp_statistics([], cpas_kbo=MOLENBEEK, as_of=dt.date(2009, 12, 31))
    assert stats.rate == 0
    assert (Decimal(108200) / Decimal(5131)).quantize(Decimal("0.01")) == Decimal(
        "21.09"
    )


def test_statistics_of_a_past_date_do_not_move_when_later_events_are_added() -> None:
    built = History()
    first_day, files, phases, _, _ = SEED_002[0]
    built.reach(first_day.replace(day=1), files, phases)
    before = isp_statistics(built.histories(), cpas_kbo=MOLENBEEK, as_of=first_day)
    for day, more_files, more_phases, _, _ in SEED_002[1:]:
        built.reach(day.replace(day=1), more_files, more_phases)
    after = isp_statistics(built.histories(), cpas_kbo=MOLENBEEK, as_of=first_day)
    assert after == before


def test_known_at_ignores_what_was_recorded_later_even_if_it_takes_effect_earlier() -> (
    None
):
    case = uuid.uuid4()
    t1 = dt.datetime(2012, 1, 10, tzinfo=dt.UTC)
    t2 = dt.datetime(2012, 3, 1, tzinfo=dt.UTC)
    history = CaseHistory(
        case,
        MOLENBEEK,
        income=((dt.date(2011, 12, 1), t1, True),),
        # A correction recorded in March that backdates a phase to December.
        phases=((dt.date(2011, 12, 1), t2, "literacy"),),
    )
    as_known = isp_statistics(
        [history], cpas_kbo=MOLENBEEK, as_of=dt.date(2011, 12, 31), known_at=t1
    )
    as_now = isp_statistics([history], cpas_kbo=MOLENBEEK, as_of=dt.date(2011, 12, 31))
    assert (as_known.isp_files, as_now.isp_files) == (0, 1)


def test_article_60_workers_count_in_the_denominator_as_a_setting() -> None:
    worker = CaseHistory(
        uuid.uuid4(),
        MOLENBEEK,
        income=((dt.date(2011, 1, 1), None, True), (dt.date(2011, 6, 1), None, False)),
        phases=((dt.date(2011, 6, 1), None, "article_60"),),
    )
    day = dt.date(2011, 12, 31)
    counted = isp_statistics([worker], cpas_kbo=MOLENBEEK, as_of=day)
    left_out = isp_statistics(
        [worker], cpas_kbo=MOLENBEEK, as_of=day, count_article_60=False
    )
    assert (counted.files, counted.isp_files, counted.rate) == (1, 1, Decimal(100))
    assert (left_out.files, left_out.isp_files) == (0, 0)
