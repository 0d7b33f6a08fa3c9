"""The audit replay's peak memory is the replaying process's own.

Linux carries ``ru_maxrss`` over ``execve``: a child started by a bench process
that had grown while seeding reported the parent's peak (3.8 GiB for a replay
whose own high-water mark was under 100 MiB). The measure must not inherit it.
"""

from __future__ import annotations

import subprocess
import sys

_CHILD = "from bench.audit import peak_resident_mib; print(peak_resident_mib())"


def test_a_child_does_not_report_the_memory_its_parent_had_grown_to() -> None:
    grown = bytearray(600 * 1024 * 1024)  # touched: resident in the parent
    grown[::4096] = b"\x01" * len(grown[::4096])
    done = subprocess.run(
        [sys.executable, "-c", _CHILD], check=True, capture_output=True, text=True
    )
    assert float(done.stdout) < 300, done.stdout
    assert grown[0] == 1
