"""Group commit: many callers, few transactions, and a conflict fails alone."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from services.common.combiner import WriteCombiner


@dataclass(frozen=True)
class Obj:
    id: uuid.UUID


@dataclass(frozen=True)
class Event:
    originator_id: uuid.UUID


@dataclass(frozen=True)
class Recording:
    domain_event: Event


class FakeStore:
    """Takes a while per transaction, like a locked append; refuses taken ids."""

    def __init__(self) -> None:
        self.transactions: list[list[uuid.UUID]] = []
        self.taken: set[uuid.UUID] = set()
        self.lock = threading.Lock()

    def save(self, *objs: Any) -> list[Recording]:
        time.sleep(0.005)
        with self.lock:
            ids = [o.id for o in objs]
            if self.taken & set(ids):
                raise IntegrityError("version taken")
            self.taken |= set(ids)
            self.transactions.append(ids)
        return [Recording(Event(i)) for i in ids]


def run_concurrently(combiner: WriteCombiner[Any], objs: list[Obj]) -> dict[int, Any]:
    results: dict[int, Any] = {}

    def call(number: int) -> None:
        try:
            results[number] = combiner.save(objs[number])
        except IntegrityError as exc:
            results[number] = exc

    threads = [threading.Thread(target=call, args=(n,)) for n in range(len(objs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_saves_share_transactions_and_each_gets_its_own_recordings() -> None:
    store = FakeStore()
    objs = [Obj(uuid.uuid4()) for _ in range(64)]
    results = run_concurrently(WriteCombiner(store.save), objs)
    assert all(results[n] == [Recording(Event(o.id))] for n, o in enumerate(objs))
    assert len(store.transactions) < len(objs) / 2
    assert sorted(i for t in store.transactions for i in t) == sorted(
        o.id for o in objs
    )


def test_a_conflict_fails_only_its_own_command() -> None:
    store = FakeStore()
    taken = Obj(uuid.uuid4())
    store.taken.add(taken.id)
    others = [Obj(uuid.uuid4()) for _ in range(20)]
    results = run_concurrently(WriteCombiner(store.save), [taken, *others])
    assert isinstance(results[0], IntegrityError)
    assert all(results[n + 1] == [Recording(Event(o.id))] for n, o in enumerate(others))


def test_two_commands_on_one_stream_never_share_a_transaction() -> None:
    store = FakeStore()
    same = uuid.uuid4()
    results = run_concurrently(WriteCombiner(store.save), [Obj(same), Obj(same)])
    outcomes = sorted(type(r).__name__ for r in results.values())
    assert outcomes == ["IntegrityError", "list"]


def test_an_unexpected_error_reaches_every_caller_of_the_batch() -> None:
    def broken(*_: Any) -> list[Any]:
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError, match="database down"):
        WriteCombiner(broken).save(Obj(uuid.uuid4()))
