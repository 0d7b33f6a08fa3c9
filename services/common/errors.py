"""Errors every service raises for a broken rule: they name the field and the rule."""

from __future__ import annotations

__all__ = ["ConflictError", "DomainError"]


class DomainError(ValueError):
    """A command broke a rule: names the field, the rule and its source (HTTP 422)."""

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.rule = rule


class ConflictError(DomainError):
    """The command conflicts with what is already recorded (HTTP 409)."""
