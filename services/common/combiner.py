"""Group commit: concurrent commands share one event-store transaction.

The library takes an exclusive table lock per append to keep the notification
log gap-free (anchors.md §5), so one transaction per command caps a service near
a thousand commands a second. Here the first caller to find no flush in
progress becomes the leader, appends what every waiting caller handed in, in
one transaction, and wakes them; the lock is paid once per batch, not once per
command (architecture.md §3.2).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from eventsourcing.persistence import IntegrityError

__all__ = ["WriteCombiner"]

R = TypeVar("R")


@dataclass
class _Request(Generic[R]):
    objs: Sequence[Any]
    future: Future[list[R]] = field(default_factory=Future)


class WriteCombiner(Generic[R]):
    """Batches ``save(*objs)`` calls from many threads into few transactions.

    A batch that fails on a conflict (another writer took a version first) is
    retried one request at a time, so only the conflicting command sees the
    ``IntegrityError`` and the others still succeed.
    """

    def __init__(self, save: Callable[..., list[R]], *, max_batch: int = 256) -> None:
        self._save = save
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._pending: list[_Request[R]] = []
        self._leading = False

    def save(self, *objs: Any) -> list[R]:
        """Append the events of ``objs`` (atomically) and return their recordings."""
        request: _Request[R] = _Request(objs)
        with self._lock:
            self._pending.append(request)
            lead = not self._leading
            if lead:
                self._leading = True
        if lead:
            self._lead()
        return request.future.result()

    def _lead(self) -> None:
        while True:
            with self._lock:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                if not batch:
                    self._leading = False
                    return
            self._flush(batch)

    def _flush(self, batch: list[_Request[R]]) -> None:
        if len(batch) > 1 and self._distinct_streams(batch):
            try:
                recordings = self._save(*(obj for r in batch for obj in r.objs))
            except IntegrityError:
                pass  # someone else won a version: retry one by one below
            except Exception as exc:  # noqa: BLE001 - handed to every waiting caller
                for request in batch:
                    request.future.set_exception(exc)
                return
            else:
                self._hand_out(batch, recordings)
                return
        for request in batch:
            try:
                request.future.set_result(self._save(*request.objs))
            except Exception as exc:  # noqa: BLE001 - handed to its caller
                request.future.set_exception(exc)

    @staticmethod
    def _distinct_streams(batch: list[_Request[R]]) -> bool:
        # Two commands on one aggregate in a batch would collide on the same
        # version; saving them one by one lets the second one fail alone.
        ids = [obj.id for r in batch for obj in r.objs]
        return len(ids) == len(set(ids))

    @staticmethod
    def _hand_out(batch: list[_Request[R]], recordings: list[R]) -> None:
        by_stream: dict[Any, list[R]] = {}
        for recording in recordings:
            stream = recording.domain_event.originator_id  # type: ignore[attr-defined]
            by_stream.setdefault(stream, []).append(recording)
        for request in batch:
            mine = [rec for obj in request.objs for rec in by_stream.get(obj.id, [])]
            request.future.set_result(mine)
