"""`hub run` from a fresh folder: demo over HTTP within 60 s; Ctrl-C leaves nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from services.common.runtime import free_port
from services.common.settings import HubSettings
from services.registry import PROCESSES

pytestmark = pytest.mark.e2e


def test_hub_run_serves_the_demo_and_stops_cleanly(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("INTAKE", "CASE_STATE", "RELAY_METRICS")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")} | {
        f"HUB_{name}_PORT": str(port) for name, port in ports.items()
    }
    env["HUB_DATA_DIR"] = str(tmp_path / "hub")
    started = time.monotonic()
    hub = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "run", "--demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert hub.stdout is not None
    lines: list[str] = []
    try:
        while len([ln for ln in lines if ln.startswith("demo case:")]) < 5:
            line = hub.stdout.readline()
            assert line, "hub run ended early:\n" + "".join(lines)
            lines.append(line)
            assert time.monotonic() - started < 60, "demo not loaded within 60 s"
        urls = [ln.split()[-1] for ln in lines if ln.startswith("demo case:")]
        [key_line] = [ln for ln in lines if ln.startswith("API key:")]
        headers = {"X-API-Key": key_line.split()[2]}
        regions = set()
        for url in urls:
            while True:
                answer = httpx.get(url, headers=headers)
                if (
                    answer.status_code == 200
                    and answer.json()["bilan"]["status"] == "completed"
                ):
                    regions.add(answer.json()["registration"]["region"])
                    break
                assert time.monotonic() - started < 60, (
                    f"{url} not readable within 60 s"
                )
                time.sleep(0.2)
        assert regions == {"wallonia", "brussels", "flanders", "german_speaking"}
        # Every process is alive and, its servers up and its backlog small, ready.
        settings = HubSettings(
            intake_port=ports["INTAKE"],
            case_state_port=ports["CASE_STATE"],
            relay_metrics_port=ports["RELAY_METRICS"],
        )
        for name, spec in PROCESSES.items():
            base = f"http://127.0.0.1:{spec.port(settings)}"
            assert httpx.get(f"{base}/health").json() == {"status": "alive"}, name
            while httpx.get(f"{base}/ready", timeout=10).status_code != 200:
                assert time.monotonic() - started < 120, f"{name} not ready"
                time.sleep(0.5)
        assert "/docs" in "".join(lines)
        family = psutil.Process(hub.pid).children(recursive=True)
        postmaster = int(
            (tmp_path / "hub" / "pgdata" / "postmaster.pid").read_text().split()[0]
        )
        assert family
    finally:
        hub.send_signal(signal.SIGINT)
        rest, _ = hub.communicate(timeout=60)
    assert hub.returncode == 0, rest
    assert "hub stopped" in rest
    time.sleep(0.5)
    alive = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert alive == []
    assert not psutil.pid_exists(postmaster) or psutil.Process(postmaster).status() == (
        psutil.STATUS_ZOMBIE
    )
