"""Golden files: a test's output compared with a committed file.

``UPDATE_GOLDEN=1 pytest …`` rewrites the files instead: review the difference
before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["UPDATE", "compare_golden"]

UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def compare_golden(path: Path, text: str) -> None:
    """Fail unless the file holds the text (write it first with UPDATE_GOLDEN=1)."""
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1"
    assert path.read_text() == text, f"{path} differs: review, then UPDATE_GOLDEN=1"
