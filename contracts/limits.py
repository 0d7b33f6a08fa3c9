"""How deep a JSON document may nest, checked before anything parses it.

Python's ``json`` parser recurses once per array or object: a body or a message
of a few hundred thousand ``[`` raises `RecursionError` (not a `ValueError`),
which used to escape a consumer's decoder and fail its batch for ever. No hub
document nests deeper than a few levels, so `MAX_JSON_DEPTH` is ample; the
check below reads the bytes without recursion and without parsing them, and
costs two ``count`` calls for a document with few brackets (every real one).
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Final

__all__ = ["MAX_JSON_DEPTH", "json_too_deep"]

MAX_JSON_DEPTH: Final = 32
"""Most nested arrays and objects in a hub document (its events nest three)."""

# A JSON string, escapes included: brackets inside strings do not nest.
_STRING_BYTES: Final = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_STRING_TEXT: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET_BYTES: Final = re.compile(rb"[^\[\]{}]+")
_NOT_BRACKET_TEXT: Final = re.compile(r"[^\[\]{}]+")
_STEP: Final = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_too_deep(document: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON document opens more than ``limit`` arrays or objects at once.

    Unclosed ones count too (``[[[`` is three deep), so a truncated document
    cannot slip past. Malformed JSON is not judged here: the parser refuses it.
    """
    if isinstance(document, bytes):
        if document.count(b"[") + document.count(b"{") <= limit:
            return False
        brackets: bytes | str = _NOT_BRACKET_BYTES.sub(
            b"", _STRING_BYTES.sub(b"", document)
        )
    else:
        if document.count("[") + document.count("{") <= limit:
            return False
        brackets = _NOT_BRACKET_TEXT.sub("", _STRING_TEXT.sub("", document))
    codes = brackets if isinstance(brackets, bytes) else map(ord, brackets)
    return max(accumulate(map(_STEP.__getitem__, codes), initial=0)) > limit
