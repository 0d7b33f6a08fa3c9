"""Logging of the hub's processes: one line per repeated failure, not a flood.

A client library retrying a lost connection (aiokafka logs every attempt, ten
a second) would fill the logs an operator reads at 3 a.m.; the same message
from the same logger is let through once per interval, with a count of what
was held back.
"""

from __future__ import annotations

import logging
import time

__all__ = ["RepeatFilter", "configure_logging"]


_REMEMBERED = 10_000  # distinct messages kept, whatever the library logs


class RepeatFilter(logging.Filter):
    """Lets the same message of a logger through at most once per interval."""

    def __init__(
        self,
        interval: float = 30.0,
        loggers: tuple[str, ...] = ("aiokafka", "faststream"),
    ) -> None:
        super().__init__()
        self._interval = interval
        self._loggers = loggers
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether to emit the record (a repeat within the interval: no)."""
        if not record.name.startswith(self._loggers):
            return True
        key = (record.name, str(record.msg))
        now = time.monotonic()
        last, held = self._seen.get(key, (-self._interval, 0))
        if now - last < self._interval:
            self._seen[key] = (last, held + 1)
            return False
        if held:
            record.msg = f"{record.msg} (and {held} more like it)"
        self._seen[key] = (now, 0)
        if len(self._seen) > _REMEMBERED:
            self._seen.clear()
        return True


def configure_logging(level: str) -> None:
    """The processes' log format, with the chatty libraries' repeats folded."""
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    # On the handlers: a logger's own filters do not see its children's records.
    repeats = RepeatFilter()
    for handler in logging.getLogger().handlers:
        handler.addFilter(repeats)
