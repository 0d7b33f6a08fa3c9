"""Code and docs cite only documents that are in the repository.

The team's private references (the domain and architecture notes, their rule
and source numbers, the seed documents) are not shipped: a newcomer could not
follow a citation of them. Every rule is explained under ``docs/domain/`` and
listed in ``docs/rules.md``; every path a file cites must exist, with the
heading its ``#anchor`` names.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
THIS = Path(__file__).resolve()

# Documents of the private reference, and the numbering only they explain.
OUTSIDE = re.compile(
    r"domain\.md|(?<!docs/)(?<!\.\./)architecture\.md|anchors\.md|style\.md|\.\./shared"
    r"|\bseeds?[ /]0\d\d|\bseed document"
    r"|\b(?:domain )?rules? I\d{1,2}\b|\(I\d{1,2}\b|\bI\d{1,2}[,)]|\btest_i\d{1,2}_"
    r"|\(S\d{1,2}[a-z]?[,;) ]|\bS\d{1,2}[a-z]? (?:UVCW|VVSG|mi-is|Primabook)"
)
CITED_PATH = re.compile(
    r"(?<![\w/.])((?:docs|services|contracts|deploy|tests)/[\w./-]+\.(?:md|py|csv|json|yml|yaml|sql))(#[\w-]+)?"
)
SHIPPED = (".py", ".md", ".csv", ".json", ".yml", ".yaml", ".toml", ".sql", ".cfg")


def shipped_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return [
        ROOT / name
        for name in listed
        if name.endswith(SHIPPED) and (ROOT / name).resolve() != THIS
    ]


def _anchor(heading: str) -> str:
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@cache
def anchors_of(path: Path) -> frozenset[str]:
    headings = re.findall(
        r"^#{1,6} (.+)$", path.read_text(encoding="utf-8"), re.MULTILINE
    )
    return frozenset(_anchor(h) for h in headings)


def test_nothing_cites_the_private_reference() -> None:
    found = []
    for path in shipped_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number + 1}: {line.strip()}")
    assert found == [], "\n".join(found[:40]) + f"\n({len(found)} in all)"


def test_every_cited_path_and_anchor_exists() -> None:
    broken = []
    for path in shipped_files():
        text = path.read_text(encoding="utf-8")
        for cited, anchor in CITED_PATH.findall(text):
            target = ROOT / cited.rstrip(".")
            if not target.exists():
                broken.append(
                    f"{path.relative_to(ROOT)}: {cited} is not in the repository"
                )
            elif (
                anchor
                and target.suffix == ".md"
                and anchor[1:] not in anchors_of(target)
            ):
                broken.append(
                    f"{path.relative_to(ROOT)}: {cited}{anchor} has no such heading"
                )
    assert broken == [], "\n".join(broken[:40]) + f"\n({len(broken)} in all)"


@pytest.mark.parametrize(
    "page",
    sorted((ROOT / "docs").rglob("*.md")),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_relative_links_of_a_page_resolve(page: Path) -> None:
    broken = []
    for target, anchor in re.findall(
        r"\]\((?!https?:|mailto:|#)([^)#\s]+)(#[\w-]+)?\)",
        page.read_text(encoding="utf-8"),
    ):
        resolved = (page.parent / target).resolve()
        if not resolved.exists():
            broken.append(target)
        elif (
            anchor
            and resolved.suffix == ".md"
            and anchor[1:] not in anchors_of(resolved)
        ):
            broken.append(target + anchor)
    assert broken == []
