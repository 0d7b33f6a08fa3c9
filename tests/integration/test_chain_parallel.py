"""Chain verification shared by processes: the same verdict as one pass (ADR 0032).

Each stretch is checked by a process of its own in the snapshot the
verification exported; a stretch starts from the stored link of the row the
stretch before it ends with. Stretches are made small here (one row a
process would do) so that a few dozen events make three.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from services.common import chain
from services.common.settings import HubSettings
from tests.integration.test_chain import INTAKE, checkpoint, execute, fill, verdict

pytestmark = pytest.mark.integration

WORKERS = 3


@pytest.fixture(autouse=True)
def small_stretches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chain, "_ROWS_PER_WORKER", 1)


def in_parallel(settings: HubSettings) -> HubSettings:
    return settings.model_copy(update={"verify_workers": WORKERS})


def seeds(settings: HubSettings) -> list[int | None]:
    with psycopg.connect(settings.database_url) as conn:
        return [after for after, _ in chain._stretches(conn, INTAKE, WORKERS)]


def fast_pass(settings: HubSettings) -> chain.StoreVerdict | None:
    """The parallel pass alone, before any detailed walk."""
    with psycopg.connect(settings.database_url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            return chain._verified_in_one_pass(
                conn,
                INTAKE,
                chain.own_public_keys(settings),
                chain._checkpoints(conn, INTAKE, ()),
                progress=None,
                parallel=chain.Parallel(settings.database_url, WORKERS),
            )


def test_a_parallel_verification_gives_the_single_passs_verdict(
    hub_settings: HubSettings,
) -> None:
    fill(hub_settings, 6)
    first = checkpoint(hub_settings)
    stored = fill(hub_settings, 6, first=7)
    last = checkpoint(hub_settings)
    cuts = seeds(hub_settings)
    assert len(cuts) == WORKERS
    assert cuts[0] is None
    assert first < last
    fast = fast_pass(hub_settings)
    assert fast is not None  # the fast pass itself, not the walk after it
    assert (fast.records, fast.verified_up_to) == (len(stored), stored[-1])
    one = verdict(hub_settings)
    shared = verdict(in_parallel(hub_settings))
    assert shared == one
    assert shared.verified
    assert (shared.checkpoints, shared.signed_up_to) == (2, last)


Tamper = Callable[[HubSettings, int], None]


def state_changed(settings: HubSettings, target: int) -> None:
    execute(
        settings,
        (
            (
                "UPDATE intake.intake_events SET state = state || ' '::bytea "
                "WHERE notification_id = %s"
            ),
            (target,),
        ),
    )


def record_deleted(settings: HubSettings, target: int) -> None:
    execute(
        settings,
        ("DELETE FROM intake.intake_events WHERE notification_id = %s", (target,)),
    )


def deleted_with_its_link(settings: HubSettings, target: int) -> None:
    record_deleted(settings, target)
    execute(
        settings,
        (
            "DELETE FROM intake.intake_events_chain WHERE notification_id = %s",
            (target,),
        ),
    )


def link_altered(settings: HubSettings, target: int) -> None:
    execute(
        settings,
        (
            (
                "UPDATE intake.intake_events_chain SET link = sha256(link) "
                "WHERE notification_id = %s"
            ),
            (target,),
        ),
    )


TAMPERS: dict[str, tuple[Tamper, str]] = {
    "state changed": (state_changed, "chain.record_changed"),
    "record deleted": (record_deleted, "chain.record_missing"),
    "deleted with its link": (deleted_with_its_link, "chain.record_missing"),
    "link altered": (link_altered, "chain.link_changed"),
}


def _first_stretch(stored: list[int], cuts: list[Any]) -> int:
    return stored[2]


def _where_a_stretch_starts(stored: list[int], cuts: list[Any]) -> int:
    seed: int = cuts[1]
    return seed


def _right_after_it(stored: list[int], cuts: list[Any]) -> int:
    return next(p for p in stored if p > cuts[1])


def _the_last_stretch(stored: list[int], cuts: list[Any]) -> int:
    return stored[-2]


WHERE: dict[str, Callable[[list[int], list[Any]], int]] = {
    "first stretch": _first_stretch,
    "where a stretch starts": _where_a_stretch_starts,
    "right after it": _right_after_it,
    "last stretch": _the_last_stretch,
}


@pytest.mark.parametrize("where", list(WHERE))
@pytest.mark.parametrize("tamper", list(TAMPERS))
def test_a_change_in_any_stretch_is_named_as_one_pass_names_it(
    hub_settings: HubSettings, where: str, tamper: str
) -> None:
    stored = fill(hub_settings, 10)
    target = WHERE[where](stored, seeds(hub_settings))
    change, problem = TAMPERS[tamper]
    change(hub_settings, target)
    assert fast_pass(hub_settings) is None
    shared = verdict(in_parallel(hub_settings))
    assert shared == verdict(hub_settings)
    assert (shared.verified, shared.broken_at, shared.problem) == (
        False,
        target,
        problem,
    )
