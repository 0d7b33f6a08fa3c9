"""``make bench``: every benchmark, hub against stock, written to bench/results/."""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from bench import commands, e2e, rebuild, relay
from bench.infra import Figure, servers

RESULTS = Path(__file__).parent / "results"

SUITES = {
    "commands": commands.measure,
    "rebuild": rebuild.measure,
    "relay": relay.measure,
    "e2e": e2e.measure,
}


def render(figures: list[Figure], quick: bool) -> str:
    """The results as a Markdown table."""
    title = (
        f"# Benchmark results ({time.strftime('%Y-%m-%d %H:%M')}, "
        f"{platform.machine()}, {'quick' if quick else 'full'} run)"
    )
    lines = [
        title,
        "",
        "| What | Stock | Hub | Ratio | Target | Details |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures:
        stock = f"{f.stock:,.0f}" if f.stock is not None else "-"
        ratio = f"{f.ratio:.1f}x" if f.ratio is not None else "-"
        details = ", ".join(f"{k} {v:,.1f}" for k, v in f.extra.items())
        lines.append(
            f"| {f.name} | {stock} | {f.hub:,.0f} {f.unit} | {ratio} | {f.target} | "
            f"{details}{' ' + f.notes if f.notes else ''} |"
        )
    return "\n".join(lines) + "\n"


def _merge(figures: list[Figure]) -> list[Figure]:
    """This run's figures, plus the previous run's for suites not run now."""
    path = RESULTS / "results.json"
    previous: list[Figure] = []
    if path.exists():
        for item in json.loads(path.read_text()):
            item.pop("ratio", None)
            previous.append(Figure(**item))
    names = {f.name for f in figures}
    return [f for f in previous if f.name not in names] + figures


def main() -> None:
    """Run the suites and write results.json and RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="small sizes (a smoke run)"
    )
    parser.add_argument("suites", nargs="*", default=list(SUITES), help="suites to run")
    args = parser.parse_args()
    figures: list[Figure] = []
    with (
        tempfile.TemporaryDirectory(prefix="hub-bench-") as tmp,
        servers(Path(tmp)) as srv,
    ):
        for name in args.suites:
            print(f"running {name}…", flush=True)
            figures.extend(SUITES[name](srv, quick=args.quick))
    RESULTS.mkdir(exist_ok=True)
    merged = _merge(figures)
    table = render(merged, args.quick)
    (RESULTS / "RESULTS.md").write_text(table)
    (RESULTS / "results.json").write_text(
        json.dumps([f.__dict__ | {"ratio": f.ratio} for f in merged], indent=2) + "\n"
    )
    print(table)


if __name__ == "__main__":
    main()
