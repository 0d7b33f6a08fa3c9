"""What the intake routes share: business time and command metrics."""

from __future__ import annotations

import time

from fastapi import HTTPException

from contracts.identifiers import IdentifierError
from services.common import metrics
from services.intake.domain import ConflictError, DomainError

__all__ = ["measured"]


class measured:  # noqa: N801 - used as a lower-case context manager
    """Count and time a command by its outcome."""

    def __init__(self, command: str) -> None:
        self._command = command
        self._start = 0.0

    def __enter__(self) -> None:
        self._start = time.perf_counter()

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            outcome = "ok"
        elif issubclass(exc_type, ConflictError):
            outcome = "conflict"
        elif issubclass(exc_type, IdentifierError | DomainError | HTTPException):
            outcome = "refused"
        else:
            outcome = "error"
        metrics.COMMAND_SECONDS.labels("intake", self._command).observe(
            time.perf_counter() - self._start
        )
        metrics.COMMANDS.labels("intake", self._command, outcome).inc()
