"""Group commit: concurrent commands share one event-store transaction.

The library takes an exclusive table lock per append to keep the notification
log gap-free, so one transaction per command caps a service near a thousand
commands a second. Here the first caller to find no flush in progress becomes
the leader, appends what every waiting caller handed in, in one transaction,
and wakes them; the lock is paid once per batch, not once per command.

The append decides each request's fate on its own (stored, or refused with the
reason), so one caller's conflict never costs the others their append, and no
caller is told "stored" for events that were not stored.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["WriteCombiner"]

Q = TypeVar("Q")  # what a caller hands in
R = TypeVar("R")  # what it gets back


@dataclass
class _Request(Generic[Q, R]):
    item: Q
    future: Future[R] = field(default_factory=Future)


class WriteCombiner(Generic[Q, R]):
    """Batches ``save(item)`` calls from many threads into few appends.

    ``append`` takes the items of a batch and returns one fate per item, in
    order; an exception it raises (the database is gone) reaches every caller
    of the batch, none of whose items was stored.
    """

    def __init__(
        self, append: Callable[[Sequence[Q]], Sequence[R]], *, max_batch: int = 256
    ) -> None:
        self._append = append
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._pending: list[_Request[Q, R]] = []
        self._leading = False

    def save(self, item: Q) -> R:
        """Append one item (with whatever else is waiting) and return its fate."""
        request: _Request[Q, R] = _Request(item)
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

    def _flush(self, batch: list[_Request[Q, R]]) -> None:
        try:
            fates = self._append([request.item for request in batch])
        except BaseException as exc:  # noqa: BLE001 - handed to every waiting caller
            for request in batch:
                request.future.set_exception(exc)
            return
        for request, fate in zip(batch, fates, strict=True):
            request.future.set_result(fate)
