"""The article 60/61 roster, folded from placement events (pure: no database)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from contracts.envelope import ContractEvent
from contracts.placement import (
    Article60CancelledV1,
    Article60EndedV1,
    Article60PlacementAgreedV1,
    Article60PlannedV1,
    Article60RequiredPeriodCalculatedV1,
    Article60SignedV1,
    Article60StartedV1,
    Article61AgreementSignedV1,
    Article61EndedV1,
)
from services.case_state.roster import (
    PlacementHistory,
    RosterProjection,
    end_of_day,
    roster,
)
from services.common.http import BRUSSELS
from services.placement.periods import work_days_between
from tests.contracts.samples import KBO, SAMPLES

CPAS = KBO
OTHER_CPAS = "0000000196"
NAMUR = "0207350270"  # a user organisation
SOCIAL_SHOP = "0000000295"  # another one
BAKERY = "0403170701"  # an article 61 employer
D = dt.date(2026, 9, 15)  # the date whose roster must not move
CASE_A, CASE_B, CASE_C, CASE_D, CASE_E, CASE_F = (
    uuid.UUID(int=n) for n in range(101, 107)
)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """A store time in Brussels."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=BRUSSELS)


class Events:
    """Builds placement events with the envelope a store would give them."""

    def __init__(self) -> None:
        self.versions: dict[uuid.UUID, int] = {}

    def envelope(
        self,
        case: uuid.UUID,
        stream: uuid.UUID,
        recorded: dt.datetime | None,
        cpas: str = CPAS,
    ) -> dict[str, Any]:
        version = self.versions.get(stream, 0) + 1
        self.versions[stream] = version
        return {
            "event_id": uuid.uuid5(stream, str(version)),
            "occurred_at": recorded or at(dt.date(2026, 1, 1)),
            "recorded_at": recorded,
            "stream_id": stream,
            "stream_version": version,
            "case_id": case,
            "cpas_kbo": cpas,
            "correlation_id": uuid.UUID(int=7),
        }

    def planned(
        self,
        case: uuid.UUID,
        contract: uuid.UUID,
        recorded: dt.datetime | None,
        start: dt.date,
        end: dt.date,
        weekly_hours: Decimal | None = None,
    ) -> Article60PlannedV1:
        return Article60PlannedV1(
            **self.envelope(case, contract, recorded),
            contract_id=contract,
            job_title="Kitchen assistant",
            regime="full_time" if weekly_hours is None else "part_time",
            weekly_hours=weekly_hours,
            planned_start_date=start,
            planned_end_date=end,
            region_scheme="WAL",
            default_required_work_days=312,
            default_required_period_end=end,
            required_period_rule="unemployment-reform-2026",
            caseworker="agent-17",
        )

    def calculated(
        self, case: uuid.UUID, contract: uuid.UUID, recorded: dt.datetime, days: int
    ) -> Article60RequiredPeriodCalculatedV1:
        return Article60RequiredPeriodCalculatedV1(
            **self.envelope(case, contract, recorded),
            contract_id=contract,
            calculated_on=recorded.date(),
            required_work_days=days,
            required_period_end=dt.date(2027, 4, 6),
            onem_calculation_ref="CPAS-ONEM-2026-77",
        )

    def signed(
        self,
        case: uuid.UUID,
        contract: uuid.UUID,
        recorded: dt.datetime,
        start: dt.date,
        end: dt.date,
        days: int,
    ) -> Article60SignedV1:
        return Article60SignedV1(
            **self.envelope(case, contract, recorded),
            contract_id=contract,
            signed_on=recorded.date(),
            start_date=start,
            planned_end_date=end,
            required_work_days=days,
            required_period_source="onem",
            subsidised_work_days=days,
        )

    def started(
        self,
        case: uuid.UUID,
        contract: uuid.UUID,
        recorded: dt.datetime | None,
        start: dt.date,
        end: dt.date,
        days: int,
        *,
        user: str | None = None,
        part_time: bool = False,
    ) -> Article60StartedV1:
        return Article60StartedV1(
            **self.envelope(case, contract, recorded),
            contract_id=contract,
            employer_kbo=CPAS,
            user_organisation_kbo=user,
            start_date=start,
            planned_end_date=end,
            required_work_days=days,
            regime="part_time" if part_time else "full_time",
            region_scheme="WAL",
        )

    def placed(
        self,
        case: uuid.UUID,
        contract: uuid.UUID,
        recorded: dt.datetime,
        user: str,
        name: str,
        starts: dt.date,
    ) -> Article60PlacementAgreedV1:
        return Article60PlacementAgreedV1(
            **self.envelope(case, contract, recorded),
            contract_id=contract,
            user_organisation_kbo=user,
            user_organisation_name=name,
            user_organisation_kind="municipality",
            agreement_signed_on=recorded.date(),
            placement_starts_on=starts,
        )

    def ended(
        self,
        case: uuid.UUID,
        contract: uuid.UUID,
        recorded: dt.datetime,
        ended_on: dt.date,
        *,
        early: bool = True,
    ) -> Article60EndedV1:
        return Article60EndedV1(
            **self.envelope(case, contract, recorded),
            contract_id=contract,
            ended_on=ended_on,
            early=early,
            reason="health" if early else "required_days_reached",
            work_days_accrued=100,
            required_work_days=312,
        )

    def cancelled(
        self, case: uuid.UUID, contract: uuid.UUID, recorded: dt.datetime
    ) -> Article60CancelledV1:
        return Article60CancelledV1(
            **self.envelope(case, contract, recorded),
            contract_id=contract,
            cancelled_on=recorded.date(),
            reason="The person moved to another municipality.",
        )

    def art61(
        self,
        case: uuid.UUID,
        agreement: uuid.UUID,
        recorded: dt.datetime,
        start: dt.date,
        end: dt.date,
    ) -> Article61AgreementSignedV1:
        return Article61AgreementSignedV1(
            **self.envelope(case, agreement, recorded),
            agreement_id=agreement,
            employer_kbo=BAKERY,
            employer_name="Boulangerie du Centre SRL",
            job_title="Baker's assistant",
            regime="full_time",
            signed_on=recorded.date(),
            start_date=start,
            planned_end_date=end,
            region_scheme="WAL",
            subsidy_flags=("activa",),
        )

    def art61_ended(
        self,
        case: uuid.UUID,
        agreement: uuid.UUID,
        recorded: dt.datetime,
        ended_on: dt.date,
    ) -> Article61EndedV1:
        return Article61EndedV1(
            **self.envelope(case, agreement, recorded),
            agreement_id=agreement,
            ended_on=ended_on,
            early=True,
            reason="resigned",
            work_days_accrued=50,
        )


def fold(
    events: Iterable[ContractEvent],
    rows: dict[uuid.UUID, PlacementHistory] | None = None,
) -> dict[uuid.UUID, PlacementHistory]:
    """Fold events as the consumer does, into (a copy of) some rows."""
    projection = RosterProjection()
    folded = dict(rows or {})
    for event in events:
        row = projection.fold(folded.get(event.case_id), event)
        if row is not None:
            folded[event.case_id] = row
    return folded


E = Events()
C1, C2, C3, C4, C5, A1, A2, C6 = (uuid.UUID(int=n) for n in range(201, 209))
# What the hub had recorded by the end of D.
UP_TO_D: list[ContractEvent] = [
    # Case A: part-time, placed with Namur from June, ending in 25 days.
    E.planned(
        CASE_A,
        C1,
        at(dt.date(2026, 3, 1)),
        dt.date(2026, 5, 4),
        dt.date(2026, 10, 10),
        Decimal("28.5"),
    ),
    E.calculated(CASE_A, C1, at(dt.date(2026, 4, 10)), 290),
    E.signed(
        CASE_A,
        C1,
        at(dt.date(2026, 4, 20)),
        dt.date(2026, 5, 4),
        dt.date(2026, 10, 10),
        290,
    ),
    E.started(
        CASE_A,
        C1,
        at(dt.date(2026, 5, 4)),
        dt.date(2026, 5, 4),
        dt.date(2026, 10, 10),
        290,
        part_time=True,
    ),
    E.placed(
        CASE_A,
        C1,
        at(dt.date(2026, 5, 20)),
        NAMUR,
        "Commune de Namur",
        dt.date(2026, 6, 1),
    ),
    # Case B: full time, user named at the start, ending in 66 days.
    E.started(
        CASE_B,
        C2,
        at(dt.date(2026, 1, 5)),
        dt.date(2026, 1, 5),
        dt.date(2026, 11, 20),
        312,
        user=SOCIAL_SHOP,
    ),
    # Case C: an article 61 agreement ending in more than 90 days.
    E.art61(
        CASE_C, A1, at(dt.date(2026, 1, 20)), dt.date(2026, 2, 2), dt.date(2027, 2, 1)
    ),
    # Case D: one contract only planned, another signed then cancelled.
    E.planned(
        CASE_D, C3, at(dt.date(2026, 7, 1)), dt.date(2026, 8, 1), dt.date(2027, 8, 1)
    ),
    E.signed(
        CASE_D,
        C4,
        at(dt.date(2026, 7, 2)),
        dt.date(2026, 8, 3),
        dt.date(2027, 8, 3),
        312,
    ),
    E.cancelled(CASE_D, C4, at(dt.date(2026, 7, 20))),
    # Case E: with Namur from the start, ending in 51 days.
    E.started(
        CASE_E,
        C5,
        at(dt.date(2026, 3, 2)),
        dt.date(2026, 3, 2),
        dt.date(2026, 11, 5),
        312,
    ),
    E.placed(
        CASE_E,
        C5,
        at(dt.date(2026, 3, 2), 11),
        NAMUR,
        "Commune de Namur",
        dt.date(2026, 3, 2),
    ),
    # Recorded on D in the evening: still what the hub knew on D.
    E.placed(
        CASE_B,
        C2,
        at(D, 22),
        SOCIAL_SHOP,
        "Épicerie sociale ASBL",
        dt.date(2026, 1, 5),
    ),
]
AFTER_D: list[ContractEvent] = [
    # 00:30 in Brussels on the next day (22:30 UTC on D): too late for D.
    E.ended(
        CASE_E,
        C5,
        dt.datetime.combine(D, dt.time(22, 30), tzinfo=dt.UTC),
        dt.date(2026, 9, 1),
    ),
    # A new agreement, recorded later but backdated to begin before D.
    E.art61(
        CASE_F, A2, at(dt.date(2026, 9, 20)), dt.date(2026, 9, 1), dt.date(2026, 12, 1)
    ),
    # A later contract of case D, and case A's normal end.
    E.started(
        CASE_D,
        C6,
        at(dt.date(2026, 10, 1)),
        dt.date(2026, 10, 1),
        dt.date(2027, 6, 30),
        312,
    ),
    E.ended(CASE_A, C1, at(dt.date(2026, 10, 10)), dt.date(2026, 10, 10), early=False),
]


def roster_of(
    rows: dict[uuid.UUID, PlacementHistory],
    as_of: dt.date = D,
    known_at: dt.datetime | None = None,
) -> Any:
    return roster(rows.values(), cpas_kbo=CPAS, as_of=as_of, known_at=known_at)


def test_the_roster_lists_the_contracts_being_worked_with_their_figures() -> None:
    found = roster_of(fold(UP_TO_D))
    by_case = {e.case_id: e for e in found.entries}
    assert set(by_case) == {CASE_A, CASE_B, CASE_C, CASE_E}
    assert (found.active, found.article_60, found.article_61) == (4, 3, 1)
    assert (
        found.ending_within_30,
        found.ending_within_60,
        found.ending_within_90,
    ) == (1, 2, 3)
    assert found.user_organisations == {NAMUR: 2, SOCIAL_SHOP: 1}

    a = by_case[CASE_A]
    accrued = work_days_between(dt.date(2026, 5, 4), D, Decimal("28.5"))
    assert (a.work_days_accrued, a.required_work_days) == (accrued, 290)
    assert a.days_remaining == 290 - accrued
    assert (a.ending_within, a.past_planned_end) == (30, False)
    assert (a.user_organisation_kbo, a.user_organisation_name) == (
        NAMUR,
        "Commune de Namur",
    )
    b = by_case[CASE_B]
    assert b.work_days_accrued == work_days_between(dt.date(2026, 1, 5), D)
    assert b.days_remaining == 312 - b.work_days_accrued
    assert b.ending_within == 90
    assert (b.user_organisation_kbo, b.user_organisation_name) == (
        SOCIAL_SHOP,
        "Épicerie sociale ASBL",
    )
    c = by_case[CASE_C]
    assert (c.kind, c.days_remaining, c.ending_within) == ("article_61", None, None)
    assert (c.employer_kbo, c.employer_name) == (BAKERY, "Boulangerie du Centre SRL")
    assert c.user_organisation_kbo is None
    assert by_case[CASE_E].ending_within == 60
    # Ordered by the day they end: the most urgent first.
    assert [e.case_id for e in found.entries] == [CASE_A, CASE_E, CASE_B, CASE_C]


def test_planned_and_cancelled_contracts_are_not_on_the_roster() -> None:
    rows = fold(UP_TO_D)
    assert {s.status for _, s in rows[CASE_D].versions} >= {
        "planned",
        "signed",
        "cancelled",
    }
    for day in (dt.date(2026, 8, 1), dt.date(2026, 8, 3), D):
        assert CASE_D not in {e.case_id for e in roster_of(rows, day).entries}


def test_a_contract_is_on_it_from_its_start_to_its_last_day() -> None:
    rows = fold([*UP_TO_D, *AFTER_D])

    def cases(day: dt.date) -> set[uuid.UUID]:
        return {e.case_id for e in roster_of(rows, day).entries}

    assert CASE_A not in cases(dt.date(2026, 5, 3))
    assert CASE_A in cases(dt.date(2026, 5, 4))
    assert CASE_A in cases(dt.date(2026, 10, 10))
    assert CASE_A not in cases(dt.date(2026, 10, 11))
    # Before 1 June case A worked for the CPAS alone: no user organisation yet.
    may = roster_of(rows, dt.date(2026, 5, 20))
    assert {e.case_id: e for e in may.entries}[CASE_A].user_organisation_kbo is None
    assert may.user_organisations == {NAMUR: 1, SOCIAL_SHOP: 1}


def test_a_contract_past_its_planned_end_is_flagged_and_counts_as_ending() -> None:
    rows = fold(UP_TO_D)  # case A's end is not recorded: still started
    day = dt.date(2026, 10, 12)
    late = {e.case_id: e for e in roster_of(rows, day).entries}[CASE_A]
    assert late.past_planned_end
    assert late.ending_within == 30
    accrued = work_days_between(dt.date(2026, 5, 4), day, Decimal("28.5"))
    assert (late.work_days_accrued, late.days_remaining) == (accrued, 290 - accrued)


def test_the_days_remaining_never_go_below_zero() -> None:
    events = Events()
    contract = uuid.UUID(int=900)
    rows = fold(
        [
            events.started(
                CASE_A,
                contract,
                None,
                dt.date(2026, 1, 5),
                dt.date(2026, 12, 31),
                100,
            )
        ]
    )
    [entry] = roster_of(rows, dt.date(2026, 9, 1)).entries
    assert entry.work_days_accrued > 100
    assert entry.days_remaining == 0


def test_the_roster_as_of_a_past_date_equals_what_it_was_on_that_date() -> None:
    on_the_day = fold(UP_TO_D)
    then = roster_of(on_the_day)
    later = fold(AFTER_D, on_the_day)
    assert roster_of(later) == then
    assert roster_of(later).as_dict() == then.as_dict()
    # The end of D in Brussels is the default "known at".
    assert roster_of(later, known_at=end_of_day(D)) == then
    assert then.known_at == end_of_day(D)

    # An auditor who asks what is known now sees the corrections.
    now = at(dt.date(2026, 10, 2))
    corrected = roster_of(later, known_at=now)
    cases = {e.case_id for e in corrected.entries}
    assert CASE_E not in cases  # ended on 1 September, recorded after D
    assert CASE_F in cases  # signed after D, backdated to 1 September
    assert CASE_D not in cases  # its new contract starts after D
    assert corrected.user_organisations == {NAMUR: 1, SOCIAL_SHOP: 1}
    assert (corrected.active, corrected.article_60, corrected.article_61) == (
        4,
        2,
        2,
    )


def test_what_was_recorded_at_midnight_in_brussels_belongs_to_the_next_day() -> None:
    rows = fold([*UP_TO_D, *AFTER_D])
    next_day = {e.case_id for e in roster_of(rows, D + dt.timedelta(days=1)).entries}
    # Case E's end (1 September) was recorded at 00:30 on the 16th in Brussels.
    assert CASE_E not in next_day
    assert CASE_E in {e.case_id for e in roster_of(rows).entries}


def test_a_naive_known_at_is_read_as_brussels_time() -> None:
    rows = fold([*UP_TO_D, *AFTER_D])
    # Case E's end was recorded at 00:30 in Brussels: 00:15 is before it there,
    # after it in UTC.
    naive = dt.datetime.fromisoformat("2026-09-16T00:15")
    found = roster_of(rows, known_at=naive)
    assert found == roster_of(rows, known_at=naive.replace(tzinfo=BRUSSELS))
    assert CASE_E in {e.case_id for e in found.entries}


def test_a_recorded_early_end_after_the_date_shows_as_ending() -> None:
    events = Events()
    contract = uuid.UUID(int=901)
    rows = fold(
        [
            events.started(
                CASE_A,
                contract,
                at(dt.date(2026, 1, 5)),
                dt.date(2026, 1, 5),
                dt.date(2027, 6, 30),
                312,
            ),
            events.ended(
                CASE_A, contract, at(dt.date(2026, 9, 1)), D + dt.timedelta(5)
            ),
        ]
    )
    [entry] = roster_of(rows, D).entries
    assert entry.ended_on == D + dt.timedelta(5)
    assert entry.ending_within == 30
    assert not entry.past_planned_end


def test_an_article_61_agreement_leaves_the_roster_after_its_end() -> None:
    events = Events()
    rows = fold(
        [
            events.art61(
                CASE_C,
                A1,
                at(dt.date(2026, 1, 20)),
                dt.date(2026, 2, 2),
                dt.date(2027, 2, 1),
            ),
            events.art61_ended(
                CASE_C, A1, at(dt.date(2026, 6, 1)), dt.date(2026, 5, 29)
            ),
        ]
    )
    assert roster_of(rows, dt.date(2026, 5, 29)).article_61 == 1
    assert roster_of(rows, dt.date(2026, 6, 1)).active == 0
    # On 30 May the hub did not know yet; an auditor asking later sees the end.
    assert roster_of(rows, dt.date(2026, 5, 30)).active == 1
    later = at(dt.date(2026, 6, 2))
    assert roster_of(rows, dt.date(2026, 5, 30), known_at=later).active == 0


def test_other_cpas_are_left_out() -> None:
    events = Events()
    contract = uuid.UUID(int=902)
    event = events.started(
        CASE_A, contract, None, dt.date(2026, 1, 5), dt.date(2026, 12, 31), 312
    )
    elsewhere = event.model_copy(update={"cpas_kbo": OTHER_CPAS})
    rows = fold([elsewhere])
    assert roster_of(rows).active == 0
    assert roster(rows.values(), cpas_kbo=OTHER_CPAS, as_of=D).active == 1


def test_a_case_is_first_heard_of_through_the_placement_topic() -> None:
    started = next(e for e in SAMPLES if isinstance(e, Article60StartedV1))
    row = RosterProjection().fold(None, started)
    assert row is not None
    assert (row.case_id, row.cpas_kbo) == (started.case_id, started.cpas_kbo)
    assert row.versions[0][1].status == "started"


def test_events_that_are_not_about_a_contract_change_nothing() -> None:
    projection = RosterProjection()
    others = [
        e
        for e in SAMPLES
        if not e.event_type.startswith(
            ("hub.placement.article60", "hub.placement.article61")
        )
        or e.event_type.endswith("period_requested.v1")
    ]
    assert any(e.event_type.startswith("hub.intake") for e in others)
    rows = fold(UP_TO_D)
    for event in others:
        assert projection.fold(None, event) is None
        assert projection.fold(rows[CASE_A], event) is None


def test_every_contract_event_appends_a_snapshot_of_the_whole_contract() -> None:
    rows = fold(e for e in UP_TO_D if e.case_id == CASE_A)
    snapshots = [s for _, s in rows[CASE_A].versions]
    assert [s.status for s in snapshots] == [
        "planned",
        "planned",
        "signed",
        "started",
        "started",
    ]
    assert [s.required_work_days for s in snapshots] == [312, 290, 290, 290, 290]
    last = snapshots[-1]
    assert (last.weekly_hours, last.region_scheme) == (Decimal("28.5"), "WAL")
    assert (last.user_organisation_kbo, last.placement_starts_on) == (
        NAMUR,
        dt.date(2026, 6, 1),
    )
    assert [r for r, _ in rows[CASE_A].versions] == [
        e.recorded_at for e in UP_TO_D if e.case_id == CASE_A
    ]


def test_the_sample_events_fold_in_any_case() -> None:
    placement = [e for e in SAMPLES if e.event_type.startswith("hub.placement")]
    rows = fold(placement)
    [history] = rows.values()
    kinds = {s.kind for _, s in history.versions}
    assert kinds == {"article_60", "article_61"}


def test_events_without_a_store_time_are_known_since_ever() -> None:
    events = Events()
    contract = uuid.UUID(int=903)
    rows = fold(
        [
            events.started(
                CASE_A, contract, None, dt.date(2026, 1, 5), dt.date(2026, 12, 31), 312
            )
        ]
    )
    long_before = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    assert roster_of(rows, known_at=long_before).active == 1


def test_histories_survive_encode_and_decode() -> None:
    projection = RosterProjection()
    for history in fold([*UP_TO_D, *AFTER_D]).values():
        record = projection.encode(history)
        assert len(record) == len(projection.columns)
        # The JSON columns come back from jsonb as parsed JSON.
        stored = (record[0], record[1], json.loads(record[2]))
        assert projection.decode(stored) == history


def test_the_roster_is_json_ready() -> None:
    found = roster_of(fold(UP_TO_D)).as_dict()
    text = json.dumps(found)
    assert found["as_of"] == "2026-09-15"
    assert found["user_organisations"] == {NAMUR: 2, SOCIAL_SHOP: 1}
    entry = found["entries"][0]
    assert entry["case_id"] == str(CASE_A)
    assert entry["start_date"] == "2026-05-04"
    assert "ending_within" in entry
    assert "health" not in text


def test_the_snapshot_holds_no_personal_data() -> None:
    from services.case_state.roster import ContractSnapshot

    personal = {"niss", "family_name", "given_name", "birth_date", "name"}
    assert not {f.name for f in dataclasses.fields(ContractSnapshot)} & personal
