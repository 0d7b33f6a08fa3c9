"""What the fuzz tests of the decoders and parsers share: budget, values, mutations.

Derandomized (the same cases every run) with a fixed budget; any JSON value;
a marker text that a refusal must never echo (it stands for a NISS); and one
field of a valid message changed.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
MARKER = "Zq85073003328Zq"
"""A value that must never come back in a refusal (it could be a NISS)."""

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner)
    ),
    max_leaves=12,
)
"""Any JSON value."""


def one_field_changed(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    """The message with one field removed, replaced (by anything, or the marker)
    or added."""
    changed = dict(data)
    name = draw(st.sampled_from(sorted(changed)))
    change = draw(st.sampled_from(["remove", "replace", "marker", "add"]))
    if change == "remove":
        del changed[name]
    elif change == "replace":
        changed[name] = draw(JSON)
    elif change == "marker":
        changed[name] = draw(st.sampled_from([MARKER, [MARKER], {"x": MARKER}, 1e300]))
    else:
        changed[draw(st.text(min_size=1, max_size=12))] = draw(JSON)
    return changed
