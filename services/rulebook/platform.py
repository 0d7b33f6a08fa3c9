"""Rules of the platform area (see services/rulebook/__init__.py)."""

from __future__ import annotations

from services.rulebook import Rule

RULES: tuple[Rule, ...] = ()
