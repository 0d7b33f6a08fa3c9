"""A library's repeated failure is one log line per interval, with a count."""

from __future__ import annotations

import logging

from services.common.logs import RepeatFilter


def record(name: str, msg: str) -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, None, None)


def test_a_repeated_library_message_passes_once_then_with_its_count() -> None:
    repeats = RepeatFilter(interval=0.05)
    first = [
        repeats.filter(record("aiokafka.client", "Unable connect")) for _ in range(50)
    ]
    assert first.count(True) == 1
    import time

    time.sleep(0.06)
    again = record("aiokafka.client", "Unable connect")
    assert repeats.filter(again)
    assert "49 more like it" in str(again.msg)


def test_the_hubs_own_messages_always_pass() -> None:
    repeats = RepeatFilter(interval=60)
    assert all(
        repeats.filter(record("services.common.relay", "parked")) for _ in range(5)
    )
