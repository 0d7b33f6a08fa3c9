"""Group commit: many callers, few appends, each caller its own fate."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from services.common.combiner import WriteCombiner


class FakeStore:
    """Takes a while per append, like a locked transaction; refuses odd items."""

    def __init__(self) -> None:
        self.appends: list[list[int]] = []
        self.lock = threading.Lock()

    def append(self, items: Sequence[int]) -> list[str]:
        time.sleep(0.005)
        with self.lock:
            self.appends.append(list(items))
        return ["refused" if item % 2 else "stored" for item in items]


def run_concurrently(combiner: WriteCombiner[int, Any], items: list[int]) -> list[Any]:
    results: list[Any] = [None] * len(items)

    def call(number: int) -> None:
        try:
            results[number] = combiner.save(items[number])
        except RuntimeError as exc:
            results[number] = exc

    threads = [threading.Thread(target=call, args=(n,)) for n in range(len(items))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_saves_share_appends_and_each_caller_gets_its_own_fate() -> None:
    store = FakeStore()
    items = list(range(64))
    results = run_concurrently(WriteCombiner(store.append), items)
    assert results == ["refused" if i % 2 else "stored" for i in items]
    assert len(store.appends) < len(items) / 2
    assert sorted(i for a in store.appends for i in a) == items


def test_an_append_that_fails_reaches_every_caller_of_its_batch_only() -> None:
    calls = 0

    def flaky(items: Sequence[int]) -> list[str]:
        nonlocal calls
        calls += 1
        time.sleep(0.01)
        if calls == 1:
            raise RuntimeError("database down")
        return ["stored"] * len(items)

    combiner = WriteCombiner(flaky)
    with pytest.raises(RuntimeError, match="database down"):
        combiner.save(1)
    assert run_concurrently(combiner, [2, 3, 4]) == ["stored"] * 3


def test_a_batch_is_never_larger_than_its_bound() -> None:
    store = FakeStore()
    run_concurrently(WriteCombiner(store.append, max_batch=4), list(range(40)))
    assert max(len(a) for a in store.appends) <= 4
