"""Headless Chromium for the HTML report's test, installed once per session."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium, installed from the distribution's packages if missing."""
    if not CHROMIUM.exists():
        if shutil.which("apt-get") is None:
            pytest.fail(
                "chromium is not installed and there is no apt-get to install it"
            )
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        done = subprocess.run(
            ["apt-get", "install", "-y", "chromium"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if done.returncode != 0 or not CHROMIUM.exists():
            pytest.fail(
                "could not install chromium with `apt-get install -y chromium` "
                f"(exit {done.returncode}): {done.stderr[-2000:]}"
            )
    return CHROMIUM
