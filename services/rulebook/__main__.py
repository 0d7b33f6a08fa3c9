"""Write ``docs/rules.md`` from the rulebook (``python -m services.rulebook``).

``--check`` reports the page stale instead of writing it (exit 1).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path
from typing import Final

from contracts.export import write_or_check
from services.rulebook import ROOT, Rule, rulebook

PAGE: Final = ROOT / "docs" / "rules.md"

_INTRODUCTION: Final = (
    "Generated from the rulebook in code (`services/rulebook/`) by "
    "`python -m services.rulebook` (`make schemas`); do not edit by hand. "
    "Each code is what the hub answers when the rule is broken: the `type` of "
    "an API error, the reason of a parked message, or the kind of a flag. "
    "The law behind each rule is explained in [docs/domain/](domain/README.md)."
)

_KIND: Final = {
    "refusal": "refused (422)",
    "conflict": "refused as a conflict (409)",
    "flag": "flagged, not refused",
    "parked": "message parked with this reason",
    "input": "input refused (4xx)",
    "service": "answer of the service",
}


def render_page(rules: dict[str, Rule]) -> str:
    """The page: one section per area, one entry per rule, in code order."""
    by_area: defaultdict[str, list[Rule]] = defaultdict(list)
    for rule in sorted(rules.values(), key=lambda r: r.code):
        by_area[rule.area].append(rule)
    lines = [
        "# Rules the hub enforces or flags",
        "",
        _INTRODUCTION,
        "",
        f"{len(rules)} rules in {len(by_area)} areas: "
        + ", ".join(f"[{a}](#{a})" for a in by_area)
        + ".",
        "",
    ]
    for area, entries in by_area.items():
        lines += [f"## {area}", ""]
        for rule in entries:
            lines += _entry(rule)
    return "\n".join(lines).rstrip() + "\n"


def _entry(rule: Rule) -> list[str]:
    applies = "always"
    if rule.applies_from or rule.applies_until:
        start = rule.applies_from.isoformat() if rule.applies_from else "…"
        end = rule.applies_until.isoformat() if rule.applies_until else "…"
        applies = f"{start} to {end}"
    source = rule.source
    if rule.doc:
        source += f" — [{rule.doc.removeprefix('docs/')}]({_link(rule.doc)})"
    return [
        f"### `{rule.code}`",
        "",
        rule.statement,
        "",
        f"* **Effect:** {_KIND[rule.kind]}",
        f"* **Source:** {source}",
        f"* **Applies:** {applies}",
        "* **Enforced by:** " + ", ".join(f"`{f}`" for f in rule.enforced_by),
        "* **Shown by:** " + ", ".join(f"`{t}`" for t in rule.tests),
        "",
    ]


def _link(doc: str) -> str:
    return doc.removeprefix("docs/")


def expected() -> dict[Path, str]:
    """The page there should be."""
    return {PAGE: render_page(dict(rulebook()))}


def main(argv: list[str]) -> int:
    """Write the page, or with ``--check`` report it stale."""
    return write_or_check(argv, expected())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
