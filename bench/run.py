"""``make bench``: every benchmark, hub against stock, written to bench/results/."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from bench import audit, commands, e2e, partner_file, rebuild, relay
from bench.infra import Figure, Scale, servers

RESULTS = Path(__file__).parent / "results"

SUITES = {
    "commands": commands.measure,
    "partner-file": partner_file.measure,
    "rebuild": rebuild.measure,
    "relay": relay.measure,
    "e2e": e2e.measure,
    "audit": audit.measure,
}


def render(figures: list[Figure], scale: Scale) -> str:
    """The results as a Markdown table."""
    title = (
        f"# Benchmark results ({time.strftime('%Y-%m-%d %H:%M')}, "
        f"{platform.machine()}, {scale.value} run)"
    )
    lines = [
        title,
        "",
        "Load: the rate a rate-driven benchmark offered -> the rate it reached;",
        "a figure whose load fell short is labelled with the rate reached.",
        "",
        "| What | Stock | Hub | Ratio | Target | Runs | Load | Details |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        stock = _number(f.stock) if f.stock is not None else "-"
        ratio = f"{f.ratio:.1f}x" if f.ratio is not None else "-"
        details = ", ".join(f"{k} {v:,.1f}" for k, v in f.extra.items())
        hub = f"{_number(f.hub)} {f.unit}"
        lines.append(
            f"| {f.name} | {stock} | {hub} | {ratio} | {f.target} | "
            f"{f.spread} | {f.load} | {details}{' ' + f.notes if f.notes else ''} |"
        )
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    """A figure as the table shows it: small ones with a decimal."""
    return f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"


def _merge(figures: list[Figure], results: Path) -> list[Figure]:
    """This run's figures, plus the previous run's of the suites not run now.

    By suite, not by name: a name carries its size and the load it reached,
    and a suite run again replaces every line it wrote before.
    """
    path = results / "results.json"
    previous: list[Figure] = []
    if path.exists():
        for item in json.loads(path.read_text()):
            item.pop("ratio", None)
            previous.append(Figure(**item))
    ran = {f.suite for f in figures}
    return [f for f in previous if f.suite and f.suite not in ran] + figures


def main(argv: list[str] | None = None) -> None:
    """Run the suites and write results.json and RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--scale",
        choices=[s.value for s in Scale],
        default=Scale.FULL.value,
        help="smoke: seconds (make test); quick: small sizes; full: the targets'",
    )
    parser.add_argument("--quick", action="store_true", help="same as --scale quick")
    parser.add_argument(
        "--results", type=Path, default=RESULTS, help="where the results go"
    )
    parser.add_argument("suites", nargs="*", default=list(SUITES), help="suites to run")
    args = parser.parse_args(argv)
    scale = Scale.QUICK if args.quick else Scale(args.scale)
    figures: list[Figure] = []
    with (
        tempfile.TemporaryDirectory(prefix="hub-bench-") as tmp,
        servers(Path(tmp)) as srv,
    ):
        for name in args.suites:
            print(f"running {name} ({scale.value})…", flush=True)
            figures.extend(
                dataclasses.replace(f, suite=name) for f in SUITES[name](srv, scale)
            )
    results: Path = args.results
    results.mkdir(parents=True, exist_ok=True)
    merged = _merge(figures, results)
    table = render(merged, scale)
    (results / "RESULTS.md").write_text(table)
    (results / "results.json").write_text(
        json.dumps([f.__dict__ | {"ratio": f.ratio} for f in merged], indent=2) + "\n"
    )
    if scale is Scale.FULL and results == RESULTS and set(args.suites) == set(SUITES):
        write_readme_table(merged)
    print(table)


README = Path(__file__).parent.parent / "README.md"
_START, _END = "<!-- bench:start -->", "<!-- bench:end -->"


def write_readme_table(figures: list[Figure], readme: Path = README) -> None:
    """Put the figures of a full run of every suite between the README's markers."""
    when = (
        f"Last full run: {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"{os.cpu_count()} cores; each figure the median of its runs."
    )
    lines = [
        _START,
        when,
        "",
        "| What | Stock | Hub | Ratio | Target | Load (offered -> reached) |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures:
        stock = _number(f.stock) if f.stock is not None else "-"
        ratio = f"{f.ratio:.1f}x" if f.ratio is not None else "-"
        lines.append(
            f"| {f.name} | {stock} | {_number(f.hub)} {f.unit} | {ratio} | "
            f"{f.target} | {f.load} |"
        )
    text = readme.read_text()
    before, _, rest = text.partition(_START)
    _, _, after = rest.partition(_END)
    readme.write_text(before + "\n".join(lines) + "\n" + _END + after)


if __name__ == "__main__":
    main()
