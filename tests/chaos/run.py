"""``make chaos``: a long chaos run (at least 100 kills), its report printed."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.chaos.chaos import run_chaos


def main() -> int:
    """Run, print what was done and what was checked; 1 if a check failed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--seconds-between-kills", type=float, default=3.0)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hub-chaos-") as root:
        report = run_chaos(
            Path(root),
            kills=options.kills,
            seed=options.seed,
            seconds_between_kills=options.seconds_between_kills,
        )
    for line in report.lines():
        print(line)
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
